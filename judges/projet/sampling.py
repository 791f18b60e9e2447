"""The project, part 5: reverse-time sampling (probability flow, damped Langevin) and the
trained networks (8 Gaussians, digits).

The samplers are checked step by step on the score field of each case (`projet.sampling`: the
times of the calls, the drift and the noise of each step, Tweedie's last step), then at their end
point: the probability flow against its exact solution (affine for a Gaussian field, scipy's
solve_ivp otherwise), Langevin's samples of a Gaussian against that Gaussian.

Trained networks: the kernel sends the weights, the student's score function at the judge's
probe points, and the samples the student's sampler draws from the judge's initial noise; the
judge rebuilds the network with NumPy, measures its denoising error itself, checks the
conversion ε̂ → score, and judges the samples on held-out data: for the 8 Gaussians, mode
counts, spread and W2 against the noise floor of the draw (the exact score's samples from the
same noise and the same ξ_k); for the digits, copies of the training set and the judge's digits
classifier (`judges.common.digits_quality`).
"""

from __future__ import annotations

import math

import numpy as np

from grader.judging import Check, as_array, close
from judges.common.digits_quality import judge_samples
from projet.data import N_8G, SEUILS, SIGMA_8G, T_MAX, centres_8g, grille_temps, huit_gaussiennes
from projet.sampling import (appels_du_score, champ, derive_du_score, sigma2, verifier_langevin,
                             verifier_modes_8g, verifier_reseau, verifier_tweedie)
from projet.training import verifier_entrainement

from .oracles import flow_end, network, posterior_mean, score_oracle, w2_pot
from .scale import digits_diffusion, scale


def _field(m, s, bend=0.0):
    return {"m": np.asarray(m, dtype=float), "s": np.asarray(s, dtype=float), "courbure": bend}


# -- the probability flow --------------------------------------------------------------------
def _cases_ode(rng, hidden):
    if not hidden:
        return [{"x": rng.normal(size=(6, 2)), "temps": grille_temps(200, t_min=0.05),
                 **_field([1.0, -0.5], [0.5, 0.5])}]
    return [{"x": rng.normal(size=(5, 2)), "temps": grille_temps(200),
             **_field([0.0, 0.0], [0.3, 0.6], 0.5)},
            {"x": rng.normal(size=(4, 3)), "temps": grille_temps(150, T=3.0, t_min=0.02),
             **_field(rng.normal(size=3), rng.uniform(0.2, 0.8, size=3))}]


def _verdict_ode(case, answer):
    x, temps, score = case["x"], case["temps"], champ(case)
    what = "echantillonner_ode"
    got = as_array(answer, "x0", x.shape, what=what)
    _, X = appels_du_score(answer, case, what)
    h = (temps[:-2] - temps[1:-1])[:, None, None]
    S = np.stack([score(X[k], temps[k]) for k in range(len(temps) - 2)])
    if not close(X[1:-1], X[:-2] + h * (X[:-2] + S), 1e-6, 1e-8):
        c, _ = derive_du_score(X, temps, score)
        if abs(c - 2) < 0.05:
            raise AssertionError(f"{what} : le flot de probabilité a la dérive x + score (et non "
                                 "x + 2 score, qui est celle de l'équation de Langevin avec "
                                 "bruit)")
        if abs(c + 1) < 0.05:
            raise AssertionError(f"{what} : signe du score — en temps inverse, "
                                 "x ← x + h (x + score(x, t))")
        raise AssertionError(f"{what} : un pas d'Euler est x ← x + h_k (x + score(x, t_k)) avec "
                             "h_k = t_k − t_(k+1) (coefficient du score estimé sur vos pas : "
                             f"{c:.3g})")
    verifier_tweedie(X[-1], temps[-1], got, score, what)
    end = flow_end(case, score)
    t1 = float(temps[-1])
    exact = (end + float(sigma2(t1)) * score(end, t1)) / math.exp(-t1)
    # Euler's error of the specified scheme (150-200 geometric steps), master over case seeds
    # 0-299: public case 0.005-0.013, hidden bent field 0.018-0.035, hidden 3-D 0.005-0.038
    # (the former bound 0.03 refused the master on a third of the hidden draws). Every step is
    # checked exactly above: this bound only guards the end point.
    if np.max(np.abs(got - exact)) > 0.06:
        raise AssertionError(f"{what} : échantillons trop loin de la solution exacte de l'EDO "
                             f"(écart maximal {np.max(np.abs(got - exact)):.3g})")


# -- damped Langevin ---------------------------------------------------------------------------
def _cases_langevin(rng, hidden):
    def seed():
        return int(rng.integers(2 ** 31))

    if not hidden:
        return [{"x": rng.normal(size=(4000, 2)), "temps": grille_temps(200), "graine": seed(),
                 **_field([1.0, -0.5], [0.5, 0.5])}]
    return [{"x": rng.normal(size=(3000, 2)), "temps": grille_temps(300), "graine": seed(),
             **_field([0.5, 0.0], [0.3, 0.8])},
            {"x": rng.normal(size=(300, 3)), "temps": grille_temps(200), "graine": seed(),
             **_field(np.zeros(3), [0.4, 0.4, 0.4], 0.5)}]


# -- the 8 Gaussians: the noise floor of a draw ----------------------------------------------
# W2 between 2000 points of the true law and a held-out sample with exactly 250 points per mode:
# over 130 draws, mean PLANCHER_8G = 0.227, median 0.22, 90th percentile 0.29, maximum 0.358.
# Most of it is the multinomial imbalance of the modes (a point in excess must travel 1.5 to the
# next mode): W2 fluctuates by a factor 2.5 from draw to draw, and a fixed threshold is either
# lax or unfair. The judge therefore measures the floor of each draw: the W2 of the EXACT score's
# samples drawn from the same initial noise and the same ξ_k (the students' sampler follows the
# same specification: most samples end in the same mode) to the same held-out data; the
# yardstick is the larger of that and the mean floor, the threshold SEUILS["ratio_plancher"]
# times it. Mode counts (chi-square) and the spread around the modes are checked separately.
PLANCHER_8G = 0.227
_FLOORS: dict = {}


def _balanced_reference(n, rng):
    """Held-out sample of the 8 Gaussians with exactly n / 8 points per mode."""
    k = np.repeat(np.arange(8), n // 8)
    return centres_8g()[k] + SIGMA_8G * rng.normal(size=(len(k), 2))


def langevin_exact_8g(x, temps, seed):
    """The judge's yardstick: damped Langevin in reverse time with the EXACT score of the 8
    Gaussians (torch.autograd), from the case's initial noise and with the ξ_k of the
    specification (np.random.default_rng(seed).standard_normal at each step), then the Bayesian
    posterior mean at the last time. It takes no score: it cannot sample a learned model."""
    rng = np.random.default_rng(int(seed))
    x = np.array(x, dtype=float)
    for k in range(len(temps) - 1):
        h = float(temps[k] - temps[k + 1])
        s = score_oracle(x, float(temps[k]), centres_8g(), SIGMA_8G)
        x = x + h * (x + 2.0 * s) + math.sqrt(2.0 * h) * rng.standard_normal(x.shape)
    return posterior_mean(x, float(temps[-1]), centres_8g(), SIGMA_8G)


def _floor_of_the_draw(case, reference):
    """W2 between the exact score's samples from the case's noise and the held-out data
    (cached: the tests judge the same case many times)."""
    key = (hash(np.asarray(case["x"]).tobytes()), hash(np.asarray(case["temps"]).tobytes()),
           int(case["graine"]))
    if key not in _FLOORS:
        _FLOORS[key] = w2_pot(langevin_exact_8g(case["x"], case["temps"], case["graine"]),
                              reference)
    return _FLOORS[key]


def judge_samples_8g(X, case, what):
    verifier_modes_8g(X, what)
    reference = _balanced_reference(len(X), np.random.default_rng(int(case["graine"]) + 1))
    w2 = w2_pot(X, reference)
    ratio = SEUILS[scale()]["ratio_plancher"]
    if w2 <= ratio * PLANCHER_8G:  # below the threshold of any draw: no need for the floor
        return
    floor = _floor_of_the_draw(case, reference)
    yardstick = max(floor, PLANCHER_8G)
    if w2 > ratio * yardstick:
        raise AssertionError(
            f"{what} : W₂ aux données de test = {w2:.3f}, plus de {ratio:g} × le plancher de "
            f"bruit ({yardstick:.3f} : W₂ de ces données aux échantillons du score EXACT tirés du "
            f"même bruit, {floor:.3f}, et au moins la moyenne {PLANCHER_8G:g} du plancher à "
            f"n = {len(X)})")


# -- the training loop ---------------------------------------------------------------------------
# After the cases' short trainings (a ReseauScore(2, 64, 2), 200 or 160 iterations), the relative
# error of the rebuilt network's noise prediction against the exact one, master's loop, case seeds
# 1000-1019: public 0.590-0.605, hidden 0.483-0.517; untrained (no optimiser.step()) 1.01-1.03.
ERREUR_COURTE = 0.85


def _cases_training(rng, hidden):
    def seed():
        return int(rng.integers(2 ** 31))

    if not hidden:
        specs = [(centres_8g(), SIGMA_8G, 200, 64)]
    else:  # three Gaussians of another spread, at random angles
        a = rng.uniform(0, 2 * np.pi) + 2 * np.pi * np.arange(3) / 3
        specs = [(1.5 * np.c_[np.cos(a), np.sin(a)], 0.3, 160, 96)]
    cases = []
    for C, s0, n_iter, taille in specs:
        k = rng.integers(len(C), size=4000)
        cases.append({"X": C[k] + s0 * rng.normal(size=(4000, 2)), "n_iter": n_iter,
                      "taille_batch": taille, "lr": 5e-3, "largeur": 64, "graine": seed(),
                      "graine_init": seed(), "_centres": C, "_s0": s0})
    return cases


def erreur_melange(W, C, s0, rng, n=1000):
    """Relative error E‖ε̂ − ε*‖² / E‖ε*‖² of the rebuilt network against the exact noise
    prediction ε* = −σ_t ∇log p_t of the mixture (1/K) Σ N(c_k, s0² I), averaged over 8 times
    log-uniform in [1e-3, T] (an untrained network: about 1)."""
    errors = []
    for t in np.geomspace(1e-3, T_MAX, 8):
        x0 = C[rng.integers(len(C), size=n)] + s0 * rng.normal(size=(n, C.shape[1]))
        xt = math.exp(-t) * x0 + math.sqrt(float(sigma2(t))) * rng.normal(size=x0.shape)
        exact = -math.sqrt(float(sigma2(t))) * score_oracle(xt, t, C, s0)
        errors.append(np.mean((network(W, xt, t) - exact) ** 2) / np.mean(exact ** 2))
    return float(np.mean(errors))


def _verdict_training(case, answer):
    verifier_entrainement(case, answer)
    W = verifier_reseau(answer, 2, "le réseau entraîné par entrainer_score")
    err = erreur_melange(W, case["_centres"], float(case["_s0"]),
                         np.random.default_rng(int(case["graine"])))
    if err > ERREUR_COURTE:
        raise AssertionError(
            f"entrainer_score : après {int(case['n_iter'])} itérations, le réseau prédit le "
            f"bruit presque comme au départ (erreur relative {err:.3f} par rapport au débruiteur "
            f"exact, seuil {ERREUR_COURTE:g} ; non entraîné : ≈ 1) — le modèle reçu est-il "
            "entraîné en place (ses paramètres dans l'optimiseur) ?")


# -- the trained networks ------------------------------------------------------------------------
def _probe_score(W, answer, case, what):
    """The student's score function at the judge's probe points against −ε̂ / σ_t of the
    rebuilt network."""
    x, times = case["sonde_x"], case["sonde_t"]
    got = as_array(answer, "sonde_s", (len(times),) + x.shape, what="score_du_modele(modele)")
    for k, t in enumerate(times):
        eps = network(W, x, t)
        sigma = math.sqrt(float(sigma2(t)))
        if close(got[k], -eps / sigma, 1e-3, 1e-4):
            continue
        if close(got[k], -eps / sigma ** 2, 1e-3, 1e-4):
            raise AssertionError(f"score_du_modele : divisez ε̂ par l'écart-type σ_t = "
                                 f"√(1 − e^(−2t)), pas par la variance (t = {t:g})")
        if close(got[k], eps / sigma, 1e-3, 1e-4):
            raise AssertionError("score_du_modele : signe — le score est −ε̂(x, t) / σ_t")
        raise AssertionError(f"score_du_modele(modele)(x, t) ne vaut pas −modele(x, t) / σ_t "
                             f"(t = {t:g}) pour le réseau {what}")


def _error_8g(W, rng, n=2000):
    """Relative error of the rebuilt network's noise prediction against the exact one,
    ε* = −σ_t ∇log p_t (analytic score of the 8 Gaussians): E‖ε̂ − ε*‖² / E‖ε*‖², averaged over
    times log-uniform in [1e-3, T] (an untrained network: about 1)."""
    errors = []
    for t in np.geomspace(1e-3, T_MAX, 8):
        x0 = huit_gaussiennes(n, rng)
        xt = math.exp(-t) * x0 + math.sqrt(float(sigma2(t))) * rng.normal(size=x0.shape)
        exact = -math.sqrt(float(sigma2(t))) * score_oracle(xt, t, centres_8g(), SIGMA_8G)
        errors.append(np.mean((network(W, xt, t) - exact) ** 2) / np.mean(exact ** 2))
    return float(np.mean(errors))


def _denoising_error(W, X0, rng, n_t=6):
    """Relative ε-prediction error E‖ε̂ − ε‖² / E‖ε‖² of the rebuilt network on held-out data,
    at times log-uniform in [1e-3, T], with the judge's noise (an untrained network: ≈ 1)."""
    errors = []
    for t in np.geomspace(1e-3, T_MAX, n_t):
        z = rng.normal(size=X0.shape)
        xt = math.exp(-t) * X0 + math.sqrt(float(sigma2(t))) * z
        errors.append(np.mean((network(W, xt, t) - z) ** 2) / np.mean(z ** 2))
    return float(np.mean(errors))


def _probes(rng, X, times):
    x0 = X[rng.choice(len(X), size=24, replace=False)]
    t = rng.choice(times, size=(len(x0), 1))
    return {"sonde_x": np.exp(-t) * x0 + np.sqrt(sigma2(t)) * rng.normal(
        size=x0.shape), "sonde_t": np.asarray(times, dtype=float)}


def _cases_8g(rng, hidden):
    return [{"x": rng.normal(size=(N_8G, 2)), "temps": grille_temps(300 if hidden else 500),
             "graine": int(rng.integers(2 ** 31)),
             **_probes(rng, huit_gaussiennes(200, rng), [1e-3, 0.05, 0.5, 2.0])}]


def _verdict_8g(case, answer):
    W = verifier_reseau(answer, 2, "modele_8g")
    err = _error_8g(W, np.random.default_rng(int(case["graine"])))
    threshold = SEUILS[scale()]["erreur_score_2d"]
    if err > threshold:
        raise AssertionError(f"le score de modele_8g est loin du score exact des 8 gaussiennes : "
                             f"erreur relative {err:.3f} (seuil {threshold:g} ; réseau non "
                             "entraîné : ≈ 1) — entraînement trop court, ou perte_debruitage ?")
    _probe_score(W, answer, case, "modele_8g")
    X = as_array(answer, "echantillons", case["x"].shape, what="échantillons de modele_8g")
    judge_samples_8g(X, case, "échantillons du score appris")


def _nearest(A, B):
    """Distance of each row of A to its nearest row of B."""
    d2 = (A ** 2).sum(1)[:, None] + (B ** 2).sum(1)[None, :] - 2.0 * A @ B.T
    return np.sqrt(np.maximum(d2.min(axis=1), 0.0))


def copy_ratio(X):
    """Median distance of the samples X (diffusion scale) to their nearest training image, in
    units of the same median for the held-out test images: about 1 or more for new images, near
    0 for (noisy) copies of the training set."""
    X_train, X_test = digits_diffusion()
    return float(np.median(_nearest(X, X_train)) / np.median(_nearest(X_test, X_train)))


def _cases_digits(rng, hidden):
    return [{"x": rng.normal(size=(450, 64)), "temps": grille_temps(200 if hidden else 300),
             "graine": int(rng.integers(2 ** 31)),
             **_probes(rng, digits_diffusion()[1], [1e-3, 0.1, 1.0])}]


def _verdict_digits(case, answer):
    s = SEUILS[scale()]
    W = verifier_reseau(answer, 64, "modele_chiffres")
    err = _denoising_error(W, digits_diffusion()[1], np.random.default_rng(int(case["graine"])))
    if err > s["erreur_chiffres"]:
        raise AssertionError(f"modele_chiffres débruite mal les chiffres de test : erreur "
                             f"relative {err:.3f} (seuil {s['erreur_chiffres']:g} ; non "
                             "entraîné ≈ 1) — entraînez sur vers_diffusion(X_train)")
    _probe_score(W, answer, case, "modele_chiffres")
    X = as_array(answer, "images", (450, 64), what="échantillons de modele_chiffres")
    copy = copy_ratio(np.clip(X, -1.0, 1.0))
    if copy < s["copie_chiffres"]:
        raise AssertionError(
            f"les chiffres générés sont des copies d'images d'apprentissage : distance médiane à "
            f"l'image d'apprentissage la plus proche {copy:.2f} × celle des chiffres de test "
            f"(seuil {s['copie_chiffres']:g}) ; le modèle doit générer, pas recopier")
    judge_samples(np.clip((X + 1.0) / 2.0, 0.0, 1.0), "chiffres générés",
                  s["couverture_chiffres"], s["frechet_chiffres"], s["confiance_chiffres"],
                  "les échantillons sont-ils ramenés dans [−1, 1] par vers_diffusion à "
                  "l'entraînement ?")


CHECKS = [
    Check("entrainer_score", _cases_training, _verdict_training,
          doc="Boucle d'entraînement appliquée à un petit ReseauScore du correcteur qui "
              "enregistre ses appels : une perte par itération, reproductible pour une graine, "
              "lots de taille_batch exemples, un temps par exemple, temps log-uniformes dans "
              "[T_MIN, T_MAX] (test de Kolmogorov-Smirnov sur log t), perte qui décroît ; le "
              "réseau reconstruit par le correcteur doit approcher le débruiteur exact du "
              "mélange (erreur relative ≤ 0.85 après 160 à 200 itérations)."),
    Check("echantillonner_ode", _cases_ode, _verdict_ode,
          doc="Flot de probabilité vérifié pas à pas (temps des appels du score, pas d'Euler "
              "x + h (x + score), pas de Tweedie final), puis comparé au flot exact (affine) "
              "d'une gaussienne et à scipy.integrate.solve_ivp pour un champ courbé."),
    Check("echantillonner_langevin", _cases_langevin, verifier_langevin,
          doc="Équation de Langevin amortie vérifiée pas à pas (temps, coefficient 2 du score "
              "estimé sur les pas, bruit de variance 2h, pas de Tweedie final), reproductible ; "
              "pour un champ gaussien, loi finale N(m, diag s²) (moyenne, écart-type)."),
    Check("modele_8g", _cases_8g, _verdict_8g,
          doc="Réseau entraîné sur les 8 gaussiennes : erreur de débruitage mesurée par le "
              "correcteur (réseau reconstruit), score_du_modele comparé à −ε̂/σ_t ; 2000 "
              "échantillons tirés depuis son bruit : effectifs des modes (χ²), dispersion, W₂ "
              "aux données ≤ 1.5 × plancher de bruit du tirage."),
    Check("modele_chiffres", _cases_digits, _verdict_digits,
          doc="Réseau entraîné sur les chiffres : erreur de débruitage sur les chiffres de test "
              "(réseau reconstruit par le correcteur), score_du_modele comparé à −ε̂/σ_t ; 450 "
              "images tirées depuis son bruit : pas de copies de la base d'apprentissage, "
              "classifieur du correcteur (couverture, confiance, Fréchet)."),
]
