"""What a student's Keras model may ask, read from its JSON before anything is built (used by
`judges.common.keras_models`): an allow-list of plain layers, one input, a single chain of layers
(no nested model, no shared layer), every size argument bounded, then the shapes inferred layer
by layer and the model's cost per sample estimated (parameters, floating-point operations,
activations) and bounded. Every refusal is an AssertionError with a French message.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

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
# Per sample: TP3's master CNN needs 0.34 MFLOPs and 3 530 activations, TP2's largest MLP
# 0.04 MFLOPs. 20 MFLOPs × 1 800 judged digits is a few seconds on one core.
MAX_FLOPS = 20_000_000
MAX_ACTIVATIONS = 1_000_000
BATCH_ACTIVATIONS = 2**24  # floats alive in one predict batch (64 MiB)
NOT_STANDARD = ("non acceptée dans ce TP (couches Keras standard uniquement : Dense, Conv2D, "
                "MaxPooling2D, Flatten, Dropout, BatchNormalization, Activation…)")


@dataclass(frozen=True)
class Cost:
    """A model's estimated cost per sample; `batch`: examples per predict call."""

    params: int
    flops: int
    activations: int  # sum over the layers, per sample

    @property
    def batch(self) -> int:
        return int(max(1, min(256, BATCH_ACTIVATIONS // max(1, self.activations))))


# -- reading the JSON as data --------------------------------------------------------------------
def read_json(answer: dict, what: str) -> tuple[dict, dict]:
    """(model config, compile config) of an exported model, its objects checked."""
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
            if not free and not (isinstance(name, str) and name in ALLOWED_LAYERS):
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
        tensor = args[0] if isinstance(args, list) and len(args) == 1 else {}
        tensor = tensor.get("config") if isinstance(tensor, dict) else None
        history = tensor.get("keras_history") if isinstance(tensor, dict) else None
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
    if not isinstance(claimed, list) or claimed != [None, *input_shape]:
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
