"""Keras models in the judges of TP2 and TP3: a student's model is never trusted as an object.

The kernel sends its architecture JSON (with the compile config) and its weights
(`course.keras_tools.export_model`). Before anything is built, the JSON is read as data:

- only plain Keras layers of an allow-list, one input of the expected shape, a single chain of
  layers (no nested model, no shared layer), every size argument bounded (units, filters,
  kernel, pool, strides, padding, dilation, depth multiplier, number of layers);
- then the shapes are inferred layer by layer to estimate the cost of the model per sample:
  parameters, floating-point operations, activations. Above the limits the model is refused with
  a French message (the student's failure, decided in milliseconds), so that no JSON can make
  the judge allocate gigabytes or crash in predict.

Only then is the model rebuilt (Keras safe mode, per-layer build configs dropped: the shapes come
from the input) and its outputs computed in batches sized from the activation estimate.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.keras_tools import import_keras, quiet_stderr
from grader.judging import as_array, as_number

ALLOWED_LAYERS = {
    "Sequential", "Functional", "InputLayer", "DTypePolicy", "__keras_tensor__",
    "Dense", "Dropout", "BatchNormalization", "LayerNormalization", "Activation", "ReLU",
    "LeakyReLU", "ELU", "PReLU", "Softmax", "Flatten", "Reshape", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D", "Identity",
    "Conv2D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D", "Rescaling",
    "RandomTranslation", "RandomRotation", "RandomZoom",
}
FREE_MODULES = ("keras.initializers", "keras.regularizers", "keras.constraints",
                "keras.activations")
# Layers that keep the shape of their input (at inference).
SAME_SHAPE = {"Dropout", "Activation", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax",
              "GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D",
              "SpatialDropout2D", "Identity", "Rescaling", "RandomTranslation", "RandomRotation",
              "RandomZoom", "BatchNormalization", "LayerNormalization"}
# Bounds of one argument (the course's models use a few dozen units, 3×3 kernels, padding 1).
BOUNDS = {"units": 2048, "filters": 512, "kernel_size": 8, "pool_size": 8, "strides": 8,
          "padding": 8, "dilation_rate": 4, "depth_multiplier": 8}
MAX_LAYERS = 40
MAX_PARAMS = 2_000_000
# Per sample: TP3's master CNN needs 0.34 MFLOPs and 4 500 activations; TP2's largest MLP
# 0.11 MFLOPs. 20 MFLOPs × 1 800 judged digits is a few seconds on one core.
MAX_FLOPS = 20_000_000
MAX_ACTIVATIONS = 1_000_000
BATCH_ACTIVATIONS = 2**24  # floats alive in one predict batch (64 MiB)
NOT_STANDARD = ("non acceptée dans ce TP (couches Keras standard uniquement : Dense, Conv2D, "
                "MaxPooling2D, Flatten, Dropout, BatchNormalization, Activation…)")


@dataclass(frozen=True)
class Cost:
    params: int
    flops: int
    activations: int  # sum over the layers, per sample

    @property
    def batch(self) -> int:
        return int(max(1, min(256, BATCH_ACTIVATIONS // max(1, self.activations))))


@dataclass
class Rebuilt:
    model: Any
    compile: dict
    iterations: float
    cost: Cost


# -- reading the JSON as data --------------------------------------------------------------------
def _read(answer: dict, what: str) -> tuple[dict, dict]:
    arch = answer.get("architecture")
    if not isinstance(arch, str):
        raise AssertionError(f"{what} : architecture du modèle illisible (un modèle Keras est "
                             "attendu)")
    try:
        config = json.loads(arch)
    except (ValueError, RecursionError):
        raise AssertionError(f"{what} : architecture du modèle illisible") from None
    if not isinstance(config, dict) or config.get("class_name") not in ("Sequential",
                                                                        "Functional"):
        raise AssertionError(f"{what} : un modèle keras.Sequential ou keras.Model est attendu")
    compiled = config.pop("compile_config", None)
    _check_objects(config, what)
    if isinstance(config.get("config"), dict):  # the input layer gives the shapes
        config["config"].pop("build_input_shape", None)
    return config, compiled if isinstance(compiled, dict) else {}


def _check_objects(config: dict, what: str) -> None:
    """Every serialized object is a plain Keras one; per-layer build configs are dropped (a
    claimed input shape would make Keras allocate that layer's weights before any check)."""
    stack = [(config, 0)]
    while stack:
        obj, depth = stack.pop()
        if depth > 40:
            raise AssertionError(f"{what} : architecture imbriquée trop profondément")
        if isinstance(obj, list):
            stack.extend((v, depth + 1) for v in obj)
        if not isinstance(obj, dict):
            continue
        if "class_name" in obj:
            module, name = obj.get("module"), obj.get("class_name")
            if module is not None and not (isinstance(module, str) and (
                    module == "keras" or module.startswith("keras."))):
                raise AssertionError(f"{what} : objet « {str(name)[:40]} » d'un module non "
                                     "autorisé")
            free = isinstance(module, str) and module.startswith(FREE_MODULES)
            if not free and name not in ALLOWED_LAYERS:
                raise AssertionError(f"{what} : couche « {str(name)[:40]} » {NOT_STANDARD}")
            obj.pop("build_config", None)
        stack.extend((v, depth + 1) for v in obj.values())


def _chain(config: dict, what: str) -> tuple[list, list]:
    """(input batch_shape, [(class_name, layer config)...]) of a single chain of layers."""
    cfg = config.get("config")
    layers = cfg.get("layers") if isinstance(cfg, dict) else None
    if not isinstance(layers, list) or not all(isinstance(l, dict) for l in layers):
        raise AssertionError(f"{what} : architecture du modèle illisible")
    if len(layers) > MAX_LAYERS:
        raise AssertionError(f"{what} : {len(layers)} couches, plus de {MAX_LAYERS} : trop "
                             "pour ce TP")
    if any(l.get("class_name") in ("Sequential", "Functional") for l in layers):
        raise AssertionError(f"{what} : un modèle dans un modèle n'est pas accepté ici : mettez "
                             "toutes les couches dans un seul keras.Sequential")
    if config["class_name"] == "Functional":
        layers = _functional_chain(cfg, layers, what)
    if not layers or layers[0].get("class_name") != "InputLayer":
        raise AssertionError(f"{what} : le modèle n'a pas de couche d'entrée : commencez par "
                             "keras.Input(shape=...)")
    if any(l.get("class_name") == "InputLayer" for l in layers[1:]):
        raise AssertionError(f"{what} : une seule entrée est attendue")
    entry = layers[0].get("config") if isinstance(layers[0].get("config"), dict) else {}
    shape = entry.get("batch_shape") or entry.get("batch_input_shape")
    return shape, [(l.get("class_name"), l.get("config") if isinstance(l.get("config"), dict)
                    else {}) for l in layers[1:]]


def _functional_chain(cfg: dict, layers: list, what: str) -> list:
    """The layers of a keras.Model from its output back to its input, one tensor each."""
    single = f"{what} : le modèle doit être une simple suite de couches (une entrée, une sortie)"
    by_name = {l.get("name"): l for l in layers if isinstance(l.get("name"), str)}
    out = cfg.get("output_layers")
    out = out[0] if isinstance(out, list) and len(out) == 1 and isinstance(out[0], list) else out
    if not (isinstance(out, list) and len(out) == 3 and isinstance(out[0], str)):
        raise AssertionError(single)
    chain, name = [], out[0]
    while True:
        layer = by_name.get(name) if isinstance(name, str) else None
        if layer is None or any(layer is seen for seen in chain):
            raise AssertionError(single)
        chain.append(layer)
        nodes = layer.get("inbound_nodes")
        if layer.get("class_name") == "InputLayer":
            break
        if not (isinstance(nodes, list) and len(nodes) == 1 and isinstance(nodes[0], dict)):
            raise AssertionError(f"{what} : chaque couche s'applique une seule fois, à un seul "
                                 "tenseur")
        args, kwargs = nodes[0].get("args"), nodes[0].get("kwargs") or {}
        tensor = args[0] if isinstance(args, list) and len(args) == 1 else None
        history = (tensor.get("config") or {}).get("keras_history") \
            if isinstance(tensor, dict) else None
        if not (isinstance(history, list) and len(history) == 3 and history[1:] == [0, 0]
                and isinstance(kwargs, dict) and all(
                    v is None or isinstance(v, (bool, int, float, str)) for v in kwargs.values())):
            raise AssertionError(single)
        name = history[0]
    if len(chain) != len(layers):
        raise AssertionError(single)
    return chain[::-1]


# -- shapes and cost, before anything is built ---------------------------------------------------
def _ints(cfg: dict, key: str, n: int, what: str, low: int = 1, default=None) -> list[int]:
    value = cfg.get(key, default)
    items = [value] * n if isinstance(value, int) else value
    if not (isinstance(items, list) and len(items) == n and all(
            isinstance(v, int) and not isinstance(v, bool) for v in items)):
        raise AssertionError(f"{what} : {key} = {str(value)[:40]} illisible")
    high = BOUNDS.get(key, 10**9)
    if not all(low <= v <= high for v in items):
        raise AssertionError(f"{what} : {key} = {value} hors des limites de ce TP ({low} à "
                             f"{high})")
    return items


def _window(n: int, k: int, s: int, d: int, padding, what: str) -> int:
    if padding == "same":
        return -(-n // s)
    if padding != "valid":
        raise AssertionError(f"{what} : padding = {str(padding)[:20]!r} ('valid' ou 'same')")
    span = (k - 1) * d + 1
    if span > n:
        raise AssertionError(f"{what} : noyau de {span} pixels sur une entrée de {n} pixels")
    return (n - span) // s + 1


def _step(kind: str, cfg: dict, shape: tuple, what: str) -> tuple[tuple, int, int]:
    """(output shape, parameters, floating-point operations) of one layer, per sample."""
    size = math.prod(shape)
    where = f"{what} (couche {kind})"
    if kind in SAME_SHAPE:
        if kind in ("BatchNormalization", "LayerNormalization"):
            axes = cfg.get("axis", -1)
            axes = axes if isinstance(axes, list) else [axes]
            if not all(isinstance(a, int) and -len(shape) <= a <= len(shape) and a != 0
                       for a in axes):
                raise AssertionError(f"{where} : axis = {str(axes)[:30]} illisible")
            n = math.prod(shape[a - 1 if a > 0 else a] for a in axes)
            return shape, (4 if kind == "BatchNormalization" else 2) * n, 4 * size
        return shape, size if kind == "PReLU" else 0, size
    if kind == "Dense":
        (units,) = _ints(cfg, "units", 1, where)
        return shape[:-1] + (units,), (shape[-1] + 1) * units, 2 * size * units
    if kind == "Flatten":
        return (size,), 0, 0
    if kind == "Reshape":
        target = cfg.get("target_shape")
        if not (isinstance(target, list) and 1 <= len(target) <= 4 and all(
                isinstance(t, int) and (t >= 1 or t == -1) for t in target)
                and target.count(-1) <= 1):
            raise AssertionError(f"{where} : target_shape illisible")
        known = math.prod(t for t in target if t != -1)
        if size % known or (-1 not in target and known != size):
            raise AssertionError(f"{where} : {size} valeurs ne se rangent pas en {target}")
        return tuple(size // known if t == -1 else t for t in target), 0, 0
    if len(shape) != 3:
        raise AssertionError(f"{where} : une entrée (hauteur, largeur, canaux) est attendue, "
                             f"pas {shape}")
    if cfg.get("data_format", "channels_last") not in (None, "channels_last"):
        raise AssertionError(f"{where} : data_format='channels_last' uniquement")
    h, w, c = shape
    if kind == "ZeroPadding2D":
        pad = cfg.get("padding")
        if isinstance(pad, int) or isinstance(pad, list) and len(pad) == 2 and all(
                isinstance(p, int) for p in pad):
            pad = [pad, pad] if isinstance(pad, int) else pad
        if not (isinstance(pad, list) and len(pad) == 2):
            raise AssertionError(f"{where} : padding = {str(pad)[:40]} illisible")
        (t, b), (l, r) = (_ints({"padding": p}, "padding", 2, where, 0) for p in pad)
        return (h + t + b, w + l + r, c), 0, 0
    if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
        return ((1, 1, c) if cfg.get("keepdims") else (c,)), 0, size
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        kh, kw = _ints(cfg, "pool_size", 2, where, default=2)
        sh, sw = _ints(cfg, "strides", 2, where) if cfg.get("strides") is not None else (kh, kw)
        out = (_window(h, kh, sh, 1, cfg.get("padding", "valid"), where),
               _window(w, kw, sw, 1, cfg.get("padding", "valid"), where), c)
        return out, 0, math.prod(out) * kh * kw
    kh, kw = _ints(cfg, "kernel_size", 2, where)
    sh, sw = _ints(cfg, "strides", 2, where, default=1)
    dh, dw = _ints(cfg, "dilation_rate", 2, where, default=1)
    hw = (_window(h, kh, sh, dh, cfg.get("padding", "valid"), where),
          _window(w, kw, sw, dw, cfg.get("padding", "valid"), where))
    if kind == "Conv2D":
        (f,) = _ints(cfg, "filters", 1, where)
        (g,) = _ints(cfg, "groups", 1, where, default=1)
        if c % g or f % g:
            raise AssertionError(f"{where} : groups = {g} doit diviser {c} canaux et {f} filtres")
        per_position = kh * kw * (c // g) * f
        return hw + (f,), per_position + f, 2 * math.prod(hw) * per_position
    (m,) = _ints(cfg, "depth_multiplier", 1, where, default=1)
    if kind == "DepthwiseConv2D":
        return hw + (c * m,), (kh * kw + 1) * c * m, 2 * math.prod(hw) * kh * kw * c * m
    if kind == "SeparableConv2D":
        (f,) = _ints(cfg, "filters", 1, where)
        return (hw + (f,), kh * kw * c * m + c * m * f + f,
                2 * math.prod(hw) * (kh * kw + f) * c * m)
    raise AssertionError(f"{what} : couche « {str(kind)[:40]} » {NOT_STANDARD}")


def estimate(config: dict, input_shape: tuple, what: str) -> tuple[list, Cost]:
    """The layers (class, config) and the model's cost per sample, from the JSON alone; refuses
    (AssertionError, French) a wrong input or a model beyond the limits."""
    claimed, layers = _chain(config, what)
    if list(claimed or []) != [None, *input_shape]:
        got = tuple(claimed[1:]) if isinstance(claimed, list) and claimed else "?"
        raise AssertionError(f"{what} : entrée de forme {got} au lieu de {tuple(input_shape)} "
                             "attendue")
    shape, params, flops, activations = tuple(input_shape), 0, 0, math.prod(input_shape)
    for kind, cfg in layers:
        shape, p, f = _step(kind, cfg, shape, what)
        if not all(isinstance(d, int) and d >= 1 for d in shape):
            raise AssertionError(f"{what} : couche {kind} de sortie vide {shape}")
        params, flops, activations = params + p, flops + f, activations + math.prod(shape)
        for total, limit, words in ((params, MAX_PARAMS, "paramètres"),
                                    (flops, MAX_FLOPS, "opérations par exemple"),
                                    (activations, MAX_ACTIVATIONS, "valeurs intermédiaires par "
                                                                   "exemple")):
            if total > limit:
                limit = f"{limit:_}".replace("_", " ")
                raise AssertionError(f"{what} : plus de {limit} {words} (à la couche {kind}), "
                                     "trop pour ce TP : réduisez la taille du modèle")
    return layers, Cost(params, flops, activations)


# -- rebuilding and measuring -------------------------------------------------------------------
def rebuild(answer: dict, input_shape: tuple, what: str, weights: bool = True) -> Rebuilt:
    """The student's model rebuilt from its JSON (and, unless weights=False, with the weights
    sent: architecture-only checks build it weightless, freshly initialised)."""
    config, compiled = _read(answer, what)
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
