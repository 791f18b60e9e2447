"""Normalizing flows (affine coupling layers, RealNVP), kernel side: how the student's coupling
layer and trained flow are applied to the judge's inputs. Only plain data comes out.

The coupling layer gets the judge's two small maps s and t (smooth closed forms with the case's
coefficients, in float64), which accept inputs of shape (n, 1) only, like the flow's networks.
The trained flow is sent as its weights (the judge rebuilds it), the student's log-density of the
judge's test points and the student's samples pushed from the judge's noise.
"""

from __future__ import annotations

import numpy as np

from course.answers import tableau
from course.torch_tools import est_module, poids, vers_numpy
from grader.protocol import Exercise, InvalidAnswer, quiet, unpack

from .data import centres_8g
from .exercises import EXERCISES


def applications_st(case):
    """The case's s(u) = a tanh(b u + c) and t(u) = d sin(e u) + f u, u of shape (n, 1)."""
    import torch

    a, b, c, d, e, f = (float(v) for v in case["coefs"])

    def forme(u, nom):
        if not isinstance(u, torch.Tensor) or u.ndim != 2 or u.shape[1] != 1:
            raise InvalidAnswer(f"{nom} attend la coordonnée gardée sous forme d'un tenseur (n, 1) "
                                f"(z[:, k:k+1]), pas {tuple(getattr(u, 'shape', ()))}")

    def reseau_s(u):
        forme(u, "reseau_s")
        return a * torch.tanh(b * u + c)

    def reseau_t(u):
        forme(u, "reseau_t")
        return d * torch.sin(e * u) + f * u

    return reseau_s, reseau_t


def _eval_couplage(case, couplage_direct, couplage_inverse):
    import torch

    reseau_s, reseau_t = applications_st(case)
    k = int(case["k"])
    x, ld = unpack(couplage_direct(torch.tensor(case["z"]), reseau_s, reseau_t, k), 2,
                   "couplage_direct")
    z, ld_inv = unpack(couplage_inverse(torch.tensor(case["x"]), reseau_s, reseau_t, k), 2,
                       "couplage_inverse")
    return {"x": vers_numpy(x), "logdet": vers_numpy(ld), "z": vers_numpy(z),
            "logdet_inv": vers_numpy(ld_inv)}


def _eval_flot(case, flot_8g, log_densite_flot, echantillonner_flot):
    import torch

    if not est_module(flot_8g):
        if callable(flot_8g):  # a function in its place (a stub?): let it raise
            flot_8g()
        return {"type": type(flot_8g).__name__}
    out = poids(flot_8g)
    if not hasattr(flot_8g, "coords"):
        return out  # not a FlotCouplage: the judge says so from its weights
    out["coords"] = np.asarray(flot_8g.coords, dtype=float)
    params = list(flot_8g.parameters())
    dtype = params[0].dtype if params else torch.float32
    etait = flot_8g.training
    flot_8g.eval()
    try:
        with torch.no_grad():
            out["log_p"] = vers_numpy(log_densite_flot(flot_8g, torch.tensor(case["test"],
                                                                             dtype=dtype)))
            out["echantillons"] = vers_numpy(echantillonner_flot(flot_8g, torch.tensor(
                case["z"], dtype=dtype)))
            out["log_p_grille"] = vers_numpy(log_densite_flot(flot_8g, torch.tensor(
                grille_flot(), dtype=dtype)))
    finally:
        flot_8g.train(etait)
    return out


# The notebook's own bounds for the trained flow (the judge's: judges/projet/flot.py), from the
# master's flow, training seeds 0-5: held-out log-likelihood above the fitted Gaussian's by
# 1.44-2.39 nats (untrained: -0.31); share of samples within 0.3 of a centre 0.33-0.61
# (untrained 0.043); mass of exp(log p) on the grid (Riemann sum) near 1.
GAIN_MIN, PART_MODES_MIN, RAYON_MODE = 0.7, 0.15, 0.3
MASSE_MIN, MASSE_MAX = 0.9, 1.05


def grille_flot(n=161, bord=5.0):
    """The points of a regular grid of [-bord, bord]² (n², 2), where a density is integrated."""
    u = np.linspace(-bord, bord, n)
    return np.stack(np.meshgrid(u, u), axis=-1).reshape(-1, 2)


def masse_grille(log_p, n=161, bord=5.0) -> float:
    """Riemann sum of exp(log p) over the grid of `grille_flot`."""
    return float(np.sum(np.exp(np.clip(log_p, -700, 700))) * (2 * bord / (n - 1)) ** 2)


def part_pres_des_modes(X) -> float:
    """Share of the points X (n, 2) within RAYON_MODE of a centre of the 8 Gaussians."""
    d = np.min(np.linalg.norm(X[:, None] - centres_8g()[None], axis=2), axis=1)
    return float(np.mean(d < RAYON_MODE))


def _selfcheck_flot(case, answer):
    if "type" in answer:
        raise AssertionError(f"flot_8g doit être votre FlotCouplage entraîné, pas "
                             f"{answer['type']}")
    if "coords" not in answer:
        raise AssertionError("flot_8g doit être un FlotCouplage (le flot fourni), entraîné")
    test = np.asarray(case["test"])
    log_p = tableau(answer, "log_p", "log_densite_flot", (len(test),))
    X = tableau(answer, "echantillons", "echantillonner_flot", case["z"].shape)
    grille = tableau(answer, "log_p_grille", "log_densite_flot", (len(grille_flot()),))
    if not (np.all(np.isfinite(log_p)) and np.all(np.isfinite(X))):
        raise AssertionError("log-densités ou échantillons non finis (l'entraînement a divergé ?)")
    masse = masse_grille(grille)
    if not MASSE_MIN <= masse <= MASSE_MAX:
        raise AssertionError(
            f"log_densite_flot n'est pas une densité : ∫ exp(log p) ≈ {masse:.3g} sur [−5, 5]² "
            "au lieu de 1 — log π(T⁻¹(x)) + Σ log|det J_(T_i⁻¹)| (éq. 10 à 12), signes compris ?")
    ecart = test - test.mean(0)
    C = np.cov(test.T)
    gauss = float(np.mean(-0.5 * np.sum(ecart @ np.linalg.inv(C) * ecart, axis=1)
                          - np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(C)[1]))
    gain = float(np.mean(log_p)) - gauss
    if gain < GAIN_MIN:
        raise AssertionError(f"flot_8g : log-vraisemblance de test {np.mean(log_p):.3f}, {gain:+.3f} "
                             f"nat par rapport à la gaussienne ajustée ; au moins +{GAIN_MIN:g} "
                             "attendu — flot entraîné ?")
    part = part_pres_des_modes(X)
    if part < PART_MODES_MIN:
        raise AssertionError(f"échantillons de flot_8g : {part:.1%} à moins de {RAYON_MODE:g} "
                             f"d'un centre, au moins {PART_MODES_MIN:.0%} attendu — "
                             "echantillonner_flot applique-t-il T (couplage_direct, couches dans "
                             "l'ordre) ?")


EXERCISES.add(Exercise("couplage_affine", ("couplage_direct", "couplage_inverse"),
                       quiet(_eval_couplage), tolerance=(1e-8, 1e-10)))
EXERCISES.add(Exercise("flot_8g", ("flot_8g", "log_densite_flot", "echantillonner_flot"),
                       quiet(_eval_flot), selfcheck=_selfcheck_flot, tolerance=(1e-4, 1e-4)))


# -- a generator trained by optimal transport (G. Peyré, sec. 2.2) -----------------------------
def _eval_perte_transport(case, perte_transport):
    import torch

    x = torch.tensor(case["x"], requires_grad=True)
    perte = perte_transport(x, torch.tensor(case["z"]))
    out = {"perte": vers_numpy(perte)}
    if isinstance(perte, torch.Tensor) and perte.grad_fn is not None and perte.numel() == 1:
        perte.sum().backward()
        out["grad"] = vers_numpy(x.grad) if x.grad is not None else np.zeros(0)
    return out


EXERCISES.add(Exercise("perte_transport", ("perte_transport",), quiet(_eval_perte_transport),
                       tolerance=(1e-8, 1e-10)))
