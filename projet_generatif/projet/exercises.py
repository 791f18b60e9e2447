"""The project's exercises with one right answer, kernel side: how each one applies the
student's code to the judge's inputs (only plain data comes out; the judge decides, the
notebook's check() compares with the public table). The samplers and the trained networks are
in `sampling.py`.

Nothing here computes an answer. Where a student's function needs a score (Tweedie's formula),
it gets the judge's values at the case's points, not a score function; the stand-in network of
the denoising loss is a linear map with the judge's weights.
"""

from __future__ import annotations

import functools

import numpy as np

from course.answers import tableau
from course.torch_tools import vers_numpy
from grader.protocol import Exercise, Exercises, InvalidAnswer, quiet, unpack

EXERCISES = Exercises(__file__)
check = EXERCISES.check


def _add(name, targets, evaluate, tolerance=(1e-6, 1e-8), selfcheck=None):
    EXERCISES.add(Exercise(name, targets, quiet(evaluate), selfcheck=selfcheck,
                           tolerance=tolerance))


# -- Part 1: the curse of dimensionality -----------------------------------------------------------
def _eval_normes(case, norme_carree_bruit_blanc):
    args = (int(case["n"]), int(case["d"]), float(case["sigma"]))
    seed = int(case["graine"])
    return {"a": vers_numpy(norme_carree_bruit_blanc(*args, seed)),
            "b": vers_numpy(norme_carree_bruit_blanc(*args, seed)),
            "c": vers_numpy(norme_carree_bruit_blanc(*args, seed + 1))}


def verifier_normes(case, answer) -> None:
    """‖x‖² of n draws x ~ N(0, σ²/d I): reproducible for a seed, different for another, and
    distributed as (σ²/d) χ²(d) (Kolmogorov-Smirnov test, p > 1e-4)."""
    from scipy import stats

    n, d, s = int(case["n"]), int(case["d"]), float(case["sigma"])
    where = f"(n = {n}, d = {d}, σ = {s:g})"
    a, b, c = (tableau(answer, k, "norme_carree_bruit_blanc") for k in "abc")
    if a.shape != (n,):
        raise AssertionError(f"norme_carree_bruit_blanc : forme {a.shape} au lieu de {(n,)} — "
                             f"une valeur ‖x‖² par tirage {where}")
    if b.shape != a.shape or not np.array_equal(a, b):
        raise AssertionError("deux appels avec la même graine donnent des résultats différents : "
                             "créez le générateur avec np.random.default_rng(graine)")
    if c.shape == a.shape and np.array_equal(a, c):
        raise AssertionError("la graine n'est pas utilisée : deux graines différentes donnent les "
                             "mêmes tirages")

    def follows(values, scale):
        return stats.kstest(values, stats.chi2(d, scale=scale).cdf).pvalue > 1e-4

    if follows(a, s ** 2 / d):  # ‖x‖² = (σ²/d) χ²(d)
        return
    if np.all(a >= 0) and follows(a ** 2, s ** 2 / d):
        raise AssertionError(f"vous renvoyez la norme ‖x‖ et non son carré ‖x‖² {where}")
    if follows(a, s ** 2):
        raise AssertionError(f"chaque coordonnée doit être de variance σ²/d (écart-type σ/√d), "
                             f"pas σ² {where} : E‖x‖² = σ²")
    if follows(a, s ** 2 / d ** 2):
        raise AssertionError(f"écart-type σ/d au lieu de σ/√d {where} : la VARIANCE de chaque "
                             "coordonnée vaut σ²/d")
    raise AssertionError(
        f"la loi de ‖x‖² ne suit pas (σ²/d) χ²(d) {where} : moyenne {a.mean():.4g} (théorie "
        f"{s ** 2:.4g}), variance {a.var():.4g} (théorie 2σ⁴/d = {2 * s ** 4 / d:.4g}) — "
        "coordonnées gaussiennes indépendantes N(0, σ²/d) ?")


def _eval_ppv(case, distance_plus_proche):
    return {"d": vers_numpy(distance_plus_proche(case["A"].copy(), case["B"].copy()))}


_add("norme_carree_bruit_blanc", ("norme_carree_bruit_blanc",), _eval_normes,
     selfcheck=verifier_normes)
_add("distance_plus_proche", ("distance_plus_proche",), _eval_ppv, tolerance=(1e-6, 1e-6))


# -- Part 2: optimal transport -----------------------------------------------------------------
def _eval_monge(case, monge_force_brute):
    s, cout = unpack(monge_force_brute(case["X"].copy(), case["Z"].copy()), 2,
                     "monge_force_brute")
    return {"s": vers_numpy(s), "cout": vers_numpy(cout)}


def _eval_w2(case, wasserstein_exact):
    return {"w2": vers_numpy(wasserstein_exact(case["X"].copy(), case["Y"].copy()))}


def _eval_sw(case, wasserstein_tranche):
    return {"sw": vers_numpy(wasserstein_tranche(case["X"].copy(), case["Y"].copy(),
                                                 case["directions"].copy()))}


_add("monge_force_brute", ("monge_force_brute",), _eval_monge, tolerance=(1e-9, 1e-12))
_add("wasserstein_exact", ("wasserstein_exact",), _eval_w2, tolerance=(1e-6, 1e-6))
_add("wasserstein_tranche", ("wasserstein_tranche",), _eval_sw, tolerance=(1e-6, 1e-6))


# -- Part 3: the Ornstein-Uhlenbeck process ------------------------------------------------------
def _eval_em(case, euler_maruyama_ou):
    return {"traj": vers_numpy(euler_maruyama_ou(case["x0"].copy(), float(case["t_final"]),
                                                 int(case["n_pas"]), case["bruits"].copy()))}


def _eval_marginale(case, marginale_ou):
    import torch

    args = [torch.tensor(case[k], dtype=torch.float64) for k in ("x0", "t", "z")]
    return {"xt": vers_numpy(marginale_ou(*args))}


_add("euler_maruyama_ou", ("euler_maruyama_ou",), _eval_em, tolerance=(1e-8, 1e-10))
_add("marginale_ou", ("marginale_ou",), _eval_marginale, tolerance=(1e-8, 1e-10))


# -- Part 4: scores, Tweedie, the denoising loss -------------------------------------------------
def _eval_score(case, score_melange):
    return {"s": vers_numpy(score_melange(case["x"].copy(), float(case["t"]),
                                          case["centres"].copy(), float(case["sigma0"])))}


def score_tabule(case):
    """The score handed to `debruiteur_tweedie`: the judge's values at the case's points and
    time, and nothing elsewhere."""

    def score(x, t):
        x = np.asarray(x, dtype=float)
        if (x.shape != case["x"].shape or not np.allclose(x, case["x"], rtol=0, atol=1e-12)
                or not np.isclose(float(t), float(case["t"]), rtol=1e-12, atol=0)):
            raise InvalidAnswer("debruiteur_tweedie doit appeler score(x_t, t) avec les x_t et "
                                "t qu'il reçoit")
        return case["s"].copy()

    return score


def _eval_tweedie(case, debruiteur_tweedie):
    return {"x0": vers_numpy(debruiteur_tweedie(case["x"].copy(), float(case["t"]),
                                                score_tabule(case)))}


@functools.lru_cache(maxsize=1)
def _classe_lineaire():
    import torch

    class ModeleLineaire(torch.nn.Module):
        """ε̂(x, t) = x A + t b + c: a stand-in network with the judge's weights."""

        def __init__(self, A, b, c):
            super().__init__()
            self.A = torch.nn.Parameter(torch.tensor(A))
            self.b = torch.nn.Parameter(torch.tensor(b))
            self.c = torch.nn.Parameter(torch.tensor(c))

        def forward(self, x, t):
            t = torch.as_tensor(t, dtype=x.dtype).reshape(-1, 1)
            return x @ self.A + t * self.b + self.c

    return ModeleLineaire


def _eval_perte(case, perte_debruitage):
    import torch

    modele = _classe_lineaire()(case["A"].copy(), case["b"].copy(), case["c"].copy())
    args = [torch.tensor(case[k], dtype=torch.float64) for k in ("x0", "t", "z")]
    perte = perte_debruitage(modele, *args)
    out = {"perte": vers_numpy(perte)}
    if isinstance(perte, torch.Tensor) and perte.grad_fn is not None and perte.numel() == 1:
        perte.sum().backward()
        out["grad_A"] = vers_numpy(modele.A.grad) if modele.A.grad is not None else np.zeros(0)
    return out


def _eval_empirique(case, score_empirique):
    return {"s": vers_numpy(score_empirique(case["x"].copy(), float(case["t"]),
                                            case["X_train"].copy()))}


_add("score_melange", ("score_melange",), _eval_score)
_add("debruiteur_tweedie", ("debruiteur_tweedie",), _eval_tweedie)
_add("perte_debruitage", ("perte_debruitage",), _eval_perte)
_add("score_empirique", ("score_empirique",), _eval_empirique)
