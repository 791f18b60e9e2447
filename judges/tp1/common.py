"""Helpers shared by TP1's verdicts: the regression problems, the cost through scikit-learn's
metric, and oracles of gradient descent on a quadratic cost (closed forms, no iteration)."""

from __future__ import annotations

import numpy as np

from grader.judging import as_array


def with_ones(X):
    return np.column_stack([np.ones(len(X)), X])


def mse(y, pred) -> float:
    """Mean squared error through scikit-learn's metric (inf when the prediction overflowed)."""
    from sklearn.metrics import mean_squared_error

    pred = np.asarray(pred, dtype=float)
    if not np.all(np.isfinite(pred)):
        return float("inf")
    return float(mean_squared_error(np.asarray(y, dtype=float), pred))


def cost(X, y, theta) -> float:
    """Empirical risk 1/n Σ (h(x_i) - y_i)² through scikit-learn's metric."""
    theta = np.asarray(theta, dtype=float)
    return mse(y, X @ theta[1:] + theta[0])


def fd_gradient(f, theta, eps):
    """Centred finite differences, judge side (only on judge-made costs and on peaks)."""
    theta = np.asarray(theta, dtype=float)
    return np.array([(f(theta + eps * e) - f(theta - eps * e)) / (2 * eps)
                     for e in np.eye(theta.size)])


def regression_problem(rng, n, p, centred=False):
    """Linear data with a bias of magnitude 1 to 3 (the bias matters)."""
    X = rng.normal(size=(n, p)) + 0.3 if centred else rng.uniform(0.0, 3.0, size=(n, p))
    theta = rng.normal(size=p + 1) * 1.5
    theta[0] = rng.choice([-1, 1]) * rng.uniform(1.0, 3.0)
    y = theta[0] + X @ theta[1:] + 0.4 * rng.normal(size=n)
    return X, y


def hessian_top(X) -> float:
    """Largest eigenvalue L of the Hessian 2/n X̃ᵀX̃ of the empirical risk."""
    Xt = with_ones(X)
    return float(np.linalg.eigvalsh(2.0 / len(X) * Xt.T @ Xt)[-1])


def lstsq(X, y):
    return np.linalg.lstsq(with_ones(X), y, rcond=None)[0]


def gd_closed_form(X, y, pas, n_iter):
    """Exact gradient-descent iterates on the quadratic risk, without iterating:
    θ_t = θ* + (I − pas H)^t (θ_0 − θ*), θ_0 = 0, θ* from lstsq, and
    C(θ_t) = C* + 1/2 Σ_k λ_k (1 − pas λ_k)^(2t) d_k². Returns (θ_T, [C(θ_0) … C(θ_T)])."""
    Xt = with_ones(X)
    star = lstsq(X, y)
    lam, Q = np.linalg.eigh(2.0 / len(X) * Xt.T @ Xt)
    d = Q.T @ (-star)
    c_star = cost(X, y, star)
    with np.errstate(all="ignore"):
        mult = (1.0 - pas * lam)[None, :] ** (np.arange(n_iter + 1)[:, None])
        theta_T = star + Q @ (mult[-1] * d)
        costs = c_star + 0.5 * (mult ** 2 * lam[None, :] * d[None, :] ** 2).sum(axis=1)
    return theta_T, costs


def ratio(got, exp):
    """r when got ≈ r × exp (collinear), else None."""
    got, exp = np.ravel(got).astype(float), np.ravel(exp).astype(float)
    nexp = float(exp @ exp)
    if nexp == 0 or got.shape != exp.shape:
        return None
    r = float(got @ exp) / nexp
    if np.linalg.norm(got - r * exp) <= 1e-6 * max(np.linalg.norm(got), 1e-300):
        return r
    return None


def is_ratio(r, target, tol=1e-5) -> bool:
    return r is not None and abs(r - target) <= tol * max(1.0, abs(target))


def vector(answer, key, shape, what, hint=None):
    """`as_array` with a diagnostic for some wrong shapes: `hint` maps a shape to its likely
    cause (a transposed matrix is always named)."""
    if key in answer and not isinstance(answer[key], str):
        got = np.shape(answer[key])
        if got != tuple(shape) and hint and got in hint:
            raise AssertionError(f"{what} : forme {got} au lieu de {tuple(shape)} : {hint[got]}")
    return as_array(answer, key, shape=shape, what=what)
