"""The project (generation by score diffusion), kernel side: what the students' notebook
imports.

2-D data sets, the digits, the time grid, the noise-prediction network `ReseauScore`, the
normalizing flow `FlotCouplage` (affine coupling layers; its exercises in `flot.py`), the
judge's thresholds at the current scale, plots, a tool to judge generated digits with the
notebook's own classifier, and `check`. The verdicts are the judge's (`judges/projet/`, never
shipped): nothing here computes an answer.
"""

from course.digit_images import afficher_chiffres
from course.sample_quality import evaluer_echantillons as evaluer_chiffres
from course.torch_tools import appareil, echelle

from . import flot, sampling, training  # noqa: F401 (registers their exercises)
from .data import (N_8G, SEUILS, SIGMA_8G, T_MAX, T_MIN, centres_8g, charger_chiffres,
                   grille_temps, huit_gaussiennes, rouleau_suisse, seuils, vers_diffusion,
                   vers_pixels)
from .exercises import EXERCISES, check
from .network import FlotCouplage, ReseauScore
from .plots import tracer_nuages

__all__ = ["EXERCISES", "check", "seuils", "echelle", "appareil", "T_MAX", "T_MIN", "SIGMA_8G",
           "N_8G", "SEUILS", "centres_8g", "huit_gaussiennes", "rouleau_suisse",
           "charger_chiffres", "vers_diffusion", "vers_pixels", "grille_temps", "ReseauScore",
           "FlotCouplage",
           "tracer_nuages", "afficher_chiffres", "evaluer_chiffres"]
