"""TP1's oracles checked against each other: torch.autograd against finite differences, the
closed form of gradient descent against its iterations, the analytic finite differences against
computed ones, and the judge's replays of the perceptron and of SGD against straightforward
implementations of the notebook's specification."""

import numpy as np

from judges.tp1 import gradient_check, perceptron, sgd
from judges.tp1.backprop import _cases_backprop, torch_gradients
from judges.tp1.common import cost, fd_gradient, gd_closed_form, hessian_top, regression_problem
from judges.tp1.generalisation import fold_scores
from tp1 import erreur_relative
from tp1.exercises import ACTIVATIONS, _test_function


def _xt(X):
    return np.column_stack([np.ones(len(X)), X])


def test_torch_oracle_matches_finite_differences():
    rng = np.random.default_rng(0)
    for activation in (0, 1):
        case = _cases_backprop(ACTIVATIONS[activation])(rng, True)[0]
        grads = torch_gradients(case)

        def loss(**params):
            p = {k: params.get(k, case[k]) for k in ("W1", "b1", "W2", "b2")}
            z1 = case["X"] @ p["W1"].T + p["b1"]
            a1 = 1 / (1 + np.exp(-z1)) if activation == 0 else np.maximum(z1, 0)
            a2 = a1 @ p["W2"].T + p["b2"]
            return np.sum((a2 - case["y"]) ** 2) / len(case["X"])

        for k in ("W1", "b1", "W2", "b2"):
            shape = case[k].shape
            fd = fd_gradient(lambda v: loss(**{k: v.reshape(shape)}), case[k].ravel(), 1e-6)
            assert erreur_relative(fd.reshape(shape), grads[k]) < 1e-6


def test_gd_closed_form_matches_iterations():
    rng = np.random.default_rng(1)
    X, y = regression_problem(rng, 17, 3)
    pas = 1.3 / hessian_top(X)
    theta, costs = np.zeros(4), [cost(X, y, np.zeros(4))]
    for _ in range(30):
        theta = theta - pas * 2 / len(y) * _xt(X).T @ (_xt(X) @ theta - y)
        costs.append(cost(X, y, theta))
    exp_theta, exp_costs = gd_closed_form(X, y, pas, 30)
    assert np.allclose(theta, exp_theta, rtol=1e-10) and np.allclose(costs, exp_costs, rtol=1e-10)


def test_analytic_finite_differences():
    rng = np.random.default_rng(2)
    cases = gradient_check._cases_gradnum(rng, True) + gradient_check._cases_gradnum(rng, False)
    for case in cases:
        f, t, eps = _test_function(case), case["theta"], case["eps"]
        centred, forward, backward = gradient_check.analytic_differences(case, eps)
        basis = np.eye(len(t)) * eps
        assert np.allclose([(f(t + e) - f(t - e)) / (2 * eps) for e in basis], centred, rtol=1e-5)
        assert np.allclose([(f(t + e) - f(t)) / eps for e in basis], forward, rtol=1e-5)
        assert np.allclose([(f(t) - f(t - e)) / eps for e in basis], backward, rtol=1e-5)


def _perceptron_as_written(X, y, alpha, n_epochs_max):
    """The notebook's specification, word for word, with w and b kept apart."""
    w, b, errors = np.zeros(X.shape[1]), 0.0, []
    for _ in range(n_epochs_max):
        k = 0
        for xi, yi in zip(X, y):
            f = 1 if np.dot(w, xi) + b > 0 else 0
            if f != yi:
                k += 1
                w, b = w + alpha * (yi - f) * xi, b + alpha * (yi - f)
        errors.append(k)
        if k == 0:
            break
    return w, b, errors


def test_perceptron_replay_is_the_specified_algorithm():
    for seed in range(6):
        for hidden in (False, True):
            for case in perceptron._cases_entrainer(np.random.default_rng(seed), hidden):
                args = (case["X"], case["y"], case["alpha"], case["n_epochs_max"])
                w, b, errors, margin = perceptron.replay(*args)
                w2, b2, errors2 = _perceptron_as_written(*args)
                assert margin > perceptron.MARGIN
                assert list(errors) == errors2
                assert np.allclose(w, w2, rtol=1e-12, atol=1e-12) and np.isclose(b, b2)
                if case["_separable"]:
                    assert errors2[-1] == 0 and np.all((case["X"] @ w + b > 0) == case["y"])
                else:
                    assert len(errors2) == case["n_epochs_max"] and min(errors2) > 0


def _sgd_as_written(X, y, taille_batch, pas, n_epochs, graine):
    rng = np.random.default_rng(graine)
    theta = np.zeros(X.shape[1] + 1)
    history = [np.mean((_xt(X) @ theta - y) ** 2)]
    for _ in range(n_epochs):
        ordre = rng.permutation(len(y))
        for k in range(0, len(y), taille_batch):
            idx = ordre[k:k + taille_batch]
            residual = theta[0] + X[idx] @ theta[1:] - y[idx]
            theta = theta - pas * 2 / len(idx) * _xt(X[idx]).T @ residual
        history.append(np.mean((_xt(X) @ theta - y) ** 2))
    return theta, np.array(history)


def test_sgd_replay_is_the_specified_algorithm():
    for seed in range(4):
        for hidden in (False, True):
            for case in sgd._cases_sgd(np.random.default_rng(seed), hidden):
                args = (case["X"], case["y"], case["taille_batch"], case["pas"],
                        case["n_epochs"], case["graine"])
                theta, history = sgd.replay_sgd(*args)
                theta2, history2 = _sgd_as_written(*args)
                assert np.allclose(theta, theta2, rtol=1e-10) and np.allclose(history, history2)
                if case["taille_batch"] == len(case["y"]):  # full batch: gradient descent
                    exp_theta, exp_costs = gd_closed_form(case["X"], case["y"], case["pas"],
                                                          case["n_epochs"])
                    assert np.allclose(theta, exp_theta) and np.allclose(history, exp_costs)


def test_fold_scores_are_the_constant_model_on_consecutive_folds():
    rng = np.random.default_rng(5)
    for n, k in ((23, 5), (11, 2), (17, 3)):
        X, y = rng.normal(size=(n, 2)), rng.normal(size=n)
        folds, scores = fold_scores(X, y, k)
        idx = np.arange(n)
        for (train, val), fold, score in zip(folds, np.array_split(idx, k), scores):
            assert np.array_equal(val, fold)
            assert np.array_equal(train, np.setdiff1d(idx, fold))
            assert np.isclose(score, np.mean((y[fold] - y[train].mean()) ** 2))


def test_ridge_oracle_is_the_minimum_of_the_notebook_cost():
    """sklearn's Ridge(alpha = nλ) minimises the notebook's E = 1/n Σ (h − y)² + λ Σ_{j≥1} w_j²:
    its gradient (finite differences) vanishes there, and it solves (X̃ᵀX̃ + nλD) θ = X̃ᵀy."""
    from judges.tp1.regularisation import ridge_cost, ridge_oracle

    rng = np.random.default_rng(4)
    for n, p, lam in ((12, 1, 0.5), (40, 5, 0.02), (15, 6, 0.3), (25, 2, 0.0)):
        X, y = regression_problem(rng, n, p)
        theta = ridge_oracle(X, y, lam)
        grad = fd_gradient(lambda t: ridge_cost(X, y, t, lam), theta, 1e-3)
        assert np.max(np.abs(grad)) < 1e-8
        D = np.eye(p + 1)
        D[0, 0] = 0.0
        assert np.allclose(np.linalg.solve(_xt(X).T @ _xt(X) + n * lam * D, _xt(X).T @ y), theta)
