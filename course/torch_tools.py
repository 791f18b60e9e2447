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
    """"full" when the environment variable COURSE_SCALE says so, else "quick" (the default):
    quick for grading on 2 CPU cores, full for a GPU or a patient laptop."""
    return "full" if os.environ.get("COURSE_SCALE", "quick").strip().lower() == "full" else "quick"


def appareil():
    """The torch device of the run: CUDA at the full scale when a GPU is there, else the CPU."""
    import torch

    return torch.device("cuda" if echelle() == "full" and torch.cuda.is_available() else "cpu")


@contextlib.contextmanager
def graine(seed: int, device=None):
    """Seed torch for the code inside (the student's), then give the notebook its own random
    state back: a check never shifts the random numbers of the cells after it."""
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
    """A float32 tensor of `x` on `device`, optionally requiring its gradient."""
    import torch

    t = torch.tensor(np.asarray(x), dtype=torch.float32, device=device)
    return t.requires_grad_(True) if grad else t


def vers_numpy(x) -> np.ndarray:
    """A tensor (any device, with or without grad) or an array-like, as a float64 array."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        if "complex" in str(getattr(x, "dtype", "")):
            raise TypeError("tenseur complexe")
        x = x.double().numpy()
    return np.asarray(x, dtype=float)


def poids(modele) -> dict[str, np.ndarray]:
    """A network's state_dict as plain arrays, keyed "w:<name>" (what the kernel sends the
    judge, which rebuilds the network itself)."""
    return {f"w:{k}": vers_numpy(v) for k, v in modele.state_dict().items()}


def couches(modele) -> str:
    """The layers of a network, one per line (the types and their sizes): what a notebook's
    check() can look at without running anything."""
    return "\n".join(f"{name}: {module!r}" for name, module in modele.named_modules()
                     if name and not list(module.children()))


def est_module(objet) -> bool:
    """Whether `objet` is a torch.nn.Module (without importing torch for anything else)."""
    import torch

    return isinstance(objet, torch.nn.Module)


def device_du_modele(modele):
    """The device of a network's first parameter (the CPU for a network without any)."""
    params = list(modele.parameters())
    return params[0].device if params else "cpu"
