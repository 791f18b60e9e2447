"""TP1, part 2 — linear regression: the empirical risk, its gradient, the least-squares
solution (gradient descent itself is in `descent`).

Oracles: scikit-learn's mean squared error, centred finite differences (exact on a quadratic),
`np.linalg.lstsq`.
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_number, close, fmt, relative_error

from .common import (cost, fd_gradient, is_ratio, lstsq, mse, ratio, regression_problem, vector,
                     with_ones)


def _cases_regression(rng, hidden):
    sizes = [(7, 1), (31, 4), (12, 3)] if hidden else [(20, 2)]
    cases = []
    for n, p in sizes:
        X, y = regression_problem(rng, n, p)
        theta = rng.normal(size=p + 1)
        theta[0] = rng.choice([-1, 1]) * rng.uniform(0.5, 2.0)
        cases.append({"X": X, "y": y, "theta": theta})
    return cases


# -- the empirical risk ------------------------------------------------------------------------
def _verdict_cout(case, answer):
    X, y, theta = case["X"], case["y"], case["theta"]
    n = len(y)
    got = as_number(answer, "cout", "cout_mse")
    exp = cost(X, y, theta)
    if abs(got - exp) <= 1e-9 * max(1.0, abs(exp)):
        return

    def near(v):
        return abs(got - v) <= 1e-9 * max(1.0, abs(v))

    if n > 1 and near(exp * n):
        raise AssertionError("division par n manquante : C est la MOYENNE 1/n Σ (h(x_i) − y_i)²")
    if near(exp / 2):
        raise AssertionError("facteur 1/2 en trop : le cours définit C = 1/n Σ (h(x_i) − y_i)², "
                             "sans 1/2")
    if near(np.sqrt(exp)):
        raise AssertionError("vous renvoyez la racine carrée du coût (RMSE) : pas de racine")
    if near(mse(y, X @ theta[1:])):
        raise AssertionError("vous avez oublié le biais w0 = theta[0] dans h(x) = w0 + Σ w_j x_j")
    if near(mse(y, X @ theta[:-1] + theta[-1])):
        raise AssertionError("ordre des paramètres : theta = [w0, w1, ..., wp], le biais w0 est en "
                             "PREMIÈRE position")
    if near(float(np.mean(np.abs(X @ theta[1:] + theta[0] - y)))):
        raise AssertionError("carré manquant : vous calculez l'erreur absolue moyenne")
    raise AssertionError(f"coût incorrect : attendu {exp:.6g}, obtenu {got:.6g} "
                         f"(n = {n}, p = {X.shape[1]})")


# -- its gradient ------------------------------------------------------------------------------
def _verdict_gradient(case, answer):
    X, y, theta = case["X"], case["y"], case["theta"]
    n, p = X.shape
    # Named as check()'s generic diagnostic names it: a NaN answer (a known mistake) never
    # matches the public table, so the notebook shows that diagnostic; both must agree.
    got = vector(answer, "gradient", (p + 1,), "« gradient »", hint={
        (p,): "il manque une composante — le gradient a p + 1 composantes : ∂C/∂w0 (biais), "
              "puis ∂C/∂w1 … ∂C/∂wp"})
    exp = fd_gradient(lambda t: cost(X, y, t), theta, 1e-3)  # exact on a quadratic
    if close(got, exp, 1e-6, 1e-9):
        return
    r = ratio(got, exp)
    if is_ratio(r, 0.5):
        raise AssertionError("le gradient diffère du gradient numérique d'un facteur 2 : avez-vous "
                             "oublié le 2 de la dérivée de (h(x) − y)² ?")
    if is_ratio(r, -1.0):
        raise AssertionError("signe opposé : la dérivée porte sur (h(x_i) − y_i), pas sur "
                             "(y_i − h(x_i))")
    if n > 1 and is_ratio(r, float(n)):
        raise AssertionError("division par n manquante : le gradient est la moyenne 1/n Σ …")
    if n > 1 and is_ratio(r, n / 2):
        raise AssertionError("division par n et facteur 2 manquants : ∇C = 1/n Σ 2 (h(x_i) − y_i)"
                             "(1, x_i)")
    if is_ratio(r, 2.0):
        raise AssertionError("facteur 2 en trop par rapport au gradient numérique")
    if is_ratio(r, -0.5):
        raise AssertionError("signe opposé et facteur 2 manquant")
    no_bias = theta.copy()
    no_bias[0] = 0.0
    if close(got[1:], fd_gradient(lambda t: cost(X, y, t), no_bias, 1e-3)[1:], 1e-6, 1e-9):
        raise AssertionError("vous avez oublié le biais w0 = theta[0] dans h(x) = w0 + Σ w_j x_j")
    if close(got[1:], exp[1:], 1e-6, 1e-9):
        raise AssertionError(
            f"seule la composante du biais est fausse : gradient[0] = {got[0]:.6g} au lieu de "
            f"{exp[0]:.6g} (c'est la colonne de 1 : 1/n Σ 2 (h(x_i) − y_i) × 1)")
    if close(got[0], exp[0], 1e-6, 1e-9):
        raise AssertionError("la composante du biais est juste mais celles des poids w1…wp sont "
                             f"fausses (erreur relative {relative_error(got, exp):.2g})")
    raise AssertionError(f"le gradient diffère du gradient numérique : attendu {fmt(exp)}, "
                         f"obtenu {fmt(got)} (erreur relative {relative_error(got, exp):.2g})")


# -- least squares -----------------------------------------------------------------------------
def _cases_mc(rng, hidden):
    sizes = [(9, 1), (40, 5), (8, 4)] if hidden else [(25, 2)]
    return [dict(zip(("X", "y"), regression_problem(rng, n, p))) for n, p in sizes]


def _verdict_mc(case, answer):
    X, y = case["X"], case["y"]
    p = X.shape[1]
    got = vector(answer, "theta", (p + 1,), "theta", hint={
        (p,): "il manque le biais : ajoutez une colonne de 1 à X (theta = [w0, w1, ..., wp])"})
    exp = lstsq(X, y)
    if close(got, exp, 1e-6, 1e-9):
        return
    if close(np.roll(got, 1), exp, 1e-6, 1e-9):
        raise AssertionError("le biais w0 doit être en PREMIÈRE position (colonne de 1 à gauche)")
    raise AssertionError(f"solution des moindres carrés : attendu {fmt(exp)}, obtenu {fmt(got)}")


CHECKS = (
    Check("cout_mse", _cases_regression, _verdict_cout, numpy_only=True,
          doc="Risque empirique 1/n Σ (h(x_i) − y_i)² comparé à "
              "sklearn.metrics.mean_squared_error."),
    Check("gradient_mse", _cases_regression, _verdict_gradient, numpy_only=True,
          doc="Gradient 1/n Σ 2 (h(x_i) − y_i)(1, x_i) comparé aux différences finies centrées du "
              "correcteur ; diagnostics : facteur 2, 1/n, signe, biais."),
    Check("moindres_carres", _cases_mc, _verdict_mc, numpy_only=True,
          doc="Solution exacte des équations normales comparée à np.linalg.lstsq."),
)


# -- known mistakes ----------------------------------------------------------------------------
def cout_ok(X, y, theta):
    return float(np.mean((with_ones(X) @ theta - y) ** 2))


def _cout(kind):
    def cout_mse(X, y, theta):
        r = theta[0] + X @ theta[1:] - y
        if kind == "somme":  # no division by n
            return float(np.sum(r ** 2))
        if kind == "demi":  # 1/(2n) convention
            return float(np.mean(r ** 2) / 2)
        if kind == "sans_biais":  # forgot w0 in h
            return float(np.mean((X @ theta[1:] - y) ** 2))
        if kind == "rmse":  # square root
            return float(np.sqrt(np.mean(r ** 2)))
        if kind == "biais_dernier":  # theta = [w1..wp, w0]
            return float(np.mean((X @ theta[:-1] + theta[-1] - y) ** 2))
        raise ValueError(kind)
    return cout_mse


def wrong_gradient(kind):
    def gradient_mse(X, y, theta):
        r = theta[0] + X @ theta[1:] - y
        g = 2.0 / len(y) * with_ones(X).T @ r
        if kind == "sans_2":  # forgot the 2 of the derivative of the square
            return g / 2
        if kind == "sans_n":  # forgot 1/n
            return g * len(y)
        if kind == "signe":  # (y - h) instead of (h - y)
            return -g
        if kind == "sans_composante_biais":  # p components only
            return g[1:]
        if kind == "sans_biais_h":  # forgot w0 in h
            return 2.0 / len(y) * with_ones(X).T @ (X @ theta[1:] - y)
        if kind == "biais_zero":  # bias component left at 0
            return np.concatenate([[0.0], g[1:]])
        if kind == "colonne":  # column vector (p + 1, 1)
            return g[:, None]
        if kind == "nan":  # NaN values
            return np.full_like(g, np.nan)
        raise ValueError(kind)
    return gradient_mse


def _mc(kind):
    def moindres_carres(X, y):
        if kind == "sans_colonne_1":
            return np.linalg.solve(X.T @ X, X.T @ y)
        A = with_ones(X)
        if kind == "biais_dernier":
            A = np.column_stack([X, np.ones(len(X))])
        if kind == "ridge":  # regularised
            return np.linalg.solve(A.T @ A + np.eye(A.shape[1]), A.T @ y)
        return np.linalg.solve(A.T @ A, A.T @ y)
    return moindres_carres


MISTAKES = {
    "cout_mse": [
        Mistake("somme au lieu de moyenne", {"cout_mse": _cout("somme")}, "division par n"),
        Mistake("1/(2n)", {"cout_mse": _cout("demi")}, "1/2"),
        Mistake("biais oublié", {"cout_mse": _cout("sans_biais")}, "biais w0"),
        Mistake("racine", {"cout_mse": _cout("rmse")}, "racine"),
        Mistake("biais en dernier", {"cout_mse": _cout("biais_dernier")}, "PREMIÈRE"),
    ],
    "gradient_mse": [
        Mistake("facteur 2 oublié", {"gradient_mse": wrong_gradient("sans_2")}, "facteur 2"),
        Mistake("1/n oublié", {"gradient_mse": wrong_gradient("sans_n")}, "division par n"),
        Mistake("signe opposé", {"gradient_mse": wrong_gradient("signe")}, "signe opposé"),
        Mistake("composante du biais absente",
                {"gradient_mse": wrong_gradient("sans_composante_biais")}, "p + 1 composantes"),
        Mistake("biais oublié dans h", {"gradient_mse": wrong_gradient("sans_biais_h")},
                "oublié le biais"),
        Mistake("composante du biais nulle", {"gradient_mse": wrong_gradient("biais_zero")},
                "composante du biais"),
        Mistake("vecteur colonne", {"gradient_mse": wrong_gradient("colonne")}, "forme"),
        Mistake("NaN", {"gradient_mse": wrong_gradient("nan")}, "NaN"),
    ],
    "moindres_carres": [
        Mistake("colonne de 1 oubliée", {"moindres_carres": _mc("sans_colonne_1")},
                "colonne de 1"),
        Mistake("biais en dernier", {"moindres_carres": _mc("biais_dernier")}, "PREMIÈRE"),
        Mistake("régularisé", {"moindres_carres": _mc("ridge")}),
    ],
}
