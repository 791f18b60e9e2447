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
    """Un MLP 64-largeur-10 (ReLU) entraîné sur les chiffres de l'ensemble d'apprentissage du
    cours (pixels / 16) avec Adam, une graine fixe, sur CPU avec un seul thread, en float32 : le
    même réseau à chaque appel. Renvoie ses paramètres (W1, b1, W2, b2) sous forme de tableaux
    float64."""
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
    """La passe avant d'un MLP 64-h-10 entraîné (ReLU, puis softmax) à partir de ses paramètres
    (W1, b1, W2, b2) : le classifieur de cet outil, et celui du correcteur avec ses propres
    paramètres."""

    def __init__(self, parametres: tuple[np.ndarray, ...]):
        self.W1, self.b1, self.W2, self.b2 = parametres

    def caracteristiques(self, X) -> np.ndarray:
        """La couche cachée (n, h) calculée sur des images (n, 64)."""
        return np.maximum(np.asarray(X, dtype=float) @ self.W1.T + self.b1, 0.0)

    def probabilites(self, X) -> np.ndarray:
        """Probabilités des classes (n, 10) pour des images (n, 64)."""
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
    """Probabilités des classes (n, 10) que le classifieur de cet outil attribue à des images
    (n, 64) à valeurs dans [0, 1]."""
    return _classifieur().probabilites(np.clip(vers_numpy(images).reshape(-1, 64), 0.0, 1.0))


def repartition_classes(images) -> np.ndarray:
    """Fraction des images attribuées à chaque classe 0-9 par le classifieur de cet outil."""
    pred = probabilites_classes(images).argmax(axis=1)
    return np.bincount(pred, minlength=10) / max(len(pred), 1)


def evaluer_echantillons(images, distance_frechet=None) -> dict:
    """Les critères du correcteur pour des chiffres générés (n, 64), pixels dans [0, 1], mesurés
    avec le classifieur de cet outil (proche de celui du correcteur, mais pas identique) :

    - confiance : moyenne de la plus grande probabilité du classifieur (chiffres nets : environ
      0.95) ;
    - couverture : nombre de classes qui reçoivent au moins 2 % des échantillons (vrais
      chiffres : 10) ;
    - repartition : fraction des échantillons par classe prédite ;
    - frechet (seulement avec `distance_frechet`, votre fonction du TP4) : sa valeur entre les
      gaussiennes ajustées à la couche cachée du classifieur sur les échantillons d'une part, et
      sur les 450 chiffres de test d'autre part.
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
