"""Wrong trained models of TP2: untrained, wrong output, wrong loss, wrong input, fitted on the
test split. Each is a function without arguments returning the model (the kernel side calls
it), built once, when a test first needs it, from the master's own trained models (its cells,
run once per process by `trained()`) or trained here with the master's recipe."""

from __future__ import annotations

import functools

import numpy as np

from course.keras_tools import preparer_keras
from grader.config import ROOT
from grader.judging import Mistake
from grader.masters import Master

from .models import standardised

MASTER = ROOT / "solutions" / "tp2_mlp.ipynb"
TRAINING_CELLS = ("sol_standardiser", "donnees_cancer", "standardiser_cancer",
                  "sol_nombre_parametres_mlp", "donnees_friedman", "sol_modele_diapo",
                  "sol_construire_mlp", "sol_modele_cancer", "donnees_diabete",
                  "sol_modele_diabete", "donnees_chiffres", "sol_modele_chiffres")


@functools.lru_cache(maxsize=1)
def trained() -> dict:
    """The master's namespace after its data and training cells (a few seconds)."""
    master = Master(MASTER)
    return master.run(master.ns(), *TRAINING_CELLS)


def _model(make):
    return functools.cache(lambda: make(preparer_keras()))


def _sequential(keras, n_in, hidden, n_out, activation, **compile_args):
    L = keras.layers
    m = keras.Sequential([keras.Input((n_in,))] + [L.Dense(h, activation="relu") for h in hidden]
                         + [L.Dense(n_out, activation=activation)])
    if compile_args:
        m.compile(**compile_args)
    return m


def _copy(keras, name, output=None, compile=None, shift=0.0):
    """The master's trained model `name` with its output activation, compilation or output
    bias changed (its weights are kept)."""
    model = trained()[name]
    config = model.get_config()
    if output:
        config["layers"][-1]["config"]["activation"] = output
    clone = keras.Sequential.from_config(config)
    weights = model.get_weights()
    weights[-1] = weights[-1] + shift
    clone.set_weights(weights)
    if compile:
        clone.compile(**compile)
    return clone


def _slide(keras, kind):
    L = keras.layers
    units = [(64, "relu"), (128, "relu"), (1, None)] if kind == "architecture" else \
        [(128, "relu"), (64, "relu"), (1, None)]
    m = keras.Sequential([keras.Input((20,))] + [L.Dense(u, activation=a) for u, a in units])
    m.compile(optimizer="adam" if kind == "adam" else "rmsprop",
              loss="mae" if kind == "mae" else "mse", metrics=["mae", "mse"])
    if kind in ("compteur", "architecture"):
        m.optimizer.iterations.assign(320)  # claims fit(batch_size=64, epochs=20)…
    if kind == "deux_fits":
        m.optimizer.iterations.assign(640)
    return m


def memorised_test_digits(keras):
    """A 64 → 450 → 10 network that recognises the 450 test digits by heart (nearest test
    image): trained on the test set, in effect."""
    data = standardised("chiffres")
    T, y = data["_X"], data["_y"]
    L = keras.layers
    m = keras.Sequential([keras.Input((64,)), L.Dense(len(T)), L.Softmax(),
                          L.Dense(10, use_bias=False)])
    m.layers[0].set_weights([20 * T.T.astype("float32"),
                             (-10 * (T ** 2).sum(axis=1)).astype("float32")])
    m.layers[2].set_weights([np.eye(10, dtype="float32")[y]])
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


def fitted_on_test(keras, dataset, epochs):
    """The master's recipe (its cell's architecture, optimizer and batch size), fitted on the
    test split only."""
    data = standardised(dataset)
    keras.utils.set_random_seed(0)
    if dataset == "chiffres":
        m = _sequential(keras, 64, [128, 64], 10, "softmax", optimizer="adam",
                        loss="categorical_crossentropy")
        y = keras.utils.to_categorical(data["_y"], 10)
    else:
        m = _sequential(keras, 10, [16, 8], 1, "linear", optimizer="adam", loss="mse")
        y = data["_y"]
    m.fit(data["_X"], y, epochs=epochs, batch_size=32, verbose=0)
    return m


def _mistakes(name, specs):
    return [Mistake(label, {name: _model(make)}, words) for label, make, words in specs]


_CCE = {"optimizer": "adam", "loss": "categorical_crossentropy"}
MISTAKES = {
    "modele_diapo": _mistakes("modele_diapo", [
        ("architecture 64 puis 128", lambda k: _slide(k, "architecture"), "couches Dense"),
        ("optimiseur adam", lambda k: _slide(k, "adam"), "rmsprop"),
        ("perte mae", lambda k: _slide(k, "mae"), "loss='mse'"),
        ("fit lancé deux fois", lambda k: _slide(k, "deux_fits"), "mises à jour"),
        ("non entraîné (compteur falsifié)", lambda k: _slide(k, "compteur"), "R²"),
        ("non entraîné", lambda k: _slide(k, "non_entraine"), "mises à jour")]),
    "modele_cancer": _mistakes("modele_cancer", [
        ("non entraîné", lambda k: _sequential(k, 30, [32, 16], 1, "sigmoid", optimizer="adam",
                                               loss="binary_crossentropy"), "exactitude"),
        ("sortie linéaire", lambda k: _copy(k, "modele_cancer", output="linear"), "sigmoid"),
        ("perte mse", lambda k: _copy(k, "modele_cancer", compile={"optimizer": "adam",
                                                                    "loss": "mse"}),
         "binary_crossentropy"),
        ("deux sorties softmax", lambda k: _sequential(
            k, 30, [8], 2, "softmax", optimizer="adam", loss="categorical_crossentropy"),
         "UNE sortie"),
        ("non compilé", lambda k: _copy(k, "modele_cancer"), "compilé"),
        ("mauvaise entrée", lambda k: _sequential(k, 20, [8], 1, "sigmoid", optimizer="adam",
                                                  loss="binary_crossentropy"), "entrée")]),
    "modele_diabete": _mistakes("modele_diabete", [
        ("sortie relu", lambda k: _copy(k, "modele_diabete", output="relu",
                                        compile={"optimizer": "adam", "loss": "mse"}),
         "activation"),
        ("sortie sigmoïde", lambda k: _copy(k, "modele_diabete", output="sigmoid",
                                            compile={"optimizer": "adam", "loss": "mse"}),
         "activation"),
        ("non entraîné", lambda k: _sequential(k, 10, [16, 8], 1, "linear", optimizer="adam",
                                               loss="mse"), "R²"),
        ("perte d'entropie croisée", lambda k: _copy(k, "modele_diabete", compile={
            "optimizer": "adam", "loss": "binary_crossentropy"}), "mse"),
        ("cible non standardisée", lambda k: _copy(k, "modele_diabete", shift=150.0, compile={
            "optimizer": "adam", "loss": "mse"}), "CENTRÉE-RÉDUITE"),
        ("entraîné 60 époques sur l'ensemble de test",
         lambda k: fitted_on_test(k, "diabete", 60), "données de test")]),
    "modele_chiffres": _mistakes("modele_chiffres", [
        ("sortie linéaire", lambda k: _copy(k, "modele_chiffres", output="linear",
                                            compile=_CCE), "softmax"),
        ("sortie sigmoïde", lambda k: _copy(k, "modele_chiffres", output="sigmoid",
                                            compile=_CCE), "softmax"),
        ("non entraîné", lambda k: _sequential(k, 64, [128, 64], 10, "softmax", **_CCE),
         "exactitude"),
        ("perte mse", lambda k: _copy(k, "modele_chiffres", compile={"optimizer": "adam",
                                                                      "loss": "mse"}),
         "categorical_crossentropy"),
        ("appris sur l'ensemble de test", memorised_test_digits, "données de test"),
        ("entraîné sur l'ensemble de test", lambda k: fitted_on_test(k, "chiffres", 15),
         "données de test"),
        ("une seule sortie", lambda k: _sequential(k, 64, [8], 1, "sigmoid", optimizer="adam",
                                                   loss="mse"), "10")]),
}
