"""TP3, parts 1 and 3: the MLP on images (the course's figures, Keras count_params()), the output
size of a convolution (torch.nn.Conv2d and Keras layers agree) and its parameter count (Keras
and torch agree)."""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_array, as_number

from .oracles import conv_count, keras_dense_count, keras_output_size, torch_output_size

COURSE_FIGURES = {(24, 24): 207_937, (512, 512): 42_949_935_105}


# -- parametres_mlp_image --------------------------------------------------------------------------
def _mlp_cases(rng, hidden):
    if not hidden:
        return [{"h": 24, "w": 24}, {"h": 512, "w": 512}]
    cases = [{"h": int(h), "w": int(w)} for h, w in 2 * rng.integers(1, 17, size=(4, 2))]
    return cases + [{"h": 8, "w": 8}]


def mlp_image_count(h, w) -> int:
    s = h * w
    return COURSE_FIGURES.get((h, w)) or keras_dense_count([s, s // 2, s // 4, 1])


def _mlp_verdict(case, answer):
    h, w = int(case["h"]), int(case["w"])
    n = as_number(answer, "n", "parametres_mlp_image")
    expected = mlp_image_count(h, w)
    if n == expected:
        return
    s = h * w
    where = f"image {h}×{w} (s = {s})"
    if n == s * (s // 2) + (s // 2) * (s // 4) + s // 4:
        raise AssertionError(f"{where} : vous oubliez les biais (un par neurone de la couche "
                             "suivante)")
    if n == s * (s // 2) + s // 2 + (s // 2) * (s // 4) + s // 4:
        raise AssertionError(f"{where} : la couche de sortie O_1 (un neurone) manque")
    q = (h // 2) * (w // 2)
    if n == s * q + q + q * (q // 4) + q // 4 + q // 4 + 1:
        raise AssertionError(f"{where} : H_(s/2) a s/2 neurones ({s // 2}), pas (h/2)(w/2) = {q}")
    if n == s + s // 2 + s // 4 + 1:
        raise AssertionError(f"{where} : vous comptez les neurones, pas les paramètres")
    if n == round(n) and (int(n) - expected) % 2**32 == 0:
        raise AssertionError(f"{where} : dépassement de capacité des entiers 32 bits (np.int32) : "
                             "calculez avec des entiers Python (int)")
    raise AssertionError(f"{where} : {n:.0f} paramètres au lieu de {expected}")


# -- taille_sortie ---------------------------------------------------------------------------------
def _size_cases(rng, hidden):
    if not hidden:  # (H, W, kh, kw, p, s): the course's 9×9 with padding 1, and three more
        return [{"configs": np.array([[9, 9, 3, 3, 1, 1], [28, 28, 5, 5, 2, 2],
                                      [32, 32, 3, 3, 0, 2], [8, 8, 2, 2, 0, 2]])}]
    rows = []
    while len(rows) < 30:
        h, w = (int(v) for v in rng.integers(1, 65, size=2))
        kh, kw = (int(v) for v in rng.integers(1, 8, size=2))
        p, s = int(rng.integers(0, 4)), int(rng.integers(1, 5))
        if kh <= h + 2 * p and kw <= w + 2 * p:
            rows.append([h, w, kh, kw, p, s])
    rows += [[7, 7, 7, 7, 0, 1], [10, 10, 3, 3, 0, 3], [5, 12, 5, 1, 0, 2]]
    return [{"configs": np.array(rows)}]


SIZE_MISTAKES = (
    (lambda W, k, p, s: (W - k + 2 * p) / s + 1,
     "résultat non entier : arrondissez à l'entier INFÉRIEUR, ⌊(W − k + 2p)/s⌋ + 1"),
    (lambda W, k, p, s: -(-(W - k + 2 * p) // s) + 1,
     "arrondi supérieur au lieu de l'arrondi inférieur"),
    (lambda W, k, p, s: (W - k + 2 * p) // s,
     "il manque le « + 1 » (la première position du noyau)"),
    (lambda W, k, p, s: (W - k + p) // s + 1, "le padding s'ajoute des DEUX côtés : 2p"),
    (lambda W, k, p, s: W - k + 2 * p + 1, "le stride est ignoré : divisez par s"),
    (lambda W, k, p, s: -(-W // s), "c'est la taille du padding « same » de Keras (⌈W/s⌉), pas "
                                    "la formule avec p"),
)


def _size_verdict(case, answer):
    configs = case["configs"].tolist()
    got = as_array(answer, "tailles", shape=(len(configs), 2), what="taille_sortie")
    wrong = None
    for (h, w, kh, kw, p, s), (gh, gw) in zip(configs, got.tolist()):
        expected = torch_output_size(h, w, kh, kw, p, s)
        if expected != keras_output_size(h, w, kh, kw, p, s):  # the two frameworks agree
            raise RuntimeError("oracles en désaccord")
        if p == 0 and expected != keras_output_size(h, w, kh, kw, 0, s, layer="pool"):
            raise RuntimeError("oracles en désaccord (pooling)")
        if (gh, gw) != expected and wrong is None:
            wrong = (h, w, kh, kw, p, s, gh, gw, expected)
    if wrong is None:
        return
    h, w, kh, kw, p, s, gh, gw, expected = wrong
    where = (f"entrée {h}×{w}, noyau {kh}×{kw}, padding = {p}, stride = {s} : Conv2D donne "
             f"{expected[0]}×{expected[1]}, vous {gh:g}×{gw:g}")
    for formula, message in SIZE_MISTAKES:  # one mistake explaining every answer
        if all(np.isclose(formula(H, KH, P, S), a) and np.isclose(formula(W, KW, P, S), b)
               for (H, W, KH, KW, P, S), (a, b) in zip(configs, got.tolist())):
            raise AssertionError(f"{where} : {message}")
    raise AssertionError(f"{where} (formule ⌊(W − k + 2p)/s⌋ + 1)")


# -- nombre_parametres_conv ------------------------------------------------------------------------
def _conv_cases(rng, hidden):
    if not hidden:
        return [{"configs": np.array([[5, 5, 3, 16], [3, 3, 1, 32], [3, 3, 32, 32]])}]
    rows = [[int(rng.integers(1, 8)), int(rng.integers(1, 8)), int(rng.integers(1, 65)),
             int(rng.integers(1, 65))] for _ in range(8)]
    return [{"configs": np.array(rows + [[1, 1, 3, 8], [2, 5, 1, 1], [7, 3, 12, 4]])}]


def _conv_verdict(case, answer):
    configs = case["configs"]
    got = as_array(answer, "n", shape=(len(configs),), what="nombre_parametres_conv")
    for (kx, ky, i, f), g in zip(configs.tolist(), got.tolist()):
        expected = conv_count(kx, ky, i, f)
        if g == expected:
            continue
        where = (f"noyau {kx}×{ky}, {i} plan(s) d'entrée, {f} filtre(s) (Keras et torch "
                 f"comptent {expected})")
        if g == kx * ky * i * f:
            raise AssertionError(f"{where} : les biais manquent (un par filtre)")
        if g == (kx * ky + 1) * i * f:
            raise AssertionError(f"{where} : un biais par filtre, pas un par filtre ET par canal")
        if g == (kx * ky + 1) * f and i > 1:
            raise AssertionError(f"{where} : un filtre couvre les I plans d'entrée : kx × ky × I "
                                 "poids")
        if g == (kx * kx * i + 1) * f or g == (ky * ky * i + 1) * f:
            raise AssertionError(f"{where} : noyau non carré : kx × ky, pas kx²")
        if g == kx * ky * i * f + 1:
            raise AssertionError(f"{where} : un biais PAR FILTRE (F biais), pas un seul")
        raise AssertionError(f"{where} : vous donnez {g:g}")


CHECKS = [
    Check("parametres_mlp_image", _mlp_cases, _mlp_verdict, numpy_only=True,
          doc="I_s → H_(s/2) → H_(s/4) → O_1 : les chiffres du cours (207 937 pour 24×24, "
              "42 949 935 105 pour 512×512) et count_params() de Keras sur d'autres tailles."),
    Check("taille_sortie", _size_cases, _size_verdict, numpy_only=True,
          doc="⌊(W − k + 2p)/s⌋ + 1 comparé à la sortie réelle de torch.nn.Conv2d et aux couches "
              "Keras ZeroPadding2D + Conv2D / MaxPooling2D (noyaux non carrés, stride > 1)."),
    Check("nombre_parametres_conv", _conv_cases, _conv_verdict, numpy_only=True,
          doc="P = (kx·ky·I + 1)·F comparé à count_params() de Keras Conv2D et au nombre de "
              "paramètres de torch.nn.Conv2d (noyaux non carrés, 1×1)."),
]


def _mlp_image(kind):
    def parametres_mlp_image(h, w):
        s = h * w
        if kind == "int32":
            s = np.int32(s)
            t = [s, s // np.int32(2), s // np.int32(4), np.int32(1)]
            total = np.int32(0)
            with np.errstate(over="ignore"):
                for a, b in zip(t[:-1], t[1:]):
                    total = np.int32(total + a * b + b)
            return total
        if kind == "moitie_dims":
            q = (h // 2) * (w // 2)
            t = [s, q, q // 4, 1]
        else:
            t = [s, s // 2, s // 4] + ([] if kind == "sans_sortie" else [1])
        pairs = list(zip(t[:-1], t[1:]))
        if kind == "sans_biais":
            return sum(a * b for a, b in pairs)
        if kind == "neurones":
            return sum(t)
        return sum(a * b + b for a, b in pairs)
    return parametres_mlp_image


def _size(kind):
    def taille_sortie(w_in, k, p=0, s=1):
        return {"reel": lambda: (w_in - k + 2 * p) / s + 1,
                "plafond": lambda: -(-(w_in - k + 2 * p) // s) + 1,
                "sans_plus_un": lambda: (w_in - k + 2 * p) // s,
                "un_p": lambda: (w_in - k + p) // s + 1,
                "sans_stride": lambda: w_in - k + 2 * p + 1,
                "same": lambda: -(-w_in // s)}.get(kind, lambda: (w_in - k + 2 * p) // s + 1)()
    return taille_sortie


def _conv_params(kind):
    def nombre_parametres_conv(kx, ky, i, f):
        return {"sans_biais": kx * ky * i * f, "biais_par_canal": (kx * ky + 1) * i * f,
                "sans_i": (kx * ky + 1) * f, "carre": (kx * kx * i + 1) * f,
                "un_biais": kx * ky * i * f + 1}.get(kind, (kx * ky * i + 1) * f)
    return nombre_parametres_conv


def _mistakes(target, factory, specs):
    """(label, kind, words[, where]) -> Mistakes overriding `target` with factory(kind)."""
    return [Mistake(label, {target: factory(kind)}, words, *where)
            for label, kind, words, *where in specs]


MISTAKES = {
    "parametres_mlp_image": _mistakes("parametres_mlp_image", _mlp_image, [
        ("sans biais", "sans_biais", "biais"), ("sans couche de sortie", "sans_sortie", "sortie"),
        ("(h/2)(w/2) neurones", "moitie_dims", "s/2"),
        ("neurones au lieu de paramètres", "neurones", "neurones"),
        ("entiers 32 bits", "int32", "32 bits", "public")]),
    "taille_sortie": _mistakes("taille_sortie", _size, [
        ("division réelle", "reel", "INFÉRIEUR"), ("arrondi supérieur", "plafond", "supérieur"),
        ("sans + 1", "sans_plus_un", "+ 1"), ("p au lieu de 2p", "un_p", "2p"),
        ("stride ignoré", "sans_stride", "stride"), ("taille « same »", "same", "same")]),
    "nombre_parametres_conv": _mistakes("nombre_parametres_conv", _conv_params, [
        ("sans biais", "sans_biais", "biais manquent"),
        ("un biais par canal", "biais_par_canal", "par canal"), ("I oublié", "sans_i", "I plans"),
        ("noyau supposé carré", "carre", "non carré", "hidden"),
        ("un seul biais", "un_biais", "PAR FILTRE")]),
}
