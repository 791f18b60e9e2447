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
from tp4.data import DIM_Z, SEUILS, forme_discriminateur, forme_generateur

from .networks import generate, rebuilt, sigmoid
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


# -- the networks and the training loop ----------------------------------------------------------
N_PARAMETRES = {"G": 16 * 128 + 128 + 128 * 128 + 128 + 128 * 64 + 64,  # 26 944
                "D": 64 * 128 + 128 + 128 * 128 + 128 + 128 + 1}  # 24 961
ADAM_EPS = 1e-8


def _init(rng, forme, zero=()):
    """Weights drawn like PyTorch's default initialisation (uniform ±1/√fan_in); `zero`: the
    parameters set to 0."""
    W = {}
    for k, shape in forme.items():
        fan_in = shape[1] if len(shape) == 2 else forme[k.replace("bias", "weight")][1]
        W[k] = (np.zeros(shape) if k in zero
                else rng.uniform(-1, 1, size=shape) / np.sqrt(fan_in))
    return W


def _cases_loop(rng, hidden):
    from .scale import digits, subset

    X_train = digits()[0]
    specs = [(0.9, 1e-3, 32), (1.0, 5e-3, 16)] if hidden else [(0.9, 2e-3, 32)]
    cases = []
    for lissage, lr, batch in specs:
        image = X_train[int(rng.integers(len(X_train)))]
        G0 = _init(rng, forme_generateur(), zero=("reseau.0.weight",))
        D0 = _init(rng, forme_discriminateur())
        cases.append({"X": np.repeat(image[None], 50, axis=0), "X2": subset(rng, 200),
                      "lissage": lissage, "lr": lr, "taille_batch": batch, "n_iter": 2,
                      "dropout": 0.3, "graine": int(rng.integers(2 ** 31)),
                      **{f"g:{k}": v for k, v in G0.items()},
                      **{f"d:{k}": v for k, v in D0.items()}})
    return cases


def _torch_params(W):
    import torch

    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in W.items()}


def _g_forward(P, z):
    import torch.nn.functional as F

    h = F.leaky_relu(z @ P["reseau.0.weight"].T + P["reseau.0.bias"], 0.2)
    h = F.leaky_relu(h @ P["reseau.2.weight"].T + P["reseau.2.bias"], 0.2)
    return (h @ P["reseau.4.weight"].T + P["reseau.4.bias"]).sigmoid()


def _d_forward(P, x):
    import torch.nn.functional as F

    h = F.leaky_relu(x @ P["reseau.0.weight"].T + P["reseau.0.bias"], 0.2)
    h = F.leaky_relu(h @ P["reseau.3.weight"].T + P["reseau.3.bias"], 0.2)
    return h @ P["reseau.6.weight"].T + P["reseau.6.bias"]


def _adam_first_step(W, grads, lr):
    """Adam's first step in closed form: m̂ = g, v̂ = g², so θ ← θ − lr g / (|g| + ε), whatever
    the betas."""
    return {k: W[k] - lr * g / (np.abs(g) + ADAM_EPS) for k, g in grads.items()}


def replay_first_iteration(case, variant=""):
    """The first iteration of the specified loop in float64 (torch.autograd for the gradients,
    Adam's first step in closed form), from the case's weights on a batch of one repeated digit.
    The generator's first layer is zero, so every z gives the same fake image f = G(0).
    Returns (loss_D, loss_G, D after, G after (but its first layer), gradients of D, of G).
    `variant` replays a known mistake: "stale" (G's loss with D before its step), "no_detach"
    (G's step also gets the gradient of D's loss), "no_smoothing"."""
    import torch
    import torch.nn.functional as F

    c = 1.0 if variant == "no_smoothing" else float(case["lissage"])
    lr = float(case["lr"])
    WG = {k[2:]: np.asarray(v, float) for k, v in case.items() if k.startswith("g:")}
    WD = {k[2:]: np.asarray(v, float) for k, v in case.items() if k.startswith("d:")}
    x = torch.tensor(np.asarray(case["X"][:1], float))
    PG, PD = _torch_params(WG), _torch_params(WD)
    fake = _g_forward(PG, torch.zeros(1, DIM_Z, dtype=torch.float64))
    l_real, l_fake = _d_forward(PD, x), _d_forward(PD, fake)
    loss_d = (F.binary_cross_entropy_with_logits(l_real, torch.full_like(l_real, c))
              + F.binary_cross_entropy_with_logits(l_fake, torch.zeros_like(l_fake)))
    gD = dict(zip(PD, (g.numpy() for g in torch.autograd.grad(loss_d, list(PD.values()),
                                                               retain_graph=True))))
    WD1 = _adam_first_step(WD, gD, lr)
    PD1 = PD if variant == "stale" else _torch_params(WD1)
    loss_g = F.binary_cross_entropy_with_logits(_d_forward(PD1, fake), torch.ones(1, 1,
                                                dtype=torch.float64))
    keys = [k for k in PG if k != "reseau.0.weight"]
    gG = dict(zip(keys, (g.numpy() for g in torch.autograd.grad(loss_g, [PG[k] for k in keys],
                                                                 retain_graph=True))))
    if variant == "no_detach":
        extra = torch.autograd.grad(loss_d, [PG[k] for k in keys])
        gG = {k: gG[k] + e.numpy() for k, e in zip(keys, extra)}
    return (float(loss_d.detach()), float(loss_g.detach()), WD1, _adam_first_step(WG, gG, lr),
            gD, gG)


def _steps_match(got, expected, before, grads, lr):
    """Whether every parameter moved as Adam's first step says, but where the gradient is so
    small that float32 cannot tell its sign: there any move of at most lr is accepted."""
    for k, exp in expected.items():
        g = got.get(k)
        if g is None or np.shape(g) != np.shape(exp):
            return False
        big = np.abs(grads[k]) > 1e-4 * max(np.abs(grads[k]).max(), 1e-12) + 1e-7
        if not np.allclose(g[big], exp[big], rtol=1e-5, atol=2e-3 * lr):
            return False
        if np.any(np.abs(g - before[k]) > 1.001 * lr + 1e-7):
            return False
    return True


def _verdict_loop(case, answer):
    lr = float(case["lr"])
    for nom, quoi in (("G", "Generateur()"), ("D", f"Discriminateur({float(case['dropout']):g})")):
        n = as_number(answer, f"n_parametres_{nom}", f"nombre de paramètres de {quoi}")
        if n != N_PARAMETRES[nom]:
            raise AssertionError(f"{quoi} a {n:.0f} paramètres au lieu de {N_PARAMETRES[nom]} : "
                                 "suivez l'architecture imposée")
    layers = str(answer.get("couches_D", ""))
    p = float(case["dropout"])
    if layers.count(f"Dropout(p={p}") != 2:
        raise AssertionError(f"Discriminateur(dropout={p:g}) doit avoir deux couches "
                             f"nn.Dropout({p:g}), après chaque LeakyReLU cachée (le taux de "
                             "dropout est l'argument du constructeur)")
    n_iter = int(case["n_iter"])
    for cle in ("perte_D", "perte_G"):
        n = as_number(answer, f"n_pertes_{cle[-1]}", "historique")
        if n != n_iter:
            raise AssertionError(f"entrainer_gan(…, n_iter={n_iter}) doit enregistrer {cle} à "
                                 f"chaque itération : {n:.0f} valeurs au lieu de {n_iter}")
    if as_number(answer, "pertes_finies", "pertes") != 1.0:
        raise AssertionError(f"après {n_iter} itérations, les pertes contiennent des NaN ou "
                             "des valeurs infinies")
    for nom, quoi in (("D", "discriminateur"), ("G", "générateur")):
        bouge = as_array(answer, f"bouge_{nom}", what=f"paramètres du {quoi}")
        if not np.all(bouge == 1.0):
            raise AssertionError(f"après {n_iter} itérations, des paramètres du {quoi} n'ont pas "
                                 f"bougé : son optimiseur (Adam) doit être construit sur "
                                 f"{nom}.parameters(), et opt_{nom}.step() appelé à chaque "
                                 "itération")

    loss_d, loss_g, WD1, WG1, gD, gG = replay_first_iteration(case)
    got_d = as_array(answer, "perte_D", what="historique['perte_D']")
    got_g = as_array(answer, "perte_G", what="historique['perte_G']")
    WD0 = {k[2:]: np.asarray(v, float) for k, v in case.items() if k.startswith("d:")}
    WG0 = {k[2:]: np.asarray(v, float) for k, v in case.items() if k.startswith("g:")}
    got_WD = {k: as_array(answer, f"d:{k}", v.shape, f"discriminateur : {k}")
              for k, v in WD0.items()}
    got_WG = {k: as_array(answer, f"g:{k}", v.shape, f"générateur : {k}")
              for k, v in WG0.items() if k != "reseau.0.weight"}
    where = (f"(première itération depuis les poids du correcteur, lissage = "
             f"{float(case['lissage']):g}, lr = {lr:g})")
    if got_d.shape != (1,) or got_g.shape != (1,):
        raise AssertionError(f"entrainer_gan(…, n_iter=1) doit renvoyer une perte_D et une "
                             f"perte_G, pas {got_d.size} et {got_g.size} {where}")

    def near(a, b):
        return abs(float(a[0]) - b) <= 1e-4 * max(1.0, abs(b))

    if not near(got_d, loss_d):
        if near(got_d, replay_first_iteration(case, "no_smoothing")[0]):
            raise AssertionError(f"perte du discriminateur sans lissage : passez `lissage` à "
                                 f"perte_discriminateur {where}")
        raise AssertionError(f"perte_D enregistrée {float(got_d[0]):.6g} au lieu de "
                             f"{loss_d:.6g} : le pas de D minimise perte_discriminateur(D(x), "
                             f"D(G(z).detach()), lissage) sur les vraies et les fausses images "
                             f"{where}")
    if not _steps_match(got_WD, WD1, WD0, gD, lr):
        moved = np.concatenate([np.abs(got_WD[k] - WD0[k]).ravel() for k in WD1])
        if moved.size and np.median(moved) > 0 and abs(np.median(moved) / lr - 1) > 0.05:
            raise AssertionError(f"le premier pas d'Adam déplace chaque poids d'environ lr ; "
                                 f"ici de {np.median(moved):.3g} : le taux lr est-il passé "
                                 f"aux deux optimiseurs ? {where}")
        raise AssertionError(f"le discriminateur après son premier pas ne correspond pas à un "
                             f"pas d'Adam sur perte_D (opt_D.zero_grad(), perte_D.backward(), "
                             f"opt_D.step(), avec opt_D sur D.parameters() seulement) {where}")
    stale = replay_first_iteration(case, "stale")
    if not near(got_g, loss_g):
        if near(got_g, stale[1]):
            raise AssertionError(f"perte du générateur calculée avec le discriminateur d'avant "
                                 f"son pas : après opt_D.step(), réévaluez D(faux) (sans "
                                 f"detach) pour le pas du générateur {where}")
        raise AssertionError(f"perte_G enregistrée {float(got_g[0]):.6g} au lieu de "
                             f"{loss_g:.6g} : le générateur minimise la perte non saturante "
                             f"perte_generateur(D(G(z))) {where}")
    if not _steps_match(got_WG, WG1, WG0, gG, lr):
        if _steps_match(got_WG, stale[3], WG0, stale[5], lr):
            raise AssertionError(f"le pas du générateur utilise le gradient à travers le "
                                 f"discriminateur d'avant son pas : réévaluez D(faux) après "
                                 f"opt_D.step() {where}")
        wrong = replay_first_iteration(case, "no_detach")
        if _steps_match(got_WG, wrong[3], WG0, wrong[5], lr):
            raise AssertionError(f"le générateur a aussi reçu le gradient de la perte du "
                                 f"discriminateur : détachez les fausses images "
                                 f"(faux.detach()) pour le pas de D, et opt_G.zero_grad() "
                                 f"juste avant perte_G.backward() {where}")
        raise AssertionError(f"le générateur après son premier pas ne correspond pas à un pas "
                             f"d'Adam sur perte_G (opt_G sur G.parameters()) {where}")


# -- the trained generator -----------------------------------------------------------------------
def _cases_generator(rng, hidden):
    return [{"z": rng.normal(size=(450, DIM_Z)), "_z": rng.normal(size=(450, DIM_Z))}]


def _verdict_generator(case, answer):
    W = rebuilt(answer, "generateur", "Generateur", "generateur(z)", forme_generateur(),
                {"reseau.0.weight": f"bruit z de dimension DIM_Z = {DIM_Z}"}, generate,
                case["z"], "l'architecture imposée : Linear(16, 128) → LeakyReLU(0.2) → "
                           "Linear(128, 128) → LeakyReLU(0.2) → Linear(128, 64) → Sigmoid")
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
    Check("boucle_gan", _cases_loop, _verdict_loop,
          doc="Générateur et discriminateur (nombres de paramètres, couches de dropout) et "
              "boucle d'entraînement : deux itérations depuis des réseaux neufs (pertes finies, "
              "une par itération, tous les paramètres des deux réseaux modifiés), et la "
              "première itération rejouée en float64 depuis les poids du correcteur (pertes, "
              "pas d'Adam de D puis de G, detach, réévaluation de D après son pas)."),
    Check("generateur_gan", _cases_generator, _verdict_generator,
          doc="Générateur entraîné du notebook : poids reconstruits par le correcteur, 450 images "
              "générées depuis son propre bruit, jugées par le classifieur du correcteur "
              "(couverture des 10 classes, confiance, distance de Fréchet)."),
]
