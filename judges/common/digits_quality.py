"""The judge's digits classifier and its metrics of generated digits, shared by TP4 (VAE, GAN)
and the project (diffusion): one implementation, the one the thresholds were measured with.

MLP 64-100-10 (ReLU) trained once per process with a fixed seed, on CPU, one thread, float32,
on the course's training digits (`course.digits.split()`, pixels / 16): 0.973 accuracy on the
held-out digits. Its metrics of n images with pixels in [0, 1]:

- confiance: mean of the largest class probability (real test digits: 0.965);
- couverture: classes receiving at least 2 % of the samples (real digits: 10);
- frechet: Fréchet distance between Gaussians fitted to the hidden layer (100 ReLU units) on the
  samples and on the 450 test digits, by eigenvalues: Tr (S1 S2)^½ = Σ √λ(S1^½ S2 S1^½) (450
  training digits: 0.3-0.4, a Gaussian fit of the data: 2.4, uniform noise: 24);
- repartition: fraction of the samples per predicted class.

Judge side only: the students' kernels get another classifier (`course.sample_quality`), and
the Fréchet distance is an exercise of TP4.
"""

from __future__ import annotations

import functools

import numpy as np

from course.digit_images import charger_chiffres
from course.sample_quality import ClassifieurMlp, entrainer_mlp_chiffres
from course.torch_tools import vers_numpy

COVERAGE_SHARE = 0.02  # a class is covered with at least 2 % of the samples


# (X_train, X_test, y_train, y_test), pixels in [0, 1] as float32, computed once
digits = functools.lru_cache(maxsize=1)(charger_chiffres)


@functools.lru_cache(maxsize=1)
def _classifier() -> ClassifieurMlp:
    """The judge's classifier: the students' tool's forward pass, but its recipe (width, seed,
    epochs) is the judge's alone."""
    return ClassifieurMlp(entrainer_mlp_chiffres(largeur=100, graine=0, n_epochs=40))


def features(X) -> np.ndarray:
    """The classifier's hidden layer (n, 100) on images (n, 64)."""
    return _classifier().caracteristiques(X)


def probabilities(images) -> np.ndarray:
    """Class probabilities (n, 10) of images (n, 64)."""
    return _classifier().probabilites(vers_numpy(images).reshape(-1, 64))


def frechet_gaussians(mu1, S1, mu2, S2) -> float:
    """‖mu1 − mu2‖² + Tr(S1 + S2 − 2 (S1 S2)^½) by eigenvalues of symmetric PSD matrices (no
    complex square root, no warning), never below 0 (no "-0.00" for identical statistics)."""
    w, V = np.linalg.eigh(S1)
    r = (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T
    lam = np.linalg.eigvalsh(r @ S2 @ r)
    return max(0.0, float(np.sum((mu1 - mu2) ** 2) + np.trace(S1) + np.trace(S2)
                          - 2.0 * np.sum(np.sqrt(np.clip(lam, 0.0, None)))))


@functools.lru_cache(maxsize=1)
def _reference_statistics() -> tuple[np.ndarray, np.ndarray]:
    F = features(digits()[1])
    return F.mean(axis=0), np.cov(F, rowvar=False)


def metrics(images) -> dict:
    """confiance, couverture, frechet, repartition of images (n, 64), pixels clipped to [0, 1]."""
    X = np.clip(vers_numpy(images).reshape(-1, 64), 0.0, 1.0)
    if len(X) < 2:
        raise ValueError("at least two images are needed")
    P = probabilities(X)
    shares = np.bincount(P.argmax(axis=1), minlength=10) / len(X)
    F = features(X)
    mu, S = _reference_statistics()
    return {"confiance": float(P.max(axis=1).mean()),
            "couverture": int(np.sum(shares >= COVERAGE_SHARE)),
            "frechet": frechet_gaussians(F.mean(axis=0), np.cov(F, rowvar=False), mu, S),
            "repartition": shares}


def judge_samples(images, what: str, coverage: int, frechet: float, confidence: float,
                  hint: str) -> None:
    """AssertionError (French) unless the samples cover at least `coverage` classes, with a
    Fréchet distance at most `frechet` and a confidence at least `confidence`; `hint` ends the
    quality message (what to look at in the student's training)."""
    m = metrics(images)
    classes = ", ".join(f"{k} : {100 * f:.0f} %" for k, f in enumerate(m["repartition"]) if f > 0)
    if m["couverture"] < coverage:
        raise AssertionError(
            f"{what} : les échantillons ne couvrent que {m['couverture']} classes sur 10 (classe "
            f"prédite par le classifieur du correcteur : {classes}) ; au moins {coverage} "
            "attendues — effondrement de modes ?")
    if m["frechet"] > frechet or m["confiance"] < confidence:
        raise AssertionError(
            f"{what} : échantillons de qualité insuffisante (distance de Fréchet "
            f"{m['frechet']:.2f}, seuil {frechet:g} ; confiance du classifieur "
            f"{m['confiance']:.3f}, seuil {confidence:g}) — {hint}")
