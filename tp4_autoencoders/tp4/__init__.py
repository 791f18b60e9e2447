"""TP4 (auto-encoders, denoising, anomaly detection, VAE, GAN), kernel side: what the students'
notebook imports.

The digits and the eight Gaussians of part 5.5 (with the coverage of their modes), the imposed
sizes, the judge's thresholds at the current scale, the plots, a tool
to judge generated digits with the notebook's own classifier, and `check`. The verdicts are the
judge's (`judges/tp4/`, never shipped): nothing here computes an answer.
"""

from course.digit_images import afficher_chiffres
from course.sample_quality import evaluer_echantillons
from course.torch_tools import appareil, echelle

from . import trained  # noqa: F401 (registers the trained networks' exercises)
from .data import (BRUIT_DAE, DIM_Z, DIM_Z_2D, LATENT_DAE, LATENT_VAE, SEUILS, charger_chiffres,
                   seuils)
from .exercises import EXERCISES, check
from .modes import huit_gaussiennes, modes_couverts
from .plots import grille_latente, tracer_latent, tracer_modes, tracer_repartition, tracer_suivi_gan

__all__ = ["EXERCISES", "check", "seuils", "echelle", "appareil", "charger_chiffres",
           "afficher_chiffres", "tracer_latent", "tracer_repartition", "tracer_suivi_gan",
           "grille_latente", "evaluer_echantillons", "huit_gaussiennes", "modes_couverts",
           "tracer_modes", "LATENT_VAE", "DIM_Z", "DIM_Z_2D", "LATENT_DAE", "BRUIT_DAE", "SEUILS"]
