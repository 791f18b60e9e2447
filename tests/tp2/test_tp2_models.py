"""TP2's trained models and builder beyond the course suite: right variants accepted by the judge
and by the notebook's check(), lying or foreign models refused, and the rule against models
fitted on the test split shown on the case it exists for."""

from __future__ import annotations

import numpy as np
import pytest

from course.keras_tools import preparer_keras
from grader.results import Status
from keras_helpers import FakeModel
from judges.tp2 import CHECKS
from judges.tp2.builder import builder
from judges.tp2.mistakes import fitted_on_test, trained
from judges.tp2.models import standardised
from tp2 import EXERCISES
from tp2.exercises import ECART_CHIFFRES, SEUIL_CHIFFRES

MODEL_CHECKS = ("modele_diapo", "modele_cancer", "modele_diabete", "modele_chiffres")


@pytest.fixture(scope="module")
def keras():
    return preparer_keras()


def judge(name, ns, hidden=False):
    return CHECKS.run_in_process(name, ns, hidden=hidden, seed=1)


def notebook_check(name, ns) -> None:
    exec(compile(f"check({name!r})", "<test>", "exec"), {**ns, "check": EXERCISES.check})


@pytest.mark.parametrize("kind", ["bn_avant_relu", "fonctionnel"])
def test_equivalent_builders_accepted(kind):
    ns = {"construire_mlp": builder(kind)}
    for hidden in (False, True):
        assert judge("construire_mlp", ns, hidden) == (Status.PASSED, "")
    notebook_check("construire_mlp", ns)


def test_a_function_returning_the_model_is_accepted():
    model = trained()["modele_cancer"]
    assert judge("modele_cancer", {"modele_cancer": lambda: model}) == (Status.PASSED, "")


@pytest.mark.parametrize("name", MODEL_CHECKS)
def test_lying_models_get_nothing(keras, name):
    real = trained()[name]
    for fake in (FakeModel(real), "modele", None, 0.97):
        status, message = judge(name, {name: fake})
        assert status in (Status.FAILED, Status.ERROR), (fake, status, message)


def test_models_with_unsafe_or_foreign_layers_are_refused(keras):
    L = keras.layers
    lam = keras.Sequential([keras.Input((64,)), L.Lambda(lambda x: x * 1.0), L.Dense(10)])
    status, message = judge("modele_chiffres", {"modele_chiffres": lam})
    assert status == Status.FAILED and "Lambda" in message
    huge = keras.Sequential([keras.Input((64,)), L.Dense(4096), L.Dense(10)])
    status, message = judge("modele_chiffres", {"modele_chiffres": huge})
    assert status == Status.FAILED and "limites" in message


def test_digits_fitted_on_the_test_split_are_refused_by_both_rules(keras):
    """The master's recipe fitted on the 450 test digits: perfect there (the "too good" rule),
    and also clearly better there than on the training digits it never saw (the gap rule), which
    it fails on: the model does not deserve the threshold."""
    from judges.common.keras_models import fitted_on_evaluation, predict, rebuild
    from course.keras_tools import export_model

    data = standardised("chiffres")
    rebuilt = rebuild(export_model(fitted_on_test(keras, "chiffres", 15), "m"), (64,), "m")
    acc = np.mean(np.argmax(predict(rebuilt, data["_X"], "m"), axis=1) == data["_y"])
    acc_train = np.mean(np.argmax(predict(rebuilt, data["_X_app"], "m"), axis=1)
                        == data["_y_app"])
    assert acc >= 0.998 and acc_train < SEUIL_CHIFFRES
    with pytest.raises(AssertionError, match="données de test"):
        fitted_on_evaluation(acc, acc_train, ECART_CHIFFRES, "m", "exactitude")
