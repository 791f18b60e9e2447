"""The noise-prediction network given to the students (torch is imported on first use)."""

from __future__ import annotations

import functools
import math


@functools.lru_cache(maxsize=1)
def _classe_reseau():
    import torch
    from torch import nn

    class ReseauScore(nn.Module):
        """MLP qui prédit le bruit ε de x_t = e^-t x_0 + σ_t ε à partir de (x_t, t).

        Entrées : x (n, dim) et t (un nombre ou un tenseur (n,)) ; le temps entre sous la forme
        sin/cos(f_k log t) pour n_freq fréquences f_k de 0.1 à 4. Couches :
        `self.reseau` = [Linear, SiLU] x profondeur, puis Linear(largeur, dim).
        """

        def __init__(self, dim, largeur=128, profondeur=3, n_freq=8):
            super().__init__()
            self.register_buffer("freq", torch.exp(torch.linspace(math.log(0.1), math.log(4.0),
                                                                  n_freq)))
            couches, entree = [], dim + 2 * n_freq
            for _ in range(profondeur):
                couches += [nn.Linear(entree, largeur), nn.SiLU()]
                entree = largeur
            couches.append(nn.Linear(entree, dim))
            self.reseau = nn.Sequential(*couches)

        def forward(self, x, t):
            t = torch.as_tensor(t, dtype=x.dtype, device=x.device).reshape(-1, 1)
            a = torch.log(t.expand(len(x), 1)) * self.freq
            return self.reseau(torch.cat([x, torch.sin(a), torch.cos(a)], dim=1))

    return ReseauScore


def ReseauScore(dim, largeur=128, profondeur=3, n_freq=8):  # noqa: N802 (a class for students)
    """Le réseau de prédiction du bruit ε̂(x_t, t) (un nn.Module de torch) : voir sa docstring."""
    return _classe_reseau()(dim, largeur, profondeur, n_freq)


@functools.lru_cache(maxsize=1)
def _classe_flot():
    from torch import nn

    class FlotCouplage(nn.Module):
        """Flot normalisant 2D en couches de couplage affine (RealNVP).

        La couche i a deux petits réseaux `self.s[i]` et `self.t[i]` (MLP 1 → largeur → largeur
        → 1, tanh), qui lisent la coordonnée gardée `self.coords[i]` (0, 1, 0, 1, …) sous forme
        (n, 1) et renvoient (n, 1) ; la sortie de s passe encore par tanh (|s| < 1 : chaque couche
        dilate ou contracte d'un facteur e au plus, ce qui stabilise l'entraînement). Leur
        dernière couche linéaire part de zéro : le flot non entraîné est l'identité. Ce module ne
        calcule rien lui-même : vos fonctions parcourent ses couches.
        """

        def __init__(self, n_couches=8, largeur=64):
            super().__init__()

            def mlp(borne):
                m = nn.Sequential(nn.Linear(1, largeur), nn.Tanh(), nn.Linear(largeur, largeur),
                                  nn.Tanh(), nn.Linear(largeur, 1), *([nn.Tanh()] if borne else []))
                nn.init.zeros_(m[4].weight)
                nn.init.zeros_(m[4].bias)
                return m

            self.s = nn.ModuleList(mlp(True) for _ in range(n_couches))
            self.t = nn.ModuleList(mlp(False) for _ in range(n_couches))
            self.coords = [i % 2 for i in range(n_couches)]

        def couches(self):
            """Les couches T_1, …, T_n dans l'ordre du sens génératif : (reseau_s, reseau_t, k)."""
            return list(zip(self.s, self.t, self.coords))

    return FlotCouplage


def FlotCouplage(n_couches=8, largeur=64):  # noqa: N802 (a class for students)
    """Un flot normalisant 2D de `n_couches` couplages affines (un nn.Module) : voir sa
    docstring."""
    return _classe_flot()(n_couches, largeur)
