"""TP1's data, given to the students: the sick-trees data, regression and polynomial data, the
`peaks` surface with its gradient, and the relative error used to compare two gradients.

Nothing here answers an exercise. Module-level code stays cheap: scipy is imported inside the
one function that needs it.
"""

from __future__ import annotations

import numpy as np


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _linearly_separable(X, y) -> bool:
    """True when some (w, b) gives (2 y_i - 1)(w.x_i + b) >= 1 for all i (a feasibility linear
    program: it says whether a hyperplane exists, it returns none)."""
    from scipy.optimize import linprog

    s = 2.0 * np.asarray(y, dtype=float) - 1.0
    Xt = np.column_stack([X, np.ones(len(X))])
    res = linprog(np.zeros(Xt.shape[1]), A_ub=-(s[:, None] * Xt), b_ub=-np.ones(len(X)),
                  bounds=[(None, None)] * Xt.shape[1], method="highs")
    return res.status == 0


def arbres_malades(n=40, separable=True, rng=None):
    """The course's sick-trees data: X[:, 0] = number of broken branches (integer), X[:, 1] =
    height in metres; y = 1 for a sick tree, 0 otherwise.

    separable=True: label from the line branches = 0.5 * height + 1, no point closer than 0.75
    branch to it (linearly separable). separable=False: noisy labels around that line, and the
    sample is guaranteed not to be linearly separable.
    """
    rng = _rng(rng)
    while True:
        branches = rng.integers(0, 16, size=4 * n).astype(float)
        height = np.round(rng.uniform(2.0, 20.0, size=4 * n), 1)
        s = branches - 0.5 * height - 1.0
        if separable:
            keep = np.abs(s) >= 0.75
            branches, height, s = branches[keep][:n], height[keep][:n], s[keep][:n]
            y = (s > 0).astype(int)
        else:
            branches, height, s = branches[:n], height[:n], s[:n]
            y = (s + rng.normal(0.0, 1.5, size=n) > 0).astype(int)
        X = np.column_stack([branches, height])
        if len(y) == n and 0 < y.sum() < n and (separable or not _linearly_separable(X, y)):
            return X, y


def donnees_regression(n=60, p=1, bruit=0.5, rng=None):
    """Linear-regression data y = 2 + 1.5 x_1 - x_2 + ... + noise, features uniform on [0, 3]
    (not centred: the bias matters and the problem is a little ill-conditioned)."""
    rng = _rng(rng)
    X = rng.uniform(0.0, 3.0, size=(n, p))
    theta_vrai = np.concatenate([[2.0], [1.5, -1.0, 0.5, 2.0, -0.5][:p],
                                 rng.normal(size=max(0, p - 5))])
    y = theta_vrai[0] + X @ theta_vrai[1:] + bruit * rng.normal(size=n)
    return X, y


def donnees_polynomiales(n=30, bruit=0.25, rng=None):
    """1-D data y = sin(pi x) + noise with x uniform on [-1, 1] (for over-fitting studies)."""
    rng = _rng(rng)
    x = np.sort(rng.uniform(-1.0, 1.0, size=n))
    y = np.sin(np.pi * x) + bruit * rng.normal(size=n)
    return x, y


def peaks(x, y):
    """MATLAB's `peaks` surface (vectorised): three local minima, three local maxima."""
    return (3 * (1 - x) ** 2 * np.exp(-x ** 2 - (y + 1) ** 2)
            - 10 * (x / 5 - x ** 3 - y ** 5) * np.exp(-x ** 2 - y ** 2)
            - np.exp(-(x + 1) ** 2 - y ** 2) / 3)


def grad_peaks(point):
    """Analytic gradient of `peaks` at point = (x, y); returns an array of shape (2,).
    Given to the students: the descent exercise takes the gradient as an argument."""
    x, y = np.asarray(point, dtype=float)
    a = np.exp(-x ** 2 - (y + 1) ** 2)
    b = np.exp(-x ** 2 - y ** 2)
    c = np.exp(-(x + 1) ** 2 - y ** 2)
    u = x / 5 - x ** 3 - y ** 5
    dx = (-6 * (1 - x) * a - 6 * x * (1 - x) ** 2 * a
          - 10 * ((0.2 - 3 * x ** 2) - 2 * x * u) * b + (2 / 3) * (x + 1) * c)
    dy = (-6 * (1 - x) ** 2 * (y + 1) * a
          - 10 * (-5 * y ** 4 - 2 * y * u) * b + (2 / 3) * y * c)
    return np.array([dx, dy])


def erreur_relative(a, b):
    """Relative error of CS231n: max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|).

    Rule of thumb for a gradient check: < 1e-7 very good, 1e-7..1e-4 suspicious, > 1e-2 wrong.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
