"""Reference module of TP3 (convolutional networks: output size and parameter count of a
convolution, pooling, the MLP-on-images parameter blow-up, convolution by hand in NumPy, a
small CNN trained on handwritten digits).

It holds what the students' notebook imports (Keras set-up, data, plotting helpers) and the graded
checks (`CHECKS`, `check`). It holds no solution: the oracles are the frameworks' own layers —
`torch.nn.Conv2d` / `torch.nn.functional.conv2d` and Keras `ZeroPadding2D`, `Conv2D`,
`MaxPooling2D`, `Dense` (output shapes, `count_params()`, outputs computed with given weights) —,
the figures printed in the course (207 937 and 42 949 935 105 parameters) and held-out digits
whose labels never leave the judge.

The trained CNN is never trusted: the kernel only sends its architecture (`model.to_json()`) and
weights; the judge checks the architecture against an allow-list, rebuilds the model in its own
process (Keras safe mode) and measures it itself.

Module-level code stays cheap: Keras, torch, scikit-learn and matplotlib are imported inside the
functions that need them. Every message a student can read is in French.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings

import numpy as np

from grader.checks import Check, Checks, as_array, as_number
# preparer_keras and tracer_historique are given to the students through this module.
from grader.keras_models import (canonical_name, export_model, import_keras, predict,  # noqa: F401
                                 preparer_keras, quiet_stderr, rebuild, tracer_historique)

CHECKS = Checks(judge_imports=("keras", "torch", "sklearn.model_selection"))
check = CHECKS.check

GRAINE_DONNEES = 0


# =============================================================================================
# Data and plots (given)
# =============================================================================================
def charger_chiffres_images():
    """Handwritten digits (scikit-learn) as images: X of shape (n, 8, 8, 1), grey levels scaled
    to [0, 1] (divided by 16), y = digit 0..9. Same fixed stratified 75 % / 25 % split as TP2.
    Returns X_train, X_test, y_train, y_test."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=GRAINE_DONNEES)
    forme = (-1, 8, 8, 1)
    return ((X_train / 16.0).reshape(forme), (X_test / 16.0).reshape(forme), y_train, y_test)


def afficher_images(images, titres=None, n_colonnes=8, taille=1.4, cmap="gray_r", suptitle=None):
    """Show a list of 2-D arrays (or (H, W, 1) images) in a grid. `cmap` is one colormap or one
    per image; an image with negative values gets a colour scale centred on 0."""
    import matplotlib.pyplot as plt

    images = [np.asarray(im, dtype=float).squeeze() for im in images]
    n = len(images)
    cmaps = list(cmap) if isinstance(cmap, (list, tuple)) else [cmap] * n
    n_col = min(n_colonnes, n)
    n_lig = -(-n // n_col)
    fig, axes = plt.subplots(n_lig, n_col, figsize=(taille * n_col, taille * n_lig + 0.3),
                             squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < n:
            im = images[k]
            echelle = {}
            if im.size and im.min() < 0:
                borne = float(np.abs(im).max()) or 1.0
                echelle = {"vmin": -borne, "vmax": borne}
            ax.imshow(im, cmap=cmaps[k], **echelle)
            if titres is not None:
                ax.set_title(str(titres[k]), fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


# =============================================================================================
# Helpers shared by the checks
# =============================================================================================
def _quiet(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    return wrapper


def _torch():
    with quiet_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torch
    return torch


def _fmt(x, digits=4):
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return f"{float(x):.{digits}g}"
    return np.array2string(x, precision=digits, max_line_width=120, threshold=20)


# -- framework oracles ------------------------------------------------------------------------
def _sortie_torch(h, w, kh, kw, p, s):
    """(H_out, W_out) of a real torch.nn.Conv2d layer applied to a (zero) image."""
    torch = _torch()
    with torch.no_grad():
        couche = torch.nn.Conv2d(1, 1, (kh, kw), stride=s, padding=p, bias=False)
        out = couche(torch.zeros(1, 1, h, w))
    return tuple(int(v) for v in out.shape[2:])


def _sortie_keras(h, w, kh, kw, p, s, couche="conv"):
    """(H_out, W_out) of Keras ZeroPadding2D(p) → Conv2D((kh, kw), strides=s) (or
    MaxPooling2D((kh, kw), strides=s)), from the layers' own output shapes."""
    keras = import_keras()
    L = keras.layers
    forme = (1, h, w, 1)
    if p:
        forme = L.ZeroPadding2D(p).compute_output_shape(forme)
    if couche == "conv":
        forme = L.Conv2D(1, (kh, kw), strides=s).compute_output_shape(forme)
    else:
        forme = L.MaxPooling2D((kh, kw), strides=s).compute_output_shape(forme)
    return int(forme[1]), int(forme[2])


def _conv_torch(image, noyau, p, s):
    """Oracle of the single-channel convolution (a cross-correlation, like every framework)."""
    torch = _torch()
    with torch.no_grad():
        out = torch.nn.functional.conv2d(torch.as_tensor(image, dtype=torch.float64)[None, None],
                                         torch.as_tensor(noyau, dtype=torch.float64)[None, None],
                                         stride=s, padding=p)
    return out[0, 0].numpy()


# =============================================================================================
# Part 1 — The MLP on images: parameter blow-up
# =============================================================================================
CHIFFRES_COURS = {(24, 24): 207_937, (512, 512): 42_949_935_105}


def _cas_mlp_image(rng, hidden):
    if not hidden:
        return [{"h": 24, "w": 24}, {"h": 512, "w": 512}]
    cas = []
    for _ in range(4):
        h, w = (int(v) for v in 2 * rng.integers(1, 17, size=2))
        cas.append({"h": h, "w": w})
    cas.append({"h": 8, "w": 8})
    return cas


@_quiet
def _eval_mlp_image(case, parametres_mlp_image):
    return {"n": parametres_mlp_image(int(case["h"]), int(case["w"]))}


def _mlp_image_keras(h, w):
    """Oracle: count_params() of Input(s) → Dense(s/2) → Dense(s/4) → Dense(1), s = h w."""
    keras = import_keras()
    s = h * w
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        modele = keras.Sequential([keras.Input((s,)), keras.layers.Dense(s // 2),
                                   keras.layers.Dense(s // 4), keras.layers.Dense(1)])
        return int(modele.count_params())


def _verdict_mlp_image(case, answer):
    h, w = int(case["h"]), int(case["w"])
    n = as_number(answer, "n", "parametres_mlp_image")
    attendu = CHIFFRES_COURS.get((h, w)) or _mlp_image_keras(h, w)
    if n == attendu:
        return
    s = h * w
    ou = f"image {h}×{w} (s = {s})"
    if n == s * (s // 2) + (s // 2) * (s // 4) + s // 4:
        raise AssertionError(f"{ou} : vous oubliez les biais (un par neurone de la couche suivante)")
    if n == s * (s // 2) + s // 2 + (s // 2) * (s // 4) + s // 4:
        raise AssertionError(f"{ou} : la couche de sortie O_1 (un neurone) manque")
    q = (h // 2) * (w // 2)
    if n == s * q + q + q * (q // 4) + q // 4 + q // 4 + 1:
        raise AssertionError(f"{ou} : H_(s/2) a s/2 neurones ({s // 2}), pas (h/2)(w/2) = {q}")
    if n == s + s // 2 + s // 4 + 1:
        raise AssertionError(f"{ou} : vous comptez les neurones, pas les paramètres")
    if n == round(n) and (int(n) - attendu) % 2**32 == 0:
        raise AssertionError(f"{ou} : dépassement de capacité des entiers 32 bits (np.int32) : "
                             "calculez avec des entiers Python (int)")
    raise AssertionError(f"{ou} : {n:.0f} paramètres au lieu de {attendu}")


CHECKS.add(Check(
    name="parametres_mlp_image", targets=("parametres_mlp_image",), cases=_cas_mlp_image,
    evaluate=_eval_mlp_image, verdict=_verdict_mlp_image, numpy_only=True,
    doc="I_s → H_(s/2) → H_(s/4) → O_1 : les chiffres du cours (207 937 pour 24×24, "
        "42 949 935 105 pour 512×512) et count_params() de Keras sur d'autres tailles."))


# =============================================================================================
# Part 2 — Convolution by hand (NumPy only)
# =============================================================================================
def _cas_conv2d(rng, hidden):
    if not hidden:
        image = np.arange(36, dtype=float).reshape(6, 6) % 7 - 3
        noyau = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
        return [{"image": image, "noyau": noyau, "padding": 0, "stride": 1},
                {"image": image, "noyau": noyau[:, ::-1].T.copy(), "padding": 1, "stride": 2}]
    cas = []
    for p, s, (kh, kw) in ((0, 1, (3, 2)), (2, 3, (2, 4)), (1, 2, (3, 3)), (0, 1, (1, 1)),
                           (1, 1, (5, 3))):
        h, w = int(rng.integers(max(kh, 4), 12)), int(rng.integers(max(kw, 4), 12))
        cas.append({"image": rng.normal(size=(h, w)), "noyau": rng.normal(size=(kh, kw)),
                    "padding": p, "stride": s})
    h, w = int(rng.integers(3, 7)), int(rng.integers(3, 7))
    cas.append({"image": rng.normal(size=(h, w)), "noyau": rng.normal(size=(h, w)),
                "padding": 0, "stride": 1})  # kernel as large as the image: one pixel out
    return cas


@_quiet
def _eval_conv2d(case, convolution2d):
    return {"sortie": np.asarray(convolution2d(case["image"].copy(), case["noyau"].copy(),
                                               padding=int(case["padding"]),
                                               stride=int(case["stride"])), dtype=float)}


def _verdict_conv2d(case, answer):
    image, noyau = case["image"], case["noyau"]
    p, s = int(case["padding"]), int(case["stride"])
    attendu = _conv_torch(image, noyau, p, s)
    ou = (f"image {image.shape[0]}×{image.shape[1]}, noyau {noyau.shape[0]}×{noyau.shape[1]}, "
          f"padding = {p}, stride = {s}")
    if "sortie" in answer and not isinstance(answer["sortie"], str):
        forme = np.shape(answer["sortie"])
        if forme != attendu.shape:
            pleine = _conv_torch(image, noyau, p, 1).shape
            sans_p = _conv_torch(image, noyau, 0, s).shape if image.shape[0] >= noyau.shape[0] \
                and image.shape[1] >= noyau.shape[1] else None
            conseil = ""
            if s > 1 and forme == pleine:
                conseil = " : le stride est ignoré (le noyau doit avancer de stride pixels)"
            elif p > 0 and forme == sans_p:
                conseil = " : le padding est ignoré (bordure de p zéros tout autour)"
            elif len(forme) == 2 and forme == tuple(d + 1 for d in attendu.shape):
                conseil = " : une position de trop"
            elif len(forme) == 2 and forme == tuple(d - 1 for d in attendu.shape):
                conseil = " : il manque la dernière position du noyau (⌊(W − k + 2p)/s⌋ + 1 " \
                          "positions)"
            raise AssertionError(f"{ou} : sortie de forme {forme} au lieu de {attendu.shape}"
                                 f"{conseil}")
    got = as_array(answer, "sortie", shape=attendu.shape, what="convolution2d")
    if np.allclose(got, attendu, rtol=1e-9, atol=1e-9):
        return
    if np.allclose(got, _conv_torch(image, noyau[::-1, ::-1].copy(), p, s), atol=1e-9):
        raise AssertionError(f"{ou} : noyau retourné : c'est la convolution des mathématiciens ; "
                             "les réseaux (et ce TP) calculent la corrélation croisée, le produit "
                             "de Hadamard avec le noyau TEL QUEL, sans le retourner")
    if noyau.shape[0] == noyau.shape[1] and np.allclose(
            got, _conv_torch(image, noyau.T.copy(), p, s), atol=1e-9):
        raise AssertionError(f"{ou} : noyau transposé (lignes et colonnes échangées)")
    raise AssertionError(f"{ou} : valeurs fausses (attendu {_fmt(attendu)}, obtenu {_fmt(got)})")


CHECKS.add(Check(
    name="convolution2d", targets=("convolution2d",), cases=_cas_conv2d, evaluate=_eval_conv2d,
    verdict=_verdict_conv2d, numpy_only=True,
    doc="Produit de Hadamard glissant (corrélation croisée) avec padding et stride, comparé à "
        "torch.nn.functional.conv2d : noyaux non carrés, noyau de la taille de l'image, 1×1."))


def _cas_couche(rng, hidden):
    specs = [(7, 6, 3, 2, (3, 3), 1, 1)] if not hidden else [
        (9, 8, 2, 4, (3, 2), 0, 2), (6, 6, 1, 3, (1, 1), 0, 1), (10, 7, 3, 5, (5, 5), 2, 1),
        (8, 9, 4, 1, (2, 3), 1, 3)]
    cas = []
    for h, w, c, f, (kh, kw), p, s in specs:
        cas.append({"images": rng.normal(size=(h, w, c)), "noyaux": rng.normal(size=(kh, kw, c, f)),
                    "biais": rng.normal(size=f), "padding": p, "stride": s})
    return cas


@_quiet
def _eval_couche(case, couche_convolution):
    return {"sortie": np.asarray(couche_convolution(
        case["images"].copy(), case["noyaux"].copy(), case["biais"].copy(),
        padding=int(case["padding"]), stride=int(case["stride"])), dtype=float)}


def _couche_keras(images, noyaux, biais, p, s, activation=None):
    """Oracle: a real Keras ZeroPadding2D(p) → Conv2D(F, (kh, kw), strides=s) layer holding the
    given weights, applied to the image."""
    keras = import_keras()
    L = keras.layers
    kh, kw, c, f = noyaux.shape
    couches = ([L.ZeroPadding2D(p, dtype="float64")] if p else []) + [
        L.Conv2D(f, (kh, kw), strides=s, activation=activation, dtype="float64")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        modele = keras.Sequential([keras.Input(images.shape, dtype="float64")] + couches)
        modele.layers[-1].set_weights([noyaux, biais])
        sortie = modele(images[None].astype("float64"), training=False)
    return np.asarray(keras.ops.convert_to_numpy(sortie), dtype=float)[0]


def _verdict_couche(case, answer):
    X, K, b = case["images"], case["noyaux"], case["biais"]
    p, s = int(case["padding"]), int(case["stride"])
    attendu = _couche_keras(X, K, b, p, s)
    ou = (f"image {X.shape}, noyaux {K.shape}, biais {b.shape}, padding = {p}, stride = {s}")
    if "sortie" in answer and not isinstance(answer["sortie"], str):
        forme = np.shape(answer["sortie"])
        if forme != attendu.shape:
            if forme == (attendu.shape[2], attendu.shape[0], attendu.shape[1]):
                raise AssertionError(f"{ou} : forme {forme} : les canaux vont en DERNIER, "
                                     f"(H_out, W_out, F) = {attendu.shape} (comme Keras)")
            raise AssertionError(f"{ou} : sortie de forme {forme} au lieu de {attendu.shape}")
    got = as_array(answer, "sortie", shape=attendu.shape, what="couche_convolution")
    if np.allclose(got, attendu, rtol=1e-8, atol=1e-8):
        return
    if np.allclose(got, attendu - b, atol=1e-8):
        raise AssertionError(f"{ou} : le biais de chaque filtre manque (+ b_f)")
    if np.allclose(got, attendu + (X.shape[2] - 1) * b, atol=1e-8):
        raise AssertionError(f"{ou} : biais ajouté une fois par canal d'entrée : UN biais par "
                             "filtre, ajouté après la somme sur les canaux")
    if np.allclose(got, np.maximum(attendu, 0), atol=1e-8):
        raise AssertionError(f"{ou} : pas d'activation ici (ReLU appliquée en trop)")
    un_canal = _couche_keras(X[:, :, :1], K[:, :, :1, :], b, p, s)
    if X.shape[2] > 1 and np.allclose(got, un_canal, atol=1e-8):
        raise AssertionError(f"{ou} : seul le premier canal est utilisé : un filtre couvre TOUS "
                             "les canaux d'entrée (somme sur c)")
    if K.shape[0] == K.shape[1] and np.allclose(
            got, _couche_keras(X, K.transpose(1, 0, 2, 3).copy(), b, p, s), atol=1e-8):
        raise AssertionError(f"{ou} : noyaux transposés : noyaux[i, j, c, f] multiplie le pixel "
                             "(ligne i, colonne j) de la fenêtre")
    if np.allclose(got, _couche_keras(X, K[::-1, ::-1].copy(), b, p, s), atol=1e-8):
        raise AssertionError(f"{ou} : noyaux retournés : corrélation croisée, sans retournement")
    raise AssertionError(f"{ou} : valeurs fausses, différentes de la couche Conv2D de Keras "
                         "munie des mêmes poids")


CHECKS.add(Check(
    name="couche_convolution", targets=("couche_convolution",), cases=_cas_couche,
    evaluate=_eval_couche, verdict=_verdict_couche, numpy_only=True,
    doc="Couche de convolution multi-canaux, multi-filtres, avec biais, comparée à une vraie "
        "couche Keras Conv2D (précédée de ZeroPadding2D) munie des mêmes poids."))


def _cas_pool(rng, hidden):
    specs = [((8, 8, 2), 2, None)] if not hidden else [
        ((9, 7, 3), 2, None), ((10, 10, 1), 3, 1), ((7, 9, 2), 3, 2), ((5, 5, 4), 5, None),
        ((6, 8, 1), 2, 3)]
    return [{"carte": rng.normal(size=forme), "taille": k, "stride": -1 if s is None else s}
            for forme, k, s in specs]


@_quiet
def _eval_pool(case, max_pooling):
    s = int(case["stride"])
    if s < 0:
        out = max_pooling(case["carte"].copy(), int(case["taille"]))
    else:
        out = max_pooling(case["carte"].copy(), int(case["taille"]), stride=s)
    return {"sortie": np.asarray(out, dtype=float)}


def _pool_keras(carte, k, s, mode="max"):
    keras = import_keras()
    L = keras.layers
    couche = (L.MaxPooling2D if mode == "max" else L.AveragePooling2D)(
        pool_size=k, strides=s, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sortie = couche(keras.ops.convert_to_tensor(carte[None].astype("float64")))
    return np.asarray(keras.ops.convert_to_numpy(sortie), dtype=float)[0]


def _verdict_pool(case, answer):
    X, k = case["carte"], int(case["taille"])
    s = k if int(case["stride"]) < 0 else int(case["stride"])
    attendu = _pool_keras(X, k, s)
    ou = f"carte {X.shape}, taille = {k}, stride = {s}"
    if "sortie" in answer and not isinstance(answer["sortie"], str):
        forme = np.shape(answer["sortie"])
        if forme != attendu.shape:
            if forme == _pool_keras(X, k, 1).shape and s != 1:
                raise AssertionError(f"{ou} : forme {forme} au lieu de {attendu.shape} : la "
                                     "fenêtre doit avancer de stride pixels (par défaut stride = "
                                     "taille)")
            if len(forme) == 2:
                raise AssertionError(f"{ou} : forme {forme} : chaque canal est réduit séparément, "
                                     f"la sortie garde ses {X.shape[2]} canaux")
            raise AssertionError(f"{ou} : sortie de forme {forme} au lieu de {attendu.shape} "
                                 "(pas de padding : les bords incomplets sont ignorés)")
    got = as_array(answer, "sortie", shape=attendu.shape, what="max_pooling")
    if np.allclose(got, attendu, atol=1e-12):
        return
    if np.allclose(got, _pool_keras(X, k, s, "moyenne"), atol=1e-9):
        raise AssertionError(f"{ou} : c'est la MOYENNE de chaque fenêtre : il faut le maximum")
    if np.allclose(got, -_pool_keras(-X, k, s), atol=1e-12):
        raise AssertionError(f"{ou} : c'est le MINIMUM de chaque fenêtre : il faut le maximum")
    if np.allclose(got, np.repeat(attendu.max(axis=2, keepdims=True), X.shape[2], axis=2)):
        raise AssertionError(f"{ou} : maximum pris aussi sur les canaux : chaque canal est réduit "
                             "séparément")
    raise AssertionError(f"{ou} : valeurs différentes de keras.layers.MaxPooling2D")


CHECKS.add(Check(
    name="max_pooling", targets=("max_pooling",), cases=_cas_pool, evaluate=_eval_pool,
    verdict=_verdict_pool, numpy_only=True,
    doc="Max-pooling canal par canal (stride = taille par défaut, sans padding) comparé à "
        "keras.layers.MaxPooling2D."))


# =============================================================================================
# Part 3 — Output size, parameter count, a whole architecture
# =============================================================================================
def _cas_taille(rng, hidden):
    if not hidden:
        # (H, W, kh, kw, p, s): the course's 9×9 with padding 1, and two measured examples
        return [{"configs": np.array([[9, 9, 3, 3, 1, 1], [28, 28, 5, 5, 2, 2],
                                      [32, 32, 3, 3, 0, 2], [8, 8, 2, 2, 0, 2]])}]
    lignes = []
    while len(lignes) < 30:
        h, w = (int(v) for v in rng.integers(1, 65, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 8, size=2))
        p, s = int(rng.integers(0, 4)), int(rng.integers(1, 5))
        if kh <= h + 2 * p and kw <= w + 2 * p:
            lignes.append([h, w, kh, kw, p, s])
    lignes += [[7, 7, 7, 7, 0, 1], [10, 10, 3, 3, 0, 3], [5, 12, 5, 1, 0, 2]]
    return [{"configs": np.array(lignes)}]


@_quiet
def _eval_taille(case, taille_sortie):
    out = []
    for h, w, kh, kw, p, s in case["configs"]:
        out.append([taille_sortie(int(h), int(kh), int(p), int(s)),
                    taille_sortie(int(w), int(kw), int(p), int(s))])
    return {"tailles": np.asarray(out, dtype=float)}


_ERREURS_TAILLE = (
    (lambda W, k, p, s: (W - k + 2 * p) / s + 1,
     "résultat non entier : arrondissez à l'entier INFÉRIEUR, ⌊(W − k + 2p)/s⌋ + 1"),
    (lambda W, k, p, s: -(-(W - k + 2 * p) // s) + 1,
     "arrondi supérieur au lieu de l'arrondi inférieur"),
    (lambda W, k, p, s: (W - k + 2 * p) // s, "il manque le « + 1 » (la première position du "
                                               "noyau)"),
    (lambda W, k, p, s: (W - k + p) // s + 1, "le padding s'ajoute des DEUX côtés : 2p"),
    (lambda W, k, p, s: W - k + 2 * p + 1, "le stride est ignoré : divisez par s"),
    (lambda W, k, p, s: -(-W // s), "c'est la taille du padding « same » de Keras (⌈W/s⌉), pas "
                                    "la formule avec p"),
)


def _verdict_taille(case, answer):
    configs = case["configs"].tolist()
    got = as_array(answer, "tailles", shape=(len(configs), 2), what="taille_sortie")
    faux = None
    for (h, w, kh, kw, p, s), (gh, gw) in zip(configs, got.tolist()):
        attendu = _sortie_torch(h, w, kh, kw, p, s)
        if attendu != _sortie_keras(h, w, kh, kw, p, s):  # the two frameworks agree
            raise RuntimeError("oracles en désaccord")
        if p == 0 and attendu != _sortie_keras(h, w, kh, kw, 0, s, couche="pool"):
            raise RuntimeError("oracles en désaccord (pooling)")
        if (gh, gw) != attendu and faux is None:
            faux = (h, w, kh, kw, p, s, gh, gw, attendu)
    if faux is None:
        return
    h, w, kh, kw, p, s, gh, gw, attendu = faux
    ou = (f"entrée {h}×{w}, noyau {kh}×{kw}, padding = {p}, stride = {s} : Conv2D donne "
          f"{attendu[0]}×{attendu[1]}, vous {gh:g}×{gw:g}")
    for formule, message in _ERREURS_TAILLE:  # one mistake explaining every answer
        if all(np.isclose(formule(H, KH, P, S), a) and np.isclose(formule(W, KW, P, S), b)
               for (H, W, KH, KW, P, S), (a, b) in zip(configs, got.tolist())):
            raise AssertionError(f"{ou} : {message}")
    raise AssertionError(f"{ou} (formule ⌊(W − k + 2p)/s⌋ + 1)")


CHECKS.add(Check(
    name="taille_sortie", targets=("taille_sortie",), cases=_cas_taille, evaluate=_eval_taille,
    verdict=_verdict_taille, numpy_only=True,
    doc="⌊(W − k + 2p)/s⌋ + 1 comparé à la sortie réelle de torch.nn.Conv2d et aux couches Keras "
        "ZeroPadding2D + Conv2D / MaxPooling2D (noyaux non carrés, stride > 1)."))


def _cas_params_conv(rng, hidden):
    if not hidden:
        return [{"configs": np.array([[5, 5, 3, 16], [3, 3, 1, 32], [3, 3, 32, 32]])}]
    lignes = [[int(rng.integers(1, 8)), int(rng.integers(1, 8)), int(rng.integers(1, 65)),
               int(rng.integers(1, 65))] for _ in range(8)]
    lignes += [[1, 1, 3, 8], [2, 5, 1, 1], [7, 3, 12, 4]]
    return [{"configs": np.array(lignes)}]


@_quiet
def _eval_params_conv(case, nombre_parametres_conv):
    return {"n": np.asarray([nombre_parametres_conv(int(kx), int(ky), int(i), int(f))
                             for kx, ky, i, f in case["configs"]], dtype=float)}


def _params_conv_oracles(kx, ky, i, f):
    keras, torch = import_keras(), _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = keras.Sequential([keras.Input((12, 12, i)), keras.layers.Conv2D(f, (ky, kx))])
        n_keras = int(k.count_params())
    n_torch = sum(int(t.numel()) for t in torch.nn.Conv2d(i, f, (ky, kx)).parameters())
    if n_keras != n_torch:
        raise RuntimeError("oracles en désaccord")
    return n_keras


def _verdict_params_conv(case, answer):
    configs = case["configs"]
    got = as_array(answer, "n", shape=(len(configs),), what="nombre_parametres_conv")
    for (kx, ky, i, f), g in zip(configs.tolist(), got.tolist()):
        attendu = _params_conv_oracles(kx, ky, i, f)
        if g == attendu:
            continue
        ou = (f"noyau {kx}×{ky}, {i} plan(s) d'entrée, {f} filtre(s) (Keras et torch comptent "
              f"{attendu})")
        if g == kx * ky * i * f:
            raise AssertionError(f"{ou} : les biais manquent (un par filtre)")
        if g == (kx * ky + 1) * i * f:
            raise AssertionError(f"{ou} : un biais par filtre, pas un par filtre ET par canal")
        if g == (kx * ky + 1) * f and i > 1:
            raise AssertionError(f"{ou} : un filtre couvre les I plans d'entrée : kx × ky × I "
                                 "poids")
        if g == (kx * kx * i + 1) * f or g == (ky * ky * i + 1) * f:
            raise AssertionError(f"{ou} : noyau non carré : kx × ky, pas kx²")
        if g == kx * ky * i * f + 1:
            raise AssertionError(f"{ou} : un biais PAR FILTRE (F biais), pas un seul")
        raise AssertionError(f"{ou} : vous donnez {g:g}")


CHECKS.add(Check(
    name="nombre_parametres_conv", targets=("nombre_parametres_conv",),
    cases=_cas_params_conv, evaluate=_eval_params_conv, verdict=_verdict_params_conv,
    numpy_only=True,
    doc="P = (kx·ky·I + 1)·F comparé à count_params() de Keras Conv2D et au nombre de "
        "paramètres de torch.nn.Conv2d (noyaux non carrés, 1×1)."))


# -- a whole architecture -----------------------------------------------------------------------
# layer codes in the judge's arrays: [type, a, b, c, d, e]
#   conv: [0, F, kh, kw, p, s]   pool: [1, k, s, 0, 0, 0]   flatten: [2, 0…]   dense: [3, units, 0…]
ARCHI_DIAPO = {"entree": (9, 9, 3), "couches": [[0, 16, 3, 3, 1, 1], [1, 2, 2, 0, 0, 0],
                                                 [0, 32, 3, 3, 0, 1], [2, 0, 0, 0, 0, 0],
                                                 [3, 1, 0, 0, 0, 0]]}


def _en_tuples(couches):
    """The layers as the students see them (tuples)."""
    out = []
    for t, a, b, c, d, e in np.asarray(couches).astype(int).tolist():
        if t == 0:
            out.append(("conv", a, (b, c), d, e))
        elif t == 1:
            out.append(("pool", a, b))
        elif t == 2:
            out.append(("flatten",))
        else:
            out.append(("dense", a))
    return out


def _archi_aleatoire(rng):
    for _ in range(1000):
        h, w, c = int(rng.integers(8, 33)), int(rng.integers(8, 33)), int(rng.integers(1, 5))
        H, W, couches = h, w, []
        ok = True
        for _ in range(int(rng.integers(2, 5))):
            if rng.random() < 0.6:
                kh, kw = int(rng.integers(1, 6)), int(rng.integers(1, 6))
                p, s, f = int(rng.integers(0, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 17))
                if kh > H + 2 * p or kw > W + 2 * p:
                    ok = False
                    break
                H, W = (H - kh + 2 * p) // s + 1, (W - kw + 2 * p) // s + 1
                couches.append([0, f, kh, kw, p, s])
            else:
                k, s = int(rng.integers(2, 4)), int(rng.integers(1, 4))
                if k > H or k > W:
                    ok = False
                    break
                H, W = (H - k) // s + 1, (W - k) // s + 1
                couches.append([1, k, s, 0, 0, 0])
        if ok and couches and H >= 1 and W >= 1:
            couches.append([2, 0, 0, 0, 0, 0])
            for _ in range(int(rng.integers(1, 3))):
                couches.append([3, int(rng.integers(1, 40)), 0, 0, 0, 0])
            return {"entree": (h, w, c), "couches": couches}
    raise RuntimeError("no architecture")


def _cas_archi(rng, hidden):
    archis = [ARCHI_DIAPO] if not hidden else [_archi_aleatoire(rng) for _ in range(3)]
    return [{"entree": np.array(a["entree"]), "couches": np.array(a["couches"])} for a in archis]


@_quiet
def _eval_archi(case, resume_architecture):
    res = resume_architecture(tuple(int(v) for v in case["entree"]), _en_tuples(case["couches"]))
    if isinstance(res, (str, bytes, dict)) or not hasattr(res, "__len__"):
        return {"forme": "invalide"}
    out = {"n": len(res)}
    for i, item in enumerate(res):
        if isinstance(item, (str, bytes)) or not hasattr(item, "__len__") or len(item) != 2:
            return {"forme": "invalide"}
        out[f"forme{i}"] = np.asarray(tuple(item[0]), dtype=float)
        out[f"params{i}"] = item[1]
    return out


def _archi_keras(entree, couches):
    """Oracle: the Keras model of this architecture; per layer (output shape, count_params).
    A convolution with padding p is ZeroPadding2D(p) → Conv2D (counted as one layer)."""
    keras = import_keras()
    L = keras.layers
    x = entree_k = keras.Input(tuple(int(v) for v in entree))
    resume = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t, a, b, c, d, e in np.asarray(couches).astype(int).tolist():
            if t == 0:
                if d:
                    x = L.ZeroPadding2D(d)(x)
                couche = L.Conv2D(a, (b, c), strides=e)
            elif t == 1:
                couche = L.MaxPooling2D(a, strides=b)
            elif t == 2:
                couche = L.Flatten()
            else:
                couche = L.Dense(a)
            x = couche(x)
            resume.append((tuple(int(v) for v in x.shape[1:]), int(couche.count_params())))
        keras.Model(entree_k, x)  # the whole model builds
    return resume


def _nom_couche(spec):
    return {"conv": "Conv2D", "pool": "MaxPooling2D", "flatten": "Flatten", "dense": "Dense"}[
        spec[0]]


def _verdict_archi(case, answer):
    if "forme" in answer:
        raise AssertionError("resume_architecture doit renvoyer une liste de couples "
                             "(forme de sortie, nombre de paramètres), un par couche")
    entree, couches = tuple(int(v) for v in case["entree"]), case["couches"]
    attendu = _archi_keras(entree, couches)
    specs = _en_tuples(couches)
    n = int(as_number(answer, "n", "nombre de couches"))
    if n != len(attendu):
        raise AssertionError(f"{n} couple(s) renvoyé(s) pour {len(attendu)} couches")
    forme_prec = entree
    for i, ((forme, params), spec) in enumerate(zip(attendu, specs)):
        quoi = f"entrée {entree}, couche n° {i + 1} {spec} ({_nom_couche(spec)})"
        g_forme = as_array(answer, f"forme{i}", what=f"{quoi} : forme")
        g_params = as_number(answer, f"params{i}", f"{quoi} : paramètres")
        if tuple(g_forme.astype(int).tolist()) != forme or not np.all(g_forme == np.round(g_forme)):
            g = tuple(g_forme.tolist())
            if spec[0] == "conv" and len(g) == 3 and g == (forme[2], forme[0], forme[1]):
                raise AssertionError(f"{quoi} : forme {g} : les canaux (filtres) vont en DERNIER "
                                     f"comme dans Keras, {forme}")
            if spec[0] == "flatten":
                raise AssertionError(f"{quoi} : forme {g} au lieu de {forme} : Flatten met bout à "
                                     f"bout les {forme_prec[0]}×{forme_prec[1]}×{forme_prec[2]} "
                                     "valeurs")
            raise AssertionError(f"{quoi} : forme de sortie {g} au lieu de {forme} (Keras)")
        if g_params != params:
            if spec[0] in ("pool", "flatten"):
                raise AssertionError(f"{quoi} : {g_params:g} paramètres : le pooling et Flatten "
                                     "n'ont AUCUN paramètre")
            if spec[0] == "conv" and g_params == (spec[2][0] * spec[2][1] * entree[2] + 1) * spec[1]:
                raise AssertionError(f"{quoi} : {g_params:g} paramètres au lieu de {params} : I "
                                     "est le nombre de plans de la couche PRÉCÉDENTE "
                                     f"({forme_prec[-1]}), pas celui de l'image")
            if spec[0] == "dense" and g_params == int(np.prod(forme_prec)) * spec[1]:
                raise AssertionError(f"{quoi} : biais oubliés (+ {spec[1]})")
            raise AssertionError(f"{quoi} : {g_params:g} paramètres au lieu de {params} (Keras)")
        forme_prec = forme


CHECKS.add(Check(
    name="resume_architecture", targets=("resume_architecture",), cases=_cas_archi,
    evaluate=_eval_archi, verdict=_verdict_archi, numpy_only=True,
    doc="Forme de sortie et nombre de paramètres de chaque couche (convolution avec padding et "
        "stride, pooling, Flatten, Dense), comparés au modèle Keras équivalent : l'exemple de la "
        "diapositive (RGB 9×9 → régression) et des architectures aléatoires."))


# =============================================================================================
# Part 4 — A CNN trained on the digits
# =============================================================================================
SEUIL_CNN = 0.96
SEUIL_FUITE = 0.998  # no error at all on the 450 test digits: trained on the test set?
MLP_TP2 = (64, 128, 64, 10)  # the TP2 MLP the CNN must beat in size: 17 226 parameters


def _cas_cnn(rng, hidden):
    if hidden:
        return []
    _, X_test, _, y_test = charger_chiffres_images()
    return [{"_X": X_test, "_y": y_test}]


def _parametres_mlp_tp2():
    keras = import_keras()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return int(keras.Sequential([keras.Input((MLP_TP2[0],))] + [
            keras.layers.Dense(u) for u in MLP_TP2[1:]]).count_params())


def _verdict_cnn(case, answer):
    quoi = "cnn_chiffres"
    modele, compilation, _ = rebuild(answer, (8, 8, 1), quoi)
    types = [type(c).__name__ for c in modele.layers]
    if not any(t in ("Conv2D", "SeparableConv2D", "DepthwiseConv2D") for t in types):
        raise AssertionError(f"{quoi} : aucune couche de convolution (Conv2D) : c'est un réseau "
                             "convolutif qui est demandé")
    P = predict(modele, case["_X"])
    if P.ndim != 2 or P.shape[1] != 10:
        raise AssertionError(f"{quoi} : sortie de forme {P.shape[1:]} au lieu de (10,) : un "
                             "neurone de sortie par chiffre")
    if P.min() < -1e-6 or not np.allclose(P.sum(axis=1), 1.0, atol=1e-3):
        raise AssertionError(f"{quoi} : les 10 sorties doivent être des probabilités de somme 1 : "
                             "activation 'softmax' en sortie")
    if not compilation:
        raise AssertionError(f"{quoi} : le modèle n'a pas été compilé (model.compile) ni entraîné")
    perte = canonical_name(compilation.get("loss"))
    if perte not in ("categoricalcrossentropy", "sparsecategoricalcrossentropy"):
        raise AssertionError(f"{quoi} : fonction de perte « {perte} » : la classification "
                             "multi-classe utilise l'entropie croisée catégorielle "
                             "('categorical_crossentropy' ou 'sparse_categorical_crossentropy')")
    acc = float(np.mean(np.argmax(P, axis=1) == case["_y"]))
    if acc < SEUIL_CNN:
        raise AssertionError(f"{quoi} : exactitude {100 * acc:.1f} % sur les 450 chiffres de test, "
                             f"il faut au moins {100 * SEUIL_CNN:.0f} % (assez d'époques ? "
                             "images de forme (8, 8, 1) divisées par 16 ?)")
    if acc >= SEUIL_FUITE:
        raise AssertionError(f"{quoi} : exactitude {100 * acc:.1f} % sur l'ensemble de test, trop "
                             "belle pour être vraie (aucune erreur) : le modèle a-t-il été "
                             "entraîné sur les données de test ? N'utilisez que X_train, y_train")
    n_params, n_mlp = int(modele.count_params()), _parametres_mlp_tp2()
    if n_params >= n_mlp:
        raise AssertionError(f"{quoi} : {n_params} paramètres, pas moins que le MLP du TP2 "
                             f"({n_mlp}) : partagez les poids (convolutions, pooling) plutôt "
                             "que d'agrandir les couches denses")


@_quiet
def _eval_cnn(case, cnn_chiffres):
    return export_model(cnn_chiffres)


CHECKS.add(Check(
    name="cnn_chiffres", targets=("cnn_chiffres",), cases=_cas_cnn, evaluate=_eval_cnn,
    verdict=_verdict_cnn,
    doc=f"CNN reconstruit par le correcteur : au moins une Conv2D, moins de paramètres que le MLP "
        f"du TP2 (17 226), 10 sorties softmax, entropie croisée, exactitude ≥ {SEUIL_CNN} sur "
        "les chiffres de test, sans fuite."))
