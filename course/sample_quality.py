"""The students' tool to judge generated digits (TP4, the project): a digits classifier of
their own kernel, and the criteria the judge applies with its own classifier.

The classifier here is NOT the judge's (another architecture, seed and training budget): its
numbers are close to the judge's but not the same, and nothing here grades. The Fréchet distance
is an exercise of TP4: the tool computes it only with the student's own `distance_frechet`,
passed as an argument. torch is imported on first use.
"""

from __future__ import annotations

import functools

import numpy as np

from .digit_images import charger_chiffres
from .torch_tools import vers_numpy

PART_MINIMALE = 0.02  # a class counts as covered with at least 2 % of the samples


def entrainer_mlp_chiffres(largeur: int, graine: int, n_epochs: int, taille_batch: int = 64,
                          lr: float = 3e-3, weight_decay: float = 1e-4) -> tuple[np.ndarray, ...]:
    """An MLP 64-largeur-10 (ReLU) trained on the course's training digits (pixels / 16) with
    Adam, a fixed seed, on CPU with one thread, in float32: the same network at every call.
    Returns its parameters (W1, b1, W2, b2) as float64 arrays."""
    import torch
    import torch.nn.functional as F

    X_train, _, y_train, _ = charger_chiffres()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            torch.manual_seed(graine)
            g = torch.Generator().manual_seed(graine)
            net = torch.nn.Sequential(torch.nn.Linear(64, largeur), torch.nn.ReLU(),
                                      torch.nn.Linear(largeur, 10))
            opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
            X, y = torch.tensor(X_train), torch.tensor(y_train)
            for _ in range(n_epochs):
                perm = torch.randperm(len(X), generator=g)
                for i in range(0, len(X), taille_batch):
                    idx = perm[i:i + taille_batch]
                    loss = F.cross_entropy(net(X[idx]), y[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
    finally:
        torch.set_num_threads(threads)
    return tuple(p.detach().double().numpy() for p in net.parameters())


class ClassifieurMlp:
    """The forward pass of a trained 64-h-10 MLP (ReLU, then softmax) from its parameters
    (W1, b1, W2, b2): this tool's classifier, and the judge's with its own parameters."""

    def __init__(self, parametres: tuple[np.ndarray, ...]):
        self.W1, self.b1, self.W2, self.b2 = parametres

    def caracteristiques(self, X) -> np.ndarray:
        """The hidden layer (n, h) on images (n, 64)."""
        return np.maximum(np.asarray(X, dtype=float) @ self.W1.T + self.b1, 0.0)

    def probabilites(self, X) -> np.ndarray:
        """Class probabilities (n, 10) of images (n, 64)."""
        logits = self.caracteristiques(X) @ self.W2.T + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        P = np.exp(logits)
        return P / P.sum(axis=1, keepdims=True)


@functools.lru_cache(maxsize=1)
def _classifieur() -> ClassifieurMlp:
    """This tool's classifier, trained once per kernel (about 1 s): 0.97 on the test digits."""
    return ClassifieurMlp(entrainer_mlp_chiffres(largeur=64, graine=1, n_epochs=25))


def _caracteristiques(X) -> np.ndarray:
    return _classifieur().caracteristiques(X)


def probabilites_classes(images) -> np.ndarray:
    """Class probabilities (n, 10) that this tool's classifier gives images (n, 64) in [0, 1]."""
    return _classifieur().probabilites(np.clip(vers_numpy(images).reshape(-1, 64), 0.0, 1.0))


def repartition_classes(images) -> np.ndarray:
    """Fraction of the images assigned to each class 0-9 by this tool's classifier."""
    pred = probabilites_classes(images).argmax(axis=1)
    return np.bincount(pred, minlength=10) / max(len(pred), 1)


def evaluer_echantillons(images, distance_frechet=None) -> dict:
    """The judge's criteria for generated digits (n, 64), pixels in [0, 1], measured with this
    tool's classifier (close to the judge's, not the same):

    - confiance: mean of the classifier's largest probability (sharp digits: about 0.95);
    - couverture: number of classes with at least 2 % of the samples (real digits: 10);
    - repartition: fraction of the samples per predicted class;
    - frechet (only with `distance_frechet`, your function of TP4): its value on the Gaussians
      fitted to the classifier's hidden layer on the samples and on the 450 test digits.
    """
    X = np.clip(vers_numpy(images).reshape(-1, 64), 0.0, 1.0)
    if len(X) < 2:
        raise ValueError("au moins deux images sont nécessaires")
    P = probabilites_classes(X)
    repartition = np.bincount(P.argmax(axis=1), minlength=10) / len(X)
    resultat = {"confiance": float(P.max(axis=1).mean()),
                "couverture": int(np.sum(repartition >= PART_MINIMALE)),
                "repartition": repartition}
    if distance_frechet is not None:
        F = _caracteristiques(X)
        R = _caracteristiques(charger_chiffres()[1])
        try:
            resultat["frechet"] = float(distance_frechet(
                F.mean(axis=0), np.cov(F, rowvar=False), R.mean(axis=0), np.cov(R, rowvar=False)))
        except NotImplementedError:  # not written yet: the other criteria still help
            resultat["frechet"] = float("nan")
    return resultat
