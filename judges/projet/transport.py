"""The project, parts 1 and 2: the curse of dimensionality (white noise, nearest neighbours)
and optimal transport (Monge by brute force, exact and sliced W2).

Oracles: a Kolmogorov-Smirnov test against the scaled chi-square law (`projet.exercises`, shared
with the notebook's check); scipy's k-d tree; the Hungarian algorithm; POT's emd2 and
sliced_wasserstein_distance with the same directions.
"""

from __future__ import annotations

import math

import numpy as np

from grader.judging import Check, as_array, as_number, close, fmt
from projet.exercises import verifier_normes

from .oracles import pot, w2_hungarian


def _cases_norms(rng, hidden):
    specs = [(4000, 3, 2.0), (3000, 500, 0.5)] if hidden else [(5000, 64, 1.0)]
    return [{"n": n, "d": d, "sigma": s, "graine": int(rng.integers(2 ** 31))} for n, d, s in specs]


def _cases_nn(rng, hidden):
    specs = [(7, 40, 5), (30, 3, 1), (12, 12, 64)] if hidden else [(20, 50, 2)]
    cases = []
    for na, nb, d in specs:
        B, A = rng.uniform(size=(nb, d)), rng.uniform(size=(na, d))
        if hidden:
            A[0] = B[1]  # a point of A that is in B: distance 0
        cases.append({"A": A, "B": B})
    return cases


def _verdict_nn(case, answer):
    from scipy.spatial import cKDTree

    A, B = case["A"], case["B"]
    got = as_array(answer, "d", what="distance_plus_proche")
    if got.shape == (len(B),) and len(B) != len(A):
        raise AssertionError("une distance par point de A (le premier argument) est attendue : "
                             "minimum sur les points de B")
    got = as_array(answer, "d", (len(A),), what="distance_plus_proche")
    exp, idx = cKDTree(B).query(A)
    if close(got, exp, 1e-6, 1e-6):  # ‖a‖² − 2a·b + ‖b‖² loses ~1e-8 to cancellation
        return
    if close(got, exp ** 2, 1e-6, 1e-6):
        raise AssertionError("distances au carré : renvoyez la distance euclidienne ‖a − b‖")
    if close(got, idx, 0, 0):
        raise AssertionError("vous renvoyez l'indice du plus proche voisin, pas sa distance")
    if close(got, cKDTree(B).query(A, p=1)[0], 1e-6, 1e-6):
        raise AssertionError("distance de Manhattan : la distance euclidienne est attendue")
    raise AssertionError(f"distances incorrectes : attendu {fmt(exp)}, obtenu {fmt(got)}")


def _cases_monge(rng, hidden):
    return [{"X": rng.uniform(size=(n, 2)), "Z": rng.uniform(size=(n, 2))}
            for n in ([5, 7] if hidden else [6])]


def _verdict_monge(case, answer):
    from scipy.optimize import linear_sum_assignment

    X, Z = case["X"], case["Z"]
    n = len(X)
    s = as_array(answer, "s", what="la permutation s")
    if s.shape != (n,):
        raise AssertionError(f"la permutation s doit être un tableau de {n} indices")
    cost = as_number(answer, "cout", "le coût")
    C = np.sqrt(((X[:, None] - Z[None]) ** 2).sum(-1))
    i, j = linear_sum_assignment(C)
    optimal = float(C[i, j].sum())
    if sorted(s.tolist()) == list(range(1, n + 1)):
        raise AssertionError("indices de 1 à n : en Python, les indices vont de 0 à n − 1")
    if sorted(s.tolist()) != list(range(n)):
        raise AssertionError(f"s = {np.round(s, 3).tolist()} n'est pas une permutation de "
                             f"0, …, {n - 1}")
    s = s.astype(int)
    cost_s = float(C[np.arange(n), s].sum())
    tol = 1e-9 * max(1, optimal)
    if (abs(cost_s - optimal) > tol
            and abs(float(C[np.arange(n), np.argsort(s)].sum()) - optimal) <= tol):
        raise AssertionError("permutation inversée : s[i] est l'indice de la destination z "
                             "associée à la source x_i (vous renvoyez s⁻¹)")
    if abs(cost - cost_s) > 1e-9 * max(1, cost_s):
        if abs(cost - float((C[np.arange(n), s] ** 2).sum())) <= 1e-9 * max(1, cost_s):
            raise AssertionError("coût calculé avec les distances au carré : Monge utilise la "
                                 "distance euclidienne ‖x_i − z_s(i)‖")
        raise AssertionError(f"le coût renvoyé ({cost:.6g}) n'est pas Σ ‖x_i − z_s(i)‖ pour la "
                             f"permutation renvoyée ({cost_s:.6g})")
    if abs(cost_s - optimal) <= tol:
        return
    i2, j2 = linear_sum_assignment(C ** 2)
    if np.array_equal(s[i2], j2):
        raise AssertionError("permutation optimale pour le coût ‖x − z‖², pas pour le coût de "
                             "Monge ‖x − z‖")
    raise AssertionError(f"permutation non optimale : coût {cost_s:.6g} au lieu du minimum "
                         f"{optimal:.6g} (sur les {math.factorial(n)} permutations)")


def _cases_w2(rng, hidden):
    specs = [(30, 60, 3), (50, 25, 1)] if hidden else [(40, 40, 2)]
    return [{"X": rng.normal(size=(n, d)), "Y": rng.normal(size=(m, d)) * 1.5 + 0.5}
            for n, m, d in specs]


def _verdict_w2(case, answer):
    X, Y = case["X"], case["Y"]
    got = as_number(answer, "w2", "wasserstein_exact")
    exp = w2_hungarian(X, Y)
    if abs(got - exp) <= 1e-6 * max(1, exp):
        return

    def near(v):
        return abs(got - v) <= 1e-6 * max(1, abs(v))

    if near(exp ** 2):
        raise AssertionError("il manque la racine carrée : W₂ = (min Σ π_ij ‖x_i − y_j‖²)^½")
    ot = pot()
    a, b = np.full(len(X), 1 / len(X)), np.full(len(Y), 1 / len(Y))
    if near(float(ot.emd2(a, b, ot.dist(X, Y, metric="euclidean")))):
        raise AssertionError("coût ‖x − y‖ (c'est W₁) : W₂ utilise le coût ‖x − y‖² puis une "
                             "racine carrée")
    if len(X) == len(Y) and (near(exp * np.sqrt(len(X))) or near(exp ** 2 * len(X))):
        raise AssertionError("poids non normalisés : chaque point pèse 1/n (des mesures de "
                             "probabilité)")
    raise AssertionError(f"W₂ incorrecte : attendu {exp:.6g}, obtenu {got:.6g} "
                         f"({len(X)} et {len(Y)} points en dimension {X.shape[1]})")


def _cases_sw(rng, hidden):
    cases = []
    for n, d, k in ([(30, 2, 7), (60, 10, 40)] if hidden else [(50, 3, 20)]):
        X, Y = rng.normal(size=(n, d)), rng.standard_t(4, size=(n, d)) + 0.3
        u = rng.normal(size=(k, d))
        cases.append({"X": X, "Y": Y, "directions": u / np.linalg.norm(u, axis=1, keepdims=True)})
    return cases


def _verdict_sw(case, answer):
    X, Y, U = case["X"], case["Y"], case["directions"]
    got = as_number(answer, "sw", "wasserstein_tranche")
    exp = float(pot().sliced_wasserstein_distance(X, Y, projections=U.T, p=2))
    if abs(got - exp) <= 1e-6 * max(1, exp):
        return
    PX, PY = np.sort(X @ U.T, axis=0), np.sort(Y @ U.T, axis=0)
    for value, words in (
            (exp ** 2, "il manque la racine carrée : SW₂ = (moyenne des W₂² des projections)^½"),
            (np.mean(np.sqrt(np.mean((PX - PY) ** 2, axis=0))),
             "moyenne des W₂ des projections : SW₂ est la racine de la moyenne des W₂² (moyenne "
             "des carrés, puis racine)"),
            (np.mean(np.abs(PX - PY)), "c'est la version W₁ (moyenne de |écarts|) : SW₂ utilise "
                                       "les carrés"),
            (np.sqrt(np.mean((X @ U.T - Y @ U.T) ** 2)),
             "les projections doivent être TRIÉES avant d'être appariées (en 1D, le transport "
             "optimal associe les quantiles dans l'ordre)")):
        if abs(got - float(value)) <= 1e-6 * max(1, abs(float(value))):
            raise AssertionError(words)
    raise AssertionError(f"SW₂ incorrecte : attendu {exp:.6g}, obtenu {got:.6g}")


CHECKS = [
    Check("norme_carree_bruit_blanc", _cases_norms, verifier_normes,
          doc="‖x‖² pour x ~ N(0, σ²/d I) : test de Kolmogorov-Smirnov contre (σ²/d) χ²(d) "
              "(scipy.stats), reproductible pour une graine."),
    Check("distance_plus_proche", _cases_nn, _verdict_nn,
          doc="Distance de chaque point de A à son plus proche voisin dans B, comparée à "
              "scipy.spatial.cKDTree."),
    Check("monge_force_brute", _cases_monge, _verdict_monge,
          doc="Problème de Monge par force brute (n = 5, 6, 7) : permutation et coût comparés à "
              "l'algorithme hongrois (scipy.optimize.linear_sum_assignment)."),
    Check("wasserstein_exact", _cases_w2, _verdict_w2,
          doc="W₂ exacte entre mesures empiriques uniformes (tailles égales ou multiples), "
              "comparée à l'algorithme hongrois sur des points répliqués."),
    Check("wasserstein_tranche", _cases_sw, _verdict_sw,
          doc="W₂ tranchée avec les directions du correcteur, comparée à "
              "ot.sliced_wasserstein_distance (mêmes projections)."),
]
