"""TP4's exercises whose right answer is not unique (trained networks, random draws), kernel
side: evaluation of the student's code on the judge's inputs, and the notebook's own checks
(`selfcheck`), which test properties on the public case and reveal nothing usable:

- training: the losses (one per epoch, decreasing, matching the trained network), and errors of
  the trained network on the test digits against a bound written in the public case (the judge
  computes its own bound with scikit-learn's PCA; the Fréchet distance and the PCA are
  exercises, so neither is computed here);
- the reparameterisation: moments of 4000 draws, exact gradients, a new draw at each call (the
  judge applies the same properties);
- generated digits: the imposed layers, pixels in [0, 1], and the coverage and confidence of
  the notebook's classifier (`course.sample_quality`, not the judge's).
"""

from __future__ import annotations

import numpy as np

from course.answers import tableau
from course.sample_quality import evaluer_echantillons
from course.torch_tools import (couches, device_du_modele, est_module, graine, poids, tenseur,
                                vers_numpy)
from grader.protocol import Exercise, quiet

from .data import (COUCHES_GENERATEUR, LATENT_VAE, charger_chiffres, conseils_latent,
                   ecart_architecture, forme_generateur, forme_vae)
from .exercises import EXERCISES, charger_poids

# The notebook's own bounds for generated digits, with its classifier (the judge's are in
# SEUILS, with its own, which gives 0.04-0.05 more confidence): the master's VAE and GAN at the
# quick scale reach coverage 10 and confidence 0.77-0.82 with it (VAE 0.77-0.78, GAN seeds 0-1
# 0.79-0.82, the tests' distilled generator 0.76); untrained, collapsed or noisy generators
# cover 1-7 classes, a decoder without its sigmoid has pixels outside [0, 1].
COUVERTURE_MIN, CONFIANCE_MIN = 8, 0.65


def _mse(modele, X) -> float:
    import torch

    with torch.no_grad():
        return float(torch.mean((modele(X) - X) ** 2))


def _forme_poids(answer) -> dict:
    return {k[2:]: np.shape(v) for k, v in answer.items() if k.startswith("w:")}


# -- Part 1: the training loop -----------------------------------------------------------------
def _eval_entrainer(case, entrainer_autoencodeur, Autoencodeur, device):
    """One training of a fresh Autoencodeur(d) on the case's digits; "p:" weights in the case
    (the judge's replay of the loop) are loaded first."""
    import torch

    d = int(case["d"])
    with graine(case["graine"], device):
        modele = Autoencodeur(d)
        if "p:encodeur.0.weight" in case:
            charger_poids(modele, case, f"Autoencodeur({d})")
        modele = modele.to(device)
        X = tenseur(case["X"], device)
        pertes = entrainer_autoencodeur(modele, X, int(case["n_epochs"]), lr=float(case["lr"]),
                                        taille_batch=int(case["taille_batch"]),
                                        bruit=float(case["bruit"]), graine=int(case["graine"]))
    out = {"pertes": vers_numpy(pertes), **poids(modele)}
    modele.eval()
    X_test = tenseur(charger_chiffres()[1], device)
    if float(case["bruit"]) == 0:
        out.update(mse_entrainement=_mse(modele, X), mse_test=_mse(modele, X_test))
    else:  # the denoising error on test digits with noise of the case's seed
        bruit = np.random.default_rng(int(case["graine"])).normal(size=tuple(X_test.shape))
        with torch.no_grad():
            sortie = modele(X_test + tenseur(float(case["bruit"]) * bruit, device))
        out["mse_debruitage"] = float(vers_numpy(((sortie - X_test) ** 2).mean()))
    return out


def verifier_pertes(pertes, n_epochs: int, mse_entrainement: float) -> None:
    """The losses returned by a training: one per epoch, decreasing, the last one matching the
    reconstruction error of the trained network on its training data."""
    pertes = np.asarray(pertes, dtype=float).ravel()
    if len(pertes) != n_epochs:
        raise AssertionError(f"entrainer_autoencodeur doit renvoyer une perte moyenne par époque "
                             f"({n_epochs} valeurs), pas {len(pertes)}")
    if not np.all(np.isfinite(pertes)):
        raise AssertionError("les pertes contiennent des NaN ou des valeurs infinies")
    if not pertes[-1] < 0.95 * pertes[0]:
        raise AssertionError(f"la perte ne diminue pas ({pertes[0]:.4g} → {pertes[-1]:.4g}) : "
                             "optimizer.zero_grad(), loss.backward() et optimizer.step() à chaque "
                             "mini-batch ?")
    if not 0.5 * mse_entrainement <= pertes[-1] <= 2.0 * mse_entrainement + 1e-3:
        raise AssertionError(f"la dernière perte renvoyée ({pertes[-1]:.4g}) ne correspond pas à "
                             f"l'erreur de reconstruction du modèle sur X ({mse_entrainement:.4g})"
                             " : renvoyez la moyenne des pertes (MSE) des mini-batchs de chaque "
                             "époque, et entraînez le modèle reçu en argument")


def _selfcheck_entrainer(case, answer):
    verifier_pertes(tableau(answer, "pertes", "les pertes renvoyées"), int(case["n_epochs"]),
                    float(tableau(answer, "mse_entrainement", "erreur d'entraînement")))
    mse, borne = float(tableau(answer, "mse_test", "erreur de test")), float(case["mse_max"])
    if not mse <= borne:
        raise AssertionError(
            f"après {int(case['n_epochs'])} époques (d = {int(case['d'])}), erreur de "
            f"reconstruction sur les chiffres de test {mse:.4f} : au plus {borne:.4f} attendu "
            f"({case['ratio_acp']:g} × l'erreur de l'ACP). Mélangez-vous les données à chaque "
            "époque, avec des mini-batchs de taille_batch exemples, Adam au taux lr et la perte "
            "MSE entre la reconstruction et l'entrée ?")


def _selfcheck_debruitage(case, answer):
    mse = float(tableau(answer, "mse_debruitage", "erreur de débruitage"))
    seuil = float(case["seuil"])
    if not mse <= seuil:
        raise AssertionError(
            f"débruitage insuffisant : sur les chiffres de test bruités, l'erreur entre la sortie "
            f"et l'image PROPRE vaut {mse:.4f} (seuil {seuil:g}). Quand bruit > 0, l'entrée doit "
            "être x + bruit × ε (ε ~ N(0, I), tiré à nouveau à chaque mini-batch) et la cible "
            "l'image propre x")


# -- Part 4: the reparameterisation trick --------------------------------------------------------
def _eval_reparam(case, reparametrer):
    import torch

    n = int(case["n"])
    mu = tenseur(np.tile(case["mu"], (n, 1)), grad=True)
    logvar = tenseur(np.tile(case["logvar"], (n, 1)), grad=True)
    with graine(case["graine"]):
        z = reparametrer(mu, logvar)
        z2 = reparametrer(mu, logvar)
    if not isinstance(z, torch.Tensor) or z.grad_fn is None:
        return {"z": vers_numpy(z), "differentiable": 0.0}
    (z * tenseur(case["w"])).sum().backward()
    return {"z": vers_numpy(z), "z2": vers_numpy(z2), "differentiable": 1.0,
            "grad_mu": vers_numpy(mu.grad) if mu.grad is not None else np.zeros(0),
            "grad_logvar": vers_numpy(logvar.grad) if logvar.grad is not None else np.zeros(0)}


def _proprietes_reparametrisation(case, answer) -> None:
    """z = mu + σ ε: moments of the n draws, gradients, a new ε per example and per call (the
    judge's verdict too; private: the course suite feeds public callables garbage)."""
    mu, logvar, n, w = case["mu"], case["logvar"], int(case["n"]), case["w"]
    d = len(mu)
    z = tableau(answer, "z", "reparametrer(mu, logvar)", (n, d))
    sigma = np.exp(0.5 * logvar)
    if not np.array_equal(tableau(answer, "differentiable", "differentiable"), 1.0):
        raise AssertionError("z doit être un tenseur PyTorch calculé à partir de mu et logvar "
                             "(z = mu + σ ε), pour que le gradient les traverse : pas de NumPy, "
                             "pas de .detach()")
    if np.all(np.abs(z - mu) <= 1e-5 * (1 + np.abs(mu))):
        raise AssertionError("pas de bruit : z = mu + σ ε avec ε ~ N(0, I)")
    ecart = z.std(axis=0)
    if np.all(ecart < 1e-6 * (1 + sigma)):
        raise AssertionError("z ne varie pas d'un exemple à l'autre : ε doit être tiré pour "
                             "chaque exemple (torch.randn_like(mu)), pas une seule fois")
    g_mu = tableau(answer, "grad_mu", "gradient par rapport à mu")
    g_lv = tableau(answer, "grad_logvar", "gradient par rapport à logvar")
    if g_mu.shape != (n, d) or not np.allclose(g_mu, w, rtol=1e-4, atol=1e-6):
        raise AssertionError("∂z/∂mu doit valoir 1 : z = mu + σ ε (le gradient ne traverse pas "
                             "mu ?)")
    moy = z.mean(axis=0)
    if np.any(np.abs(moy - mu) > 6 * ecart / np.sqrt(n) + 1e-6):
        raise AssertionError(f"la moyenne de z ({np.round(moy, 4)}) n'est pas mu "
                             f"({np.round(mu, 4)}) : ε ~ N(0, I) est centré (torch.randn_like, "
                             "pas torch.rand_like)")
    if np.any(np.abs(ecart / sigma - 1) > 0.08):
        for nom, s in (("exp(logvar)", np.exp(logvar)), ("logvar", np.abs(logvar)),
                       ("exp(logvar)^2", np.exp(2 * logvar))):
            if np.all(np.abs(ecart / np.maximum(s, 1e-12) - 1) <= 0.08):
                raise AssertionError(f"l'écart-type de z vaut {nom} au lieu de σ = exp(logvar / 2)"
                                     " : logvar est le LOGARITHME DE LA VARIANCE σ²")
        raise AssertionError(f"l'écart-type de z ({np.round(ecart, 4)}) n'est pas σ = "
                             f"exp(logvar / 2) ({np.round(sigma, 4)})")
    if g_lv.shape != (n, d) or not np.allclose(g_lv, 0.5 * (z - mu) * w, rtol=1e-3, atol=1e-5):
        raise AssertionError("∂z/∂logvar doit valoir σ ε / 2 : calculez σ = torch.exp(0.5 * "
                             "logvar) à partir de logvar, dans le graphe de calcul")
    z2 = tableau(answer, "z2", "second tirage")
    if z2.shape == z.shape and np.allclose(z, z2):
        raise AssertionError("deux appels donnent le même z : tirez un nouveau ε à chaque appel")


# -- Parts 4 and 5: the trained VAE and generator ----------------------------------------------
def _eval_generatif(sortie):
    """Evaluate a trained generative network: its weights, its layers, and `sortie` (the method
    that maps a noise z to images) on the case's z."""

    def evaluate(case, modele):
        if not est_module(modele):
            if callable(modele):  # a function in its place (a stub?): let it raise
                modele()
            return {"type": type(modele).__name__}
        out = {**poids(modele), "couches": couches(modele)}
        device = device_du_modele(modele)
        etait = modele.training
        modele.eval()
        try:
            import torch

            with torch.no_grad():
                out["sortie"] = vers_numpy(getattr(modele, sortie)(tenseur(case["z"], device)))
        except Exception as exc:  # a wrong input size: the weights say why
            if len(out) == 1:
                raise
            out["erreur_sortie"] = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            modele.train(etait)
        return out

    return evaluate


def _verifier_images(case, answer, quoi: str, cible: str) -> None:
    if "type" in answer:
        raise AssertionError(f"{cible} doit être votre réseau entraîné (un nn.Module), pas "
                             f"{answer['type']}")
    if "erreur_sortie" in answer:
        raise AssertionError(f"{quoi} lève une erreur : {answer['erreur_sortie']}")
    X = tableau(answer, "sortie", quoi, (len(case["z"]), 64))
    if X.min() < 0 or X.max() > 1:
        raise AssertionError(f"{quoi} : pixels hors de [0, 1] — il manque la sigmoïde finale ?")
    m = evaluer_echantillons(X)
    if m["couverture"] < COUVERTURE_MIN or m["confiance"] < CONFIANCE_MIN:
        classes = ", ".join(f"{k} : {100 * f:.0f} %" for k, f in enumerate(m["repartition"])
                            if f > 0)
        raise AssertionError(
            f"{quoi} : échantillons de qualité insuffisante pour le classifieur du notebook "
            f"(couverture {m['couverture']} classes, au moins {COUVERTURE_MIN} ; confiance "
            f"{m['confiance']:.3f}, au moins {CONFIANCE_MIN:g} ; classes : {classes}) — "
            "entraînez plus longtemps ou vérifiez l'entraînement")


def _selfcheck_vae(case, answer):
    if "type" not in answer:
        probleme = ecart_architecture(_forme_poids(answer), forme_vae(LATENT_VAE), "vae",
                                      conseils_latent(LATENT_VAE))
        if probleme:
            raise AssertionError(probleme)
    _verifier_images(case, answer, "vae.decodeur(z)", "vae")


def _selfcheck_generateur(case, answer):
    if "type" not in answer:
        probleme = ecart_architecture(_forme_poids(answer), forme_generateur(), "generateur")
        if probleme:
            raise AssertionError(probleme)
        if tuple(str(answer.get("couches", "")).splitlines()) != COUCHES_GENERATEUR:
            raise AssertionError("generateur : les couches ne suivent pas l'architecture "
                                 "imposée : " + " → ".join(c.split(": ", 1)[1]
                                                           for c in COUCHES_GENERATEUR))
    _verifier_images(case, answer, "generateur(z)", "generateur")


def _add(name, targets, evaluate, selfcheck):
    EXERCISES.add(Exercise(name, targets, quiet(evaluate), selfcheck=selfcheck))


_add("entrainer_autoencodeur", ("entrainer_autoencodeur", "Autoencodeur", "device"),
     _eval_entrainer, _selfcheck_entrainer)
_add("debruitage", ("entrainer_autoencodeur", "Autoencodeur", "device"), _eval_entrainer,
     _selfcheck_debruitage)
_add("reparametrer", ("reparametrer",), _eval_reparam, _proprietes_reparametrisation)
_add("vae_entraine", ("vae",), _eval_generatif("decodeur"), _selfcheck_vae)
_add("generateur_gan", ("generateur",), _eval_generatif("forward"), _selfcheck_generateur)
