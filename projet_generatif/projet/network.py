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
