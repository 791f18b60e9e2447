"""TP3, part 3: the summary of a whole architecture (output shape and parameter count of each
layer), against the equivalent Keras model: the slide's example (RGB 9×9 → regression) and random
architectures."""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_array, as_number
from tp3.exercises import layer_tuples

from .counts import _size
from .oracles import keras_architecture

# layer codes in the judge's arrays: [type, a, b, c, d, e]
#   conv: [0, F, kh, kw, p, s]   pool: [1, k, s, 0, 0, 0]   flatten: [2, 0…]   dense: [3, units, 0…]
SLIDE = {"entree": (9, 9, 3), "couches": [[0, 16, 3, 3, 1, 1], [1, 2, 2, 0, 0, 0],
                                          [0, 32, 3, 3, 0, 1], [2, 0, 0, 0, 0, 0],
                                          [3, 1, 0, 0, 0, 0]]}
LAYER_NAMES = {"conv": "Conv2D", "pool": "MaxPooling2D", "flatten": "Flatten", "dense": "Dense"}


def _random_architecture(rng):
    for _ in range(1000):
        h, w, c = int(rng.integers(8, 33)), int(rng.integers(8, 33)), int(rng.integers(1, 5))
        H, W, layers, ok = h, w, [], True
        for _ in range(int(rng.integers(2, 5))):
            if rng.random() < 0.6:
                kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
                p, s, f = int(rng.integers(0, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 17))
                if kh > H + 2 * p or kw > W + 2 * p:
                    ok = False
                    break
                H, W = (H - kh + 2 * p) // s + 1, (W - kw + 2 * p) // s + 1
                layers.append([0, f, kh, kw, p, s])
            else:
                k, s = int(rng.integers(2, 4)), int(rng.integers(1, 4))
                if k > H or k > W:
                    ok = False
                    break
                H, W = (H - k) // s + 1, (W - k) // s + 1
                layers.append([1, k, s, 0, 0, 0])
        if ok and layers and H >= 1 and W >= 1:
            layers.append([2, 0, 0, 0, 0, 0])
            layers += [[3, int(rng.integers(1, 40)), 0, 0, 0, 0]
                       for _ in range(int(rng.integers(1, 3)))]
            return {"entree": (h, w, c), "couches": layers}
    raise RuntimeError("no architecture")


def _cases(rng, hidden):
    archs = [SLIDE] if not hidden else [_random_architecture(rng) for _ in range(3)]
    return [{"entree": np.array(a["entree"]), "couches": np.array(a["couches"])} for a in archs]


def _verdict(case, answer):
    entry, codes = tuple(int(v) for v in case["entree"]), case["couches"]
    expected, specs = keras_architecture(entry, codes), layer_tuples(codes)
    n = int(as_number(answer, "n", "nombre de couches"))
    if n != len(expected):
        raise AssertionError(f"{n} couple(s) renvoyé(s) pour {len(expected)} couches")
    previous = entry
    for i, ((shape, params), spec) in enumerate(zip(expected, specs)):
        what = f"entrée {entry}, couche n° {i + 1} {spec} ({LAYER_NAMES[spec[0]]})"
        got_shape = as_array(answer, f"forme{i}", what=f"{what} : forme")
        got_params = as_number(answer, f"params{i}", f"{what} : paramètres")
        if got_shape.shape != (len(shape),) or tuple(got_shape.astype(int).tolist()) != shape \
                or not np.all(got_shape == np.round(got_shape)):
            g = tuple(got_shape.ravel().tolist())
            if spec[0] == "conv" and g == (shape[-1], *shape[:-1]):
                raise AssertionError(f"{what} : forme {g} : les canaux (filtres) vont en DERNIER "
                                     f"comme dans Keras, {shape}")
            if spec[0] == "flatten":
                raise AssertionError(f"{what} : forme {g} au lieu de {shape} : Flatten met bout à "
                                     f"bout les {'×'.join(map(str, previous))} valeurs")
            raise AssertionError(f"{what} : forme de sortie {g} au lieu de {shape} (Keras)")
        if got_params != params:
            if spec[0] in ("pool", "flatten"):
                raise AssertionError(f"{what} : {got_params:g} paramètres : le pooling et "
                                     "Flatten n'ont AUCUN paramètre")
            if spec[0] == "conv" and got_params == (spec[2][0] * spec[2][1] * entry[2] + 1) \
                    * spec[1]:
                raise AssertionError(f"{what} : {got_params:g} paramètres au lieu de {params} : I "
                                     "est le nombre de plans de la couche PRÉCÉDENTE "
                                     f"({previous[-1]}), pas celui de l'image")
            if spec[0] == "dense" and got_params == int(np.prod(previous)) * spec[1]:
                raise AssertionError(f"{what} : biais oubliés (+ {spec[1]})")
            raise AssertionError(f"{what} : {got_params:g} paramètres au lieu de {params} "
                                 "(Keras)")
        previous = shape


CHECKS = [Check(
    "resume_architecture", _cases, _verdict, numpy_only=True,
    doc="Forme de sortie et nombre de paramètres de chaque couche (convolution avec padding et "
        "stride, pooling, Flatten, Dense), comparés au modèle Keras équivalent : l'exemple de la "
        "diapositive (RGB 9×9 → régression) et des architectures aléatoires.")]


def _summary(kind):
    size = _size("")

    def resume_architecture(forme_entree, couches):
        shape, out = tuple(forme_entree), []
        for layer in couches:
            if layer[0] == "conv":
                _, f, (ky, kx), p, s = layer
                i = forme_entree[2] if kind == "i_image" else shape[2]
                params = (kx * ky * i + 1) * f
                p = 0 if kind == "sans_padding" else p
                shape = (size(shape[0], ky, p, s), size(shape[1], kx, p, s), f)
                if kind == "canaux_premiers":
                    out.append(((f, shape[0], shape[1]), params))
                    continue
            elif layer[0] == "pool":
                _, k, s = layer
                params = (k * k * shape[2] + 1) * shape[2] if kind == "pool_params" else 0
                shape = (size(shape[0], k, 0, s), size(shape[1], k, 0, s), shape[2])
            elif layer[0] == "flatten":
                params = 0
                shape = (sum(shape),) if kind == "flatten_somme" else (int(np.prod(shape)),)
            else:
                params = shape[0] * layer[1] + (0 if kind == "dense_sans_biais" else layer[1])
                shape = (layer[1],)
            out.append((shape, params))
        return out
    return resume_architecture


MISTAKES = {"resume_architecture": [
    Mistake(label, {"resume_architecture": _summary(kind)}, words)
    for label, kind, words in (
        ("pooling avec paramètres", "pool_params", "AUCUN"),
        ("I de l'image", "i_image", "PRÉCÉDENTE"), ("Flatten en somme", "flatten_somme",
                                                     "Flatten"),
        ("Dense sans biais", "dense_sans_biais", "biais"),
        ("canaux en premier", "canaux_premiers", "DERNIER"),
        ("padding ignoré", "sans_padding", "forme de sortie"))]}
