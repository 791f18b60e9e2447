"""The project's known mistakes in the normalizing flow (coupling layers, log-density, sampling,
the trained flow) and in the optimal-transport loss. Beside `mistakes.py`, merged with it by
`mistakes_from`. Loaded on first use (they import torch)."""

from __future__ import annotations

import numpy as np
import torch

from projet.network import FlotCouplage

from .mistakes import _m, _untrained


def _couplage(kind):
    """couplage_direct / couplage_inverse with one mistake (`kind`)."""
    def couplage_direct(z, reseau_s, reseau_t, k):
        garde = 1 - k if kind == "coordonnee" else k
        u = z[:, garde:garde + 1]
        s, t = reseau_s(u), reseau_t(u)
        autre = z[:, 1 - garde:2 - garde]
        nouvelle = autre * s + t if kind == "sans_exp" else autre * torch.exp(s) + t
        x = torch.cat([u, nouvelle] if garde == 0 else [nouvelle, u], dim=1)
        ld = {"signe": -s[:, 0], "oubli": torch.zeros_like(s[:, 0])}.get(kind, s[:, 0])
        return x, ld

    def couplage_inverse(x, reseau_s, reseau_t, k):
        u = x[:, k:k + 1]
        s, t = reseau_s(u), reseau_t(u)
        autre = x[:, 1 - k:2 - k]
        ancienne = {"inverse_exp_s": lambda: (autre - t) * torch.exp(s),
                    "inverse_ordre": lambda: autre * torch.exp(-s) - t}.get(
            kind, lambda: (autre - t) * torch.exp(-s))()
        z = torch.cat([u, ancienne] if k == 0 else [ancienne, u], dim=1)
        return z, (s[:, 0] if kind == "inverse_signe" else -s[:, 0])

    return couplage_inverse if kind.startswith("inverse") else couplage_direct


def _log_densite(kind):
    def log_densite_flot(flot, x):
        z, log_det = x, torch.zeros(len(x), dtype=x.dtype)
        for reseau_s, reseau_t, k in reversed(flot.couches()):
            u = z[:, k:k + 1]
            s, t = reseau_s(u), reseau_t(u)
            ancienne = (z[:, 1 - k:2 - k] - t) * torch.exp(-s)
            z = torch.cat([u, ancienne] if k == 0 else [ancienne, u], dim=1)
            log_det = log_det + s[:, 0] if kind == "signe" else log_det - s[:, 0]
        log_pi = -0.5 * (z ** 2).sum(dim=1) - np.log(2 * np.pi)
        return log_pi if kind == "oubli" else log_pi + log_det
    return log_densite_flot


def _echantillonner_flot(kind):
    def echantillonner_flot(flot, z):
        x = z
        for reseau_s, reseau_t, k in flot.couches()[::-1]:  # both mistakes: last layer first
            u = x[:, k:k + 1]
            s, t = reseau_s(u), reseau_t(u)
            autre = x[:, 1 - k:2 - k]
            nouvelle = (autre - t) * torch.exp(-s) if kind == "inverse" else autre * torch.exp(s) + t
            x = torch.cat([u, nouvelle] if k == 0 else [nouvelle, u], dim=1)
        return x
    return echantillonner_flot


def _perte_ot(kind):
    def perte_transport(x, z):
        from scipy.optimize import linear_sum_assignment

        C = torch.cdist(x, z) if kind == "non_carre" else torch.cdist(x, z) ** 2
        if kind == "ordre":
            i = j = np.arange(len(x))
        else:
            i, j = linear_sum_assignment(C.detach().numpy())
        perte = C[i, j].sum() if kind == "somme" else C[i, j].mean()
        return {"racine": lambda: torch.sqrt(perte), "item": lambda: perte.item()}.get(
            kind, lambda: perte)()
    return perte_transport


def _flot_non_entraine():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        return FlotCouplage()


MISTAKES = {
    "couplage_affine": [
        _m("signe du log-déterminant", "couplage_direct", _couplage("signe"),
           "signe du log-déterminant"),
        _m("log-déterminant oublié", "couplage_direct", _couplage("oubli"), "oublié"),
        _m("coordonnée gardée transformée", "couplage_direct", _couplage("coordonnee"), "GARDÉE"),
        _m("exponentielle oubliée", "couplage_direct", _couplage("sans_exp"), "l'exponentielle"),
        _m("inverse avec exp(s)", "couplage_inverse", _couplage("inverse_exp_s"),
           "pas par exp(s)"),
        _m("inverse : t retranché après", "couplage_inverse", _couplage("inverse_ordre"),
           "AVANT"),
        _m("inverse : signe du log-déterminant", "couplage_inverse", _couplage("inverse_signe"),
           "l'inverse de celui de T"),
    ],
    "perte_transport": [
        _m("sans appariement", "perte_transport", _perte_ot("ordre"), "dans l'ordre"),
        _m("racine (W₂)", "perte_transport", _perte_ot("racine"), "sans racine"),
        _m("somme au lieu de moyenne", "perte_transport", _perte_ot("somme"), "pas leur somme"),
        _m("coût non carré (W₁)", "perte_transport", _perte_ot("non_carre"), "W₁"),
        _m("un float", "perte_transport", _perte_ot("item"), "différentiable"),
    ],
    "flot_8g": [
        _m("flot non entraîné", "flot_8g", _flot_non_entraine(), "flot entraîné ?"),
        _m("pas un flot", "flot_8g", _untrained(2), "FlotCouplage"),
        _m("log-déterminants oubliés", "log_densite_flot", _log_densite("oubli"), "oubliés"),
        _m("signe des log-déterminants", "log_densite_flot", _log_densite("signe"),
           "signe des log-déterminants"),
        _m("échantillons par T⁻¹", "echantillonner_flot", _echantillonner_flot("inverse"),
           "applique T⁻¹"),
        _m("couches dans l'ordre inverse", "echantillonner_flot", _echantillonner_flot("ordre"),
           "ordre des couches"),
    ],
}
