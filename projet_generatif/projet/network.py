"""The noise-prediction network given to the students (torch is imported on first use)."""

from __future__ import annotations

import functools
import math


@functools.lru_cache(maxsize=1)
def _classe_reseau():
    import torch
    from torch import nn

    class ReseauScore(nn.Module):
        """MLP that predicts the noise ε of x_t = e^-t x_0 + σ_t ε from (x_t, t).

        Inputs: x (n, dim) and t (a number or a tensor (n,)); the time enters through
        sin/cos(f_k log t) for n_freq frequencies f_k from 0.1 to 4. Layers:
        `self.reseau` = [Linear, SiLU] x profondeur, then Linear(largeur, dim).
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
    """The noise-prediction network ε̂(x_t, t) (a torch nn.Module): see its docstring."""
    return _classe_reseau()(dim, largeur, profondeur, n_freq)
