"""The project, parts 3, 4 and 6: the Ornstein-Uhlenbeck process, scores, Tweedie's denoiser,
the denoising loss, and the empirical score (memorisation).

Oracles (`oracles.py`): the explicit sum of the Euler-Maruyama recursion, torch.autograd of
torch.distributions mixtures for the scores, the Bayesian posterior mean for Tweedie, the
closed forms of the loss and its gradient for a linear stand-in network.
"""

from __future__ import annotations

import math

import numpy as np

from grader.judging import Check, as_array, close, fmt
from projet.data import SIGMA_8G, centres_8g, huit_gaussiennes
from projet.sampling import sigma2

from .oracles import em_explicit, posterior_mean, score_oracle
from .scale import digits_diffusion


def _nonfinite(answer, key, shape):
    """NaN or inf in a score: the exponentials of the weights overflowed."""
    raw = answer.get(key)
    if raw is not None and not isinstance(raw, str):
        raw = np.asarray(raw, dtype=float)
        if raw.shape == tuple(shape) and not np.all(np.isfinite(raw)):
            raise AssertionError("valeurs non finies (débordement de l'exponentielle des poids "
                                 "loin des centres ou pour t petit) : softmax stable — soustrayez "
                                 "le maximum des logits avant l'exponentielle")


# -- the Ornstein-Uhlenbeck process --------------------------------------------------------------
def _cases_em(rng, hidden):
    specs = [(4, 1, 0.5, 10), (6, 3, 3.0, 25)] if hidden else [(5, 2, 1.0, 20)]
    return [{"x0": rng.normal(size=(m, d)) * 2, "t_final": T, "n_pas": N,
             "bruits": rng.normal(size=(N, m, d))} for m, d, T, N in specs]


def _verdict_em(case, answer):
    x0, T, N, xi = case["x0"], float(case["t_final"]), int(case["n_pas"]), case["bruits"]
    h = T / N
    got = as_array(answer, "traj", what="euler_maruyama_ou")
    shape = (N + 1,) + x0.shape
    if got.shape == (N,) + x0.shape:
        raise AssertionError(f"{N + 1} positions attendues (x0 puis les n_pas itérés), vous en "
                             f"renvoyez {N}")
    if got.shape == x0.shape:
        raise AssertionError(f"renvoyez toute la trajectoire, de forme {shape}, pas seulement le "
                             "point final")
    got = as_array(answer, "traj", shape, what="euler_maruyama_ou")
    exp = em_explicit(x0, h, xi)
    if close(got, exp, 1e-8, 1e-10):
        return
    if not np.allclose(got[0], x0):
        raise AssertionError("la trajectoire doit commencer par x0")
    for words, alt in (("√(2h) ξ : le bruit d'un pas a pour écart-type √(2h), pas √h",
                        em_explicit(x0, h, xi, diffusion=1.0)),
                       ("il manque le facteur √h devant le bruit : dW ~ N(0, h), soit √(2h) ξ",
                        em_explicit(x0, h, xi, diffusion=2.0 / h)),
                       ("signe de la dérive : dx = −x dt + √2 dW (rappel vers 0)",
                        em_explicit(x0, h, xi, drift=1.0)),
                       ("pas de temps : h = t_final / n_pas", em_explicit(x0, T, xi))):
        if close(got, alt, 1e-8, 1e-10):
            raise AssertionError(words)
    k = int(np.argmax(np.any(np.abs(got - exp).reshape(N + 1, -1) > 1e-8, axis=1)))
    raise AssertionError(f"l'itéré {k} est faux : x_(k+1) = x_k − x_k h + √(2h) ξ_k avec "
                         f"h = t_final / n_pas et ξ_k = bruits[k]")


def _cases_marginal(rng, hidden):
    specs = [(6, 6), (3, 1)] if hidden else [(5, 5)]  # square: t along the wrong axis shows
    return [{"x0": rng.normal(size=(n, d)), "t": np.exp(rng.uniform(-5, 1.5, size=n)),
             "z": rng.normal(size=(n, d))} for n, d in specs]


def _verdict_marginal(case, answer):
    x0, t, z = case["x0"], case["t"][:, None], case["z"]
    got = as_array(answer, "xt", what="marginale_ou")
    if got.shape != x0.shape:
        raise AssertionError(f"marginale_ou : forme {got.shape} au lieu de {x0.shape} — t a un "
                             "temps par exemple : t[:, None] pour le diffuser sur les dimensions")
    exp = np.exp(-t) * x0 + np.sqrt(sigma2(t)) * z
    if close(got, exp, 1e-8, 1e-10):
        return
    for words, alt in (
            ("écart-type √(1 − e^(−2t)), pas √(1 − e^(−t))",
             np.exp(-t) * x0 + np.sqrt(-np.expm1(-t)) * z),
            ("la moyenne est e^(−t) x0 (pas e^(−2t) x0)",
             np.exp(-2 * t) * x0 + np.sqrt(sigma2(t)) * z),
            ("le bruit est multiplié par l'écart-type √(1 − e^(−2t)), pas par la variance",
             np.exp(-t) * x0 + sigma2(t) * z)):
        if close(got, alt, 1e-8, 1e-10):
            raise AssertionError(words)
    if x0.shape[0] == x0.shape[1]:
        tt = case["t"][None, :]
        if close(got, np.exp(-tt) * x0 + np.sqrt(sigma2(tt)) * z, 1e-8, 1e-10):
            raise AssertionError("t est appliqué le long des dimensions au lieu des exemples : "
                                 "utilisez t[:, None]")
    raise AssertionError(f"x_t incorrect : attendu {fmt(exp[0])}, obtenu {fmt(got[0])} "
                         "(première ligne)")


# -- scores and Tweedie --------------------------------------------------------------------------
def _cases_score(rng, hidden):
    if not hidden:
        return [{"x": huit_gaussiennes(12, rng) * 0.8 + 0.3 * rng.normal(size=(12, 2)),
                 "t": 0.3, "centres": centres_8g(), "sigma0": SIGMA_8G}]
    return [{"x": rng.normal(size=(9, 3)) * 2, "t": 1.5, "centres": rng.normal(size=(4, 3)) * 2,
             "sigma0": 0.5},
            {"x": huit_gaussiennes(10, rng) * 3.5, "t": 0.002, "centres": centres_8g(),
             "sigma0": SIGMA_8G},
            {"x": rng.normal(size=(5, 2)) * 3, "t": 0.05, "centres": centres_8g()[[0, 3]],
             "sigma0": 0.3}]


def _verdict_score(case, answer):
    x, t, C, s0 = case["x"], float(case["t"]), case["centres"], float(case["sigma0"])
    _nonfinite(answer, "s", x.shape)
    got = as_array(answer, "s", x.shape, what="score_melange")
    exp = score_oracle(x, t, C, s0)
    if close(got, exp, 1e-6, 1e-8):
        return
    a = math.exp(-t)
    if close(got, -exp, 1e-6, 1e-8):
        raise AssertionError("signe opposé : le score pointe vers les régions probables, "
                             "∇ log p = (moyenne pondérée des centres − x) / variance")
    # the usual mistakes are exact scores of other mixtures: the oracle names them
    if close(got, score_oracle(x, t, C, s0 / a), 1e-6, 1e-8):
        raise AssertionError("variance de chaque composante à l'instant t : e^(−2t) σ0² + "
                             "1 − e^(−2t) (la dispersion initiale est aussi contractée)")
    if close(got, score_oracle(x, t, C / a, s0), 1e-6, 1e-8):
        raise AssertionError("les centres sont transportés en e^(−t) c_k à l'instant t")
    if close(got, score_oracle(x, t, C.mean(axis=0)[None], s0), 1e-6, 1e-8):
        raise AssertionError("les poids des composantes dépendent de x : softmax de "
                             "−‖x − e^(−t) c_k‖² / (2 v_t) (responsabilités)")
    nearest = np.argmin(((x[:, None] - a * C[None]) ** 2).sum(-1), axis=1)
    hard = np.concatenate([score_oracle(x[i:i + 1], t, C[k:k + 1], s0)
                           for i, k in enumerate(nearest)])
    if close(got, hard, 1e-6, 1e-8):
        raise AssertionError("pondération « dure » par la composante la plus proche : il faut "
                             "les responsabilités (softmax), pas un argmax")
    raise AssertionError(f"score incorrect (t = {t:g}) : attendu {fmt(exp[0])}, obtenu "
                         f"{fmt(got[0])} (premier point)")


def _cases_tweedie(rng, hidden):
    if not hidden:
        m = rng.normal(size=3)
        specs = [(rng.normal(size=(10, 3)) * 1.5, 0.4, m[None], 0.7)]
    else:
        specs = [(huit_gaussiennes(8, rng) * 0.7, 0.25, centres_8g(), SIGMA_8G),
                 (rng.normal(size=(6, 1)), 2.0, np.ones((1, 1)), 0.2)]
    # the kernel gets the score's values at x (computed here), never a score function
    return [{"x": x, "t": t, "s": score_oracle(x, t, C, s0), "_centres": C, "_s0": s0}
            for x, t, C, s0 in specs]


def _verdict_tweedie(case, answer):
    x, t, C, s0, s = case["x"], float(case["t"]), case["_centres"], float(case["_s0"]), case["s"]
    got = as_array(answer, "x0", x.shape, what="debruiteur_tweedie")
    exp = posterior_mean(x, t, C, s0)
    if close(got, exp, 1e-6, 1e-8):
        return
    a, s2 = math.exp(-t), float(sigma2(t))
    for words, alt in (("σ_t² (la variance 1 − e^(−2t)) multiplie le score, pas σ_t",
                        (x + np.sqrt(s2) * s) / a),
                       ("x_t + σ_t² ∇log p_t(x_t) estime e^(−t) x0 : divisez par e^(−t)",
                        x + s2 * s),
                       ("signe : x̂ = x_t + σ_t² ∇ log p_t(x_t) (on remonte le gradient)",
                        (x - s2 * s) / a),
                       ("multipliez par e^(t) (divisez par e^(−t)), pas l'inverse",
                        (x + s2 * s) * a)):
        if close(got, alt, 1e-6, 1e-8):
            raise AssertionError(words)
    raise AssertionError(f"débruiteur incorrect (t = {t:g}) : attendu {fmt(exp[0])}, obtenu "
                         f"{fmt(got[0])}")


# -- the denoising loss --------------------------------------------------------------------------
def _cases_loss(rng, hidden):
    specs = [(1, 3), (7, 1)] if hidden else [(10, 2)]
    return [{"x0": rng.normal(size=(n, d)), "t": np.exp(rng.uniform(-4, 1.5, size=n)),
             "z": rng.normal(size=(n, d)), "A": rng.normal(size=(d, d)) * 0.5,
             "b": rng.normal(size=d), "c": rng.normal(size=d) * 0.1} for n, d in specs]


def _verdict_loss(case, answer):
    x0, t, z, A, b, c = (case[k] for k in ("x0", "t", "z", "A", "b", "c"))
    n, d = x0.shape
    got = as_array(answer, "perte", what="perte_debruitage")
    if got.size != 1:
        raise AssertionError(f"perte_debruitage doit renvoyer un scalaire, pas un tableau de "
                             f"forme {got.shape}")
    got = float(got.reshape(()))
    tt = t[:, None]
    xt = np.exp(-tt) * x0 + np.sqrt(sigma2(tt)) * z
    pred = xt @ A + tt * b + c
    exp = float(np.mean((pred - z) ** 2))
    if abs(got - exp) <= 1e-6 * max(1, exp):
        if "grad_A" not in answer:
            raise AssertionError("la perte doit être un tenseur PyTorch différentiable (pas de "
                                 ".item(), pas de NumPy)")
        grad = as_array(answer, "grad_A", what="gradient de la perte")
        expected = xt.T @ (2 * (pred - z)) / (n * d)
        if grad.shape != expected.shape or not close(grad, expected, 1e-5, 1e-8):
            raise AssertionError("gradient de la perte faux : x_t ne doit pas être détaché du "
                                 "modèle, la perte est F.mse_loss(modele(x_t, t), z)")
        return
    xt_wrong = np.exp(-tt) * x0 + np.sqrt(-np.expm1(-tt)) * z
    for value, words in (
            (np.mean((pred - x0) ** 2), "cible x0 : le réseau prédit le BRUIT z "
                                        "(ε-prédiction), la cible est z"),
            (exp * d if d > 1 else None, "somme sur les dimensions : prenez la moyenne sur tous "
                                         "les éléments (F.mse_loss)"),
            (np.mean((xt_wrong @ A + tt * b + c - z) ** 2),
             "x_t faux : utilisez marginale_ou(x0, t, z)"),
            (np.mean((xt @ A + c - z) ** 2), "le réseau doit recevoir t : modele(x_t, t)"),
            (np.mean((x0 @ A + tt * b + c - z) ** 2),
             "le réseau doit recevoir la donnée BRUITÉE x_t, pas x0")):
        if value is not None and abs(got - float(value)) <= 1e-6 * max(1, abs(float(value))):
            raise AssertionError(words)
    raise AssertionError(f"perte incorrecte : attendu {exp:.6g}, obtenu {got:.6g}")


# -- memorisation: the empirical score -----------------------------------------------------------
def _cases_empirical(rng, hidden):
    X = digits_diffusion()[0]
    if not hidden:
        base = X[rng.choice(len(X), size=60, replace=False)]
        return [{"x": base[:5] + 0.3 * rng.normal(size=(5, 64)), "t": 0.5, "X_train": base}]
    base = X[rng.choice(len(X), size=200, replace=False)]
    return [{"x": base[:4] * math.exp(-1e-3) + 0.3 * rng.normal(size=(4, 64)), "t": 1e-3,
             "X_train": base},
            {"x": rng.normal(size=(6, 2)), "t": 0.2, "X_train": rng.normal(size=(3, 2))}]


def _verdict_empirical(case, answer):
    x, t, X = case["x"], float(case["t"]), case["X_train"]
    _nonfinite(answer, "s", x.shape)
    got = as_array(answer, "s", x.shape, what="score_empirique")
    exp = score_oracle(x, t, X, 0.0)
    if close(got, exp, 1e-6, 1e-8):
        return
    a, s2 = math.exp(-t), float(sigma2(t))
    if close(got, exp * math.sqrt(s2), 1e-6, 1e-8):
        raise AssertionError("divisez par la variance σ_t² = 1 − e^(−2t), pas par σ_t")
    if close(got, -exp, 1e-6, 1e-8):
        raise AssertionError("signe opposé : ∇ log p_t(x) = (Σ w_i e^(−t) x_i − x) / σ_t²")
    if close(got, score_oracle(x, t, X / a, 0.0), 1e-6, 1e-8):
        raise AssertionError("les points d'apprentissage sont transportés en e^(−t) x_i à "
                             "l'instant t")
    raise AssertionError(f"score empirique incorrect (t = {t:g}) : attendu {fmt(exp[0][:4])}…, "
                         f"obtenu {fmt(got[0][:4])}…")


CHECKS = [
    Check("euler_maruyama_ou", _cases_em, _verdict_em,
          doc="Schéma d'Euler-Maruyama de dx = −x dt + √2 dW avec les bruits du correcteur, "
              "comparé à la somme explicite de la récurrence linéaire (produit matriciel)."),
    Check("marginale_ou", _cases_marginal, _verdict_marginal,
          doc="Loi marginale exacte x_t = e^(−t) x0 + √(1 − e^(−2t)) z, un temps par exemple "
              "(tenseurs PyTorch)."),
    Check("score_melange", _cases_score, _verdict_score,
          doc="Score analytique du mélange diffusé, comparé à torch.autograd de "
              "torch.distributions.MixtureSameFamily.log_prob ; t très petit dans les cas "
              "cachés (stabilité)."),
    Check("debruiteur_tweedie", _cases_tweedie, _verdict_tweedie,
          doc="Formule de Tweedie-Miyasawa avec les valeurs du score données par le correcteur, "
              "comparée à la moyenne a posteriori calculée par la règle de Bayes (gaussienne, "
              "mélange)."),
    Check("perte_debruitage", _cases_loss, _verdict_loss,
          doc="Perte d'ε-prédiction F.mse_loss(modele(x_t, t), z) avec un modèle linéaire du "
              "correcteur : valeur et gradient comparés à leur formule."),
    Check("score_empirique", _cases_empirical, _verdict_empirical,
          doc="Score exact de la loi empirique diffusée (N gaussiennes de variance σ_t²), "
              "comparé à torch.autograd d'un mélange torch.distributions ; t = 1e-3 en "
              "dimension 64 dans les cas cachés (softmax stable)."),
]
