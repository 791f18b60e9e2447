"""The project's samplers and trained networks, kernel side: evaluation of the student's code on
the judge's inputs, and the notebook's own checks on properties (`selfcheck`).

The samplers get a score *field* built from the case (an anisotropic Gaussian's score, bent by a
smooth term in some hidden cases): an input of the sampler, not a score of the exercises'
mixtures. The field records where and when the sampler calls it, so that each step of the
sampler can be checked, not only its end point:

- probability flow: x_(k+1) = x_k + h_k (x_k + s(x_k, t_k)) exactly, then Tweedie's step;
- damped Langevin: x_(k+1) − x_k − h_k x_k = c h_k s(x_k, t_k) + noise, with the drift
  coefficient c ≈ 2 (least squares over the steps) and a noise of variance 2 h_k, then
  Tweedie's step; the samples of a Gaussian field follow that Gaussian.
"""

from __future__ import annotations

import numpy as np

from course.answers import tableau
from course.sample_quality import evaluer_echantillons
from course.torch_tools import est_module, poids, vers_numpy
from grader.protocol import Exercise, InvalidAnswer, quiet

from .data import SIGMA_8G, centres_8g, charger_chiffres, vers_pixels
from .exercises import EXERCISES

ROWS = 64  # rows of x recorded at each call of the score


def sigma2(t):
    return -np.expm1(-2.0 * np.asarray(t, dtype=float))


def champ(case):
    """The score field of a sampler case: −(x − e^(−t) m) / (e^(−2t) s² + σ_t²) per coordinate
    (the score of N(m, diag s²) carried to time t), plus courbure × sin(x) (a smooth bend, no
    score of anything: the samplers are checked step by step on it)."""
    m, s = np.asarray(case["m"], dtype=float), np.asarray(case["s"], dtype=float)
    bend = float(case["courbure"])

    def score(x, t):
        x = np.asarray(x, dtype=float)
        a = np.exp(-float(t))
        return -(x - a * m) / (a * a * s ** 2 + sigma2(t)) + bend * np.sin(x)

    return score


class Enregistreur:
    """A score function that also records the times and the first rows of x of its calls."""

    def __init__(self, score, limite: int):
        self.score, self.limite = score, limite
        self.t: list[float] = []
        self.x: list[np.ndarray] = []

    def __call__(self, x, t):
        x = np.asarray(x, dtype=float)
        if len(self.t) >= self.limite:
            raise InvalidAnswer(f"le score est appelé plus de {self.limite} fois : un appel par "
                                "pas de temps, plus un pour le pas de Tweedie")
        if self.x and x[:ROWS].shape != self.x[0].shape:
            raise InvalidAnswer("le score doit être appelé sur tout le nuage x à chaque pas")
        self.t.append(float(t))
        self.x.append(x[:ROWS].copy())
        return self.score(x, t)

    def data(self) -> dict:
        return {"appels_t": np.array(self.t), "appels_x": np.array(self.x)}


def _eval_ode(case, echantillonner_ode):
    score = Enregistreur(champ(case), 2 * len(case["temps"]) + 2)
    x0 = vers_numpy(echantillonner_ode(score, case["x"].copy(), case["temps"].copy()))
    return {"x0": x0, **score.data()}


def _eval_langevin(case, echantillonner_langevin):
    graine = int(case["graine"])

    def run(seed, score):
        return vers_numpy(echantillonner_langevin(score, case["x"].copy(), case["temps"].copy(),
                                                  seed))

    score = Enregistreur(champ(case), 2 * len(case["temps"]) + 2)
    return {"a": run(graine, score), **score.data(), "b": run(graine, champ(case)),
            "c": run(graine + 1, champ(case))}


# -- the process, step by step ---------------------------------------------------------------
def appels_du_score(answer, case, quoi):
    """The recorded calls (times, rows of x), checked against the time grid."""
    temps, x = case["temps"], case["x"]
    t = tableau(answer, "appels_t", f"appels du score par {quoi}").ravel()
    X = tableau(answer, "appels_x", f"appels du score par {quoi}")
    n = len(temps) - 1
    rows = (min(ROWS, len(x)), x.shape[1])
    if len(t) < n or X.ndim != 3 or len(X) != len(t) or X.shape[1:] != rows:
        raise AssertionError(f"{quoi} doit appeler score(x, t_k) à chacun des {n} pas "
                             f"(appelé {len(t)} fois)")
    if not np.allclose(t[:n], temps[:n], rtol=1e-12, atol=0):
        if np.allclose(t[:n], temps[::-1][:n], rtol=1e-12, atol=0):
            raise AssertionError(f"{quoi} : grille parcourue à l'envers — on part de temps[0] = T "
                                 "et on descend jusqu'à temps[-1]")
        raise AssertionError(f"{quoi} : au pas k, le score s'évalue en (x_k, temps[k]), dans "
                             "l'ordre de la grille")
    if len(t) == n:
        raise AssertionError(f"{quoi} : il manque le pas final de Tweedie "
                             "x̂0 = (x + σ² score(x, t_N)) / e^(−t_N) à temps[-1]")
    if len(t) != n + 1 or not np.isclose(t[n], temps[n], rtol=1e-12, atol=0):
        raise AssertionError(f"{quoi} : un appel du score par pas (Euler), puis un pour le pas "
                             f"de Tweedie à temps[-1] ({n + 1} appels attendus, {len(t)} reçus)")
    return t, X


def derive_du_score(X, temps, score):
    """Least-squares drift coefficient c of the score in x_(k+1) − x_k − h_k x_k = c h_k s_k
    (weights 1/h_k: the noise variance of a step), and the remaining noise's variance in units
    of 2 h_k."""
    h = (temps[:-2] - temps[1:-1])[:, None, None]
    S = np.stack([score(X[k], temps[k]) for k in range(len(temps) - 2)]) * h
    D = X[1:-1] - X[:-2] - h * X[:-2]
    c = float(np.sum(D * S / h) / np.sum(S * S / h))
    noise = float(np.mean((D - c * S) ** 2 / (2 * h)))
    return c, noise


def verifier_tweedie(X_last, t_last, final, score, quoi):
    expected = (X_last + sigma2(t_last) * score(X_last, t_last)) / np.exp(-t_last)
    if not np.allclose(final[:len(X_last)], expected, rtol=1e-6, atol=1e-8):
        if np.allclose(final[:len(X_last)], X_last, rtol=1e-6, atol=1e-8):
            raise AssertionError(f"{quoi} : sans le pas final de Tweedie x̂0 = (x + σ² score) / "
                                 "e^(−t)")
        raise AssertionError(f"{quoi} : le pas final de Tweedie est x̂0 = (x + σ²_t score(x, t)) "
                             "/ e^(−t) à t = temps[-1]")


def verifier_langevin(case, answer) -> None:
    """The damped Langevin sampler: its steps (times, drift x + 2 score, noise √(2h) ξ, Tweedie),
    reproducible for a seed, and, for a Gaussian field, samples of that Gaussian."""
    x, temps, score = case["x"], case["temps"], champ(case)
    quoi = "echantillonner_langevin"
    a = tableau(answer, "a", quoi, x.shape)
    _, X = appels_du_score(answer, case, quoi)
    c, noise = derive_du_score(X, temps, score)
    if noise < 0.05:
        raise AssertionError(f"{quoi} : pas de bruit — sans √(2h) ξ, la dérive x + 2 score ramène "
                             "tout vers le mode (trop concentrés)")
    if abs(c - 2) > 0.25:
        words = ("signe du score : en temps inverse, x ← x + h (x + 2 score(x, t)) + √(2h) ξ"
                 if c < 0 else "la dérive de l'équation de Langevin est x + 2 score (x + score "
                 "est celle du flot de probabilité, sans bruit)")
        raise AssertionError(f"{quoi} : coefficient du score estimé sur vos pas {c:.2f} au lieu "
                             f"de 2 — {words}")
    if abs(noise - 1) > 0.1:
        raise AssertionError(f"{quoi} : le bruit d'un pas a une variance {noise:.2f} × 2h au lieu "
                             "de 2h : √(2h) ξ avec ξ ~ N(0, I) et h = t_k − t_(k+1)")
    verifier_tweedie(X[-1], temps[-1], a, score, quoi)
    b, c_ = (tableau(answer, k, quoi) for k in "bc")
    if b.shape != a.shape or not np.array_equal(a, b):
        raise AssertionError("deux appels avec la même graine donnent des échantillons "
                             "différents : tirez les ξ avec np.random.default_rng(graine)")
    if c_.shape == a.shape and np.array_equal(a, c_):
        raise AssertionError("la graine n'est pas utilisée (mêmes échantillons pour deux graines)")
    if float(case["courbure"]) == 0:
        m, s, n = np.asarray(case["m"]), np.asarray(case["s"]), len(a)
        mean, std = a.mean(axis=0), a.std(axis=0)
        if np.any(np.abs(mean - m) > 6 * s / np.sqrt(n) + 0.02) or np.any(
                np.abs(std / s - 1) > 0.06):
            raise AssertionError(f"{quoi} : moyenne {np.round(mean, 3)} et écart-type "
                                 f"{np.round(std, 3)} des échantillons au lieu de {np.round(m, 3)}"
                                 f" et {np.round(s, 3)} (loi cible N(m, diag s²))")


# -- the trained networks ------------------------------------------------------------------------
def _eval_modele(nom):
    def evaluate(case, modele, score_du_modele, echantillonner_langevin):
        if not est_module(modele):
            if callable(modele):  # a function in its place (a stub?): let it raise
                modele()
            return {"type": type(modele).__name__}
        out = poids(modele)
        first = out.get("w:reseau.0.weight")
        dim = case["x"].shape[1]
        if first is None or "w:freq" not in out or first.shape[-1] != dim + 2 * len(out["w:freq"]):
            return out  # a network of another dimension: the judge says so from its weights
        etait = modele.training
        modele.eval()
        try:
            score = score_du_modele(modele)
            out[nom] = vers_numpy(echantillonner_langevin(score, case["x"].copy(),
                                                          case["temps"].copy(),
                                                          int(case["graine"])))
            out["sonde_s"] = np.stack([vers_numpy(score(case["sonde_x"].copy(), float(t)))
                                       for t in case["sonde_t"]])
        finally:
            modele.train(etait)
        return out
    return evaluate


def verifier_reseau(answer, dim: int, quoi: str) -> dict:
    """The weights of a ReseauScore(dim, …) sent by the kernel, as arrays."""
    if "type" in answer:
        raise AssertionError(f"{quoi} doit être votre ReseauScore entraîné, pas "
                             f"{answer['type']}")
    W = {k[2:]: np.asarray(v, dtype=float) for k, v in answer.items()
         if k.startswith("w:") and not isinstance(v, str)}
    if ("freq" not in W or W["freq"].ndim != 1
            or not any(k.startswith("reseau.") for k in W)):
        raise AssertionError(f"{quoi} doit être un ReseauScore entraîné (le réseau fourni)")
    layers = sorted({int(k.split(".")[1]) for k in W if k.startswith("reseau.")})
    size = dim + 2 * len(W["freq"])
    for c in layers:
        w, b = W.get(f"reseau.{c}.weight"), W.get(f"reseau.{c}.bias")
        if w is None or b is None or w.ndim != 2 or w.shape[1] != size or b.shape != w[:, 0].shape:
            raise AssertionError(f"{quoi} : architecture inattendue (couche reseau.{c}) — "
                                 f"utilisez ReseauScore({dim}, …)")
        size = w.shape[0]
    if size != dim:
        raise AssertionError(f"{quoi} : la sortie a {size} composantes au lieu de {dim}")
    if not all(np.all(np.isfinite(v)) for v in W.values()):
        raise AssertionError(f"{quoi} : poids non finis (l'entraînement a divergé ?)")
    return W


def verifier_modes_8g(X, quoi, bande=(0.5, 2.5)) -> None:
    """Samples of the 8 Gaussians: balanced modes (chi-square on the counts per mode, the mode
    of a point being the centre of its angular sector) and the spread around them."""
    from scipy import stats

    n = len(X)
    sector = np.round(np.arctan2(X[:, 1], X[:, 0]) / (np.pi / 4)).astype(int) % 8
    counts = np.bincount(sector, minlength=8)
    spread = float(np.mean(np.sum((X - centres_8g()[sector]) ** 2, axis=1)))
    if stats.chisquare(counts).pvalue < 1e-4:
        raise AssertionError(f"{quoi} : modes déséquilibrés — effectifs par mode "
                             f"{counts.tolist()} pour {n // 8} attendus chacun (test du χ², "
                             "p < 1e-4) : effondrement de modes ?")
    data = 2 * SIGMA_8G ** 2
    if spread < bande[0] * data:
        raise AssertionError(f"{quoi} : échantillons trop concentrés sur les centres (dispersion "
                             f"{spread:.4f} contre {data:.2f} pour les données) — le bruit "
                             "√(2h) ξ de l'équation de Langevin est-il là ?")
    if spread > bande[1] * data:
        raise AssertionError(f"{quoi} : échantillons trop dispersés autour des modes (dispersion "
                             f"{spread:.4f} contre {data:.2f} pour les données)")


def _samples(answer, key, shape, quoi):
    return tableau(answer, key, quoi, shape)


def _selfcheck_8g(case, answer):
    verifier_reseau(answer, 2, "modele_8g")
    X = _samples(answer, "echantillons", case["x"].shape, "échantillons de modele_8g")
    verifier_modes_8g(X, "échantillons de modele_8g")


# The notebook's own bounds for generated digits, with its classifier (not the judge's): the
# master's samples at the quick scale reach coverage 10 and confidence 0.82-0.86 with it.
COUVERTURE_MIN, CONFIANCE_MIN = 8, 0.72
# Copies of the training set, seen by angles (the judge measures distances): 1 − the largest
# cosine between a sample and a training image (centred pixels), median over the samples, in
# units of the same median for the test digits. Master's samples (quick, 3 seeds): 1.97-2.05;
# training images returned with noise 0.1: 0.10, 0.2: 0.38, 0.3: 0.82 (the judge's own ratio
# lets the last one through too).
COPIE_MIN = 0.6
# Samples that are no digits: the same ratio is 5.9 for an untrained network (6.3 for the
# score's sign reversed), whose mean image is also 0.33 (RMS) from the test digits' (master:
# 0.045); both pass the classifier's coverage and confidence.
PAS_UN_CHIFFRE, ECART_MOYEN_MAX = 4.0, 0.15


def _ecart_angulaire(images) -> np.ndarray:
    """1 − the largest cosine between each image (pixels) and the training images, centred."""
    X_train, _, _, _ = charger_chiffres()
    centre = X_train.mean(axis=0)
    U, V = images - centre, X_train - centre
    cos = (U @ V.T) / np.linalg.norm(U, axis=1)[:, None] / np.linalg.norm(V, axis=1)[None]
    return 1.0 - cos.max(axis=1)


def _selfcheck_chiffres(case, answer):
    verifier_reseau(answer, 64, "modele_chiffres")
    X = _samples(answer, "images", (len(case["x"]), 64), "échantillons de modele_chiffres")
    rapport = float(np.median(_ecart_angulaire(vers_pixels(X)))
                    / np.median(_ecart_angulaire(charger_chiffres()[1])))  # copies: ≈ 0
    if rapport < COPIE_MIN:
        raise AssertionError(
            f"les chiffres générés ressemblent à des copies d'images d'apprentissage (écart "
            f"angulaire à l'image d'apprentissage la plus proche : {rapport:.2f} × celui des "
            f"chiffres de test, au moins {COPIE_MIN:g} attendu) ; le modèle doit générer, pas "
            "recopier")
    P, R = vers_pixels(X), charger_chiffres()[1]
    ecart = float(np.sqrt(np.mean((P.mean(axis=0) - R.mean(axis=0)) ** 2)))
    if rapport > PAS_UN_CHIFFRE or ecart > ECART_MOYEN_MAX:
        raise AssertionError(
            f"les échantillons ne ressemblent pas à des chiffres : écart angulaire à l'image "
            f"d'apprentissage la plus proche {rapport:.2f} × celui des chiffres de test (au plus "
            f"{PAS_UN_CHIFFRE:g}), image moyenne à {ecart:.3f} de celle des chiffres de test (au "
            f"plus {ECART_MOYEN_MAX:g}) — réseau entraîné, et score_du_modele = −ε̂ / σ_t ?")
    m = evaluer_echantillons(P)
    if m["couverture"] < COUVERTURE_MIN or m["confiance"] < CONFIANCE_MIN:
        raise AssertionError(
            f"chiffres générés de qualité insuffisante pour le classifieur du notebook "
            f"(couverture {m['couverture']} classes, au moins {COUVERTURE_MIN} ; confiance "
            f"{m['confiance']:.3f}, au moins {CONFIANCE_MIN:g})")


def _add(name, targets, evaluate, selfcheck=None, tolerance=(1e-6, 1e-8)):
    EXERCISES.add(Exercise(name, targets, quiet(evaluate), selfcheck=selfcheck,
                           tolerance=tolerance))


_add("echantillonner_ode", ("echantillonner_ode",), _eval_ode)
_add("echantillonner_langevin", ("echantillonner_langevin",), _eval_langevin, verifier_langevin)
_add("modele_8g", ("modele_8g", "score_du_modele", "echantillonner_langevin"),
     _eval_modele("echantillons"), _selfcheck_8g)
_add("modele_chiffres", ("modele_chiffres", "score_du_modele", "echantillonner_langevin"),
     _eval_modele("images"), _selfcheck_chiffres)
