"""TP4's known mistakes for part 5.5 (mode collapse on the eight Gaussians): wrong minibatch
standard deviation layers, and bad 2-D generators built with the imposed architecture, whose
samples sit where a collapsed, untrained or blurred generator would put them. Loaded on first
use (they import torch)."""

from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn as nn

from grader.judging import Mistake
from tp4.data import DIM_Z_2D
from tp4.modes import centres_8g

from .bad_models import seeded
from .modes import EPS


def _couche(kind):
    class EcartTypeLot(nn.Module):
        def __init__(self, m=8):
            super().__init__()
            self.m = m

        def forward(self, x):
            n, d = x.shape
            if kind == "lot_entier":
                groupes = x.reshape(1, n, d)
            elif kind == "groupes_sautes":
                groupes = x.reshape(self.m, n // self.m, d).transpose(0, 1)
            else:
                groupes = x.reshape(n // self.m, self.m, d)
            centres = groupes - groupes.mean(dim=1, keepdim=True)
            diviseur = groupes.shape[1] - (1 if kind == "corrige" else 0)
            var = (centres ** 2).sum(dim=1) / diviseur  # (groupes, d)
            if kind == "melange":  # every number of the group around one mean
                s = (groupes.reshape(len(groupes), -1).var(dim=1, correction=0, keepdim=True)
                     + EPS).sqrt()
            elif kind == "variance":
                s = (var + EPS).mean(dim=1, keepdim=True)
            elif kind == "sans_eps":
                s = var.sqrt().mean(dim=1, keepdim=True)
            else:
                s = (var + EPS).sqrt().mean(dim=1, keepdim=True)
            if kind == "par_coordonnee":
                s = (var + EPS).sqrt()
            if kind == "detache":
                s = s.detach()
            if kind == "groupes_sautes":
                colonne = s.repeat(self.m, 1)  # row i belongs to group i mod (n / m)
            else:
                colonne = s.repeat_interleave(n // len(s), dim=0)
            return torch.cat([colonne, x] if kind == "avant" else [x, colonne], dim=1)
    return EcartTypeLot


class _Generateur2D(nn.Module):
    def __init__(self, activation=nn.ReLU, dim_z=DIM_Z_2D):
        super().__init__()
        self.reseau = nn.Sequential(nn.Linear(dim_z, 128), activation(), nn.Linear(128, 128),
                                    activation(), nn.Linear(128, 2))

    def forward(self, z):
        return self.reseau(z)


def _aux_points(points, flou=0.0, pente=20.0):
    """A Generateur2D whose output is points[p] + flou * (z_3, z_4), p the sign pattern of
    z_0, z_1, z_2 (a table of 8 points): steps s_i = relu(k z_i) − relu(k z_i − 1) in the first
    layer (k = `pente`, low enough for float32 to agree with the judge's float64 rebuild), the
    indicator of each pattern in the second, the table in the last; z_3 and z_4 go through both
    layers as relu(z) − relu(−z)."""
    points = np.resize(np.asarray(points, dtype=np.float32).reshape(-1, 2), (8, 2))
    G = seeded(_Generateur2D)
    with torch.no_grad():
        for p in G.parameters():
            p.zero_()
        couche1, couche2, sortie = G.reseau[0], G.reseau[2], G.reseau[4]
        for i in range(3):
            couche1.weight[i, i] = couche1.weight[3 + i, i] = pente
            couche1.bias[3 + i] = -1.0
        for p, bits in enumerate(itertools.product((0, 1), repeat=3)):
            for i, bit in enumerate(bits):
                signe = 1.0 if bit else -1.0
                couche2.weight[p, i], couche2.weight[p, 3 + i] = signe, -signe
                couche2.bias[p] += 0.0 if bit else 1.0
            couche2.bias[p] -= 2.0
            sortie.weight[:, p] = torch.tensor(points[p])
        for j, (k, signe) in enumerate(((3, 1.0), (3, -1.0), (4, 1.0), (4, -1.0))):
            couche1.weight[6 + j, k] = signe
            couche2.weight[8 + j, 6 + j] = 1.0
            sortie.weight[k - 3, 8 + j] = signe * flou
    return G


def _angles(degres, rayon=2.0):
    a = np.radians(np.asarray(degres, dtype=float))
    return rayon * np.c_[np.cos(a), np.sin(a)]


_ENTRE = _angles(22.5 + 45 * np.arange(8))  # halfway between two modes
MISTAKES = {
    "ecart_type_lot": [
        Mistake("écart-type sur tout le lot", {"EcartTypeLot": _couche("lot_entier")},
                "tout le lot"),
        Mistake("groupes formés de n/m en n/m", {"EcartTypeLot": _couche("groupes_sautes")},
                "CONSÉCUTIFS"),
        Mistake("écart-type corrigé (m − 1)", {"EcartTypeLot": _couche("corrige")}, "biaisé"),
        Mistake("variance au lieu de l'écart-type", {"EcartTypeLot": _couche("variance")},
                "racine carrée"),
        Mistake("écart-type de tout le groupe mélangé", {"EcartTypeLot": _couche("melange")},
                "CHAQUE coordonnée"),
        Mistake("sans ε", {"EcartTypeLot": _couche("sans_eps")}, "ε"),
        Mistake("un écart-type par coordonnée", {"EcartTypeLot": _couche("par_coordonnee")},
                "une seule colonne"),
        Mistake("colonne placée avant x", {"EcartTypeLot": _couche("avant")}, "APRÈS"),
        Mistake("écart-type détaché du graphe", {"EcartTypeLot": _couche("detache")},
                "ne traverse pas"),
    ],
    "generateur_8g": [
        Mistake("générateur non entraîné", {"generateur_8g": seeded(_Generateur2D)},
                "entre les modes"),
        Mistake("toujours le même point", {"generateur_8g": _aux_points(centres_8g()[[2]])},
                "modes couverts : 1 sur 8"),
        Mistake("deux modes", {"generateur_8g": _aux_points(centres_8g()[[0, 4]])},
                "effondrement de modes"),
        Mistake("points entre les modes", {"generateur_8g": _aux_points(_ENTRE)},
                "entre les modes"),
        Mistake("les huit modes, flous",  # every mode covered, too few points on them
                {"generateur_8g": _aux_points(centres_8g(), flou=0.28)}, "entre les modes"),
        Mistake("huit points exacts (mémorisation)",  # every mode, no spread within them
                {"generateur_8g": _aux_points(centres_8g())}, "empilés"),
        Mistake("LeakyReLU au lieu de ReLU",
                {"generateur_8g": seeded(lambda: _Generateur2D(lambda: nn.LeakyReLU(0.2)))},
                "architecture imposée"),
        Mistake("bruit de dimension 16", {"generateur_8g": seeded(lambda: _Generateur2D(
            dim_z=16))}, "DIM_Z_2D"),
        Mistake("pas un nn.Module", {"generateur_8g": {"poids": 1}}, "nn.Module"),
    ],
}
