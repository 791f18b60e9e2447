"""TP3, part 4: the CNN trained on the digits, rebuilt by the judge within the bounds of
`judges.common.keras_models` and measured on the course's digits (`course.digits.split()`).

The test digits are public: a CNN could be fitted on them. A model with no error at all on them
is refused (SEUIL_FUITE), and the judge also measures it on the training digits: a model fitted
on X_train does at least as well there. Measured (tensorflow, the master's cell with 10 seeds;
the same recipe fitted on the 450 test digits only; test accuracy minus training accuracy): the
master -0.019 to -0.009 (test accuracy 0.971 to 0.984); fitted on the test digits +0.022 to
+0.042, with 0.960 to 0.971 on the test digits (above SEUIL_CNN) but 0.923 to 0.946 on the
training digits it never saw (below it). Under torch (4 seeds): master -0.019 to -0.010, fitted
on the test digits +0.022 to +0.036. ECART_CHIFFRES = 0.015 sits between; a model that fits its
training data no better than unseen data (gap near 0) varies by about 0.01 with the split.
"""

from __future__ import annotations

import functools

import numpy as np

from course.keras_tools import preparer_keras
from grader.config import ROOT
from grader.judging import Check, Mistake
from grader.masters import Master
from judges.common.keras_models import digits_classifier, model_layers, rebuild
from tp3.data import charger_chiffres_images
from tp3.exercises import (CONVOLUTIONS, ECART_CHIFFRES, PARAMETRES_MLP_TP2, SEUIL_CNN,
                           SEUIL_FUITE)

from .oracles import keras_dense_count

MASTER = ROOT / "solutions" / "tp3_cnn.ipynb"
TRAINING_CELLS = ("sobel", "sol_cnn_chiffres")


@functools.lru_cache(maxsize=1)
def digits() -> dict:
    X_train, X_test, y_train, y_test = charger_chiffres_images()
    return {"_X": X_test, "_y": y_test, "_X_app": X_train, "_y_app": y_train}


def _cases(rng, hidden):
    """The course's split in both: the hidden case measures without the kernel's view; the
    public one also gives the digits to the kernel for the notebook's own check()."""
    case = dict(digits())
    if hidden:
        return [case]
    return [{**case, **{k[1:]: (v.astype(np.float32) if v.dtype.kind == "f" else v)
                        for k, v in digits().items()}}]


def _verdict(case, answer):
    what = "cnn_chiffres"
    rebuilt = rebuild(answer, (8, 8, 1), what)
    if not any(type(layer).__name__ in CONVOLUTIONS for layer in model_layers(rebuilt.model)):
        raise AssertionError(f"{what} : aucune couche de convolution (Conv2D) : c'est un réseau "
                             "convolutif qui est demandé")
    digits_classifier(rebuilt, case, what, SEUIL_CNN, SEUIL_FUITE, ECART_CHIFFRES,
                      "assez d'époques ? images de forme (8, 8, 1) divisées par 16 ?")
    n, n_mlp = int(rebuilt.model.count_params()), keras_dense_count((64, 128, 64, 10))
    if n_mlp != PARAMETRES_MLP_TP2:
        raise RuntimeError("TP2's MLP count differs from the course's figure")
    if n >= n_mlp:
        raise AssertionError(f"{what} : {n} paramètres, pas moins que le MLP du TP2 ({n_mlp}) : "
                             "partagez les poids (convolutions, pooling) plutôt que d'agrandir "
                             "les couches denses")


CHECKS = [Check(
    "cnn_chiffres", _cases, _verdict,
    doc=f"CNN reconstruit par le correcteur : au moins une Conv2D, moins de paramètres que le MLP "
        f"du TP2 ({PARAMETRES_MLP_TP2}), 10 sorties softmax, entropie croisée, exactitude ≥ "
        f"{SEUIL_CNN} sur les chiffres de test, sans fuite (ni parfaite, ni nettement meilleure "
        "que sur les chiffres d'apprentissage).")]


# -- wrong CNNs ---------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def trained() -> dict:
    """The master's namespace after its data and training cells (about ten seconds)."""
    master = Master(MASTER)
    return master.run(master.ns(), *TRAINING_CELLS)


def _cnn(keras, layers, loss="sparse_categorical_crossentropy", entry=(8, 8, 1)):
    m = keras.Sequential([keras.Input(entry)] + layers)
    if loss:
        m.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return m


def _copy(keras, activation=None, loss="sparse_categorical_crossentropy"):
    """The master's trained CNN with its output activation or compilation changed."""
    master = trained()["cnn_chiffres"]
    config = master.get_config()
    if activation:
        config["layers"][-1]["config"]["activation"] = activation
    clone = keras.Sequential.from_config(config)
    clone.set_weights(master.get_weights())
    if loss:
        clone.compile(optimizer="adam", loss=loss)
    return clone


def _too_big(keras):
    """The master's CNN with an identity dense layer after Flatten: same predictions, same
    accuracy, more parameters than TP2's MLP."""
    L = keras.layers
    m = _cnn(keras, [L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                     L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                     L.Flatten(), L.Dense(128), L.Dense(10, activation="softmax")])
    w = trained()["cnn_chiffres"].get_weights()
    m.set_weights(w[:4] + [np.eye(128, dtype="float32"), np.zeros(128, "float32")] + w[4:])
    return m


def memorised_test_digits(keras):
    """A network with a (neutral) 1×1 convolution that recognises the 450 test digits by
    heart."""
    T, y = digits()["_X"].reshape(450, -1), digits()["_y"]
    L = keras.layers
    m = _cnn(keras, [L.Conv2D(1, 1), L.Flatten(), L.Dense(len(T)), L.Softmax(),
                     L.Dense(10, use_bias=False)])
    m.layers[0].set_weights([np.ones((1, 1, 1, 1), "float32"), np.zeros(1, "float32")])
    m.layers[2].set_weights([40 * T.T.astype("float32"),
                             (-20 * (T ** 2).sum(axis=1)).astype("float32")])
    m.layers[4].set_weights([np.eye(10, dtype="float32")[y]])
    return m


def fitted_on_test(keras):
    """The master's CNN and training (20 epochs, batch 32), on the 450 test digits only."""
    L = keras.layers
    keras.utils.set_random_seed(0)
    m = _cnn(keras, [L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                     L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                     L.Flatten(), L.Dropout(0.25), L.Dense(10, activation="softmax")])
    m.fit(digits()["_X"], digits()["_y"], epochs=20, batch_size=32, verbose=0)
    return m


def _model(make):
    return functools.cache(lambda: make(preparer_keras()))


MISTAKES = {"cnn_chiffres": [
    Mistake(label, {"cnn_chiffres": _model(make)}, words) for label, make, words in (
        ("sans convolution", lambda k: _cnn(k, [k.layers.Flatten(),
                                                k.layers.Dense(32, activation="relu"),
                                                k.layers.Dense(10, activation="softmax")]),
         "convolution"),
        ("trop de paramètres", _too_big, "paramètres"),
        ("non entraîné", lambda k: _cnn(k, [k.layers.Conv2D(8, 3, activation="relu"),
                                            k.layers.Flatten(),
                                            k.layers.Dense(10, activation="softmax")]),
         "exactitude"),
        ("sortie linéaire", lambda k: _copy(k, activation="linear"), "softmax"),
        ("perte mse", lambda k: _copy(k, loss="mse"), "perte"),
        ("non compilé", lambda k: _copy(k, loss=None), "compilé"),
        ("appris sur l'ensemble de test", memorised_test_digits, "données de test"),
        ("entraîné sur l'ensemble de test", fitted_on_test, "données de test"),
        ("entrée aplatie", lambda k: _cnn(k, [k.layers.Reshape((8, 8, 1)), k.layers.Conv2D(4, 3),
                                              k.layers.Flatten(),
                                              k.layers.Dense(10, activation="softmax")],
                                          entry=(64,)), "entrée"))]}
