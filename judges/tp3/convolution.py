"""TP3, part 2: convolution and max-pooling by hand (NumPy only), against the frameworks' own
layers: torch.nn.functional.conv2d, a Keras Conv2D (after ZeroPadding2D) holding the same
weights, keras.layers.MaxPooling2D."""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_array, fmt

from .oracles import keras_conv_layer, keras_pool, torch_conv


# -- convolution2d ---------------------------------------------------------------------------------
def _conv_cases(rng, hidden):
    if not hidden:
        image = np.arange(36, dtype=float).reshape(6, 6) % 7 - 3
        kernel = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
        return [{"image": image, "noyau": kernel, "padding": 0, "stride": 1},
                {"image": image, "noyau": kernel[:, ::-1].T.copy(), "padding": 1, "stride": 2}]
    cases = []
    for p, s, (kh, kw) in ((0, 1, (3, 2)), (2, 3, (2, 4)), (1, 2, (3, 3)), (0, 1, (1, 1)),
                           (1, 1, (5, 3))):
        h, w = int(rng.integers(max(kh, 4), 12)), int(rng.integers(max(kw, 4), 12))
        cases.append({"image": rng.normal(size=(h, w)), "noyau": rng.normal(size=(kh, kw)),
                      "padding": p, "stride": s})
    h, w = int(rng.integers(3, 7)), int(rng.integers(3, 7))
    cases.append({"image": rng.normal(size=(h, w)), "noyau": rng.normal(size=(h, w)),
                  "padding": 0, "stride": 1})  # kernel as large as the image: one pixel out
    return cases


def _conv_verdict(case, answer):
    image, kernel = case["image"], case["noyau"]
    p, s = int(case["padding"]), int(case["stride"])
    expected = torch_conv(image, kernel, p, s)
    where = (f"image {image.shape[0]}×{image.shape[1]}, noyau {kernel.shape[0]}×"
             f"{kernel.shape[1]}, padding = {p}, stride = {s}")
    if isinstance(answer.get("sortie"), np.ndarray) and answer["sortie"].shape != expected.shape:
        shape = answer["sortie"].shape
        hint = ""
        if s > 1 and shape == torch_conv(image, kernel, p, 1).shape:
            hint = " : le stride est ignoré (le noyau doit avancer de stride pixels)"
        elif p > 0 and image.shape[0] >= kernel.shape[0] and image.shape[1] >= kernel.shape[1] \
                and shape == torch_conv(image, kernel, 0, s).shape:
            hint = " : le padding est ignoré (bordure de p zéros tout autour)"
        elif len(shape) == 2 and shape == tuple(d + 1 for d in expected.shape):
            hint = " : une position de trop"
        elif len(shape) == 2 and shape == tuple(d - 1 for d in expected.shape):
            hint = " : il manque la dernière position du noyau (⌊(W − k + 2p)/s⌋ + 1 positions)"
        raise AssertionError(f"{where} : sortie de forme {shape} au lieu de {expected.shape}"
                             f"{hint}")
    got = as_array(answer, "sortie", shape=expected.shape, what="convolution2d")
    if np.allclose(got, expected, rtol=1e-9, atol=1e-9):
        return
    if np.allclose(got, torch_conv(image, kernel[::-1, ::-1].copy(), p, s), atol=1e-9):
        raise AssertionError(f"{where} : noyau retourné : c'est la convolution des "
                             "mathématiciens ; les réseaux (et ce TP) calculent la corrélation "
                             "croisée, le produit de Hadamard avec le noyau TEL QUEL, sans le "
                             "retourner")
    if kernel.shape[0] == kernel.shape[1] and np.allclose(
            got, torch_conv(image, kernel.T.copy(), p, s), atol=1e-9):
        raise AssertionError(f"{where} : noyau transposé (lignes et colonnes échangées)")
    raise AssertionError(f"{where} : valeurs fausses (attendu {fmt(expected)}, obtenu "
                         f"{fmt(got)})")


# -- couche_convolution ----------------------------------------------------------------------------
def _layer_cases(rng, hidden):
    specs = [(7, 6, 3, 2, (3, 3), 1, 1)] if not hidden else [
        (9, 8, 2, 4, (3, 2), 0, 2), (6, 6, 1, 3, (1, 1), 0, 1), (10, 7, 3, 5, (5, 5), 2, 1),
        (8, 9, 4, 1, (2, 3), 1, 3)]
    return [{"images": rng.normal(size=(h, w, c)), "noyaux": rng.normal(size=(kh, kw, c, f)),
             "biais": rng.normal(size=f), "padding": p, "stride": s}
            for h, w, c, f, (kh, kw), p, s in specs]


def _layer_verdict(case, answer):
    X, K, b = case["images"], case["noyaux"], case["biais"]
    p, s = int(case["padding"]), int(case["stride"])
    expected = keras_conv_layer(X, K, b, p, s)
    where = f"image {X.shape}, noyaux {K.shape}, biais {b.shape}, padding = {p}, stride = {s}"
    if isinstance(answer.get("sortie"), np.ndarray) and answer["sortie"].shape != expected.shape:
        shape = answer["sortie"].shape
        if shape == (expected.shape[2], expected.shape[0], expected.shape[1]):
            raise AssertionError(f"{where} : forme {shape} : les canaux vont en DERNIER, "
                                 f"(H_out, W_out, F) = {expected.shape} (comme Keras)")
        raise AssertionError(f"{where} : sortie de forme {shape} au lieu de {expected.shape}")
    got = as_array(answer, "sortie", shape=expected.shape, what="couche_convolution")
    if np.allclose(got, expected, rtol=1e-8, atol=1e-8):
        return
    if np.allclose(got, expected - b, atol=1e-8):
        raise AssertionError(f"{where} : le biais de chaque filtre manque (+ b_f)")
    if np.allclose(got, expected + (X.shape[2] - 1) * b, atol=1e-8):
        raise AssertionError(f"{where} : biais ajouté une fois par canal d'entrée : UN biais par "
                             "filtre, ajouté après la somme sur les canaux")
    if np.allclose(got, np.maximum(expected, 0), atol=1e-8):
        raise AssertionError(f"{where} : pas d'activation ici (ReLU appliquée en trop)")
    if X.shape[2] > 1 and np.allclose(got, keras_conv_layer(X[:, :, :1], K[:, :, :1, :], b, p, s),
                                      atol=1e-8):
        raise AssertionError(f"{where} : seul le premier canal est utilisé : un filtre couvre "
                             "TOUS les canaux d'entrée (somme sur c)")
    if K.shape[0] == K.shape[1] and np.allclose(
            got, keras_conv_layer(X, K.transpose(1, 0, 2, 3).copy(), b, p, s), atol=1e-8):
        raise AssertionError(f"{where} : noyaux transposés : noyaux[i, j, c, f] multiplie le "
                             "pixel (ligne i, colonne j) de la fenêtre")
    if np.allclose(got, keras_conv_layer(X, K[::-1, ::-1].copy(), b, p, s), atol=1e-8):
        raise AssertionError(f"{where} : noyaux retournés : corrélation croisée, sans "
                             "retournement")
    raise AssertionError(f"{where} : valeurs fausses, différentes de la couche Conv2D de Keras "
                         "munie des mêmes poids")


# -- max_pooling ------------------------------------------------------------------------------------
def _pool_cases(rng, hidden):
    specs = [((8, 8, 2), 2, None), ((7, 9, 2), 2, None)] if not hidden else [
        ((9, 7, 3), 2, None), ((10, 10, 1), 3, 1), ((7, 9, 2), 3, 2), ((5, 5, 4), 5, None),
        ((6, 8, 1), 2, 3)]
    return [{"carte": rng.normal(size=shape), "taille": k, "stride": -1 if s is None else s}
            for shape, k, s in specs]


def _pool_verdict(case, answer):
    X, k = case["carte"], int(case["taille"])
    s = k if int(case["stride"]) < 0 else int(case["stride"])
    expected = keras_pool(X, k, s)
    where = f"carte {X.shape}, taille = {k}, stride = {s}"
    if isinstance(answer.get("sortie"), np.ndarray) and answer["sortie"].shape != expected.shape:
        shape = answer["sortie"].shape
        if shape == keras_pool(X, k, 1).shape and s != 1:
            raise AssertionError(f"{where} : forme {shape} au lieu de {expected.shape} : la "
                                 "fenêtre doit avancer de stride pixels (par défaut stride = "
                                 "taille)")
        if len(shape) == 2:
            raise AssertionError(f"{where} : forme {shape} : chaque canal est réduit séparément, "
                                 f"la sortie garde ses {X.shape[2]} canaux")
        raise AssertionError(f"{where} : sortie de forme {shape} au lieu de {expected.shape} "
                             "(pas de padding : les bords incomplets sont ignorés)")
    got = as_array(answer, "sortie", shape=expected.shape, what="max_pooling")
    if np.allclose(got, expected, atol=1e-12):
        return
    if np.allclose(got, keras_pool(X, k, s, "mean"), atol=1e-9):
        raise AssertionError(f"{where} : c'est la MOYENNE de chaque fenêtre : il faut le maximum")
    if np.allclose(got, -keras_pool(-X, k, s), atol=1e-12):
        raise AssertionError(f"{where} : c'est le MINIMUM de chaque fenêtre : il faut le maximum")
    if np.allclose(got, np.repeat(expected.max(axis=2, keepdims=True), X.shape[2], axis=2)):
        raise AssertionError(f"{where} : maximum pris aussi sur les canaux : chaque canal est "
                             "réduit séparément")
    raise AssertionError(f"{where} : valeurs différentes de keras.layers.MaxPooling2D")


CHECKS = [
    Check("convolution2d", _conv_cases, _conv_verdict, numpy_only=True,
          doc="Produit de Hadamard glissant (corrélation croisée) avec padding et stride, comparé "
              "à torch.nn.functional.conv2d : noyaux non carrés, noyau de la taille de l'image, "
              "1×1."),
    Check("couche_convolution", _layer_cases, _layer_verdict, numpy_only=True,
          doc="Couche de convolution multi-canaux, multi-filtres, avec biais, comparée à une "
              "vraie couche Keras Conv2D (précédée de ZeroPadding2D) munie des mêmes poids."),
    Check("max_pooling", _pool_cases, _pool_verdict, numpy_only=True,
          doc="Max-pooling canal par canal (stride = taille par défaut, sans padding) comparé à "
              "keras.layers.MaxPooling2D."),
]


def convolution(kind):
    def convolution2d(image, noyau, padding=0, stride=1):
        image, noyau = np.asarray(image, float), np.asarray(noyau, float)
        if kind == "retourne":
            noyau = noyau[::-1, ::-1]
        if kind == "transpose":
            noyau = noyau.T
        p = 0 if kind == "sans_padding" else padding
        s = 1 if kind == "sans_stride" else stride
        image = np.pad(image, ((0, p), (0, p))) if kind == "un_cote" else np.pad(image, p)
        ky, kx = noyau.shape
        h_out = (image.shape[0] - ky) // s + 1 - (kind == "une_de_moins")
        w_out = (image.shape[1] - kx) // s + 1 - (kind == "une_de_moins")
        out = np.zeros((max(h_out, 0), max(w_out, 0)))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(image[i * s:i * s + ky, j * s:j * s + kx] * noyau)
        return out
    return convolution2d


def _layer(kind):
    conv = convolution("")

    def couche_convolution(images, noyaux, biais, padding=0, stride=1):
        f_out, c_in = noyaux.shape[3], noyaux.shape[2]
        if kind == "transposes":
            noyaux = noyaux.transpose(1, 0, 2, 3)
        if kind == "retournes":
            noyaux = noyaux[::-1, ::-1]
        channels = range(1) if kind == "premier_canal" else range(c_in)
        maps = []
        for f in range(f_out):
            m = sum(conv(images[:, :, c], noyaux[:, :, c, f], padding, stride)
                    + (biais[f] if kind == "biais_par_canal" else 0) for c in channels)
            maps.append(m + (biais[f] if kind not in ("sans_biais", "biais_par_canal") else 0))
        out = np.stack(maps, axis=-1)
        if kind == "relu":
            out = np.maximum(out, 0)
        return out.transpose(2, 0, 1) if kind == "canaux_premiers" else out
    return couche_convolution


def _pool(kind):
    def max_pooling(carte, taille=2, stride=None):
        s = stride if stride is not None else (1 if kind == "stride_un" else taille)
        h, w, c = carte.shape
        if kind == "bords":
            h_out, w_out = -(-(h - taille) // s) + 1, -(-(w - taille) // s) + 1
        else:
            h_out, w_out = (h - taille) // s + 1, (w - taille) // s + 1
        out = np.zeros((h_out, w_out, c))
        for i in range(h_out):
            for j in range(w_out):
                window = carte[i * s:i * s + taille, j * s:j * s + taille, :]
                out[i, j] = {"moyenne": lambda: window.mean(axis=(0, 1)),
                             "minimum": lambda: window.min(axis=(0, 1)),
                             "canaux": lambda: window.max()}.get(
                    kind, lambda: window.max(axis=(0, 1)))()
        return out.max(axis=2) if kind == "2d" else out
    return max_pooling


def _mistakes(target, factory, specs):
    """(label, kind, words[, where]) -> Mistakes overriding `target` with factory(kind)."""
    return [Mistake(label, {target: factory(kind)}, words, *where)
            for label, kind, words, *where in specs]


MISTAKES = {
    "convolution2d": _mistakes("convolution2d", convolution, [
        ("noyau retourné (convolution mathématique)", "retourne", "retourné"),
        ("noyau transposé", "transpose", None), ("padding ignoré", "sans_padding", "padding"),
        ("stride ignoré", "sans_stride", "stride"),
        ("une position de moins", "une_de_moins", "dernière position"),
        ("padding d'un seul côté", "un_cote", None)]),
    "couche_convolution": _mistakes("couche_convolution", _layer, [
        ("sans biais", "sans_biais", "biais"), ("biais par canal", "biais_par_canal", "canal"),
        ("premier canal seulement", "premier_canal", "premier canal"),
        ("ReLU en trop", "relu", "activation"),
        ("canaux en premier", "canaux_premiers", "DERNIER", "public"),  # hidden: 4×4×4 too
        ("noyaux transposés", "transposes", "transposés", "public"),  # hidden: not square
        ("noyaux retournés", "retournes", "retournés")]),
    "max_pooling": _mistakes("max_pooling", _pool, [
        ("moyenne", "moyenne", "MOYENNE"), ("minimum", "minimum", "MINIMUM"),
        ("stride 1 par défaut", "stride_un", "stride"), ("maximum sur les canaux", "canaux",
                                                         "canal"),
        ("fenêtres incomplètes gardées", "bords", "incomplets", "public"),  # hidden: crashes
        ("sortie 2-D", "2d", "canaux")]),
}
