"""Keras models in the judges of TP2 and TP3: a student's model is never trusted as an object.

The kernel sends its architecture JSON and weights (`course.keras_tools.export_model`). Before
anything is built, the JSON is read as data: plain Keras layers of an allow-list, one input of
the expected shape, a single chain of layers, every size argument bounded; then the shapes are
inferred layer by layer to estimate the model's cost per sample (parameters, floating-point
operations, activations). Beyond the limits the model is refused in milliseconds with a French
message (the student's failure): no JSON can make the judge allocate gigabytes or crash in
predict. Only then is it rebuilt (Keras safe mode, per-layer build configs dropped: the shapes
come from the input) and run in batches sized from the activation estimate.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.keras_tools import import_keras, quiet_stderr
from grader.judging import as_array, as_number

from .keras_bounds import MAX_LAYERS, Cost, estimate, read_json

__all__ = ["Cost", "Rebuilt", "estimate", "rebuild", "predict", "canonical_name",
           "model_layers", "output_activation", "check_loss", "fitted_on_evaluation",
           "digits_classifier"]


@dataclass
class Rebuilt:
    """A model rebuilt by the judge, its compile config, optimizer updates and cost."""

    model: Any
    compile: dict
    iterations: float
    cost: Cost


# -- rebuilding and measuring -------------------------------------------------------------------
def rebuild(answer: dict, input_shape: tuple, what: str, weights: bool = True) -> Rebuilt:
    """The student's model rebuilt from its JSON (and, unless weights=False, with the weights
    sent: architecture-only checks build it weightless, freshly initialised)."""
    config, compiled = read_json(answer, what)
    _, cost = estimate(config, input_shape, what)
    arrays, iterations = [], -1.0
    if weights:
        n = int(as_number(answer, "n_poids", f"{what} (nombre de tableaux de poids)"))
        if not 0 < n <= 4 * MAX_LAYERS:
            raise AssertionError(f"{what} : le modèle n'a aucun poids (a-t-il été construit ?)"
                                 if n == 0 else f"{what} : poids du modèle illisibles")
        arrays = [as_array(answer, f"w{i}", what=f"{what} (poids n° {i})") for i in range(n)]
        if "iterations" in answer:
            iterations = as_number(answer, "iterations", f"{what} (mises à jour)")
    keras = import_keras()
    try:
        with quiet_stderr(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as exc:
        raise AssertionError(f"{what} : modèle impossible à reconstruire ({type(exc).__name__} : "
                             f"{str(exc)[:150]})") from None
    if weights:
        expected = [tuple(w.shape) for w in model.get_weights()]
        if expected != [a.shape for a in arrays]:
            raise AssertionError(f"{what} : les poids envoyés ne correspondent pas à "
                                 "l'architecture")
        model.set_weights(arrays)
    return Rebuilt(model, compiled, iterations, cost)


def predict(rebuilt: Rebuilt, X, what: str) -> np.ndarray:
    """The rebuilt model's outputs on X, computed in batches (eager calls, no retracing)."""
    keras = import_keras()
    X = np.asarray(X, dtype="float32")
    parts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(0, len(X), rebuilt.cost.batch):
            out = rebuilt.model(X[i:i + rebuilt.cost.batch], training=False)
            parts.append(np.asarray(keras.ops.convert_to_numpy(out), dtype=float))
    P = np.concatenate(parts)
    if not np.all(np.isfinite(P)):
        raise AssertionError(f"{what} : les prédictions du modèle contiennent des NaN ou des "
                             "infinis (apprentissage qui a divergé ?)")
    return P


def canonical_name(obj) -> str:
    """Canonical name of a serialized loss / optimizer / metric / activation: lower case, no
    underscores ('categorical_crossentropy' and CategoricalCrossentropy() alike)."""
    if isinstance(obj, dict):
        cfg = obj.get("config")
        obj = cfg if obj.get("class_name") == "function" and isinstance(cfg, str) \
            else obj.get("class_name", "")
    return str(obj).lower().replace("_", "")


def model_layers(model) -> list:
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def output_activation(model) -> str:
    """The output's activation: the last Dense's (or Conv's), or a trailing activation layer."""
    for layer in reversed(model_layers(model)):
        kind = type(layer).__name__
        if kind in ("Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Identity"):
            continue
        if kind in ("Softmax", "ReLU"):
            return kind.lower()
        act = layer.get_config().get("activation")
        return canonical_name(act) if act is not None else kind.lower()
    return "?"


LOSSES = {"mse": {"mse", "meansquarederror"}, "mae": {"mae", "meanabsoluteerror"},
          "bce": {"binarycrossentropy", "bce"},
          "cce": {"categoricalcrossentropy", "sparsecategoricalcrossentropy"}}


def check_loss(compiled: dict, what: str, families: tuple, advice: str) -> None:
    if not compiled:
        raise AssertionError(f"{what} : le modèle n'a pas été compilé (model.compile) ni entraîné")
    name = canonical_name(compiled.get("loss"))
    if not any(name in LOSSES[f] for f in families):
        raise AssertionError(f"{what} : fonction de perte « {name or 'aucune'} » ; {advice}")


# -- trained classifiers and regressors: held-out scores, leaks ---------------------------------
def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def fitted_on_evaluation(score: float, score_train: float, margin: float, what: str,
                         metric: str) -> None:
    """A model fitted on X_train scores at least as well there as on the test split: clearly
    better on the test split means it was fitted on it."""
    if score - score_train > margin:
        show = pct if metric == "exactitude" else (lambda v: f"{v:.3f}")
        raise AssertionError(
            f"{what} : {metric} {show(score)} sur l'ensemble de test mais seulement "
            f"{show(score_train)} sur l'ensemble d'apprentissage : un modèle entraîné sur "
            "X_train fait au moins aussi bien sur ses données d'apprentissage. A-t-il été "
            "entraîné sur les données de test ? N'utilisez que X_train, y_train pour fit")


def digits_classifier(rebuilt: Rebuilt, case: dict, what: str, threshold: float, leak: float,
                      margin: float, advice: str) -> None:
    """TP2's MLP and TP3's CNN on the digits: 10 softmax outputs, a categorical cross-entropy,
    accuracy >= threshold on the test digits, not too good (>= leak: no error at all), and not
    clearly better there than on the training digits (> margin)."""
    P = predict(rebuilt, case["_X"], what)
    if P.ndim != 2 or P.shape[1] != 10:
        raise AssertionError(f"{what} : sortie de forme {P.shape[1:]} au lieu de (10,) : un "
                             "neurone de sortie par chiffre")
    if P.min() < -1e-6 or not np.allclose(P.sum(axis=1), 1.0, atol=1e-3):
        raise AssertionError(f"{what} : les 10 sorties doivent être des probabilités de somme 1 : "
                             f"activation 'softmax' en sortie (trouvé « "
                             f"{output_activation(rebuilt.model)} »)")
    check_loss(rebuilt.compile, what, ("cce",),
               "la classification multi-classe utilise l'entropie croisée catégorielle : "
               "loss='categorical_crossentropy' (étiquettes one-hot) ou "
               "'sparse_categorical_crossentropy' (étiquettes entières)")
    acc = float(np.mean(np.argmax(P, axis=1) == case["_y"]))
    if acc < threshold:
        raise AssertionError(f"{what} : exactitude {pct(acc)} sur les {len(P)} chiffres de test, "
                             f"il faut au moins {pct(threshold)} ({advice})")
    if acc >= leak:
        raise AssertionError(f"{what} : exactitude {pct(acc)} sur l'ensemble de test, trop belle "
                             "pour être vraie (aucune erreur) : le modèle a-t-il été entraîné sur "
                             "les données de test ? N'utilisez que X_train, y_train pour fit")
    P_train = predict(rebuilt, case["_X_app"], what)
    fitted_on_evaluation(acc, float(np.mean(np.argmax(P_train, axis=1) == case["_y_app"])),
                         margin, what, "exactitude")
