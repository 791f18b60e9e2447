"""TP4, parts 1 and 2: the auto-encoder, its training loop (plain and denoising), PCA, the
anomaly score and the ROC AUC.

Oracles: the network rebuilt with NumPy from the judge's or the student's weights; scikit-learn's
PCA and ROC AUC; the training loop replayed step by step (Adam written here, gradients by
torch.autograd in float64) on a case where the batch holds all the data, so that the order of
the examples does not matter.
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, as_array, as_number, close, fmt
from tp4.data import (BRUIT_DAE, LATENT_DAE, SEUILS, conseils_latent, forme_autoencodeur,
                      forme_autoencodeur_conv)
from tp4.trained import verifier_pertes

from .networks import (ae_decode, ae_encode, ae_forward, as_case_weights, avgpool2,
                       conv_decode, conv_encode, from_case, init_autoencoder,
                       init_conv_autoencoder, linear, relu, weights)
from .scale import digits, scale, subset


def _mse_pca(X_train, X_val, d):
    """Held-out MSE of the PCA reconstruction with d components (scikit-learn)."""
    from sklearn.decomposition import PCA

    pca = PCA(n_components=d, svd_solver="full").fit(X_train)
    return float(np.mean((pca.inverse_transform(pca.transform(X_val)) - X_val) ** 2))


# -- the architecture ----------------------------------------------------------------------------
def _cases_autoencodeur(rng, hidden):
    sizes = [2, 13] if hidden else [4]
    return [{"d": d, "X": rng.uniform(0, 1, size=(int(rng.integers(5, 12)), 64)),
             **as_case_weights(init_autoencoder(rng, d))} for d in sizes]


def _verdict_autoencodeur(case, answer):
    d, X, W = int(case["d"]), case["X"], from_case(case)
    n = len(X)
    z = as_array(answer, "z", (n, d), what="modele.encodeur(x)")
    if not close(z, ae_encode(W, X), 1e-4, 1e-5):
        if close(z, relu(ae_encode(W, X)), 1e-4, 1e-5):
            raise AssertionError("le code latent z ne doit pas passer par une activation : "
                                 "encodeur = Linear(64, 128) → ReLU → Linear(128, d), sans ReLU "
                                 "finale")
        raise AssertionError("modele.encodeur(x) ne correspond pas à Linear(64, 128) → ReLU → "
                             "Linear(128, d) : vérifiez les activations de l'encodeur")
    rec = as_array(answer, "rec", what="modele(x)")
    if rec.shape == (n, d):
        raise AssertionError("modele(x) doit renvoyer la reconstruction (n, 64), pas le code z")
    rec = as_array(answer, "rec", (n, 64), what="modele(x)")
    if close(rec, ae_forward(W, X), 1e-4, 1e-5):
        return
    raw = linear(W, "decodeur.2", relu(linear(W, "decodeur.0", ae_encode(W, X))))
    if close(rec, raw, 1e-4, 1e-5) or np.any(rec < 0) or np.any(rec > 1):
        raise AssertionError("la sortie du décodeur doit passer par une sigmoïde (pixels dans "
                             "[0, 1]) : decodeur = Linear(d, 128) → ReLU → Linear(128, 64) → "
                             "Sigmoid")
    raise AssertionError("modele(x) ne vaut pas decodeur(encodeur(x)) avec decodeur = "
                         "Linear(d, 128) → ReLU → Linear(128, 64) → Sigmoid")


# -- the convolutional auto-encoder ----------------------------------------------------------------
def _cases_autoencodeur_conv(rng, hidden):
    sizes = [3, 10] if hidden else [8]
    return [{"d": d, "X": rng.uniform(0, 1, size=(int(rng.integers(3, 9)), 64)),
             **as_case_weights(init_conv_autoencoder(rng, d, forme_autoencodeur_conv(d)))}
            for d in sizes]


def _verdict_autoencodeur_conv(case, answer):
    d, X, W = int(case["d"]), case["X"], from_case(case)
    n = len(X)
    if "erreur" in answer:
        raise AssertionError(f"AutoencodeurConv({d}) lève une erreur sur un lot (n, 64) : "
                             f"{answer['erreur']} — nn.Unflatten(1, (1, 8, 8)) d'abord, padding=1 "
                             "pour que chaque convolution 3 × 3 garde la taille (8 × 8 → 4 × 4 → "
                             "2 × 2 après les MaxPool2d(2)), et 16 × 2 × 2 = 64 entrées pour le "
                             "Linear")
    z = as_array(answer, "z", (n, d), what="modele.encodeur(x)")
    if not close(z, conv_encode(W, X), 1e-4, 1e-5):
        if close(z, conv_encode(W, X, pool=avgpool2), 1e-4, 1e-5):
            raise AssertionError("le sous-échantillonnage de l'encodeur est nn.MaxPool2d(2) (le "
                                 "maximum de chaque bloc 2 × 2), pas une moyenne")
        if close(z, conv_encode(W, X, first_relu=False), 1e-4, 1e-5):
            raise AssertionError("il manque la ReLU après la première convolution de l'encodeur")
        raise AssertionError("modele.encodeur(x) ne correspond pas à Unflatten → Conv2d(1, 8, 3, "
                             "padding=1) → ReLU → MaxPool2d(2) → Conv2d(8, 16, 3, padding=1) → "
                             "ReLU → MaxPool2d(2) → Flatten → Linear(64, d)")
    raw = answer.get("rec")
    if not isinstance(raw, str) and np.shape(raw) == (n, 1, 8, 8):
        raise AssertionError("modele(x) doit renvoyer des images aplaties (n, 64), comme "
                             "l'auto-encodeur dense : nn.Flatten() à la fin du décodeur")
    rec = as_array(answer, "rec", (n, 64), what="modele(x)")
    expected = conv_decode(W, conv_encode(W, X))
    if close(rec, expected, 1e-4, 1e-5):
        return
    if close(rec, conv_decode(W, conv_encode(W, X), final=lambda h: h), 1e-4, 1e-5) \
            or np.any(rec < 0) or np.any(rec > 1):
        raise AssertionError("la sortie du décodeur doit passer par une sigmoïde (pixels dans "
                             "[0, 1])")
    raise AssertionError("modele(x) ne vaut pas decodeur(encodeur(x)) avec decodeur = Linear(d, "
                         "64) → ReLU → Unflatten(1, (16, 2, 2)) → Upsample(scale_factor=2) → "
                         "Conv2d(16, 8, 3, padding=1) → ReLU → Upsample(scale_factor=2) → "
                         "Conv2d(8, 1, 3, padding=1) → Sigmoid → Flatten (agrandissement au plus "
                         "proche voisin, le mode par défaut de nn.Upsample)")


# -- the training loop ---------------------------------------------------------------------------
def _training_case(rng, d, n, lr=2e-3, batch=32, noise=0.0, epochs_key="epochs_ae"):
    X = digits()[0] if n is None else subset(rng, n)
    return {"d": d, "X": X, "n_epochs": SEUILS[scale()][epochs_key], "lr": lr,
            "taille_batch": batch, "bruit": noise, "graine": int(rng.integers(2 ** 31))}


def _cases_entrainer(rng, hidden):
    ratio = SEUILS[scale()]["ratio_acp"]
    if not hidden:  # the notebook's check() bounds the test error with the judge's PCA
        case = _training_case(rng, 8, None)
        return [{**case, "ratio_acp": ratio,
                 "mse_max": ratio * _mse_pca(case["X"], digits()[1], 8)}]
    quality = {**_training_case(rng, int(rng.choice([6, 12])), 1000), "ratio_acp": ratio}
    # The process: 3 epochs in one batch (taille_batch > n) from the judge's weights.
    replay = {"d": 3, "X": subset(rng, 24), "n_epochs": 3, "lr": 0.01, "taille_batch": 64,
              "bruit": 0.0, "graine": int(rng.integers(2 ** 31)), "ratio_acp": ratio,
              **as_case_weights(init_autoencoder(rng, 3))}
    return [quality, replay]


# The master's float32 loop against this float64 replay: reconstructions within 4e-7, losses
# within 2e-7 relative (hidden seeds 1-5); a forgotten zero_grad moves them by 0.06, SGD or
# Adam's default learning rate by 0.3-0.5.
REPLAY_TOLERANCE = 1e-4


def replay_full_batch(W0, X, n_epochs, lr, optimiser="adam", zero_grad=True):
    """The specified loop on one batch holding all of X: per epoch, the MSE loss at the current
    weights, its gradient (torch.autograd, float64), one step of Adam (written here: betas
    0.9/0.999, eps 1e-8) or plain SGD. Returns (losses, final weights)."""
    import torch

    W = {k: np.array(v, dtype=float) for k, v in W0.items()}
    m = {k: np.zeros_like(v) for k, v in W.items()}
    v2 = {k: np.zeros_like(v) for k, v in W.items()}
    total = {k: np.zeros_like(v) for k, v in W.items()}
    Xt = torch.tensor(np.asarray(X, dtype=float))
    losses = []
    for step in range(1, n_epochs + 1):
        P = {k: torch.tensor(v, requires_grad=True) for k, v in W.items()}
        h = torch.relu(Xt @ P["encodeur.0.weight"].T + P["encodeur.0.bias"])
        z = h @ P["encodeur.2.weight"].T + P["encodeur.2.bias"]
        h = torch.relu(z @ P["decodeur.0.weight"].T + P["decodeur.0.bias"])
        out = torch.sigmoid(h @ P["decodeur.2.weight"].T + P["decodeur.2.bias"])
        loss = torch.mean((out - Xt) ** 2)
        grads = dict(zip(P, (g.numpy() for g in torch.autograd.grad(loss, list(P.values())))))
        losses.append(float(loss.detach()))
        for k, g in grads.items():
            total[k] = g if zero_grad else total[k] + g
            g = total[k]
            if optimiser == "sgd":
                W[k] = W[k] - lr * g
                continue
            m[k] = 0.9 * m[k] + 0.1 * g
            v2[k] = 0.999 * v2[k] + 0.001 * g * g
            m_hat, v_hat = m[k] / (1 - 0.9 ** step), v2[k] / (1 - 0.999 ** step)
            W[k] = W[k] - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    return np.array(losses), W


def _verdict_replay(case, answer, losses):
    d, X, n_epochs, lr = int(case["d"]), case["X"], int(case["n_epochs"]), float(case["lr"])
    W0 = from_case(case)
    W = weights(answer, forme_autoencodeur(d), f"Autoencodeur({d}) entraîné",
                conseils_latent(d))
    expected_losses, W_exp = replay_full_batch(W0, X, n_epochs, lr)
    where = (f"(rejeu du correcteur : {n_epochs} époques sur {len(X)} images, un seul "
             f"mini-batch, depuis ses poids, lr = {lr:g})")
    if not close(losses[:1], expected_losses[:1], 1e-4, 1e-7):
        raise AssertionError(f"première perte {losses[0]:.6g} au lieu de {expected_losses[0]:.6g}"
                             f" {where} : la perte est F.mse_loss(modele(x), x), calculée avant "
                             "le pas de l'optimiseur")
    got = ae_forward(W, X)
    if np.max(np.abs(got - ae_forward(W_exp, X))) > REPLAY_TOLERANCE:
        if np.max(np.abs(got - ae_forward(W0, X))) <= 1e-7:
            raise AssertionError(f"les poids n'ont pas bougé {where} : optimizer.step() à chaque "
                                 "mini-batch, sur les paramètres du modèle reçu ?")
        for variant, words in (
                ({"optimiser": "sgd"}, "l'optimiseur est Adam (torch.optim.Adam), pas une "
                                       "descente de gradient simple"),
                ({"zero_grad": False}, "les gradients s'accumulent d'un pas à l'autre : "
                                       "optimizer.zero_grad() avant loss.backward()"),
                ({"lr": 1e-3}, "le taux d'apprentissage est celui par défaut d'Adam (1e-3) : "
                               "passez lr=lr à torch.optim.Adam")):
            _, W_v = replay_full_batch(W0, X, n_epochs, **{"lr": lr, **variant})
            if np.max(np.abs(got - ae_forward(W_v, X))) <= REPLAY_TOLERANCE:
                raise AssertionError(f"{words} {where}")
        raise AssertionError(f"le modèle entraîné ne correspond pas à Adam(lr) sur F.mse_loss("
                             f"modele(x), x) {where}")
    if not close(losses, expected_losses, 1e-4, 1e-7):
        raise AssertionError(f"pertes renvoyées {fmt(losses)} au lieu de {fmt(expected_losses)} "
                             f"{where} : la perte de chaque mini-batch est calculée AVANT le pas "
                             "de l'optimiseur, puis moyennée sur l'époque")


def _verdict_entrainer(case, answer):
    d, X, n_epochs = int(case["d"]), case["X"], int(case["n_epochs"])
    losses = as_array(answer, "pertes", what="les pertes renvoyées").ravel()
    if len(losses) != n_epochs:
        raise AssertionError(f"entrainer_autoencodeur doit renvoyer une perte moyenne par époque "
                             f"({n_epochs} valeurs), pas {len(losses)}")
    if "p:encodeur.0.weight" in case:
        return _verdict_replay(case, answer, losses)
    W = weights(answer, forme_autoencodeur(d), f"Autoencodeur({d}) entraîné", conseils_latent(d))
    verifier_pertes(losses, n_epochs, float(np.mean((ae_forward(W, X) - X) ** 2)))
    X_val = digits()[1].astype(float)
    mse = float(np.mean((ae_forward(W, X_val) - X_val) ** 2))
    pca = _mse_pca(X, X_val, d)
    ratio = SEUILS[scale()]["ratio_acp"]
    if mse > ratio * pca:
        raise AssertionError(
            f"après {n_epochs} époques (d = {d}), erreur de reconstruction sur les chiffres de "
            f"test {mse:.4f} contre {pca:.4f} pour l'ACP à {d} composantes : l'auto-encodeur "
            f"doit faire au moins {ratio:g} × mieux que l'ACP. Mélangez-vous les données à "
            "chaque époque, avec des mini-batchs de taille_batch exemples, Adam au taux lr et la "
            "perte MSE entre la reconstruction et l'entrée ?")


def _cases_pca(rng, hidden):
    specs = [(3, 500), (20, 300)] if hidden else [(8, None)]
    cases = []
    for d, n in specs:
        X_train = digits()[0] if n is None else subset(rng, n)
        X_val = digits()[1] if n is None else digits()[1][rng.choice(450, size=200,
                                                                     replace=False)]
        cases.append({"X_train": X_train, "X_test": X_val, "d": d})
    return cases


def _verdict_pca(case, answer):
    Xa, Xv, d = case["X_train"].astype(float), case["X_test"].astype(float), int(case["d"])
    got = as_number(answer, "mse", "erreur_reconstruction_acp")
    exp = _mse_pca(Xa, Xv, d)
    if abs(got - exp) <= 1e-4 * exp:
        return

    def near(v):
        return abs(got - v) <= 1e-4 * abs(v)

    if near(exp * 64):
        raise AssertionError("erreur sommée sur les 64 pixels : on attend la moyenne sur les "
                             "images ET les pixels (comme la perte MSE de PyTorch)")
    if near(_mse_pca(Xa, Xv, d + 1)) or near(_mse_pca(Xa, Xv, max(d - 1, 1))):
        raise AssertionError(f"nombre de composantes incorrect : d = {d} composantes principales")
    if near(_mse_pca(Xv, Xv, d)):
        raise AssertionError("l'ACP doit être apprise sur X_train puis appliquée à X_test")
    Vt = np.linalg.svd(Xa, full_matrices=False)[2][:d]
    if near(float(np.mean((Xv @ Vt.T @ Vt - Xv) ** 2))):
        raise AssertionError("données non centrées : l'ACP projette X − moyenne (de X_train), "
                             "puis rajoute la moyenne")
    raise AssertionError(f"erreur de reconstruction de l'ACP (d = {d}) : attendu {exp:.6g}, "
                         f"obtenu {got:.6g}")


# -- denoising, anomaly score, ROC AUC -----------------------------------------------------------
def _cases_denoising(rng, hidden):
    case = _training_case(rng, LATENT_DAE, 1000 if hidden else None, noise=BRUIT_DAE,
                          epochs_key="epochs_dae")
    return [{**case, "seuil": SEUILS[scale()]["mse_debruitage"],
             "_bruit_test": rng.normal(size=(450, 64)) * BRUIT_DAE}]


def _verdict_denoising(case, answer):
    d, noise = int(case["d"]), float(case["bruit"])
    W = weights(answer, forme_autoencodeur(d), f"Autoencodeur({d}) débruiteur",
                conseils_latent(d))
    X_val = digits()[1].astype(float)
    mse = float(np.mean((ae_forward(W, X_val + case["_bruit_test"]) - X_val) ** 2))
    threshold = SEUILS[scale()]["mse_debruitage"]
    if mse > threshold:
        raise AssertionError(
            f"débruitage insuffisant : sur les chiffres de test bruités (bruit gaussien "
            f"d'écart-type {noise:g}, erreur {np.mean(case['_bruit_test'] ** 2):.3f} avant "
            f"débruitage), l'erreur entre la sortie et l'image PROPRE vaut {mse:.4f} (seuil "
            f"{threshold:g}). Quand bruit > 0, l'entrée doit être x + bruit × ε (ε ~ N(0, I), "
            "tiré à nouveau à chaque mini-batch) et la cible l'image propre x")


def _cases_score(rng, hidden):
    specs = [(3, 9), (16, 1)] if hidden else [(8, 6)]
    cases = []
    for d, n in specs:
        W = init_autoencoder(rng, d, scale=2.0)
        X = np.clip(digits()[1][rng.choice(450, size=n, replace=False)]
                    + 0.2 * rng.normal(size=(n, 64)), 0, 1)
        cases.append({"d": d, "X": X, **as_case_weights(W)})
    return cases


def _verdict_score(case, answer):
    d, X, W = int(case["d"]), case["X"], from_case(case)
    n = len(X)
    got = as_array(answer, "score", what="score_anomalie")
    if got.shape in ((), (1,)) and got.shape != (n,):
        raise AssertionError("score_anomalie doit renvoyer un score par image (forme (n,)), pas "
                             "une moyenne sur tout le lot")
    if got.shape == (n, 64):
        raise AssertionError("score_anomalie doit renvoyer un score par image (forme (n,)) : "
                             "moyenne de l'erreur sur les 64 pixels")
    got = as_array(answer, "score", (n,), what="score_anomalie")
    gap = ae_decode(W, ae_encode(W, X)) - X
    exp = np.mean(gap ** 2, axis=1)
    if close(got, exp, 1e-4, 1e-6):
        return
    for value, words in ((64 * exp, "erreur sommée sur les pixels : on attend la moyenne des 64 "
                                    "erreurs au carré de chaque image"),
                         (np.sqrt(exp), "pas de racine carrée : le score est l'erreur "
                                        "quadratique moyenne de reconstruction de chaque image"),
                         (np.mean(np.abs(gap), axis=1),
                          "erreur absolue au lieu de l'erreur quadratique")):
        if close(got, value, 1e-4, 1e-6):
            raise AssertionError(words)
    raise AssertionError(f"scores incorrects (d = {d}) : attendu {fmt(exp)}, obtenu "
                         f"{fmt(got)} — score = moyenne sur les pixels de (modele(x) − x)²")


def _cases_auc(rng, hidden):
    cases = []
    specs = [(40, 25, False, 1.0), (7, 30, True, 0.5), (50, 50, False, -0.5),
             (12, 3, True, 1.5)] if hidden else [(30, 20, False, 1.0), (15, 10, True, 0.5)]
    for n0, n1, ties, shift in specs:
        a, b = rng.normal(size=n0), rng.normal(size=n1) + shift
        if ties:
            a, b = np.round(a * 2) / 2, np.round(b * 2) / 2
        cases.append({"normaux": a, "anomalies": b})
    return cases


def _verdict_auc(case, answer):
    from sklearn.metrics import roc_auc_score

    a, b = case["normaux"], case["anomalies"]
    got = as_number(answer, "auc", "auc_roc")
    exp = float(roc_auc_score(np.r_[np.zeros(len(a)), np.ones(len(b))], np.r_[a, b]))
    if abs(got - exp) <= 1e-9:
        return
    diff = b[:, None] - a[None, :]
    if abs(got - (1 - exp)) <= 1e-9:
        raise AssertionError("AUC inversée (1 − AUC) : on mesure la probabilité qu'une anomalie "
                             "ait un score PLUS GRAND qu'une image normale")
    if abs(got - float(np.mean(diff > 0))) <= 1e-9 or abs(got - float(np.mean(diff >= 0))) <= 1e-9:
        raise AssertionError("ex æquo mal comptés : une paire (anomalie, normale) de scores égaux "
                             "compte pour 1/2")
    raise AssertionError(f"AUC incorrecte : attendu {exp:.6g}, obtenu {got:.6g} "
                         f"({len(a)} normales, {len(b)} anomalies)")


CHECKS = [
    Check("autoencodeur", _cases_autoencodeur, _verdict_autoencodeur,
          doc="Architecture imposée (noms et formes du state_dict) ; avec les poids du "
              "correcteur, encodeur(x) et modele(x) recalculés par le correcteur (ReLU, pas "
              "d'activation sur z, sigmoïde finale)."),
    Check("autoencodeur_conv", _cases_autoencodeur_conv, _verdict_autoencodeur_conv,
          doc="Auto-encodeur convolutif à l'architecture imposée : avec les poids du correcteur, "
              "encodeur(x) et modele(x) recalculés par le correcteur en NumPy (fenêtres 3 × 3, "
              "maximum par blocs 2 × 2, agrandissement par répétition des pixels)."),
    Check("entrainer_autoencodeur", _cases_entrainer, _verdict_entrainer,
          doc="Entraînement sur les données du correcteur, modèle reconstruit par le correcteur : "
              "erreur sur les chiffres de test nettement meilleure que l'ACP (scikit-learn) de "
              "même dimension latente, pertes par époque cohérentes ; et la boucle elle-même, "
              "rejouée pas à pas depuis les poids du correcteur (Adam, zero_grad, perte avant le "
              "pas) sur un cas en un seul mini-batch."),
    Check("erreur_acp", _cases_pca, _verdict_pca,
          doc="Erreur de reconstruction de l'ACP à d composantes sur des données de test, "
              "comparée à sklearn.decomposition.PCA ; diagnostics : somme sur les pixels, "
              "centrage, ACP apprise sur le test, nombre de composantes."),
    Check("debruitage", _cases_denoising, _verdict_denoising,
          doc="Auto-encodeur débruiteur entraîné par la fonction de l'étudiant (bruit 0.5, "
              "d = 32) ; le correcteur le reconstruit et mesure l'erreur par rapport aux images "
              "propres sur les chiffres de test bruités avec son propre bruit."),
    Check("score_anomalie", _cases_score, _verdict_score,
          doc="Erreur quadratique moyenne de reconstruction de chaque image, avec des poids "
              "fournis par le correcteur, comparée à son propre calcul."),
    Check("auc_roc", _cases_auc, _verdict_auc,
          doc="Aire sous la courbe ROC comparée à sklearn.metrics.roc_auc_score, avec des ex "
              "æquo, des tailles différentes et une AUC < 1/2."),
]
