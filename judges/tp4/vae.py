"""TP4, part 4: the variational auto-encoder (reparameterisation, KL, −ELBO, the trained VAE).

Oracles: torch.distributions for the KL divergence and the Bernoulli log-likelihood; statistics
of many draws and exact gradients for the reparameterisation; the trained VAE rebuilt with NumPy
from its weights, its held-out −ELBO measured with the judge's noise, and its prior samples judged
by the judge's classifier (`judges.common.digits_quality`).
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, as_array, close, fmt
from judges.common.digits_quality import judge_samples
from tp4.data import LATENT_VAE, SEUILS, conseils_latent, forme_vae
from tp4.trained import _proprietes_reparametrisation

from .networks import ae_decode, linear, rebuilt, relu, sigmoid
from .scale import digits, scale


# -- the reparameterisation trick ----------------------------------------------------------------
def _cases_reparam(rng, hidden):
    dims = [5, 1] if hidden else [3]
    return [{"mu": rng.normal(size=d) * 2, "logvar": rng.uniform(-3, 2, size=d), "n": 4000,
             "w": rng.normal(size=(4000, d)), "graine": int(rng.integers(2 ** 31))} for d in dims]


# -- the KL divergence ---------------------------------------------------------------------------
def kl_oracle(mu, logvar):
    """KL(N(mu, diag σ²) ‖ N(0, I)) per example, by torch.distributions (float64)."""
    import torch
    from torch.distributions import Normal, kl_divergence

    m = torch.tensor(mu, dtype=torch.float64)
    s = torch.exp(0.5 * torch.tensor(logvar, dtype=torch.float64))
    return kl_divergence(Normal(m, s), Normal(torch.zeros_like(m),
                                              torch.ones_like(m))).sum(-1).numpy()


def _cases_kl(rng, hidden):
    specs = [(1, 5), (9, 1), (4, 16)] if hidden else [(6, 3)]
    return [{"mu": rng.normal(size=(n, d)) * 1.5, "logvar": rng.uniform(-2.5, 1.5, size=(n, d))}
            for n, d in specs]


def _verdict_kl(case, answer):
    mu, lv = case["mu"], case["logvar"]
    n, d = mu.shape
    got = as_array(answer, "kl", what="kl_gaussienne")
    if got.shape in ((), (1,)) and got.shape != (n,):
        raise AssertionError("kl_gaussienne doit renvoyer une divergence par exemple (forme (n,)),"
                             " pas la moyenne du lot")
    if got.shape == (n, d) and d > 1:
        raise AssertionError("sommez sur les d dimensions latentes : une valeur par exemple")
    got = as_array(answer, "kl", (n,), what="kl_gaussienne")
    exp = kl_oracle(mu, lv)
    if close(got, exp, 1e-4, 1e-6):
        return
    term = mu ** 2 + np.exp(lv) - 1 - lv
    for value, words in (
            (-exp, "signe opposé : une divergence KL est positive, "
                   "KL = ½ Σ (mu² + σ² − 1 − log σ²)"),
            (2 * exp, "facteur ½ oublié : KL = ½ Σ (mu² + σ² − 1 − log σ²)"),
            (exp / d if d > 1 else None, "moyenne sur les dimensions latentes : il faut la SOMME"),
            (0.5 * np.sum(mu ** 2 + np.exp(2 * lv) - 1 - 2 * lv, axis=1),
             "logvar traité comme log σ : logvar = log σ², donc σ² = exp(logvar)"),
            (0.5 * np.sum(mu ** 2 + np.exp(lv) ** 2 - 1 - lv, axis=1),
             "σ² = exp(logvar) (et non exp(logvar)²)"),
            (0.5 * np.sum(term + 2 * lv, axis=1),
             "signe du terme log σ² : KL = ½ Σ (mu² + σ² − 1 − log σ²)")):
        if value is not None and close(got, value, 1e-4, 1e-6):
            raise AssertionError(words)
    raise AssertionError(f"KL incorrecte : attendu {fmt(exp)}, obtenu {fmt(got)}")


# -- the loss ---------------------------------------------------------------------------------
def bce_oracle(x, p):
    """Σ_pixels −log Bernoulli(x; p) per example (x in [0, 1]): torch.distributions.Bernoulli's
    log_prob, x log p + (1 − x) log(1 − p) without its support check."""
    import torch
    from torch.distributions import Bernoulli

    dist = Bernoulli(probs=torch.tensor(p, dtype=torch.float64), validate_args=False)
    return -dist.log_prob(torch.tensor(x, dtype=torch.float64)).sum(-1).numpy()


def _cases_loss(rng, hidden):
    specs = [(1, 2), (12, 5)] if hidden else [(7, 3)]
    cases = []
    for n, d in specs:
        x = digits()[1][rng.choice(450, size=n, replace=False)].astype(float)
        cases.append({"x": x, "x_rec": sigmoid(rng.normal(size=(n, 64)) * 2),
                      "mu": rng.normal(size=(n, d)), "logvar": rng.uniform(-2, 1, size=(n, d))})
    return cases


def _verdict_loss(case, answer):
    x, p, mu, lv = case["x"], case["x_rec"], case["mu"], case["logvar"]
    got = as_array(answer, "perte", what="perte_vae")
    if got.size != 1:
        raise AssertionError(f"perte_vae doit renvoyer un scalaire (moyenne sur le lot), pas un "
                             f"tableau de forme {got.shape}")
    got = float(got.reshape(()))
    rec, kl = bce_oracle(x, p), kl_oracle(mu, lv)
    exp = float(np.mean(rec + kl))
    if abs(got - exp) <= 1e-4 * abs(exp):
        if "grad0" not in answer:
            raise AssertionError("la perte doit être un tenseur PyTorch différentiable (pas un "
                                 "float, pas de .item() ni de .detach())")
        grad = as_array(answer, "grad0", what="gradient de la perte").reshape(-1)
        expected = ((p - x) / (p * (1 - p)) / len(x)).reshape(-1)
        if grad.shape != expected.shape or not close(grad, expected, 1e-3, 1e-6):
            raise AssertionError("le gradient de la perte par rapport à x_rec est faux : la "
                                 "reconstruction doit être l'entropie croisée binaire de x_rec")
        return
    for value, words in (
            (np.mean(rec - kl), "signe de la KL : −ELBO = reconstruction + KL (on AJOUTE la KL)"),
            (np.mean(rec), "la KL est oubliée : −ELBO = reconstruction + KL"),
            (np.mean(rec / 64 + kl), "entropie croisée moyennée sur les pixels : il faut la "
                                     "SOMME sur les 64 pixels (log-vraisemblance de l'image "
                                     "entière), sinon la KL écrase la reconstruction"),
            (np.sum(rec + kl), "somme sur le lot : renvoyez la MOYENNE sur les exemples du lot"),
            (np.mean(np.sum((p - x) ** 2, axis=1) + kl),
             "reconstruction par erreur quadratique : l'énoncé demande l'entropie croisée "
             "binaire (F.binary_cross_entropy, somme)"),
            (np.mean(rec + 2 * kl), "facteur incorrect sur la KL : KL = ½ Σ (mu² + σ² − 1 − "
                                    "log σ²)"),
            (np.mean(rec + kl / 2), "facteur incorrect sur la KL : KL = ½ Σ (mu² + σ² − 1 − "
                                    "log σ²)")):
        if abs(got - float(value)) <= 1e-4 * max(abs(float(value)), 1e-9):
            raise AssertionError(words)
    raise AssertionError(f"perte incorrecte : attendu {exp:.6g} (reconstruction "
                         f"{np.mean(rec):.4g} + KL {np.mean(kl):.4g}), obtenu {got:.6g}")


# -- the trained VAE ----------------------------------------------------------------------------
def vae_elbo(W, X, eps):
    """Held-out −ELBO (nats per image) of the rebuilt VAE with the judge's noise eps (K, n, d),
    and its mean KL term."""
    h = relu(linear(W, "encodeur.0", X))
    mu, lv = linear(W, "mu", h), linear(W, "logvar", h)
    kl = 0.5 * np.sum(mu ** 2 + np.exp(lv) - 1 - lv, axis=1)
    rec = 0.0
    for e in eps:
        p = np.clip(ae_decode(W, mu + np.exp(0.5 * lv) * e), 1e-7, 1 - 1e-7)
        rec = rec - np.sum(X * np.log(p) + (1 - X) * np.log(1 - p), axis=1) / len(eps)
    return float(np.mean(rec + kl)), float(np.mean(kl))


def _cases_vae(rng, hidden):
    return [{"z": rng.normal(size=(450, LATENT_VAE)), "_z": rng.normal(size=(450, LATENT_VAE)),
             "_eps": rng.normal(size=(2, 450, LATENT_VAE))}]


def _verdict_vae(case, answer):
    W = rebuilt(answer, "vae", "modèle VAE", "vae.decodeur(z)", forme_vae(LATENT_VAE),
                conseils_latent(LATENT_VAE), ae_decode, case["z"],
                "Linear(d, 128) → ReLU → Linear(128, 64) → Sigmoid")
    s = SEUILS[scale()]
    elbo, kl = vae_elbo(W, digits()[1].astype(float), case["_eps"])
    if elbo > s["elbo_vae"]:
        raise AssertionError(f"−ELBO sur les chiffres de test = {elbo:.2f} nats par image (dont "
                             f"KL {kl:.2f}) : au plus {s['elbo_vae']:g} attendu — entraînez plus "
                             "longtemps, ou vérifiez perte_vae et la reparamétrisation")
    judge_samples(ae_decode(W, case["_z"]), "VAE (z ~ N(0, I) décodé)", s["couverture_vae"],
                  s["frechet_vae"], s["confiance_vae"],
                  "entraînez plus longtemps ou vérifiez l'entraînement")


CHECKS = [
    Check("reparametrer", _cases_reparam, _proprietes_reparametrisation,
          doc="Astuce de reparamétrisation : moyenne et écart-type de 4000 tirages "
              "(σ = exp(logvar/2)), gradients exacts ∂z/∂mu = 1 et ∂z/∂logvar = (z − mu)/2, "
              "nouveau bruit à chaque appel."),
    Check("kl_gaussienne", _cases_kl, _verdict_kl,
          doc="KL(N(mu, diag exp(logvar)) ‖ N(0, I)) par exemple, comparée à "
              "torch.distributions.kl_divergence ; diagnostics : signe, ½, log σ vs log σ², "
              "moyenne."),
    Check("perte_vae", _cases_loss, _verdict_loss,
          doc="−ELBO moyen du lot : entropie croisée binaire sommée sur les pixels "
              "(torch.distributions.Bernoulli) + KL (torch.distributions), différentiable "
              "(gradient par rapport à x_rec comparé à sa formule)."),
    Check("vae_entraine", _cases_vae, _verdict_vae,
          doc="VAE entraîné du notebook : poids reconstruits par le correcteur ; −ELBO sur les "
              "chiffres de test (bruit du correcteur) et qualité des images décodées depuis "
              "N(0, I) (classifieur du correcteur : couverture, confiance, Fréchet)."),
]
