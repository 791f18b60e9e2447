"""TP2, part 5.3: the law the notebook states for the variance of a mini-lot's gradient holds
(the judge's enumeration of every subset against the closed form, and a draw with replacement
against σ²/b), and the judge's gradient oracle is the plain per-lot loop."""

from __future__ import annotations

import numpy as np
import pytest

from judges.tp2.minilots import (gradient_oracle, per_example_gradients,
                                 variance_by_enumeration)


def _problem(seed, n, p):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    return X, X @ rng.normal(size=p) + rng.normal(size=n), rng.normal(size=p)


@pytest.mark.parametrize("n,b", [(6, 1), (7, 3), (8, 4), (9, 8), (5, 5)])
def test_enumeration_is_the_finite_population_law(n, b):
    X, y, w = _problem(n * 10 + b, n, 3)
    g_i = per_example_gradients(X, y, w)
    sigma2 = np.mean(np.sum((g_i - g_i.mean(axis=0)) ** 2, axis=1))
    assert np.isclose(variance_by_enumeration(X, y, w, b), sigma2 / b * (n - b) / (n - 1))


def test_with_replacement_the_variance_is_sigma2_over_b():
    X, y, w = _problem(0, 40, 2)
    g_i = per_example_gradients(X, y, w)
    sigma2 = np.mean(np.sum((g_i - g_i.mean(axis=0)) ** 2, axis=1))
    rng = np.random.default_rng(1)
    lots = rng.integers(0, 40, size=(20000, 10))
    G = gradient_oracle(X, y, w, lots)
    measured = np.mean(np.sum((G - g_i.mean(axis=0)) ** 2, axis=1))
    assert abs(measured / (sigma2 / 10) - 1) < 0.05


def test_gradient_oracle_is_the_loop_over_lots():
    X, y, w = _problem(2, 12, 3)
    lots = np.array([[0, 3, 3], [11, 2, 5]])
    loop = [np.mean([(X[i] @ w - y[i]) * X[i] for i in lot], axis=0) for lot in lots]
    assert np.allclose(gradient_oracle(X, y, w, lots), loop)
