"""TP3, part 5: texture statistics (Gatys et al.): the Gram matrix of feature maps against a sum
of outer products over the positions (torch.einsum), and the style distance against the squared
Frobenius norm (torch.linalg.matrix_norm)."""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_array, as_number, fmt

from .oracles import torch


def _maps(rng, h, w, c):
    """Feature maps as a convolution + ReLU gives them: non-negative, many zeros."""
    return np.maximum(rng.normal(size=(h, w, c)) + rng.normal(size=c), 0)


def gram_oracle(maps) -> np.ndarray:
    """G[i, j] = Σ over the positions (x, y) of c_i(x, y) c_j(x, y): torch.einsum."""
    t = torch()
    m = t.as_tensor(np.asarray(maps, dtype=float), dtype=t.float64)
    return t.einsum("xyi,xyj->ij", m, m).numpy()


def style_oracle(g, g_hat) -> float:
    t = torch()
    d = t.as_tensor(np.asarray(g, dtype=float) - np.asarray(g_hat, dtype=float))
    return float(t.linalg.matrix_norm(d, ord="fro") ** 2)


# -- matrice_gram ---------------------------------------------------------------------------------
def _gram_cases(rng, hidden):
    shapes = [(5, 6, 3)] if not hidden else [(7, 5, 4), (4, 4, 6), (9, 11, 1), (3, 8, 5)]
    return [{"cartes": _maps(rng, *s)} for s in shapes]


def _gram_verdict(case, answer):
    maps = case["cartes"]
    h, w, c = maps.shape
    expected = gram_oracle(maps)
    where = f"cartes de forme {maps.shape} (H, W, C)"
    got = answer.get("G")
    if isinstance(got, np.ndarray) and got.shape != expected.shape:
        if got.shape == (h * w, h * w):
            raise AssertionError(f"{where} : matrice {got.shape} : ce sont les produits entre "
                                 f"POSITIONS ; G est C×C = {expected.shape}, une ligne et une "
                                 "colonne par canal (somme sur les positions)")
        if got.shape in ((h, h), (w, w)) and got.shape != (c, c):
            raise AssertionError(f"{where} : matrice {got.shape} : les canaux sont le DERNIER "
                                 f"axe (H, W, C), G est {expected.shape}")
        raise AssertionError(f"{where} : forme {got.shape} au lieu de {expected.shape}")
    got = as_array(answer, "G", shape=expected.shape, what="matrice_gram")
    if np.allclose(got, expected, rtol=1e-9, atol=1e-9):
        return
    if np.allclose(got, expected / (h * w), rtol=1e-9, atol=1e-12):
        raise AssertionError(f"{where} : G est divisée par H × W = {h * w} : la formule du cours "
                             "est une SOMME sur les positions, sans normalisation")
    centred = maps - maps.mean(axis=(0, 1))
    if np.allclose(got, gram_oracle(centred), rtol=1e-9, atol=1e-9) or np.allclose(
            got, gram_oracle(centred) / (h * w), rtol=1e-9, atol=1e-12):
        raise AssertionError(f"{where} : cartes centrées (c'est une covariance) : G_ij somme les "
                             "produits c_i c_j tels quels, sans retrancher les moyennes")
    flat = maps.reshape(c, -1)
    if c > 1 and np.allclose(got, flat @ flat.T, rtol=1e-9, atol=1e-9):
        raise AssertionError(f"{where} : cartes.reshape(C, -1) mélange les canaux (en mémoire "
                             "le canal varie le plus vite) : reshape(-1, C), une colonne par "
                             "canal, ou transposez d'abord")
    if c > 1 and np.allclose(got, np.diag(np.diag(expected)), rtol=1e-9, atol=1e-9):
        raise AssertionError(f"{where} : seule la diagonale est remplie : G_ij corrèle aussi "
                             "deux canaux DIFFÉRENTS i ≠ j")
    raise AssertionError(f"{where} : valeurs fausses (G_ij = Σ_x Σ_y c_i(x, y) c_j(x, y) ; "
                         f"attendu {fmt(expected)}, obtenu {fmt(got)})")


# -- distance_style --------------------------------------------------------------------------------
def _style_cases(rng, hidden):
    sizes = [3] if not hidden else [4, 6, 1, 5]
    cases = []
    for c in sizes:
        while True:  # differences of both signs (c > 1): |Σ d| < Σ |d|, the mistakes differ
            shape = (int(rng.integers(4, 9)), int(rng.integers(4, 9)), c)
            g, g_hat = gram_oracle(_maps(rng, *shape)), gram_oracle(_maps(rng, *shape))
            if c == 1 or abs((g - g_hat).sum()) < 0.9 * np.abs(g - g_hat).sum():
                break
        cases.append({"G": g, "G_chapeau": g_hat})
    return cases


def _style_verdict(case, answer):
    g, g_hat = case["G"], case["G_chapeau"]
    expected = style_oracle(g, g_hat)
    d = as_number(answer, "d", "distance_style")
    if np.isclose(d, expected, rtol=1e-9, atol=1e-9):
        return
    where = (f"G et Ĝ de forme {g.shape} : Σ (G_ij − Ĝ_ij)² vaut {fmt(expected, 8)}, vous "
             f"{fmt(d, 8)}")
    diff = g - g_hat
    if np.isclose(d, diff.sum(), rtol=1e-9) or np.isclose(d, -diff.sum(), rtol=1e-9):
        raise AssertionError(f"{where} : les écarts ne sont pas élevés au CARRÉ (positifs et "
                             "négatifs se compensent)")
    if np.isclose(d, np.abs(diff).sum(), rtol=1e-9):
        raise AssertionError(f"{where} : valeurs absolues au lieu des CARRÉS des écarts")
    if np.isclose(d, expected / g.size, rtol=1e-9):
        raise AssertionError(f"{where} : c'est la moyenne des carrés (divisée par C² = "
                             f"{g.size}) : la formule est une SOMME")
    if np.isclose(d, np.sqrt(expected), rtol=1e-9):
        raise AssertionError(f"{where} : c'est la norme de Frobenius ‖G − Ĝ‖ : la distance est "
                             "son CARRÉ (pas de racine)")
    raise AssertionError(where)


CHECKS = [
    Check("matrice_gram", _gram_cases, _gram_verdict, numpy_only=True,
          doc="G_ij = Σ_x Σ_y c_i(x, y) c_j(x, y) (sans normalisation) pour des cartes (H, W, C), "
              "comparée à une somme de produits extérieurs (torch.einsum) : un seul canal, plus "
              "de canaux que de lignes, cartes non carrées."),
    Check("distance_style", _style_cases, _style_verdict, numpy_only=True,
          doc="Σ_ij (G_ij − Ĝ_ij)² comparée au carré de la norme de Frobenius "
              "(torch.linalg.matrix_norm)."),
]


def _gram(kind):
    def matrice_gram(cartes):
        h, w, c = cartes.shape
        flat = cartes.reshape(c, -1).T if kind == "reshape" else cartes.reshape(-1, c)
        if kind == "centree":
            flat = flat - flat.mean(axis=0)
        if kind == "positions":
            return flat @ flat.T
        g = flat.T @ flat
        if kind == "moyenne":
            g = g / (h * w)
        if kind == "diagonale":
            g = np.diag(np.diag(g))
        return g
    return matrice_gram


def _style(kind):
    def distance_style(G, G_chapeau):
        d = np.asarray(G, dtype=float) - np.asarray(G_chapeau, dtype=float)
        return {"sans_carre": lambda: d.sum(), "absolu": lambda: np.abs(d).sum(),
                "moyenne": lambda: (d ** 2).mean(),
                "racine": lambda: np.sqrt((d ** 2).sum())}[kind]()
    return distance_style


MISTAKES = {
    "matrice_gram": [Mistake(label, {"matrice_gram": _gram(kind)}, words)
                     for label, kind, words in (
                         ("divisée par H × W", "moyenne", "SOMME"),
                         ("covariance (cartes centrées)", "centree", "centrées"),
                         ("reshape(C, -1)", "reshape", "reshape"),
                         ("Gram des positions", "positions", "POSITIONS"),
                         ("diagonale seulement", "diagonale", "DIFFÉRENTS"))],
    "distance_style": [Mistake(label, {"distance_style": _style(kind)}, words)
                       for label, kind, words in (
                           ("sans carré (la diapositive telle quelle)", "sans_carre", "CARRÉ"),
                           ("valeurs absolues", "absolu", "absolues"),
                           ("moyenne", "moyenne", "SOMME"),
                           ("norme de Frobenius", "racine", "Frobenius"))],
}
