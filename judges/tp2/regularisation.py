"""TP2, part 4.2: a one-hidden-layer network for the two moons with the L2 penalty λ‖w‖² of
the course on its weight matrices. The judge rebuilds the student's architecture with Keras
(weightless, within the bounds of `judges.common.keras_models`) and reads the regularizer
objects Keras made of it (their `l1`/`l2` attributes), not the JSON text."""

from __future__ import annotations

import math

from grader.judging import Check, Mistake
from judges.common.keras_models import canonical_name, model_layers, rebuild


def _cases(rng, hidden):
    if not hidden:
        return [{"n_caches": 20, "lam": 1e-3}]
    return [{"n_caches": 3, "lam": 0.0}, {"n_caches": 6, "lam": 0.1},
            {"n_caches": int(rng.integers(2, 60)), "lam": float(10 ** rng.uniform(-4, -1))},
            {"n_caches": 20, "lam": 1e-2}]


def _penalty(regularizer) -> tuple[float, float]:
    """(l1, l2) of a Keras regularizer object; (0, 0) for none."""
    if regularizer is None:
        return 0.0, 0.0
    return (float(getattr(regularizer, "l1", 0.0) or 0.0),
            float(getattr(regularizer, "l2", 0.0) or 0.0))


def _verdict(case, answer):
    h, lam = int(case["n_caches"]), float(case["lam"])
    call = f"mlp_lunes({h}, {lam:g})"
    model = rebuild(answer, (2,), call, weights=False).model
    layers = model_layers(model)
    kinds = [type(layer).__name__ for layer in layers]
    if kinds != ["Dense", "Dense"]:
        raise AssertionError(f"{call} : couches {kinds} au lieu de Dense({h}, relu) puis "
                             "Dense(1, sigmoid)")
    hidden, out = layers
    found = [(hidden.units, canonical_name(hidden.get_config()["activation"])),
             (out.units, canonical_name(out.get_config()["activation"]))]
    if found != [(h, "relu"), (1, "sigmoid")]:
        raise AssertionError(f"{call} : couches {found} au lieu de [({h}, 'relu'), "
                             "(1, 'sigmoid')]")
    for layer, which in ((hidden, "couche cachée"), (out, "couche de sortie")):
        if layer.activity_regularizer is not None:
            raise AssertionError(f"{call} : {which} : activity_regularizer pénalise les "
                                 "SORTIES de la couche ; le terme λ‖w‖² porte sur les poids : "
                                 "kernel_regularizer")
        if any(_penalty(layer.bias_regularizer)):
            raise AssertionError(f"{call} : {which} : pénalité sur les biais (bias_regularizer) ; "
                                 "le terme λ‖w‖² porte sur les matrices de poids : "
                                 "kernel_regularizer")
    for layer, which in ((hidden, "couche cachée"), (out, "couche de sortie")):
        l1, l2 = _penalty(layer.kernel_regularizer)
        if l1 and lam:
            raise AssertionError(f"{call} : {which} : pénalité L1 (λ Σ |w|) ; le cours utilise "
                                 "λ‖w‖² = λ Σ w² : keras.regularizers.L2")
        if math.isclose(l2, lam, rel_tol=1e-6, abs_tol=1e-12) and not l1:
            continue
        if lam and math.isclose(l2, lam / 2, rel_tol=1e-6):
            raise AssertionError(f"{call} : {which} : L2({l2:g}) = λ/2 ; Keras ajoute "
                                 "L2(c) = c Σ w² à la perte : pour λ‖w‖², c = λ")
        if lam and l2 == 0:
            raise AssertionError(f"{call} : {which} sans pénalité L2 : chaque matrice de poids "
                                 f"reçoit kernel_regularizer=L2({lam:g})")
        raise AssertionError(f"{call} : {which} : L2({l2:g}) au lieu de L2({lam:g})")


CHECKS = [Check(
    "mlp_lunes", _cases, _verdict,
    doc="Réseau Input 2 → Dense(h, relu) → Dense(1, sigmoid), L2(λ) sur les deux matrices de "
        "poids, relu par Keras après reconstruction (λ = 0 : sans pénalité).")]


def _builder(kind):
    def mlp_lunes(n_caches, lam):
        from course.keras_tools import import_keras

        keras = import_keras()
        reg = None
        if lam > 0:
            reg = {"l1": keras.regularizers.L1(lam), "demi": keras.regularizers.L2(lam / 2)
                   }.get(kind, keras.regularizers.L2(lam))
        options = {"biais": {"bias_regularizer": reg}, "activite": {"activity_regularizer": reg}
                   }.get(kind, {"kernel_regularizer": reg})
        out_options = {} if kind == "cachee_seule" else options
        return keras.Sequential([
            keras.Input((2,)), keras.layers.Dense(n_caches, activation="relu", **options),
            keras.layers.Dense(1, activation="sigmoid", **out_options)])
    return mlp_lunes


MISTAKES = {"mlp_lunes": [
    Mistake("pénalité L1", {"mlp_lunes": _builder("l1")}, "L1"),
    Mistake("L2(λ/2)", {"mlp_lunes": _builder("demi")}, "λ/2"),
    Mistake("biais pénalisés", {"mlp_lunes": _builder("biais")}, "bias_regularizer"),
    Mistake("activity_regularizer", {"mlp_lunes": _builder("activite")}, "SORTIES"),
    Mistake("sortie non pénalisée", {"mlp_lunes": _builder("cachee_seule")}, "sortie sans"),
]}
