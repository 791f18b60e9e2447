"""Judge of TP3 (convolutional networks): one module per part of the TP, each with its cases,
verdicts and known mistakes. Never shipped to students.

Oracles: the frameworks' own layers (`oracles`: torch.nn.Conv2d / conv2d, Keras ZeroPadding2D,
Conv2D, MaxPooling2D, count_params()), the course's printed figures, and the student's CNN
rebuilt from its JSON and weights within bounds (`judges.common.keras_models`), measured on the
course's digits.
"""

from grader.judging import Checks
from tp3 import EXERCISES

from . import architecture, cnn, convolution, counts, receptive, texture

CHECKS = Checks(EXERCISES, judge_imports=("keras", "torch", "sklearn.model_selection"))
for _part in (counts, convolution, architecture, receptive, cnn, texture):
    for _check in _part.CHECKS:
        CHECKS.add(_check)
    CHECKS.mistakes.update(_part.MISTAKES)
