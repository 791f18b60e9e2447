"""TP4, part 5.5: mode collapse in the plane, kernel side. The eight Gaussians, the coverage
of their modes (the notebook's measuring tool, which the judge applies too, on its own noise),
and the two exercises: the minibatch standard deviation layer (`EcartTypeLot`) and the 2-D
generator trained with it.

The coverage is a measuring tool, like `evaluer_echantillons`: it scores samples, it computes
none of the answers (a layer, a trained network).
"""

from __future__ import annotations

import numpy as np

from course.torch_tools import echelle, tenseur, vers_numpy
from grader.protocol import Exercise, InvalidAnswer, quiet

from .data import DIM_Z_2D, SEUILS, ecart_architecture, forme_generateur_2d
from .exercises import EXERCISES
from .trained import _eval_generatif, _forme_poids

RAYON_8G, SIGMA_8G = 2.0, 0.05  # eight modes on a circle, each 0.05 wide: 1.5 apart
# A sample "lands on" a mode within 0.3 of its centre (6 σ: what is farther sits between modes),
# and a mode is covered when at least 4 % of the samples land on it (a fair share is 12.5 %).
RAYON_MODE, PART_MIN = 0.3, 0.04
# The points on a mode must spread like a law, not stack on a few exact positions (a generator
# that memorises points): the data's median distance to the centre is 0.059, the master's
# trained generator's 0.053-0.055, eight point masses' 0.
DISPERSION_MIN = 0.02


def centres_8g() -> np.ndarray:
    a = 2 * np.pi * np.arange(8) / 8
    return RAYON_8G * np.c_[np.cos(a), np.sin(a)]


def huit_gaussiennes(n: int, graine: int = 0) -> np.ndarray:
    """n points (float32, (n, 2)) d'un mélange de huit gaussiennes de même poids, d'écart-type
    0.05, centrées sur un cercle de rayon 2."""
    rng = np.random.default_rng(graine)
    k = rng.integers(0, 8, size=n)
    return (centres_8g()[k] + SIGMA_8G * rng.normal(size=(n, 2))).astype(np.float32)


def modes_couverts(x) -> dict:
    """Ce que des points x (n, 2) couvrent des huit modes : "repartition", la part des points à
    moins de 0.3 du centre de chaque mode ; "sur_les_modes", la part des points à moins de 0.3
    d'un centre (le reste tombe entre les modes) ; "modes", le nombre de modes qui reçoivent au
    moins 4 % des points (une part égale serait 12.5 %) ; "dispersion", la distance médiane au
    centre de leur mode des points sur un mode (0.06 pour les données)."""
    x = vers_numpy(x).reshape(-1, 2)
    d = np.linalg.norm(x[:, None, :] - centres_8g()[None], axis=2)
    proche = d.min(axis=1) < RAYON_MODE
    repartition = np.bincount(d.argmin(axis=1)[proche], minlength=8) / max(len(x), 1)
    return {"modes": int(np.sum(repartition >= PART_MIN)), "sur_les_modes": float(proche.mean()),
            "repartition": repartition,
            "dispersion": float(np.median(d.min(axis=1)[proche])) if proche.any() else 0.0}


# -- the minibatch standard deviation layer ------------------------------------------------------
def _eval_ecart_type_lot(case, EcartTypeLot):
    """The layer on the case's batch: its output, and the gradient of Σ w ⊙ output with respect
    to the batch (the judge compares it with finite differences of its own layer)."""
    import torch

    couche = EcartTypeLot(int(case["m"]))
    if not isinstance(couche, torch.nn.Module):
        raise InvalidAnswer(f"EcartTypeLot(m) doit être un nn.Module, pas "
                            f"{type(couche).__name__}")
    x = tenseur(case["x"], grad=True)
    sortie = couche(x)
    if not isinstance(sortie, torch.Tensor):
        raise InvalidAnswer(f"EcartTypeLot doit renvoyer un tenseur, pas {type(sortie).__name__}")
    out = {"sortie": vers_numpy(sortie)}
    poids_sortie = case["w"]
    if sortie.requires_grad and tuple(sortie.shape) == poids_sortie.shape:
        (sortie * tenseur(poids_sortie)).sum().backward()
        out["gradient"] = vers_numpy(x.grad) if x.grad is not None else np.zeros(x.shape)
    elif tuple(sortie.shape) == poids_sortie.shape:
        out["gradient"] = np.zeros(x.shape)  # no graph at all: nothing flows back
    return out


EXERCISES.add(Exercise("ecart_type_lot", ("EcartTypeLot",), quiet(_eval_ecart_type_lot)))


# -- the 2-D generator trained with the remedy ---------------------------------------------------
def _selfcheck_generateur_8g(case, answer):
    if "type" in answer:
        raise AssertionError(f"generateur_8g doit être votre Generateur2D entraîné (un "
                             f"nn.Module), pas {answer['type']}")
    probleme = ecart_architecture(_forme_poids(answer), forme_generateur_2d(), "generateur_8g",
                                  {"reseau.0.weight": f"bruit z de dimension {DIM_Z_2D}"})
    if probleme:
        raise AssertionError(probleme)
    if "erreur_sortie" in answer:
        raise AssertionError(f"generateur_8g(z) lève une erreur : {answer['erreur_sortie']}")
    s = SEUILS[echelle()]
    verifier_modes(answer["sortie"], "generateur_8g(z)", s["modes_8g"], s["sur_les_modes_8g"])


def verifier_modes(x, quoi: str, modes_min: int, part_min: float) -> None:
    """Refuse samples that cover fewer than `modes_min` of the eight modes, or of which fewer
    than `part_min` land on a mode (the notebook on the public noise, the judge on its own)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2 or not np.all(np.isfinite(x)):
        raise AssertionError(f"{quoi} : il faut des points finis du plan, de forme (n, 2), pas "
                             f"{x.shape}")
    m = modes_couverts(x)
    if m["modes"] < modes_min or m["sur_les_modes"] < part_min:
        parts = " ".join(f"{100 * p:.0f}" for p in m["repartition"])
        raise AssertionError(
            f"{quoi} : modes couverts : {m['modes']} sur 8 (au moins {modes_min}), "
            f"{100 * m['sur_les_modes']:.0f} % des points sur un mode (au moins "
            f"{100 * part_min:.0f} %) ; part de chaque mode (%) : {parts} — "
            + ("les points tombent entre les modes : entraînez plus longtemps ou vérifiez "
               "l'entraînement" if m["sur_les_modes"] < part_min else
               "effondrement de modes : le discriminateur voit-il l'écart-type du lot ?"))
    if m["dispersion"] < DISPERSION_MIN:
        raise AssertionError(
            f"{quoi} : les points sur les modes sont empilés (distance médiane au centre "
            f"{m['dispersion']:.4f}, au moins {DISPERSION_MIN} ; données : 0.06) — un générateur "
            "qui recopie quelques points exacts n'apprend pas la loi des données (mémorisation)")


EXERCISES.add(Exercise("generateur_8g", ("generateur_8g",), quiet(_eval_generatif("forward")),
                       selfcheck=_selfcheck_generateur_8g))
