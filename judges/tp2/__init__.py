"""Judge of TP2 (deep neural networks with Keras): one module per part of the TP, each with its
cases and verdicts; the known mistakes beside the checks (functions) or in `mistakes` (models,
made from the master's trained ones). Never shipped to students.

Oracles: scikit-learn (StandardScaler, LinearRegression, StratifiedKFold, NearestCentroid,
metrics: confusion_matrix, log_loss), the enumeration of every mini-lot of a small set, Keras
itself (count_params, the data adapter's batches, the EarlyStopping callback), the
student's models rebuilt from their JSON and weights within bounds (`judges.common.keras_models`)
and measured on the judge's data.
"""

from grader.judging import Checks
from tp2 import EXERCISES

from . import (builder, counts, evaluation, minilots, mistakes, models, regularisation,
               standardisation, training)

CHECKS = Checks(EXERCISES, judge_imports=(
    "keras", "sklearn.preprocessing", "sklearn.linear_model", "sklearn.model_selection",
    "sklearn.neighbors", "sklearn.metrics"))
for _part in (standardisation, counts, models, builder, evaluation, regularisation, minilots,
              training):
    for _check in _part.CHECKS:
        CHECKS.add(_check)
    CHECKS.mistakes.update(getattr(_part, "MISTAKES", {}))
CHECKS.mistakes.update(mistakes.MISTAKES)
