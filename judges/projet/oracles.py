"""The project judge's oracles: other methods than the students' for the same quantities.

- exact W2: the Hungarian algorithm on replicated points (scipy), and POT's network simplex;
- scores: torch.autograd through torch.distributions log-densities of the diffused mixtures;
- Tweedie's denoiser: the Bayesian posterior mean of the mixture (no score involved);
- Euler-Maruyama for Ornstein-Uhlenbeck: the explicit sum of the linear recursion;
- the probability flow: exact (affine) for a Gaussian field, scipy's solve_ivp otherwise;
- trained networks: `ReseauScore` rebuilt with NumPy from its weights.

POT is imported without its TensorFlow and PyTorch backends (1.3 s instead of 4-7 s).
"""

from __future__ import annotations

import math
import os
import warnings

import numpy as np

from projet.sampling import sigma2


def pot():
    os.environ.setdefault("POT_BACKEND_DISABLE_TENSORFLOW", "1")
    os.environ.setdefault("POT_BACKEND_DISABLE_PYTORCH", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ot
    return ot


def w2_hungarian(X, Y):
    """Exact W2 between uniform empirical measures, by the Hungarian algorithm: each point of
    the smaller set is replicated k times when len(larger) = k len(smaller)."""
    from scipy.optimize import linear_sum_assignment

    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    if len(X) > len(Y):
        X, Y = Y, X
    Xr = np.repeat(X, len(Y) // len(X), axis=0)
    C = ((Xr[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    i, j = linear_sum_assignment(C)
    return float(np.sqrt(C[i, j].mean()))


def w2_pot(X, Y):
    """Exact W2 with POT's network simplex (the judge's metric for samples)."""
    ot = pot()
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    M = ot.dist(X, Y)
    return float(np.sqrt(max(ot.emd2(np.full(len(X), 1 / len(X)), np.full(len(Y), 1 / len(Y)),
                                     M, numItermax=10 ** 7), 0.0)))


def _log_p_mixture(x, t, centres, sigma0):
    """log p_t(x) of the OU-diffused mixture (1/K) Σ N(c_k, sigma0² I), as a torch graph."""
    import torch
    from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

    centres = torch.as_tensor(np.asarray(centres, dtype=float))
    a = math.exp(-t)
    spread = math.sqrt(a * a * sigma0 ** 2 + float(sigma2(t)))
    comp = Independent(Normal(a * centres, torch.full_like(centres, spread)), 1)
    mixture = MixtureSameFamily(Categorical(logits=torch.zeros(len(centres),
                                                               dtype=torch.float64)), comp)
    return mixture.log_prob(x)


def score_oracle(x, t, centres, sigma0):
    """∇ log p_t(x) of the diffused mixture, by automatic differentiation (float64)."""
    import torch

    xt = torch.tensor(np.asarray(x, dtype=float), requires_grad=True)
    (g,) = torch.autograd.grad(_log_p_mixture(xt, float(t), centres, sigma0).sum(), xt)
    return g.numpy()


def posterior_mean(x, t, centres, sigma0):
    """E[x_0 | x_t = x] for the mixture, by Bayes: posterior probabilities of the components
    (torch.distributions log-densities) times each component's Gaussian posterior mean."""
    import torch
    from torch.distributions import Independent, Normal

    x, centres = np.asarray(x, dtype=float), np.asarray(centres, dtype=float)
    a, s2 = math.exp(-t), float(sigma2(t))
    v = a * a * sigma0 ** 2 + s2
    comp = Independent(Normal(torch.tensor(a * centres), math.sqrt(v)), 1)
    r = torch.softmax(comp.log_prob(torch.tensor(x)[:, None, :]), dim=1).numpy()
    gain = a * sigma0 ** 2 / v
    post = centres[None] + gain * (x[:, None, :] - a * centres[None])
    return (r[:, :, None] * post).sum(axis=1)


def em_explicit(x0, h, xi, drift=-1.0, diffusion=2.0):
    """All the iterates x_k = a^k x0 + √(diffusion h) Σ_{j<k} a^(k−1−j) ξ_j, a = 1 + drift h,
    as one matrix product (not a loop)."""
    N = len(xi)
    a = 1.0 + drift * h
    k = np.arange(N + 1)[:, None]
    j = np.arange(N)[None, :]
    L = np.where(j < k, a ** np.clip(k - 1 - j, 0, None), 0.0)  # (N + 1, N)
    traj = (a ** k) * x0.reshape(1, -1) + np.sqrt(diffusion * h) * (L @ xi.reshape(N, -1))
    return traj.reshape((N + 1,) + x0.shape)


def flow_end(case, score):
    """The probability flow dx/dt' = x + s(x, t) of the case's field from temps[0] to
    temps[-1]: exact (affine per coordinate) for a Gaussian field, else scipy's adaptive RK45."""
    x, temps = np.asarray(case["x"], dtype=float), case["temps"]
    t0, t1 = float(temps[0]), float(temps[-1])
    if float(case["courbure"]) == 0:
        m, s = np.asarray(case["m"], dtype=float), np.asarray(case["s"], dtype=float)

        def v(t):
            return math.exp(-2 * t) * s ** 2 + float(sigma2(t))

        return math.exp(-t1) * m + np.sqrt(v(t1) / v(t0)) * (x - math.exp(-t0) * m)
    from scipy.integrate import solve_ivp

    shape = x.shape

    def f(t, y):
        y = y.reshape(shape)
        return (-y - score(y, t)).ravel()

    sol = solve_ivp(f, (t0, t1), x.ravel(), rtol=1e-8, atol=1e-9)
    return sol.y[:, -1].reshape(shape)


def network(W, x, t):
    """The forward pass of a ReseauScore from its state_dict (float64)."""
    x = np.asarray(x, dtype=float)
    t = np.broadcast_to(np.asarray(t, dtype=float).reshape(-1, 1), (len(x), 1))
    a = np.log(t) * W["freq"]
    h = np.concatenate([x, np.sin(a), np.cos(a)], axis=1)
    layers = sorted({int(k.split(".")[1]) for k in W if k.startswith("reseau.")})
    for i, c in enumerate(layers):
        h = h @ W[f"reseau.{c}.weight"].T + W[f"reseau.{c}.bias"]
        if i < len(layers) - 1:
            h = h / (1.0 + np.exp(-np.clip(h, -50, 50)))  # SiLU
    return h
