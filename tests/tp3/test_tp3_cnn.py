"""TP3's trained CNN beyond the course suite: the hostile student's CNN fitted on the test digits
(above the threshold there, below it on digits it never saw) refused by the judge and by the
notebook's check(), and lying models refused."""

from __future__ import annotations

import numpy as np
import pytest

from course.keras_tools import export_model, preparer_keras
from grader.protocol import CheckFailed
from grader.results import Status
from keras_helpers import FakeModel
from judges.common.keras_models import predict, rebuild
from judges.tp3 import CHECKS
from judges.tp3.cnn import digits, fitted_on_test, trained
from tp3 import EXERCISES
from tp3.exercises import ECART_CHIFFRES, SEUIL_CNN


@pytest.fixture(scope="module")
def keras():
    return preparer_keras()


@pytest.fixture(scope="module")
def on_test(keras):
    return fitted_on_test(keras)


def _accuracy(model, X, y) -> float:
    rebuilt = rebuild(export_model(model, "m"), (8, 8, 1), "m")
    return float(np.mean(np.argmax(predict(rebuilt, X, "m"), axis=1) == y))


def test_a_cnn_fitted_on_the_test_digits_passes_the_threshold_only_there(on_test):
    """The hostile student's model: what the old judge accepted, and why it must not."""
    d = digits()
    acc, acc_train = _accuracy(on_test, d["_X"], d["_y"]), _accuracy(on_test, d["_X_app"],
                                                                     d["_y_app"])
    assert acc >= SEUIL_CNN > acc_train
    assert acc - acc_train > ECART_CHIFFRES
    master = trained()["cnn_chiffres"]
    assert _accuracy(master, d["_X"], d["_y"]) - _accuracy(master, d["_X_app"], d["_y_app"]) < 0


def test_judge_and_notebook_refuse_it(on_test):
    for hidden in (False, True):
        status, message = CHECKS.run_in_process("cnn_chiffres", {"cnn_chiffres": on_test},
                                                hidden=hidden, seed=3)
        assert status == Status.FAILED and "ensemble d'apprentissage" in message, message
    with pytest.raises(CheckFailed, match="entraîné sur les données de test"):
        exec("check('cnn_chiffres')", {"check": EXERCISES.check, "cnn_chiffres": on_test})


def test_lying_models_get_nothing(keras):
    for fake in (FakeModel(trained()["cnn_chiffres"]), "cnn", None, 0.99):
        status, message = CHECKS.run_in_process("cnn_chiffres", {"cnn_chiffres": fake})
        assert status in (Status.FAILED, Status.ERROR), (fake, status, message)
