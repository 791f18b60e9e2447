"""TP1, part 6 — regularisation (course 004, « Régularisation » : E(w) = Σ L + λ‖w‖²): the
gradient of the ridge cost and its closed form.

The cost of the notebook is E(θ) = 1/n Σ (h(x_i) − y_i)² + λ Σ_{j≥1} w_j²: the mean of the
course's cost, the bias w0 not penalised. Oracles: centred finite differences of the judge's
cost (exact on a quadratic), and scikit-learn's `Ridge`, which minimises
‖y − Xw − w0‖² + α‖w‖² with an unpenalised intercept: the same minimiser for α = nλ.
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, close, fmt, relative_error

from .common import cost, fd_gradient, lstsq, regression_problem, vector, with_ones


def ridge_cost(X, y, theta, lam) -> float:
    theta = np.asarray(theta, dtype=float)
    return cost(X, y, theta) + lam * float(np.sum(theta[1:] ** 2))


def ridge_oracle(X, y, lam):
    """[w0, w1, …, wp] from scikit-learn's Ridge (alpha = n λ: sklearn sums the squared errors
    where the notebook averages them), the intercept unpenalised."""
    from sklearn.linear_model import Ridge

    if lam == 0:
        return lstsq(X, y)
    model = Ridge(alpha=len(X) * lam, fit_intercept=True, solver="svd").fit(X, y)
    return np.concatenate([[model.intercept_], model.coef_])


def _cases_gradient(rng, hidden):
    specs = [(9, 1, 0.3), (35, 4, 0.05), (14, 3, 1.5)] if hidden else [(20, 2, 0.2)]
    cases = []
    for n, p, lam in specs:
        X, y = regression_problem(rng, n, p)
        theta = rng.normal(size=p + 1)
        theta[0] = rng.choice([-1, 1]) * rng.uniform(0.5, 2.0)
        cases.append({"X": X, "y": y, "theta": theta, "lam": lam})
    return cases


def _verdict_gradient(case, answer):
    X, y, theta, lam = case["X"], case["y"], case["theta"], float(case["lam"])
    n, p = X.shape
    got = vector(answer, "gradient", (p + 1,), "« gradient »", hint={
        (p,): "il manque une composante — le gradient a p + 1 composantes, la première "
              "(celle du biais w0) sans terme de pénalité"})
    exp = fd_gradient(lambda t: ridge_cost(X, y, t, lam), theta, 1e-3)  # exact on a quadratic
    if close(got, exp, 1e-6, 1e-9):
        return
    data = fd_gradient(lambda t: cost(X, y, t), theta, 1e-3)  # gradient of the mean squared error
    w = np.concatenate([[0.0], theta[1:]])
    where = f"(n = {n}, λ = {lam:g})"

    def near(v):
        return close(got, v, 1e-6, 1e-9)

    if near(data):
        raise AssertionError(f"terme de régularisation absent {where} : c'est le gradient de "
                             "cout_mse seul ; ajoutez celui de λ‖w‖², soit 2λ w_j pour j ≥ 1")
    if near(data + 2 * lam * theta):
        raise AssertionError(f"le biais w0 est pénalisé {where} : la pénalité λ‖w‖² ne porte que "
                             "sur w1 … wp, la composante 0 du gradient est celle de cout_mse")
    if near(data + lam * w):
        raise AssertionError(f"facteur 2 manquant dans la pénalité {where} : la dérivée de λ w_j² "
                             "est 2λ w_j")
    if near(data - 2 * lam * w):
        raise AssertionError(f"signe de la pénalité {where} : λ‖w‖² s'AJOUTE au coût, son gradient "
                             "+2λ w_j aussi (il ramène les poids vers 0)")
    if n > 1 and near(data + 2 * lam * w / n):
        raise AssertionError(f"pénalité divisée par n {where} : dans E = 1/n Σ (h(x_i) − y_i)² + "
                             "λ‖w‖², seul le premier terme est une moyenne ; le gradient de la "
                             "pénalité est 2λ w_j")
    if n > 1 and near(data + 2 * lam * n * w):
        raise AssertionError(f"pénalité multipliée par n {where} : le gradient de λ‖w‖² est 2λ w_j")
    if close(got - 2 * lam * w, data * 0.5, 1e-6, 1e-9) or close(got - 2 * lam * w, data * n,
                                                                 1e-6, 1e-9) \
            or close(got - 2 * lam * w, -data, 1e-6, 1e-9):
        raise AssertionError(f"la pénalité est juste mais pas le gradient du risque empirique "
                             f"{where} : vérifiez d'abord gradient_mse (facteur 2, 1/n, signe)")
    raise AssertionError(f"le gradient diffère du gradient numérique de E {where} : attendu "
                         f"{fmt(exp)}, obtenu {fmt(got)} (erreur relative "
                         f"{relative_error(got, exp):.2g})")


def _cases_ridge(rng, hidden):
    specs = [(12, 1, 0.5), (40, 5, 0.02), (15, 6, 0.3), (25, 2, 0.0)] if hidden \
        else [(30, 3, 0.1)]
    return [{**dict(zip(("X", "y"), regression_problem(rng, n, p))), "lam": lam}
            for n, p, lam in specs]


def _solve(X, y, penalty):
    """Minimiser of the normal equations with `penalty` added to X̃ᵀX̃ (the known mistakes)."""
    A = with_ones(X)
    try:
        return np.linalg.solve(A.T @ A + penalty, A.T @ y)
    except np.linalg.LinAlgError:
        return np.full(A.shape[1], np.nan)


def _verdict_ridge(case, answer):
    X, y, lam = case["X"], case["y"], float(case["lam"])
    n, p = X.shape
    got = vector(answer, "theta", (p + 1,), "theta", hint={
        (p,): "il manque le biais : theta = [w0, w1, …, wp], w0 non pénalisé (colonne de 1)"})
    exp = ridge_oracle(X, y, lam)
    if close(got, exp, 1e-6, 1e-9):
        return
    where = f"(n = {n}, p = {p}, λ = {lam:g})"
    D = np.eye(p + 1)
    D[0, 0] = 0.0

    def near(penalty):
        return close(got, _solve(X, y, penalty), 1e-6, 1e-9)

    if lam > 0:
        if near(np.zeros((p + 1, p + 1))):
            raise AssertionError(f"vous renvoyez les moindres carrés sans régularisation {where} : "
                                 "ajoutez nλ à la diagonale de X̃ᵀX̃ (sauf pour le biais)")
        if near(n * lam * np.eye(p + 1)):
            raise AssertionError(f"le biais w0 est pénalisé {where} : la pénalité ne porte que sur "
                                 "w1 … wp, le coefficient (0, 0) de la matrice ajoutée vaut 0")
        if n > 1 and near(lam * D):
            raise AssertionError(f"λ n'est pas multiplié par n {where} : en annulant le gradient de "
                                 "E = 1/n Σ (…)² + λ‖w‖², on obtient (X̃ᵀX̃ + nλD) θ = X̃ᵀy")
        if near(2 * n * lam * D) or near(n * lam / 2 * D):
            raise AssertionError(f"facteur 2 {where} : les deux termes du gradient portent un 2 "
                                 "(2/n X̃ᵀ(X̃θ − y) + 2λDθ), qui se simplifie : (X̃ᵀX̃ + nλD) θ = X̃ᵀy")
        if near(-n * lam * D):
            raise AssertionError(f"signe de la pénalité {where} : (X̃ᵀX̃ + nλD) θ = X̃ᵀy, nλ est "
                                 "AJOUTÉ à la diagonale")
    if close(np.roll(got, 1), exp, 1e-6, 1e-9):
        raise AssertionError("le biais w0 doit être en PREMIÈRE position (colonne de 1 à gauche)")
    raise AssertionError(f"solution régularisée {where} : attendu {fmt(exp)}, obtenu {fmt(got)}")


CHECKS = (
    Check("gradient_ridge", _cases_gradient, _verdict_gradient, numpy_only=True,
          doc="Gradient de E(θ) = 1/n Σ (h(x_i) − y_i)² + λ Σ_{j≥1} w_j² comparé aux différences "
              "finies centrées du correcteur ; diagnostics : biais pénalisé, facteur 2, signe, "
              "pénalité divisée par n, pénalité absente."),
    Check("ridge", _cases_ridge, _verdict_ridge, numpy_only=True,
          doc="Minimum de E comparé à la régression ridge de scikit-learn (biais non pénalisé) ; "
              "diagnostics : biais pénalisé, λ mal mis à l'échelle, facteur 2, signe, pas de "
              "régularisation."),
)


# -- known mistakes ----------------------------------------------------------------------------
def _gradient(kind):
    def gradient_ridge(X, y, theta, lam):
        r = theta[0] + X @ theta[1:] - y
        g = 2.0 / len(y) * with_ones(X).T @ r
        w = np.concatenate([[0.0], theta[1:]])
        if kind == "biais_penalise":
            return g + 2 * lam * theta
        if kind == "sans_2":
            return g + lam * w
        if kind == "signe":
            return g - 2 * lam * w
        if kind == "divise_n":  # the penalty averaged too
            return g + 2 * lam * w / len(y)
        if kind == "sans_penalite":
            return g
        if kind == "sans_composante_biais":
            return (g + 2 * lam * w)[1:]
        raise ValueError(kind)
    return gradient_ridge


def _ridge(kind):
    def ridge(X, y, lam):
        A = with_ones(X)
        n = len(y)
        D = np.eye(A.shape[1])
        D[0, 0] = 0.0
        if kind == "biais_penalise":
            D = np.eye(A.shape[1])
        scale = {"sans_n": lam, "facteur_2": 2 * n * lam, "signe": -n * lam,
                 "sans_penalite": 0.0}.get(kind, n * lam)
        if kind == "biais_dernier":
            A = np.column_stack([X, np.ones(n)])
            D = np.eye(A.shape[1])
            D[-1, -1] = 0.0
        return np.linalg.solve(A.T @ A + scale * D, A.T @ y)
    return ridge


MISTAKES = {
    "gradient_ridge": [
        Mistake("biais pénalisé", {"gradient_ridge": _gradient("biais_penalise")},
                "biais w0 est pénalisé"),
        Mistake("facteur 2 oublié", {"gradient_ridge": _gradient("sans_2")}, "facteur 2"),
        Mistake("signe de la pénalité", {"gradient_ridge": _gradient("signe")}, "signe"),
        Mistake("pénalité divisée par n", {"gradient_ridge": _gradient("divise_n")},
                "divisée par n"),
        Mistake("pénalité oubliée", {"gradient_ridge": _gradient("sans_penalite")},
                "régularisation absent"),
        Mistake("composante du biais absente",
                {"gradient_ridge": _gradient("sans_composante_biais")}, "p + 1 composantes"),
    ],
    "ridge": [
        Mistake("biais pénalisé", {"ridge": _ridge("biais_penalise")}, "biais w0 est pénalisé"),
        Mistake("λ au lieu de nλ", {"ridge": _ridge("sans_n")}, "multiplié par n"),
        Mistake("2nλ", {"ridge": _ridge("facteur_2")}, "facteur 2"),
        Mistake("signe", {"ridge": _ridge("signe")}, "signe"),
        Mistake("sans régularisation", {"ridge": _ridge("sans_penalite")}, "sans régularisation"),
        Mistake("biais en dernier", {"ridge": _ridge("biais_dernier")}, "PREMIÈRE"),
    ],
}
