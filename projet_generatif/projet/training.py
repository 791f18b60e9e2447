"""The project's training loop of the score network (`entrainer_score`), kernel side: the
network the loop gets records its calls (times and batch sizes), so that the check sees how the
loop draws its batches and times; `verifier_entrainement` states what a right loop does (the
judge uses it too, then rebuilds the trained network and measures its score against the exact
one). Registered after the samplers (`sampling.py`), whose `_add` it uses.
"""

from __future__ import annotations

import functools

import numpy as np

from course.answers import tableau
from course.torch_tools import poids, vers_numpy

from .data import T_MAX, T_MIN
from .sampling import _add


MAX_APPELS = 4000  # calls of the network recorded (n_iter of the cases: at most 400)


@functools.lru_cache(maxsize=1)
def _classe_enregistree():
    import torch

    class ReseauEnregistre(torch.nn.Module):
        """The judge's small ReseauScore, recording the times and batch sizes of its calls."""

        def __init__(self, reseau):
            super().__init__()
            self.interne = reseau
            self.t: list[np.ndarray] = []
            self.tailles: list[int] = []

        def forward(self, x, t):
            if len(self.tailles) < MAX_APPELS:
                self.tailles.append(int(len(x)))
                self.t.append(np.ravel(vers_numpy(t)))
            return self.interne(x, t)

    return ReseauEnregistre


def _pertes(pertes) -> np.ndarray:
    if isinstance(pertes, (list, tuple)):
        return np.concatenate([np.ravel(vers_numpy(p)) for p in pertes]) if pertes else \
            np.zeros(0)
    return vers_numpy(pertes)


def _eval_entrainement(case, entrainer_score):
    import torch

    from .network import ReseauScore

    def run():
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(case["graine_init"]))
            reseau = ReseauScore(2, int(case["largeur"]), 2)
        modele = _classe_enregistree()(reseau)
        X = torch.tensor(case["X"], dtype=torch.float32)
        pertes = entrainer_score(modele, X, int(case["n_iter"]), lr=float(case["lr"]),
                                 taille_batch=int(case["taille_batch"]),
                                 graine=int(case["graine"]))
        return modele, _pertes(pertes)

    modele, pertes = run()
    _, bis = run()
    nt = np.array([len(t) for t in modele.t], dtype=float)
    return {"pertes": pertes, "pertes_bis": bis, "tailles": np.array(modele.tailles, dtype=float),
            "n_t": nt, "appels_t": np.concatenate(modele.t) if modele.t else np.zeros(0),
            **poids(modele.interne)}


def verifier_entrainement(case, answer) -> None:
    """The training loop, from what it did to the judge's network: one loss per iteration,
    reproducible for a seed, one call of the network per iteration on a batch of taille_batch
    rows with one time per example, times log-uniform in [T_MIN, T_MAX] (Kolmogorov-Smirnov on
    log t), and a loss that decreases."""
    from scipy import stats

    quoi = "entrainer_score"
    n_iter, taille = int(case["n_iter"]), int(case["taille_batch"])
    p = tableau(answer, "pertes", quoi)
    if p.shape != (n_iter,):
        raise AssertionError(f"{quoi} doit renvoyer les {n_iter} pertes (une par itération, "
                             f"n_iter = {n_iter}), pas un tableau de forme {p.shape}")
    tailles = tableau(answer, "tailles", f"{quoi} (appels du réseau)").ravel()
    n_t = tableau(answer, "n_t", f"{quoi} (appels du réseau)").ravel()
    t = tableau(answer, "appels_t", f"{quoi} (temps reçus par le réseau)").ravel()
    if len(tailles) < n_iter or len(n_t) != len(tailles) or int(n_t.sum()) != len(t):
        raise AssertionError(f"{quoi} : le réseau est appelé {len(tailles)} fois pour "
                             f"{n_iter} itérations — une perte_debruitage par itération")
    n_data = len(case["X"])
    if np.all(tailles == n_data) and n_data != taille:
        raise AssertionError(f"{quoi} : chaque itération tire un lot de taille_batch = {taille} "
                             f"lignes de X au hasard, pas tout X ({n_data} lignes)")
    if not np.all(tailles == taille):
        raise AssertionError(f"{quoi} : lots de taille_batch = {taille} exemples attendus (le "
                             f"réseau a reçu des lots de {int(tailles.min())} à "
                             f"{int(tailles.max())})")
    if np.all(n_t == 1) and taille > 1:
        raise AssertionError(f"{quoi} : un temps par exemple (t de forme (taille_batch,), "
                             "tiré indépendamment pour chaque ligne du lot), pas un par lot")
    if not np.all(n_t == tailles):
        raise AssertionError(f"{quoi} : le réseau doit recevoir un temps par exemple du lot")
    if t.min() < T_MIN * (1 - 1e-4) or t.max() > T_MAX * (1 + 1e-4):
        raise AssertionError(f"{quoi} : temps hors de [T_MIN, T_MAX] = [{T_MIN:g}, {T_MAX:g}] "
                             f"(de {t.min():.3g} à {t.max():.3g})")
    u = np.log(t / T_MIN) / np.log(T_MAX / T_MIN)
    if stats.kstest(u, "uniform").pvalue < 1e-4:
        uniformes = stats.kstest((t - T_MIN) / (T_MAX - T_MIN), "uniform").pvalue >= 1e-4
        raise AssertionError(
            f"{quoi} : les temps ne sont pas log-uniformes dans [T_MIN, T_MAX] (test de "
            "Kolmogorov-Smirnov sur log t, p < 1e-4)" + (
                " — vos temps sont uniformes : la moitié d'entre eux dépasse 2.5 et les petits "
                "temps, où se forment les détails, sont presque absents ; t = T_MIN (T_MAX / "
                "T_MIN)^u" if uniformes else " : t = T_MIN (T_MAX / T_MIN)^u, u uniforme"))
    bis = tableau(answer, "pertes_bis", quoi)
    if bis.shape != p.shape or not np.array_equal(p, bis):
        raise AssertionError(f"{quoi} : deux entraînements du même réseau avec la même graine "
                             "donnent des pertes différentes — tirez lots, temps et bruits avec "
                             "un générateur créé par torch.Generator().manual_seed(graine)")
    if n_iter > 10 and np.all(np.diff(p) > 0):
        raise AssertionError(f"{quoi} : vos pertes croissent à chaque itération — renvoyez la "
                             "perte de chaque itération, pas leur somme cumulée")
    q = max(n_iter // 4, 1)
    debut, fin = float(np.mean(p[:q])), float(np.mean(p[-q:]))
    if not fin < RATIO_PERTE * debut:
        raise AssertionError(
            f"{quoi} : la perte ne décroît pas — moyenne {debut:.3f} sur le premier quart des "
            f"itérations, {fin:.3f} sur le dernier (au plus {RATIO_PERTE:g} × attendu) ; "
            "optimiseur.zero_grad(), perte.backward(), optimiseur.step() à chaque itération ?")


# Mean loss of the last quarter of the iterations over the first, master's loop on the cases
# (case seeds 1000-1019, public and hidden): 0.80-0.90; without optimiser.step(): 0.99-1.02.
# Kolmogorov-Smirnov p-value of the master's log-times on the same cases: at least 0.0076.
RATIO_PERTE = 0.95


_add("entrainer_score", ("entrainer_score",), _eval_entrainement, verifier_entrainement)
