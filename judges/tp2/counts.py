"""TP2, counting: the parameters of a dense network (oracle: Keras's own `count_params()`) and
the weight updates of a training (oracle: the number of batches Keras's data adapter cuts an
epoch into)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from course.keras_tools import import_keras
from grader.judging import Check, Mistake, as_number


# -- nombre_parametres_mlp ------------------------------------------------------------------------
def _count_cases(rng, hidden):
    if not hidden:
        return [{"tailles": np.array([20, 128, 64, 1])}, {"tailles": np.array([30, 16, 8, 1])}]
    cases = [{"tailles": np.array([int(rng.integers(1, 50)), 1])},  # one layer only
             {"tailles": np.array([64, 10])}]
    for _ in range(4):
        cases.append({"tailles": rng.integers(1, 300, size=int(rng.integers(2, 7)) + 1)})
    return cases


def keras_count(sizes) -> int:
    """Oracle: the parameter count Keras gives for Input(t0) → Dense(t1) → … → Dense(tL)."""
    keras = import_keras()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.Sequential([keras.Input((int(sizes[0]),))]
                                 + [keras.layers.Dense(int(t)) for t in sizes[1:]])
        return int(model.count_params())


def _count_verdict(case, answer):
    t = [int(v) for v in case["tailles"]]
    n = as_number(answer, "n", "nombre_parametres_mlp")
    expected = keras_count(t)
    if n == expected:
        return
    weights = sum(a * b for a, b in zip(t[:-1], t[1:]))
    where = f"pour les tailles {t}"
    if n == weights:
        raise AssertionError(f"{where} : vous oubliez les biais (un par neurone de la couche "
                             f"suivante : + h_(i+1)) ; Keras compte {expected}")
    if n == weights + sum(t[:-1]):
        raise AssertionError(f"{where} : biais comptés sur la couche d'entrée de chaque connexion "
                             f"(+ h_i) au lieu de la couche suivante (+ h_(i+1))")
    if n == sum(a * b + b for a, b in zip(t[:-2], t[1:-1])):
        raise AssertionError(f"{where} : la dernière connexion (vers la couche de sortie) manque")
    if n == sum(t):
        raise AssertionError(f"{where} : vous comptez les neurones, pas les paramètres (poids + "
                             "biais)")
    if n == sum((a + 1) * (b + 1) for a, b in zip(t[:-1], t[1:])):
        raise AssertionError(f"{where} : (h_i + 1)(h_(i+1) + 1) compte un biais de trop par "
                             "couche")
    raise AssertionError(f"{where} : {n:g} paramètres au lieu de {expected} "
                         "(model.count_params())")


# -- nombre_mises_a_jour --------------------------------------------------------------------------
def _update_cases(rng, hidden):
    if not hidden:
        return [{"n": 1347, "batch_size": 64, "epochs": 20}]
    n = int(rng.integers(50, 3000))
    return [{"n": n, "batch_size": 1, "epochs": 3}, {"n": n, "batch_size": n, "epochs": 7},
            {"n": 640, "batch_size": 64, "epochs": 5}, {"n": 30, "batch_size": 64, "epochs": 2},
            {"n": n, "batch_size": int(rng.integers(2, 200)), "epochs": int(rng.integers(1, 30))}]


def keras_batches(n, batch_size) -> int:
    """Oracle: how many batches Keras's own data adapter cuts n examples into."""
    import_keras()
    try:
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

        return int(ArrayDataAdapter(np.zeros((n, 1), dtype="float32"),
                                    batch_size=batch_size).num_batches)
    except Exception:  # internal API moved: the documented behaviour (last batch kept)
        return -(-n // batch_size)


def _update_verdict(case, answer):
    n, b, e = int(case["n"]), int(case["batch_size"]), int(case["epochs"])
    m = as_number(answer, "m", "nombre_mises_a_jour")
    expected = e * keras_batches(n, b)
    if m == expected:
        return
    where = f"n = {n}, batch_size = {b}, epochs = {e}"
    if m == e * (n // b):
        raise AssertionError(f"{where} : le dernier lot incomplet compte aussi (Keras le garde) : "
                             "arrondi à l'entier SUPÉRIEUR")
    if abs(m - e * n / b) < 1e-9:
        raise AssertionError(f"{where} : un nombre entier de lots est attendu (arrondi supérieur "
                             "de n / batch_size)")
    if m == expected / e:
        raise AssertionError(f"{where} : c'est le nombre de mises à jour d'UNE époque ; "
                             "multipliez par le nombre d'époques")
    raise AssertionError(f"{where} : {m:g} mises à jour au lieu de {expected}")


CHECKS = [
    Check("nombre_parametres_mlp", _count_cases, _count_verdict,
          doc="Σ h_i·h_(i+1) + h_(i+1) comparé à model.count_params() de Keras sur des "
              "architectures aléatoires (une seule couche, jusqu'à six)."),
    Check("nombre_mises_a_jour", _update_cases, _update_verdict,
          doc="epochs × nombre de lots, comparé au découpage en lots de Keras (dernier lot "
              "incomplet, batch_size = 1, lot = tout l'ensemble)."),
]


def _parameters(kind):
    def nombre_parametres_mlp(tailles):
        pairs = list(zip(tailles[:-1], tailles[1:]))
        if kind == "sans_biais":
            return sum(a * b for a, b in pairs)
        if kind == "biais_entree":
            return sum(a * b + a for a, b in pairs)
        if kind == "sans_sortie":
            return sum(a * b + b for a, b in pairs[:-1])
        if kind == "neurones":
            return sum(tailles)
        if kind == "plus_un":
            return sum((a + 1) * (b + 1) for a, b in pairs)
        return sum(a * b + b for a, b in pairs)
    return nombre_parametres_mlp


def _updates(kind):
    def nombre_mises_a_jour(n, batch_size, epochs):
        if kind == "plancher":
            return epochs * (n // batch_size)
        if kind == "reel":
            return epochs * n / batch_size
        if kind == "une_epoque":
            return math.ceil(n / batch_size)
        return epochs * math.ceil(n / batch_size)
    return nombre_mises_a_jour


def _mistakes(target, factory, specs):
    return [Mistake(label, {target: factory(kind)}, words) for label, kind, words in specs]


MISTAKES = {
    "nombre_parametres_mlp": _mistakes("nombre_parametres_mlp", _parameters, [
        ("sans biais", "sans_biais", "biais"), ("biais côté entrée", "biais_entree", "h_i"),
        ("dernière couche oubliée", "sans_sortie", "dernière"),
        ("neurones au lieu de paramètres", "neurones", "neurones"),
        ("(h_i + 1)(h_(i+1) + 1)", "plus_un", "biais de trop")]),
    "nombre_mises_a_jour": _mistakes("nombre_mises_a_jour", _updates, [
        ("arrondi inférieur", "plancher", "SUPÉRIEUR"), ("division réelle", "reel", "entier"),
        ("une seule époque", "une_epoque", "UNE époque")]),
}
