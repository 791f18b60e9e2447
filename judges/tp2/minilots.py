"""TP2, the mini-batch gradient of a linear least-squares model: the gradient on each mini-lot
(oracle: per-example gradients averaged by a selection matrix) and the exact variance of the
mini-lot gradient drawn without replacement (oracle: enumeration of ALL the subsets of size b of
a small set, no formula)."""

from __future__ import annotations

import itertools
import math

import numpy as np

from grader.judging import Check, Mistake, as_array, as_number


def _linear_problem(rng, n, p):
    X = rng.normal(size=(n, p)) * np.exp(rng.uniform(-1, 1, size=p))
    w_true = rng.normal(size=p)
    y = X @ w_true + 0.5 * rng.normal(size=n)
    w = w_true + rng.normal(size=p)  # away from the minimum: a gradient worth measuring
    return X, y, w


def per_example_gradients(X, y, w) -> np.ndarray:
    """Row i: the gradient of ½ (x_i·w − y_i)² (einsum, one row per example)."""
    r = np.einsum("ij,j->i", X, w) - y
    return np.einsum("i,ij->ij", r, X)


# -- gradients_minilots ---------------------------------------------------------------------------
def _gradient_cases(rng, hidden):
    def case(n, p, m, b, replace=False):
        X, y, w = _linear_problem(rng, n, p)
        lots = np.array([rng.choice(n, size=b, replace=replace) for _ in range(m)])
        return {"X": X, "y": y, "w": w, "lots": lots.astype(int)}

    if not hidden:
        return [case(12, 3, 4, 3)]
    n = int(rng.integers(20, 60))
    # b ≥ 3 in the first case: at b = 2 a sum over the lot is also twice the mean (two
    # mistakes, one answer), and the first failing case names the mistake.
    return [case(n, int(rng.integers(2, 6)), 5, int(rng.integers(3, 10))),
            case(10, 2, 3, 1),  # b = 1: one example's gradient
            case(8, 4, 2, 8),  # the whole set in every lot
            case(15, 3, 6, 5, replace=True),  # drawn with replacement: an index may repeat
            case(30, 1, 4, 7)]


def gradient_oracle(X, y, w, lots) -> np.ndarray:
    """Mean of the per-example gradients over each lot, as a product with the (m, n) matrix
    counting how many times each example is in each lot."""
    m, b = lots.shape
    S = np.zeros((m, len(X)))
    np.add.at(S, (np.repeat(np.arange(m), b), lots.reshape(-1)), 1.0)
    return S @ per_example_gradients(X, y, w) / b


def _gradient_verdict(case, answer):
    X, y, w, lots = case["X"], case["y"], case["w"], np.asarray(case["lots"], dtype=int)
    m, b = lots.shape
    G = as_array(answer, "G", shape=(m, X.shape[1]), what="gradients des mini-lots")
    expected = gradient_oracle(X, y, w, lots)
    scale = np.abs(expected).max() + 1e-12

    def same(A):
        return np.allclose(G, A, rtol=1e-7, atol=1e-9 * scale)

    if same(expected):
        return
    where = f"{m} mini-lots de taille {b} (n = {len(X)}, p = {X.shape[1]})"
    full = np.tile(per_example_gradients(X, y, w).mean(axis=0), (m, 1))
    if same(-expected):
        raise AssertionError(f"{where} : signe opposé : le gradient de ½ (x·w − y)² est "
                             "(x·w − y) x, pas (y − x·w) x")
    if b > 1 and same(b * expected):
        raise AssertionError(f"{where} : vous sommez sur le mini-lot : la perte du mini-lot est "
                             "une MOYENNE, son gradient aussi (divisez par b)")
    if same(2 * expected):
        raise AssertionError(f"{where} : gradient 2 fois trop grand : la perte est "
                             "½ (x·w − y)² (le ½ compense le 2 de la dérivée)")
    if same(full):
        raise AssertionError(f"{where} : c'est le gradient sur TOUTE la base, répété : chaque "
                             "ligne doit utiliser seulement les exemples de son mini-lot "
                             "X[lot], y[lot]")
    raise AssertionError(f"{where} : gradients incorrects ; ligne l : "
                         "(1/b) Σ_(i ∈ lot l) (x_i·w − y_i) x_i")


def _gradients(kind):
    def gradients_minilots(X, y, w, lots):
        X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
        rows = []
        for lot in np.asarray(lots, dtype=int):
            Xb, yb = (X, y) if kind == "tout" else (X[lot], y[lot])
            r = Xb @ w - yb
            if kind == "signe":
                r = -r
            g = Xb.T @ r
            rows.append(g if kind == "somme" else g / len(Xb) * (2 if kind == "deux" else 1))
        return np.array(rows)
    return gradients_minilots


# -- variance_minilots ------------------------------------------------------------------------------
def _variance_cases(rng, hidden):
    def case(n, p, b):
        X, y, w = _linear_problem(rng, n, p)
        return {"X": X, "y": y, "w": w, "b": b}

    if not hidden:
        return [case(8, 2, 3)]
    n = int(rng.integers(6, 10))
    return [case(n, int(rng.integers(1, 4)), int(rng.integers(2, n - 1))),
            case(7, 2, 1),  # b = 1: the variance of one example's gradient
            case(6, 3, 6),  # b = n: always the whole set, no variance at all
            case(9, 1, 4)]


def variance_by_enumeration(X, y, w, b) -> float:
    """E‖g_B − g‖² over ALL the subsets B of size b (each equally likely: drawn without
    replacement), g_B the mean of the per-example gradients of B."""
    g_i = per_example_gradients(X, y, w)
    g = g_i.mean(axis=0)
    total, count = 0.0, 0
    for B in itertools.combinations(range(len(X)), b):
        total += float(np.sum((g_i[list(B)].mean(axis=0) - g) ** 2))
        count += 1
    return total / count


def _variance_verdict(case, answer):
    X, y, w, b = case["X"], case["y"], case["w"], int(case["b"])
    n = len(X)
    V = as_number(answer, "V", "variance_minilots")
    expected = variance_by_enumeration(X, y, w, b)
    if math.isclose(V, expected, rel_tol=1e-7, abs_tol=1e-9):
        return
    where = f"n = {n}, b = {b}"
    g_i = per_example_gradients(X, y, w)
    s2 = float(np.mean(np.sum((g_i - g_i.mean(axis=0)) ** 2, axis=1)))
    if math.isclose(V, s2 / b, rel_tol=1e-7):
        raise AssertionError(f"{where} : σ²/b est la loi d'un tirage AVEC remise ; sans remise, "
                             "multipliez par (n − b)/(n − 1) (à b = n la variance est nulle)")
    if n > 1 and math.isclose(V, s2 * n / (n - 1) / b * (n - b) / (n - 1), rel_tol=1e-7):
        raise AssertionError(f"{where} : σ² se calcule ici comme une moyenne sur les n exemples "
                             "(1/n), pas avec 1/(n − 1)")
    if math.isclose(V, s2 / b * (n - b) / n, rel_tol=1e-7):
        raise AssertionError(f"{where} : facteur (n − b)/n au lieu de (n − b)/(n − 1)")
    if math.isclose(V, float(np.mean(np.sum(g_i ** 2, axis=1))) / b * (n - b) / (n - 1),
                    rel_tol=1e-7):
        raise AssertionError(f"{where} : σ² est la dispersion des gradients AUTOUR de leur "
                             "moyenne g : retranchez g avant d'élever au carré")
    raise AssertionError(f"{where} : {V:.6g} au lieu de {expected:.6g}")


def _variance(kind):
    def variance_minilots(X, y, w, b):
        X, y, w = np.asarray(X, float), np.asarray(y, float), np.asarray(w, float)
        n = len(X)
        g_i = (X @ w - y)[:, None] * X
        centred = g_i if kind == "non_centree" else g_i - g_i.mean(axis=0)
        s2 = np.mean(np.sum(centred ** 2, axis=1))
        if kind == "n_moins_1":
            s2 = s2 * n / (n - 1)
        if kind == "avec_remise":
            return s2 / b
        return s2 / b * (n - b) / (n if kind == "facteur_n" else n - 1)
    return variance_minilots


CHECKS = [
    Check("gradients_minilots", _gradient_cases, _gradient_verdict,
          doc="Gradient de la perte ½ moyenne des (x·w − y)² sur chaque mini-lot, comparé à la "
              "moyenne des gradients par exemple (matrice de sélection) ; b = 1, b = n, indices "
              "répétés."),
    Check("variance_minilots", _variance_cases, _variance_verdict,
          doc="Variance E‖g_B − g‖² du gradient d'un mini-lot de taille b tiré sans remise, "
              "comparée à l'énumération de TOUS les sous-ensembles de taille b ; b = 1, b = n."),
]


def _mistakes(target, factory, specs):
    return [Mistake(label, {target: factory(kind)}, words) for label, kind, words in specs]


MISTAKES = {
    "gradients_minilots": _mistakes("gradients_minilots", _gradients, [
        ("signe opposé", "signe", "signe"), ("somme au lieu de moyenne", "somme", "MOYENNE"),
        ("facteur 2", "deux", "2 fois"), ("gradient de toute la base", "tout", "TOUTE")]),
    "variance_minilots": _mistakes("variance_minilots", _variance, [
        ("loi avec remise σ²/b", "avec_remise", "AVEC remise"),
        ("σ² avec 1/(n − 1)", "n_moins_1", "1/(n − 1)"),
        ("facteur (n − b)/n", "facteur_n", "(n − b)/n"),
        ("gradients non centrés", "non_centree", "AUTOUR")]),
}
