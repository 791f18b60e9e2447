"""PyTorch set-up shared by the PyTorch TPs (TP4, the project), their kernels and their judges:
the scale of the run, the device, seeding without touching the notebook's random state, and the
conversions between tensors and the plain arrays the grader exchanges.

torch is imported inside the functions: importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

SCALES = ("quick", "full")


def echelle() -> str:
    """"full" quand la variable d'environnement COURSE_SCALE le demande, sinon "quick" (la valeur
    par défaut) : quick pour la correction sur 2 cœurs de CPU, full pour un GPU, ou pour un
    ordinateur portable et de la patience."""
    return "full" if os.environ.get("COURSE_SCALE", "quick").strip().lower() == "full" else "quick"


def appareil():
    """Le device torch du calcul : CUDA à l'échelle full quand un GPU est présent, sinon le CPU."""
    import torch

    return torch.device("cuda" if echelle() == "full" and torch.cuda.is_available() else "cpu")


@contextlib.contextmanager
def graine(seed: int, device=None):
    """Fixe la graine de torch pour le code du bloc (celui de l'étudiant), puis rend au notebook
    son propre état aléatoire : une vérification ne décale jamais les nombres aléatoires des
    cellules suivantes."""
    import torch

    try:
        device = torch.device(device) if device is not None else None
    except (TypeError, RuntimeError):  # not a device: the code inside will say so
        device = None
    devices = [device.index or 0] if device is not None and device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        yield


def tenseur(x, device="cpu", grad: bool = False):
    """Un tenseur float32 de `x` sur `device`, qui requiert son gradient si grad=True."""
    import torch

    t = torch.tensor(np.asarray(x), dtype=torch.float32, device=device)
    return t.requires_grad_(True) if grad else t


def vers_numpy(x) -> np.ndarray:
    """Un tenseur (sur n'importe quel device, avec ou sans gradient) ou un objet assimilable à
    un tableau, converti en tableau float64."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        if "complex" in str(getattr(x, "dtype", "")):
            raise TypeError("tenseur complexe")
        x = x.double().numpy()
    return np.asarray(x, dtype=float)


def poids(modele) -> dict[str, np.ndarray]:
    """Le state_dict d'un réseau sous forme de simples tableaux, de clés "w:<name>" (ce que le
    noyau envoie au correcteur, qui reconstruit lui-même le réseau)."""
    return {f"w:{k}": vers_numpy(v) for k, v in modele.state_dict().items()}


def couches(modele) -> str:
    """Les couches d'un réseau, une par ligne (leurs types et leurs tailles) : ce que le check()
    d'un notebook peut examiner sans rien exécuter."""
    return "\n".join(f"{name}: {module!r}" for name, module in modele.named_modules()
                     if name and not list(module.children()))


def est_module(objet) -> bool:
    """Whether `objet` is a torch.nn.Module (without importing torch for anything else)."""
    import torch

    return isinstance(objet, torch.nn.Module)


def device_du_modele(modele):
    """Le device du premier paramètre d'un réseau (le CPU pour un réseau qui n'en a aucun)."""
    params = list(modele.parameters())
    return params[0].device if params else "cpu"
