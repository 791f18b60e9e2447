"""TP4's exercises with one right answer, kernel side: how each one applies the student's code
to the judge's inputs (only plain data comes out; the judge decides, the notebook's check()
compares with the public table). The trained networks and the random ones are in `trained.py`.

Networks are given the judge's weights (`charger_poids`): their outputs are then unique.
Nothing here computes an answer.
"""

from __future__ import annotations

import numpy as np

from course.torch_tools import couches, est_module, graine, tenseur, vers_numpy
from grader.protocol import Exercise, Exercises, InvalidAnswer, quiet

from .data import conseils_latent, ecart_architecture, forme_discriminateur, forme_generateur

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


def _reseau(classe, args, forme, quoi: str, case, prefixe: str | None):
    """A network built by the student's class, checked against the imposed architecture and
    given the judge's weights (case keys "<prefixe>:<name>") when `prefixe` is set."""
    import torch

    modele = classe(*args)
    if not est_module(modele):
        raise InvalidAnswer(f"{quoi} doit être un nn.Module, pas {type(modele).__name__}")
    recus = {k: tuple(v.shape) for k, v in modele.state_dict().items()}
    probleme = ecart_architecture(recus, forme, quoi)
    if probleme:
        raise InvalidAnswer(probleme)
    if prefixe:
        n = len(prefixe) + 1
        modele.load_state_dict({k[n:]: torch.tensor(np.asarray(v), dtype=torch.float32)
                                for k, v in case.items() if k.startswith(prefixe + ":")})
    return modele


def _sans_gradient(fn):
    import torch

    with torch.no_grad():
        return fn()


# -- Part 0: PyTorch's three gestures ----------------------------------------------------------
def _eval_regression(case, regression_sgd):
    import torch

    resultat = regression_sgd(tenseur(case["x"]), tenseur(case["y"]), int(case["n_pas"]),
                              float(case["lr"]))
    if isinstance(resultat, torch.Tensor) and resultat.numel() == 2:
        resultat = tuple(resultat.reshape(-1))
    if not isinstance(resultat, (tuple, list)) or len(resultat) != 2:
        raise InvalidAnswer("regression_sgd doit renvoyer le couple (w, b)")
    return {"wb": np.concatenate([vers_numpy(v).ravel() for v in resultat])}


_add("regression_sgd", ("regression_sgd",), _eval_regression, tolerance=(1e-4, 1e-5))


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


def _eval_autoencodeur_conv(case, AutoencodeurConv):
    d = int(case["d"])
    modele = AutoencodeurConv(d)
    charger_poids(modele, case, f"AutoencodeurConv({d})")
    modele.eval()
    x = tenseur(case["X"])
    try:
        return {"z": vers_numpy(_sans_gradient(lambda: modele.encodeur(x))),
                "rec": vers_numpy(_sans_gradient(lambda: modele(x)))}
    except Exception as exc:  # sizes that do not chain: the judge says why
        return {"erreur": f"{type(exc).__name__}: {exc}"[:300]}


_add("autoencodeur", ("Autoencodeur",), _eval_autoencodeur)
_add("autoencodeur_conv", ("AutoencodeurConv",), _eval_autoencodeur_conv)
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


def _historique(historique, cle):
    if not isinstance(historique, dict) or cle not in historique:
        raise InvalidAnswer(f"entrainer_gan doit renvoyer un dictionnaire avec la clé « {cle} »")
    return vers_numpy(historique[cle]).ravel()


def _eval_boucle_gan(case, Generateur, Discriminateur, entrainer_gan, device):
    """Two runs of the student's loop: one iteration from the judge's weights on a batch of one
    repeated digit, with a generator whose first layer is zero (so that the iteration does not
    depend on the random numbers the loop draws), and two iterations of fresh networks (the
    discriminator with dropout) on varied digits. Only what does not depend on random draws
    comes back: the losses and the weights after the first run (but the generator's first
    layer, whose step follows z), parameter counts, layers, which parameters moved."""
    import torch

    with graine(case["graine"], device):
        G = _reseau(Generateur, (), forme_generateur(), "Generateur()", case, "g").to(device)
        D = _reseau(Discriminateur, (0.0,), forme_discriminateur(), "Discriminateur(0.0)",
                    case, "d").to(device)
        h = entrainer_gan(G, D, tenseur(case["X"], device), 1, lissage=float(case["lissage"]),
                          lr=float(case["lr"]), taille_batch=int(case["taille_batch"]),
                          graine=int(case["graine"]), suivi=1000)
        out = {"perte_D": _historique(h, "perte_D"), "perte_G": _historique(h, "perte_G")}
        out.update({f"g:{k}": vers_numpy(v) for k, v in G.state_dict().items()
                    if k != "reseau.0.weight"})
        out.update({f"d:{k}": vers_numpy(v) for k, v in D.state_dict().items()})

        G2 = _reseau(Generateur, (), forme_generateur(), "Generateur()", case, None).to(device)
        D2 = _reseau(Discriminateur, (float(case["dropout"]),), forme_discriminateur(),
                     f"Discriminateur({float(case['dropout']):g})", case, None).to(device)
        avant = [{k: v.detach().clone() for k, v in m.state_dict().items()} for m in (G2, D2)]
        h2 = entrainer_gan(G2, D2, tenseur(case["X2"], device), int(case["n_iter"]),
                           lr=float(case["lr"]), taille_batch=int(case["taille_batch"]),
                           graine=int(case["graine"]), suivi=1000)
    pertes = np.concatenate([_historique(h2, "perte_D"), _historique(h2, "perte_G")])
    for nom, m, a in (("G", G2, avant[0]), ("D", D2, avant[1])):
        out[f"bouge_{nom}"] = np.array([float(not torch.equal(v.detach(), a[k]))
                                        for k, v in m.state_dict().items()])
        out[f"n_parametres_{nom}"] = float(sum(p.numel() for p in m.parameters()))
    out.update(n_pertes_D=float(len(_historique(h2, "perte_D"))),
               n_pertes_G=float(len(_historique(h2, "perte_G"))),
               pertes_finies=float(np.all(np.isfinite(pertes))), couches_D=couches(D2))
    return out


_add("boucle_gan", ("Generateur", "Discriminateur", "entrainer_gan", "device"), _eval_boucle_gan)
