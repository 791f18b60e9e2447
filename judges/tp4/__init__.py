"""Judge of TP4 (PyTorch basics, auto-encoders, denoising, anomaly detection, VAE, GAN, mode
collapse in the plane): one module per part, each with its cases and verdicts; the known
mistakes (wrong functions, bad trained networks) in `mistakes.py`, `mistakes_loops.py`,
`bad_models.py` and `mistakes_modes.py`, loaded on first use. Never shipped to students.

Oracles are other methods than the students': gradient descent in closed form, scikit-learn's
PCA and ROC AUC, torch.distributions, analytic gradients, eigenvalues for the Fréchet distance,
statistics of many draws, the training loops replayed step by step (the GAN's first iteration
in float64). Trained networks are never trusted: the kernel sends their weights and the judge
rebuilds and measures them itself, on held-out digits with its own noise (thresholds per scale:
`tp4.data.SEUILS`).
"""

from grader.judging import Checks, mistakes_from
from tp4 import EXERCISES

from . import autoencoders, bases, gan, modes, vae

CHECKS = Checks(
    EXERCISES, mistakes=mistakes_from(__name__, "mistakes", "mistakes_loops", "bad_models",
                                      "mistakes_modes"),
    judge_imports=("torch", "torch.distributions", "sklearn.decomposition", "sklearn.metrics"))
for _part in (bases, autoencoders, vae, gan, modes):
    for _check in _part.CHECKS:
        CHECKS.add(_check)
