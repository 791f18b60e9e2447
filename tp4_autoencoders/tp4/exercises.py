"""TP4's exercises with one right answer, kernel side: how each one applies the student's code
to the judge's inputs (only plain data comes out; the judge decides, the notebook's check()
compares with the public table). The trained networks and the random ones are in `trained.py`.

Networks are given the judge's weights (`charger_poids`): their outputs are then unique.
Nothing here computes an answer.
"""

from __future__ import annotations

import numpy as np

from course.torch_tools import est_module, tenseur, vers_numpy
from grader.protocol import Exercise, Exercises, InvalidAnswer, quiet

from .data import conseils_latent, ecart_architecture, forme_autoencodeur

EXERCISES = Exercises(__file__)
check = EXERCISES.check
FLOAT32 = (1e-4, 1e-6)  # tolerance against the public table for float32 computations


def charger_poids(modele, case, quoi: str) -> None:
    """Give the student's network the judge's weights (case keys "p:<name>"); a network that
    does not follow the imposed architecture is refused with the reason."""
    import torch

    if not est_module(modele):
        raise InvalidAnswer(f"{quoi} doit être un nn.Module, pas {type(modele).__name__}")
    attendus = {k[2:]: np.shape(v) for k, v in case.items() if k.startswith("p:")}
    recus = {k: tuple(v.shape) for k, v in modele.state_dict().items()}
    probleme = ecart_architecture(recus, attendus, quoi, conseils_latent(int(case["d"])))
    if probleme:
        raise InvalidAnswer(probleme)
    modele.load_state_dict({k[2:]: torch.tensor(np.asarray(v), dtype=torch.float32)
                            for k, v in case.items() if k.startswith("p:")})


def _add(name, targets, evaluate, tolerance=FLOAT32):
    EXERCISES.add(Exercise(name, targets, quiet(evaluate), tolerance=tolerance))


def _sans_gradient(fn):
    import torch

    with torch.no_grad():
        return fn()


# -- Part 1: the auto-encoder, PCA ---------------------------------------------------------------
def _eval_autoencodeur(case, Autoencodeur):
    modele = Autoencodeur(int(case["d"]))
    charger_poids(modele, case, f"Autoencodeur({int(case['d'])})")
    modele.eval()
    x = tenseur(case["X"])
    return {"z": vers_numpy(_sans_gradient(lambda: modele.encodeur(x))),
            "rec": vers_numpy(_sans_gradient(lambda: modele(x)))}


def _eval_acp(case, erreur_reconstruction_acp):
    return {"mse": erreur_reconstruction_acp(case["X_train"].copy(), case["X_test"].copy(),
                                             int(case["d"]))}


_add("autoencodeur", ("Autoencodeur",), _eval_autoencodeur)
_add("erreur_acp", ("erreur_reconstruction_acp",), _eval_acp, tolerance=(1e-4, 1e-9))


# -- Part 2: anomaly detection -----------------------------------------------------------------
def _eval_score(case, score_anomalie, Autoencodeur):
    modele = Autoencodeur(int(case["d"]))
    charger_poids(modele, case, f"Autoencodeur({int(case['d'])})")
    return {"score": vers_numpy(score_anomalie(modele, tenseur(case["X"])))}


def _eval_auc(case, auc_roc):
    return {"auc": auc_roc(case["normaux"].copy(), case["anomalies"].copy())}


_add("score_anomalie", ("score_anomalie", "Autoencodeur"), _eval_score)
_add("auc_roc", ("auc_roc",), _eval_auc, tolerance=(0.0, 1e-9))


# -- Part 3: judging generated images ------------------------------------------------------------
def _eval_frechet(case, distance_frechet):
    return {"d": distance_frechet(case["mu1"].copy(), case["S1"].copy(), case["mu2"].copy(),
                                  case["S2"].copy())}


_add("distance_frechet", ("distance_frechet",), _eval_frechet, tolerance=(1e-5, 1e-9))


# -- Part 4: the VAE's pieces ------------------------------------------------------------------
def _eval_kl(case, kl_gaussienne):
    return {"kl": vers_numpy(kl_gaussienne(tenseur(case["mu"]), tenseur(case["logvar"])))}


def _differentiable(valeur, entrees) -> dict:
    """The gradients of a scalar tensor `valeur` with respect to `entrees` (leaf tensors), or
    nothing when it is no differentiable tensor (the judge says so)."""
    import torch

    if not (isinstance(valeur, torch.Tensor) and valeur.grad_fn is not None
            and valeur.numel() == 1):
        return {}
    for t in entrees:
        t.grad = None
    valeur.sum().backward()
    return {f"grad{i}": vers_numpy(t.grad).ravel() if t.grad is not None else np.zeros(0)
            for i, t in enumerate(entrees)}


def _eval_perte_vae(case, perte_vae):
    x_rec = tenseur(case["x_rec"], grad=True)
    perte = perte_vae(tenseur(case["x"]), x_rec, tenseur(case["mu"]), tenseur(case["logvar"]))
    return {"perte": vers_numpy(perte), **_differentiable(perte, (x_rec,))}


_add("kl_gaussienne", ("kl_gaussienne",), _eval_kl)
_add("perte_vae", ("perte_vae",), _eval_perte_vae)


# -- Part 5: the GAN's losses ------------------------------------------------------------------
def _eval_pertes_gan(case, perte_discriminateur, perte_generateur):
    reels = tenseur(case["reels"][:, None], grad=True)
    faux = tenseur(case["faux"][:, None], grad=True)
    out = {}
    calculs = (("D", lambda: perte_discriminateur(reels, faux, lissage=float(case["lissage"])),
                (reels, faux)),
               ("G", lambda: perte_generateur(faux), (faux,)),
               ("Gs", lambda: perte_generateur(faux, saturante=True), (faux,)))
    for nom, calcul, entrees in calculs:
        perte = calcul()
        out[nom] = vers_numpy(perte)
        out.update({f"{nom}_{k}": v for k, v in _differentiable(perte, entrees).items()})
    return out


_add("pertes_gan", ("perte_discriminateur", "perte_generateur"), _eval_pertes_gan)
