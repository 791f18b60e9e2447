"""TP4, parts 3 and 5: judging generated images (the Fréchet distance) and the GAN (its losses,
the trained generator).

Oracles: the Fréchet distance by eigenvalues (`judges.common.digits_quality`); the GAN losses
written with log σ and their analytic gradients; the generator rebuilt with NumPy from its
weights, its samples drawn from the judge's noise and judged by the judge's classifier.
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, as_array, as_number, close
from judges.common.digits_quality import frechet_gaussians, judge_samples
from tp4.data import DIM_Z, SEUILS, forme_generateur

from .networks import generate, sigmoid, weights
from .scale import scale


# -- the Fréchet distance ------------------------------------------------------------------------
def _cases_frechet(rng, hidden):
    cases = []
    for d in ([1, 7, 30] if hidden else [4]):
        A = rng.normal(size=(d, d + 3))
        B = rng.normal(size=(d, d + 2)) * rng.uniform(0.5, 2)
        cases.append({"mu1": rng.normal(size=d), "S1": A @ A.T / (d + 3),
                      "mu2": rng.normal(size=d), "S2": B @ B.T / (d + 2)})
    if hidden:  # a singular covariance (dead ReLU units give some)
        A = rng.normal(size=(6, 3))
        cases.append({"mu1": np.zeros(6), "S1": A @ A.T, "mu2": rng.normal(size=6),
                      "S2": np.eye(6)})
    return cases


def _verdict_frechet(case, answer):
    mu1, S1, mu2, S2 = case["mu1"], case["S1"], case["mu2"], case["S2"]
    got = as_number(answer, "d", "distance_frechet")
    exp = frechet_gaussians(mu1, S1, mu2, S2)
    tol = 1e-5 * max(1.0, abs(exp))
    if abs(got - exp) <= tol:
        return
    means = float(np.sum((mu1 - mu2) ** 2))
    cross = (exp - means - np.trace(S1) - np.trace(S2)) / -2.0  # Tr (S1 S2)^½
    if abs(got - (exp - means)) <= tol:
        raise AssertionError("terme des moyennes oublié : ‖mu1 − mu2‖²")
    if abs(got - (exp + cross)) <= tol:
        raise AssertionError("facteur 2 oublié devant Tr (S1 S2)^½")
    if abs(got - np.sqrt(max(exp, 0))) <= tol:
        raise AssertionError("pas de racine carrée sur la distance : d² = ‖mu1 − mu2‖² + "
                             "Tr(S1 + S2 − 2 (S1 S2)^½) est la quantité attendue")
    if abs(got - (means + np.trace(S1) + np.trace(S2)
                  - 2 * np.sum(np.sqrt(np.clip(S1 * S2, 0, None))))) <= tol:
        raise AssertionError("(S1 S2)^½ est la racine carrée MATRICIELLE du produit matriciel "
                             "(scipy.linalg.sqrtm), pas une racine élément par élément")
    raise AssertionError(f"distance de Fréchet incorrecte (dimension {len(mu1)}) : attendu "
                         f"{exp:.6g}, obtenu {got:.6g}")


# -- the GAN's losses ----------------------------------------------------------------------------
def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def _cases_losses(rng, hidden):
    specs = [(1, 3, 0.8), (12, 5, 1.0), (6, 6, 0.9)] if hidden else [(8, 6, 1.0), (5, 7, 0.9)]
    return [{"reels": rng.normal(size=n_r) * 3, "faux": rng.normal(size=n_f) * 3, "lissage": c}
            for n_r, n_f, c in specs]


def _diagnose_loss(key, what, got, true, lr_, lf, c):
    def near(v):
        return abs(got - v) <= 1e-4 * max(1.0, abs(v))

    ls = _log_sigmoid
    if key == "D":
        real, fake = -np.mean(c * ls(lr_) + (1 - c) * ls(-lr_)), -np.mean(ls(-lf))
        for value, words in (
                (-true, "signe opposé — le discriminateur MAXIMISE E[log D(x)] + "
                        "E[log(1 − D(G(z)))], il MINIMISE donc son opposé"),
                ((real + fake) / 2, "renvoyez la SOMME des deux entropies croisées (réels + "
                                    "faux), pas leur moyenne"),
                (-np.mean(ls(-lr_)) - np.mean(ls(lf)),
                 "étiquettes inversées — les vraies images ont l'étiquette 1 (ou lissage), "
                 "les fausses 0"),
                (-np.mean(ls(lr_)) + fake if c != 1 else None,
                 f"le lissage des étiquettes est ignoré — cible {c:g} pour les vraies images"),
                (real - np.mean((1 - c) * ls(lf) + c * ls(-lf)) if c != 1 else None,
                 "le lissage est unilatéral — il ne porte que sur les vraies images (cible "
                 "lissage), les fausses gardent la cible 0")):
            if value is not None and near(value):
                raise AssertionError(f"{what} : {words}")
    else:
        nonsat, sat = -np.mean(ls(lf)), np.mean(ls(-lf))
        if key == "G" and near(sat):
            raise AssertionError(f"{what} : c'est la version saturante ; par défaut "
                                 "(saturante=False), le générateur minimise −E[log D(G(z))]")
        if key == "Gs" and near(nonsat):
            raise AssertionError(f"{what} : avec saturante=True, le générateur minimise "
                                 "E[log(1 − D(G(z)))], le terme du min-max")
        if near(-true):
            raise AssertionError(f"{what} : signe opposé")
        if near(-np.mean(ls(-lf))) or near(np.mean(ls(lf))):
            raise AssertionError(f"{what} : étiquette incorrecte — le générateur veut que D "
                                 "classe ses images comme vraies")
    raise AssertionError(f"{what} : attendu {true:.6g}, obtenu {got:.6g}")


def _verdict_losses(case, answer):
    lr_, lf, c = case["reels"], case["faux"], float(case["lissage"])
    sr, sf = sigmoid(lr_), sigmoid(lf)
    # −E[c log D(x) + (1 − c) log(1 − D(x))] − E[log(1 − D(G(z)))], with log D = log σ(l) and
    # log(1 − D) = log σ(−l); gradients analytic.
    true_d = -np.mean(c * _log_sigmoid(lr_) + (1 - c) * _log_sigmoid(-lr_)) - np.mean(
        _log_sigmoid(-lf))
    expected = {"D": (true_d, [(sr - c) / len(lr_), sf / len(lf)]),
                "G": (-np.mean(_log_sigmoid(lf)), [(sf - 1) / len(lf)]),
                "Gs": (np.mean(_log_sigmoid(-lf)), [-sf / len(lf)])}
    names = {"D": "perte_discriminateur", "G": "perte_generateur(logits_faux)",
             "Gs": "perte_generateur(logits_faux, saturante=True)"}
    for key, (true, grads) in expected.items():
        what = names[key]
        got = as_array(answer, key, what=what)
        if got.size != 1:
            raise AssertionError(f"{what} : un scalaire (moyenne sur le lot) est attendu, pas un "
                                 f"tableau de forme {got.shape}")
        got = float(got.reshape(()))
        if abs(got - true) > 1e-4 * max(1.0, abs(true)):
            _diagnose_loss(key, what, got, true, lr_, lf, c)
        for i, g in enumerate(grads):
            if f"{key}_grad{i}" not in answer:
                raise AssertionError(f"{what} doit renvoyer un tenseur PyTorch différentiable "
                                     "(pas de .item(), de NumPy ni de .detach())")
            received = as_array(answer, f"{key}_grad{i}", what=f"gradient de {what}")
            if received.shape != g.shape or not close(received, g, 1e-3, 1e-6):
                raise AssertionError(f"{what} : bonne valeur mais gradient faux par rapport aux "
                                     "logits (détachez-vous une partie du calcul ?)")


# -- the trained generator -----------------------------------------------------------------------
def _cases_generator(rng, hidden):
    return [{"z": rng.normal(size=(450, DIM_Z)), "_z": rng.normal(size=(450, DIM_Z))}]


def _verdict_generator(case, answer):
    if "type" in answer:
        raise AssertionError(f"generateur doit être votre Generateur entraîné (un nn.Module), "
                             f"pas {answer['type']}")
    W = weights(answer, forme_generateur(), "generateur",
                {"reseau.0.weight": f"bruit z de dimension DIM_Z = {DIM_Z}"})
    z = case["z"]
    if "erreur_sortie" in answer:
        raise AssertionError(f"generateur(z) lève une erreur : {answer['erreur_sortie']}")
    out = as_array(answer, "sortie", what="generateur(z)")
    if out.shape != (len(z), 64) or not close(out, generate(W, z), 1e-4, 1e-5):
        raise AssertionError("generateur(z) ne correspond pas à l'architecture imposée : "
                             "Linear(16, 128) → LeakyReLU(0.2) → Linear(128, 128) → "
                             "LeakyReLU(0.2) → Linear(128, 64) → Sigmoid")
    s = SEUILS[scale()]
    judge_samples(generate(W, case["_z"]), "GAN", s["couverture_gan"], s["frechet_gan"],
                  s["confiance_gan"], "entraînez plus longtemps ou vérifiez l'entraînement")


CHECKS = [
    Check("distance_frechet", _cases_frechet, _verdict_frechet,
          doc="Distance de Fréchet entre gaussiennes, comparée à un calcul par valeurs propres "
              "(Σ √λ(S1^½ S2 S1^½)) ; covariance singulière dans les cas cachés."),
    Check("pertes_gan", _cases_losses, _verdict_losses,
          doc="Pertes du min-max sur des logits fixés : valeur (formule avec log σ) et "
              "gradients analytiques ; lissage unilatéral, versions saturante et non saturante "
              "du générateur."),
    Check("generateur_gan", _cases_generator, _verdict_generator,
          doc="Générateur entraîné du notebook : poids reconstruits par le correcteur, 450 images "
              "générées depuis son propre bruit, jugées par le classifieur du correcteur "
              "(couverture des 10 classes, confiance, distance de Fréchet)."),
]
