"""The project, part 2.4: a normalizing flow in 2-D (notes 001, sec. 2.8.1, eq. 9-12), made of
affine coupling layers (RealNVP).

Oracles: for the coupling layer, the judge's own formulas, and log|det J| computed by another
method, torch.autograd.functional.jacobian and slogdet of each point's 2 x 2 Jacobian; for the
trained flow, the flow rebuilt with NumPy from its weights, its inverse applied by the judge and
log|det J_(T⁻¹)| by central finite differences of the whole inverse map (slogdet), the held-out
log-likelihood compared with a Gaussian fitted to the data (mean, covariance), the samples pushed
by the judge from its own noise (the share of them near a mode).
"""

from __future__ import annotations

import math

import numpy as np

from grader.judging import Check, as_array, close
from projet.data import centres_8g, huit_gaussiennes


# Thresholds, from the master's flow (8 couplings, width 64, 800 iterations, batches of 512,
# lr 2e-3), training seeds 0-5 x judge seeds 11-13 (README, section "Correction"):
# - held-out log-likelihood minus the fitted Gaussian's: 1.44-2.39 nats per point (untrained flow,
#   i.e. N(0, I): -0.31); with lr 5e-3 one seed in five diverged (-0.55), hence 2e-3;
# - share of 2000 samples within 0.3 (3 sigma) of a centre: 0.33-0.61 (data 0.99; untrained
#   0.043). W2 to held-out data is NOT graded: 0.28-0.86, i.e. 1.2-3.8 x the mean noise floor,
#   while N(0, I) itself is at 0.96 (the flow's filaments between modes cost W2 more than the
#   untrained flow's spread).
GAIN_MIN = 0.7
PART_MODES_MIN = 0.15
RAYON_MODE = 0.3


# -- the coupling layer --------------------------------------------------------------------------
def _cases_coupling(rng, hidden):
    specs = [(40, 0), (30, 1)] if hidden else [(50, 1)]
    cases = []
    for n, k in specs:
        sign = rng.choice([-1.0, 1.0], size=2)
        coefs = [sign[0] * rng.uniform(0.6, 1.2), rng.uniform(0.8, 1.5), rng.uniform(0.2, 0.6),
                 sign[1] * rng.uniform(0.5, 1.0), rng.uniform(1.0, 2.0), rng.uniform(0.3, 0.8)]
        cases.append({"z": rng.normal(size=(n, 2)), "x": 1.5 * rng.normal(size=(n, 2)),
                      "k": k, "coefs": np.array(coefs)})
    return cases


def _st(case, u):
    a, b, c, d, e, f = case["coefs"]
    return a * np.tanh(b * u + c), d * np.sin(e * u) + f * u


def _forward(case, z, k, exp=True):
    j = 1 - k
    s, t = _st(case, z[:, k])
    x = z.copy()
    x[:, j] = z[:, j] * (np.exp(s) if exp else s) + t
    return x


def _inverse(case, x, k, kind="juste"):
    j = 1 - k
    s, t = _st(case, x[:, k])
    z = x.copy()
    z[:, j] = {"juste": lambda: (x[:, j] - t) * np.exp(-s),
               "exp_s": lambda: (x[:, j] - t) * np.exp(s),
               "ordre": lambda: x[:, j] * np.exp(-s) - t}[kind]()
    return z


def _logdet_autograd(case, points, k, inverse):
    """log|det J| of the layer (or of its inverse) at each point: torch.autograd's Jacobian of
    the map, then slogdet of each point's 2 x 2 block."""
    import torch

    a, b, c, d, e, f = (float(v) for v in case["coefs"])
    j = 1 - k

    def layer(p):
        u = p[:, k]
        s, t = a * torch.tanh(b * u + c), d * torch.sin(e * u) + f * u
        out = [None, None]
        out[k] = u
        out[j] = (p[:, j] - t) * torch.exp(-s) if inverse else p[:, j] * torch.exp(s) + t
        return torch.stack(out, dim=1)

    P = torch.tensor(points, dtype=torch.float64)
    J = torch.autograd.functional.jacobian(lambda q: layer(q).sum(0), P)  # (2, n, 2)
    blocks = J.permute(1, 0, 2)  # point i: d layer(p_i) / d p_i
    return torch.linalg.slogdet(blocks)[1].numpy()


def _verdict_coupling(case, answer):
    z, xin, k = np.asarray(case["z"]), np.asarray(case["x"]), int(case["k"])
    n, j = len(z), 1 - int(case["k"])
    x = as_array(answer, "x", (n, 2), what="x renvoyé par couplage_direct")
    ld = as_array(answer, "logdet", what="log|det J| renvoyé par couplage_direct")
    if ld.shape == (n, 1):
        raise AssertionError("couplage_direct : log|det J| doit être un tableau (n,), pas (n, 1) "
                             "— prenez s[:, 0]")
    ld = as_array(answer, "logdet", (n,), what="log|det J| renvoyé par couplage_direct")
    expected = _forward(case, z, k)
    if not close(x, expected, 1e-8, 1e-10):
        if close(x, _forward(case, z, j), 1e-8, 1e-10):
            raise AssertionError(f"couplage_direct transforme la coordonnée k = {k} : elle doit être "
                                 f"GARDÉE (x_k = z_k) et c'est l'autre, j = {j}, qui est "
                                 "transformée, par s et t lus sur z_k")
        if close(x, _forward(case, z, k, exp=False), 1e-8, 1e-10):
            raise AssertionError("couplage_direct : x_j = z_j · exp(s(z_k)) + t(z_k) — "
                                 "l'exponentielle de s est oubliée (elle garantit un facteur > 0, "
                                 "donc une couche inversible)")
        if not close(x[:, k], z[:, k], 1e-8, 1e-10):
            raise AssertionError(f"couplage_direct doit recopier la coordonnée gardée : x_k = z_k "
                                 f"(k = {k})")
        raise AssertionError("couplage_direct : x_j ≠ z_j · exp(s(z_k)) + t(z_k)")
    exact = _logdet_autograd(case, z, k, inverse=False)
    if not close(ld, exact, 1e-8, 1e-10):
        if close(ld, -exact, 1e-8, 1e-10):
            raise AssertionError("couplage_direct : signe du log-déterminant — la jacobienne de T "
                                 "est triangulaire de diagonale (1, exp(s(z_k))), donc "
                                 "log|det J_T| = +s(z_k)")
        if close(ld, 0 * exact, 0, 1e-12):
            raise AssertionError("couplage_direct : log|det J_T| est oublié (nul) — c'est s(z_k), "
                                 "le terme de l'éq. 10 des notes qui corrige la densité")
        raise AssertionError("couplage_direct : log|det J_T| incorrect (la jacobienne est "
                             "triangulaire : la somme des logs de sa diagonale)")
    zz = as_array(answer, "z", (n, 2), what="z renvoyé par couplage_inverse")
    ld_inv = as_array(answer, "logdet_inv", what="log|det J| renvoyé par couplage_inverse")
    if ld_inv.shape == (n, 1):
        raise AssertionError("couplage_inverse : log|det J| doit être un tableau (n,), pas (n, 1)")
    ld_inv = as_array(answer, "logdet_inv", (n,), what="log|det J| renvoyé par couplage_inverse")
    if not close(zz, _inverse(case, xin, k), 1e-8, 1e-10):
        if close(zz, _inverse(case, xin, k, "exp_s"), 1e-8, 1e-10):
            raise AssertionError("couplage_inverse : pour inverser x_j = z_j · exp(s) + t, on "
                                 "multiplie par exp(−s), pas par exp(s)")
        if close(zz, _inverse(case, xin, k, "ordre"), 1e-8, 1e-10):
            raise AssertionError("couplage_inverse : retranchez t AVANT de diviser par exp(s) : "
                                 "z_j = (x_j − t(x_k)) · exp(−s(x_k))")
        if close(zz, _inverse(case, xin, j), 1e-8, 1e-10):
            raise AssertionError(f"couplage_inverse transforme la coordonnée k = {k} : elle est "
                                 "gardée (z_k = x_k)")
        raise AssertionError("couplage_inverse : z_j ≠ (x_j − t(x_k)) · exp(−s(x_k)) "
                             "(T⁻¹(T(z)) doit redonner z)")
    exact = _logdet_autograd(case, xin, k, inverse=True)
    if not close(ld_inv, exact, 1e-8, 1e-10):
        if close(ld_inv, -exact, 1e-8, 1e-10):
            raise AssertionError("couplage_inverse : signe du log-déterminant — "
                                 "log|det J_(T⁻¹)(x)| = −s(x_k) (l'inverse de celui de T)")
        if close(ld_inv, 0 * exact, 0, 1e-12):
            raise AssertionError("couplage_inverse : log|det J_(T⁻¹)| est oublié (nul) — il vaut "
                                 "−s(x_k)")
        raise AssertionError("couplage_inverse : log|det J_(T⁻¹)| incorrect")


# -- the trained flow ----------------------------------------------------------------------------
def _cases_flow(rng, hidden):
    k = np.repeat(np.arange(8), 250)  # held-out test points, 250 per mode
    a = 2 * np.pi * k / 8
    test = 2.0 * np.c_[np.cos(a), np.sin(a)] + 0.1 * rng.normal(size=(len(k), 2))
    return [{"test": test[rng.permutation(len(test))], "z": rng.normal(size=(2000, 2)),
             "graine": int(rng.integers(2 ** 31))}]


def _rebuild(answer):
    """The flow's layers [(s, t, k)] rebuilt from its weights: each s, t a NumPy MLP (tanh)."""
    if "type" in answer:
        raise AssertionError(f"flot_8g doit être votre FlotCouplage entraîné, pas "
                             f"{answer['type']}")
    W = {}
    for k, v in answer.items():
        if k.startswith("w:") and not isinstance(v, str):
            try:
                W[k[2:]] = np.asarray(v, dtype=float)
            except (TypeError, ValueError):
                raise AssertionError(f"flot_8g : poids {k[2:]} illisibles") from None
    if "coords" not in answer or not any(k.startswith("s.") for k in W):
        raise AssertionError("flot_8g doit être un FlotCouplage (le flot fourni), entraîné")
    try:
        coords = np.asarray(answer["coords"], dtype=float).reshape(-1)
    except (TypeError, ValueError):
        coords = np.array([np.nan])
    if not np.all(np.isin(coords, (0.0, 1.0))):
        raise AssertionError("flot_8g : coordonnées gardées inattendues (0 ou 1 attendues) — "
                             "utilisez FlotCouplage()")
    coords = coords.astype(int)
    if not all(np.all(np.isfinite(v)) for v in W.values()):
        raise AssertionError("flot_8g : poids non finis (l'entraînement a divergé ?)")

    def mlp(prefix, bounded):
        ids = {k.split(".")[2] for k in W if k.startswith(prefix) and k.count(".") == 3}
        try:
            ids = sorted(int(c) for c in ids)
            mats = [(W[f"{prefix}{c}.weight"], W[f"{prefix}{c}.bias"]) for c in ids]
        except (KeyError, ValueError):
            mats = []
        size = 1
        for w, b in mats:
            if w.ndim != 2 or w.shape[1] != size or b.shape != (w.shape[0],):
                mats = []
                break
            size = w.shape[0]
        if not mats or size != 1:
            raise AssertionError(f"flot_8g : architecture inattendue ({prefix[:-1]}) — "
                                 "utilisez FlotCouplage()")

        def f(u):
            h = u[:, None]
            for i, (w, b) in enumerate(mats):
                h = h @ w.T + b
                if i < len(mats) - 1 or bounded:  # s ends with tanh (FlotCouplage)
                    h = np.tanh(h)
            return h[:, 0]
        return f

    return [(mlp(f"s.{i}.", True), mlp(f"t.{i}.", False), int(k)) for i, k in enumerate(coords)]


def flow_forward(layers, z):
    x = np.array(z, dtype=float)
    for s, t, k in layers:
        u = x[:, k].copy()
        x[:, 1 - k] = x[:, 1 - k] * np.exp(s(u)) + t(u)
    return x


def flow_inverse(layers, x):
    z = np.array(x, dtype=float)
    for s, t, k in reversed(layers):
        u = z[:, k].copy()
        z[:, 1 - k] = (z[:, 1 - k] - t(u)) * np.exp(-s(u))
    return z


def log_density(layers, x, h=1e-5):
    """(log π(T⁻¹(x)), log|det J_(T⁻¹)(x)|) with the Jacobian by central finite differences."""
    z = flow_inverse(layers, x)
    J = np.empty((len(x), 2, 2))
    for c in range(2):
        e = np.zeros(2)
        e[c] = h
        J[:, :, c] = (flow_inverse(layers, x + e) - flow_inverse(layers, x - e)) / (2 * h)
    log_pi = -0.5 * np.sum(z ** 2, axis=1) - math.log(2 * math.pi)
    return log_pi, np.linalg.slogdet(J)[1]


def gaussian_baseline(test, rng):
    """Held-out log-likelihood of the Gaussian fitted (mean, covariance) to 20 000 points."""
    from scipy.stats import multivariate_normal

    train = huit_gaussiennes(20_000, rng)
    return float(multivariate_normal(train.mean(0), np.cov(train.T)).logpdf(test).mean())


def _verdict_flow(case, answer):
    layers = _rebuild(answer)
    test, z = np.asarray(case["test"]), np.asarray(case["z"])
    log_p = as_array(answer, "log_p", (len(test),), what="log_densite_flot(flot_8g, x)")
    log_pi, log_det = log_density(layers, test)
    expected = log_pi + log_det
    if not close(log_p, expected, 1e-3, 1e-2):
        if close(log_p, log_pi - log_det, 1e-3, 1e-2):
            raise AssertionError("log_densite_flot : signe des log-déterminants — log p(x) = "
                                 "log π(T⁻¹(x)) + Σ log|det J_(T_i⁻¹)| (éq. 10 et 12)")
        if close(log_p, log_pi, 1e-3, 1e-2):
            raise AssertionError("log_densite_flot : les log|det J| sont oubliés — log π(T⁻¹(x)) "
                                 "seul n'est pas une densité (éq. 10)")
        raise AssertionError(
            f"log_densite_flot ne donne pas log π(T⁻¹(x)) + log|det J_(T⁻¹)(x)| (jacobienne "
            f"calculée par le correcteur) : écart maximal {np.max(np.abs(log_p - expected)):.3g} "
            "— couches parcourues de la dernière à la première ? π = N(0, I) en 2D ?")
    X = as_array(answer, "echantillons", z.shape, what="echantillonner_flot(flot_8g, z)")
    pushed = flow_forward(layers, z)
    if not close(X, pushed, 1e-3, 1e-2):
        if close(X, flow_inverse(layers, z), 1e-3, 1e-2):
            raise AssertionError("echantillonner_flot applique T⁻¹ : on échantillonne dans le sens "
                                 "génératif, x = T(z) (couplage_direct)")
        if close(X, flow_forward(layers[::-1], z), 1e-3, 1e-2):
            raise AssertionError("echantillonner_flot : ordre des couches — T = T_n ∘ … ∘ T_1 "
                                 "applique d'abord la première couche (éq. 11)")
        raise AssertionError("echantillonner_flot(flot, z) ne renvoie pas T(z) (couches de "
                             "flot.couches() dans l'ordre, couplage_direct)")
    rng = np.random.default_rng(int(case["graine"]))
    gain = float(np.mean(expected)) - gaussian_baseline(test, rng)
    if gain < GAIN_MIN:
        raise AssertionError(
            f"flot_8g : log-vraisemblance moyenne sur des données de test {np.mean(expected):.3f}"
            f", seulement {gain:+.3f} nat au-dessus de la gaussienne ajustée (moyenne, covariance)"
            f" ; au moins {GAIN_MIN:g} attendu — flot entraîné ?")
    distance = np.min(np.linalg.norm(pushed[:, None] - centres_8g()[None], axis=2), axis=1)
    part = float(np.mean(distance < RAYON_MODE))
    if part < PART_MODES_MIN:
        raise AssertionError(
            f"échantillons de flot_8g : {part:.1%} seulement à moins de {RAYON_MODE:g} (3σ) d'un "
            f"centre, au moins {PART_MODES_MIN:.0%} attendu (données : 99 % ; bruit blanc "
            "N(0, I) : 4 %)")


CHECKS = [
    Check("couplage_affine", _cases_coupling, _verdict_coupling,
          doc="Couche de couplage affine appliquée aux applications s et t du correcteur : sens "
              "direct et inverse comparés à ses formules, log|det J| des deux sens comparés au "
              "déterminant de la jacobienne calculée par torch.autograd (slogdet)."),
    Check("flot_8g", _cases_flow, _verdict_flow,
          doc="Flot entraîné sur les 8 gaussiennes, reconstruit par le correcteur depuis ses "
              "poids : log_densite_flot comparée à log π(T⁻¹(x)) + log|det J| (jacobienne par "
              "différences finies), echantillonner_flot comparé à T(z) ; log-vraisemblance de "
              "test ≥ celle de la gaussienne ajustée + 0.7 nat ; au moins 15 % des échantillons "
              "T(z) à moins de 0.3 d'un centre."),
]


# -- a generator trained by optimal transport: the minibatch loss --------------------------------
def _cases_ot_loss(rng, hidden):
    specs = [(20, 2), (45, 3)] if hidden else [(30, 2)]
    return [{"x": rng.normal(size=(n, d)), "z": 1.5 * rng.normal(size=(n, d)) + 0.5}
            for n, d in specs]


def _verdict_ot_loss(case, answer):
    from .oracles import pot

    ot = pot()
    x, z = np.asarray(case["x"]), np.asarray(case["z"])
    n = len(x)
    got = as_array(answer, "perte", what="perte_transport")
    if got.size != 1:
        raise AssertionError(f"perte_transport doit renvoyer un nombre (un tenseur à un élément), "
                             f"pas un tableau de forme {got.shape}")
    got = float(got.reshape(()))
    a = np.full(n, 1 / n)
    plan = ot.emd(a, a, ot.dist(x, z))  # POT's network simplex: a permutation / n
    expected = float(np.sum(plan * ot.dist(x, z)))
    if not close(got, expected, 1e-8, 1e-10):
        in_order = float(np.mean(np.sum((x - z) ** 2, axis=1)))
        w1_plan = ot.emd(a, a, ot.dist(x, z, metric="euclidean"))
        if close(got, in_order, 1e-8, 1e-10):
            raise AssertionError("perte_transport apparie x_i et z_i dans l'ordre : il faut d'abord "
                                 "la permutation optimale σ (linear_sum_assignment sur la matrice "
                                 "des ‖x_i − z_j‖²), puis la moyenne des ‖x_i − z_σ(i)‖²")
        if close(got, math.sqrt(expected), 1e-8, 1e-10):
            raise AssertionError("perte_transport : la perte est W₂², sans racine (la racine "
                                 "rendrait le gradient infini quand W₂ → 0)")
        if close(got, n * expected, 1e-8, 1e-10):
            raise AssertionError("perte_transport : la moyenne des coûts appariés, pas leur somme "
                                 "(W₂² pour des masses 1/n)")
        if close(got, float(np.sum(w1_plan * ot.dist(x, z, metric="euclidean"))), 1e-8, 1e-10):
            raise AssertionError("perte_transport : coût ‖x_i − z_j‖ non élevé au carré (c'est "
                                 "W₁) — W₂² utilise les distances au carré")
        raise AssertionError(f"perte_transport : {got:.6g} au lieu de W₂² = {expected:.6g} "
                             "(POT, ot.emd2)")
    if "grad" not in answer:
        raise AssertionError("perte_transport doit renvoyer un tenseur différentiable (pas un float "
                             "ni .item(), pas de .detach() sur les x) : l'entraînement rétropropage "
                             "à travers elle")
    grad = as_array(answer, "grad", what="gradient de perte_transport")
    expected_grad = 2.0 * (x - n * plan @ z) / n  # envelope theorem: σ held fixed
    if grad.shape != x.shape or not close(grad, expected_grad, 1e-6, 1e-9):
        raise AssertionError("gradient de perte_transport par rapport à x incorrect : attendu "
                             "2 (x_i − z_σ(i)) / n, la permutation σ étant fixée (calculez-la sur "
                             "des coûts détachés, puis la perte sur les coûts du graphe)")


CHECKS.append(
    Check("perte_transport", _cases_ot_loss, _verdict_ot_loss,
          doc="Perte W₂² d'un mini-lot (masses uniformes, n points de chaque côté) comparée au "
              "coût optimal de POT (ot.emd, simplexe de réseau) ; gradient par rapport aux x "
              "comparé à 2 (x_i − z_σ(i)) / n, σ la permutation du plan optimal."))
