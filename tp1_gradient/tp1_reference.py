"""Reference module of TP1 (perceptron, gradient descent, gradient checking, backpropagation,
mini-batch SGD, generalisation).

It holds what the students' notebook imports (data generators, plotting helpers, the relative
error) and the graded checks (`CHECKS`, `check`). It holds no solution: every oracle uses another
method than the one the student implements (case analysis, scikit-learn metrics, closed forms of
gradient descent on a quadratic, `np.linalg.lstsq`, eigenvalues of the Hessian, analytic values of
finite differences, `torch.autograd`, `sklearn.model_selection.KFold`, ...).

Module-level code stays cheap: torch, scipy, scikit-learn and matplotlib are imported inside the
functions that need them. Every message a student can read is in French.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from grader.checks import Check, Checks, as_array, relative_error

CHECKS = Checks(judge_imports=("torch", "scipy.optimize", "sklearn.metrics",
                                "sklearn.model_selection", "sklearn.preprocessing"))
check = CHECKS.check


# =============================================================================================
# Data generators (given to the students)
# =============================================================================================
def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _linearly_separable(X, y, bias=True) -> bool:
    """True when some (w, b) gives (2 y_i - 1)(w.x_i + b) >= 1 for all i (a linear program);
    with bias=False, only hyperplanes through the origin (b = 0) are allowed."""
    from scipy.optimize import linprog

    s = 2.0 * np.asarray(y, dtype=float) - 1.0
    Xt = np.column_stack([X, np.ones(len(X))]) if bias else np.asarray(X, dtype=float)
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
    """Analytic gradient of `peaks` at point = (x, y); returns an array of shape (2,)."""
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


# =============================================================================================
# Plotting helpers (given)
# =============================================================================================
def tracer_frontiere(X, y, w=None, b=None, ax=None, titre=None):
    """Scatter the sick-trees data and, when (w, b) is given, the line w.x + b = 0."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    ax.scatter(X[y == 1, 0], X[y == 1, 1], c="tab:red", marker="x", label="malade")
    ax.scatter(X[y == 0, 0], X[y == 0, 1], c="tab:green", marker="o", label="non malade")
    if w is not None:
        w = np.asarray(w, dtype=float).ravel()
        b = float(b)
        x0 = np.linspace(X[:, 0].min() - 1, X[:, 0].max() + 1, 100)
        if abs(w[1]) > 1e-12:
            ax.plot(x0, -(w[0] * x0 + b) / w[1], "k-", label="frontière w.x + b = 0")
        elif abs(w[0]) > 1e-12:
            ax.axvline(-b / w[0], color="k", label="frontière w.x + b = 0")
        ax.set_ylim(X[:, 1].min() - 1, X[:, 1].max() + 1)
    ax.set_xlabel("nombre de branches cassées")
    ax.set_ylabel("hauteur (m)")
    ax.legend(loc="best")
    if titre:
        ax.set_title(titre)
    return ax


def tracer_peaks(trajectoires=(), ax=None, titre=None):
    """Contour plot of `peaks` on [-3, 3]^2 with optional trajectories (arrays of shape (T, 2))."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    g = np.linspace(-3, 3, 200)
    xx, yy = np.meshgrid(g, g)
    cs = ax.contourf(xx, yy, peaks(xx, yy), levels=30, cmap="viridis")
    plt.colorbar(cs, ax=ax)
    for traj in trajectoires:
        traj = np.asarray(traj, dtype=float)
        ax.plot(traj[:, 0], traj[:, 1], "w.-", markersize=2, linewidth=1)
        ax.plot(traj[0, 0], traj[0, 1], "wo")
        ax.plot(traj[-1, 0], traj[-1, 1], "r*", markersize=12)
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if titre:
        ax.set_title(titre)
    return ax


# =============================================================================================
# Helpers shared by the checks
# =============================================================================================
def _quiet(fn):
    """Run the student's code without NumPy floating-point warnings: a diverging descent must
    not print on stderr (any stderr output in a test cell costs the cell its points)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    return wrapper


def _unpack(result, k):
    """The student's result as a k-tuple, or None when it is not one."""
    if isinstance(result, (str, bytes, dict)):
        return None
    try:
        items = tuple(result)
    except TypeError:
        return None
    return items if len(items) == k else None


def _scalar(answer, key, what):
    """A number (a 0-d or one-element array is accepted)."""
    arr = as_array(answer, key, what=what)
    if arr.size != 1:
        raise AssertionError(f"{what} : un nombre est attendu, pas un tableau de forme {arr.shape}")
    return float(arr.reshape(()))


def _vector(answer, key, shape, what, hint=None):
    """An array of the expected shape, with a hint when the shape is the transposed one."""
    if key in answer and not isinstance(answer[key], str):
        got = np.shape(answer[key])
        if got != tuple(shape) and len(shape) == 2 and got == tuple(shape)[::-1]:
            raise AssertionError(f"{what} : forme {got} au lieu de {tuple(shape)} — matrice "
                                 "transposée ?")
        if got != tuple(shape) and hint and got in hint:
            raise AssertionError(f"{what} : forme {got} au lieu de {tuple(shape)} : {hint[got]}")
    return as_array(answer, key, shape=shape, what=what)


def _fmt(x, digits=4):
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return f"{float(x):.{digits}g}"
    return np.array2string(x, precision=digits, suppress_small=False, max_line_width=120,
                           threshold=12)


def _close(a, b, rtol=1e-7, atol=1e-10):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return bool(np.all(np.abs(a - b) <= rtol * np.abs(b) + atol * scale))


def _ratio(got, exp):
    """r when got ≈ r * exp (collinear), else None."""
    got, exp = np.ravel(got).astype(float), np.ravel(exp).astype(float)
    nexp = float(exp @ exp)
    if nexp == 0 or got.shape != exp.shape:
        return None
    r = float(got @ exp) / nexp
    if np.linalg.norm(got - r * exp) <= 1e-6 * max(np.linalg.norm(got), 1e-300):
        return r
    return None


def _is(r, target, tol=1e-5):
    return r is not None and abs(r - target) <= tol * max(1.0, abs(target))


def _with_ones(X):
    return np.column_stack([np.ones(len(X)), X])


def _mse(y, pred):
    """Mean squared error through scikit-learn's metric (inf when the prediction overflowed)."""
    from sklearn.metrics import mean_squared_error

    pred = np.asarray(pred, dtype=float)
    if not np.all(np.isfinite(pred)):
        return float("inf")
    return float(mean_squared_error(np.asarray(y, dtype=float), pred))


def _cost(X, y, theta):
    """Empirical risk 1/n sum (h(x_i) - y_i)^2 through scikit-learn's metric."""
    theta = np.asarray(theta, dtype=float)
    return _mse(y, X @ theta[1:] + theta[0])


def _fd_gradient(f, theta, eps):
    """Judge-side centred finite differences (only used on judge-made quadratic costs)."""
    theta = np.asarray(theta, dtype=float)
    basis = np.eye(theta.size)
    return np.array([(f(theta + eps * e) - f(theta - eps * e)) / (2 * eps) for e in basis])


def _regression_problem(rng, n, p, centred=False):
    if centred:
        X = rng.normal(size=(n, p)) + 0.3
    else:
        X = rng.uniform(0.0, 3.0, size=(n, p))
    theta = rng.normal(size=p + 1) * 1.5
    theta[0] = rng.choice([-1, 1]) * rng.uniform(1.0, 3.0)
    y = theta[0] + X @ theta[1:] + 0.4 * rng.normal(size=n)
    return X, y


def _hessian_top(X):
    """Largest eigenvalue L of the Hessian 2/n X~^T X~ of the empirical risk."""
    Xt = _with_ones(X)
    return float(np.linalg.eigvalsh(2.0 / len(X) * Xt.T @ Xt)[-1])


def _gd_closed_form(X, y, pas, n_iter):
    """Exact gradient-descent iterates on the quadratic risk, without iterating:
    theta_t = theta* + (I - pas H)^t (theta_0 - theta*), with theta_0 = 0, theta* from lstsq, and
    C(theta_t) = C* + 1/2 sum_k lambda_k (1 - pas lambda_k)^(2t) d_k^2. Returns (theta_T, costs)."""
    Xt = _with_ones(X)
    n = len(X)
    star = np.linalg.lstsq(Xt, y, rcond=None)[0]
    lam, Q = np.linalg.eigh(2.0 / n * Xt.T @ Xt)
    d = Q.T @ (np.zeros_like(star) - star)
    c_star = _cost(X, y, star)
    with np.errstate(all="ignore"):
        mult = (1.0 - pas * lam)[None, :] ** (np.arange(n_iter + 1)[:, None])
        theta_T = star + Q @ (mult[-1] * d)
        costs = c_star + 0.5 * (mult ** 2 * lam[None, :] * d[None, :] ** 2).sum(axis=1)
    return theta_T, costs


# =============================================================================================
# Part 1 — Perceptron
# =============================================================================================
def _cases_etape(rng, hidden):
    specs = [(3, 0.7), (1, 2.0)] if hidden else [(2, 0.5)]
    cases = []
    for p, alpha in specs:
        W, B, Xs, Ys = [], [], [], []
        kinds = ["ok1", "ok0", "fn", "fp", "z0_y1", "z0_y0"]
        if hidden:
            kinds = list(rng.permutation(kinds + ["fn", "fp", "ok1"]))
        for kind in kinds:
            if kind.startswith("z0"):  # w.x + b = 0 exactly (integers)
                w = rng.integers(1, 4, size=p) * rng.choice([-1, 1], size=p)
                x = rng.integers(-3, 4, size=p)
                b = -float(w @ x)
                y = int(kind[-1])
            else:
                w = rng.normal(size=p)
                x = rng.normal(size=p) * 2
                sign = 1.0 if kind in ("ok1", "fp") else -1.0
                b = sign * rng.uniform(0.5, 2.0) - float(w @ x)
                y = 1 if kind in ("ok1", "fn") else 0
            W.append(w)
            B.append(b)
            Xs.append(x)
            Ys.append(y)
        cases.append({"W": np.array(W, dtype=float), "B": np.array(B, dtype=float),
                      "Xs": np.array(Xs, dtype=float), "Ys": np.array(Ys), "alpha": alpha})
    return cases


@_quiet
def _eval_etape(case, etape_perceptron):
    out = {}
    for i in range(len(case["Ys"])):
        res = _unpack(etape_perceptron(case["W"][i].copy(), float(case["B"][i]),
                                       case["Xs"][i].copy(), int(case["Ys"][i]),
                                       float(case["alpha"])), 2)
        if res is None:
            return {"forme": "invalide"}
        out[f"w{i}"], out[f"b{i}"] = res
    return out


def _verdict_etape(case, answer):
    if "forme" in answer:
        raise AssertionError("etape_perceptron doit renvoyer le couple (w, b) des nouveaux poids")
    alpha = float(case["alpha"])
    for i in range(len(case["Ys"])):
        w, b, x, y = case["W"][i], float(case["B"][i]), case["Xs"][i], int(case["Ys"][i])
        what = f"exemple {i + 1}"
        got_w = _vector(answer, f"w{i}", w.shape, f"w ({what})")
        got_b = _scalar(answer, f"b{i}", f"b ({what})")
        z = float(w @ x) + b
        pred = 1 if z > 0 else 0
        # case analysis (not the update formula): unchanged / pushed towards x / away from x
        if pred == y:
            exp_w, exp_b = w, b
        elif y == 1:
            exp_w, exp_b = w + alpha * x, b + alpha
        else:
            exp_w, exp_b = w - alpha * x, b - alpha
        if _close(got_w, exp_w, 1e-9, 1e-12) and abs(got_b - exp_b) <= 1e-9 * max(1, abs(exp_b)):
            continue
        where = (f"{what} (x = {_fmt(x)}, y = {y}, w·x + b = {z:.4g}, donc f(x) = {pred}, "
                 f"α = {alpha:g})")
        unchanged = _close(got_w, w, 1e-9, 1e-12) and abs(got_b - b) <= 1e-9 * max(1, abs(b))
        if pred == y:
            if z == 0:
                raise AssertionError(
                    f"{where} : w·x + b = 0 donne f(x) = 0 (inégalité stricte « > 0 » du cours) ; "
                    "l'exemple est donc bien classé et les poids ne doivent pas changer")
            raise AssertionError(f"{where} : l'exemple est bien classé (y − f(x) = 0), les poids "
                                 "ne doivent pas changer")
        if unchanged:
            if z == 0:
                raise AssertionError(
                    f"{where} : w·x + b = 0 donne f(x) = 0 (inégalité stricte « > 0 ») : cet "
                    "exemple de classe 1 est mal classé, il faut mettre à jour les poids")
            raise AssertionError(f"{where} : l'exemple est mal classé mais vos poids n'ont pas "
                                 "changé")
        if _close(got_w, 2 * w - exp_w, 1e-9, 1e-12):
            raise AssertionError(f"{where} : signe opposé — la règle est w ← w + α (y − f(x)) x ; "
                                 "vous utilisez (f(x) − y)")
        if _close(got_w, exp_w, 1e-9, 1e-12) and abs(got_b - b) <= 1e-12 * max(1, abs(b)):
            raise AssertionError(f"{where} : w est correct mais vous avez oublié de mettre à jour "
                                 "le biais : b ← b + α (y − f(x))")
        if _close(got_w, w + (exp_w - w) / alpha, 1e-9, 1e-12):
            raise AssertionError(f"{where} : avez-vous oublié le taux d'apprentissage α ?")
        raise AssertionError(f"{where} : attendu w = {_fmt(exp_w)}, b = {exp_b:.4g} ; obtenu "
                             f"w = {_fmt(got_w)}, b = {got_b:.4g}")


CHECKS.add(Check(
    name="etape_perceptron", targets=("etape_perceptron",), cases=_cases_etape,
    evaluate=_eval_etape, verdict=_verdict_etape, numpy_only=True,
    doc="Une mise à jour du perceptron : exemples bien/mal classés, cas w·x + b = 0, biais, "
        "signe de y − f(x), taux α."))


def _separable_generic(rng, n, p):
    """Linearly separable data in R^p with a margin, that no hyperplane through the origin
    separates (a forgotten bias cannot reach 0 errors)."""
    while True:
        w = rng.normal(size=p)
        w /= np.linalg.norm(w)
        b = rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 2.0)
        X = rng.uniform(-3.0, 3.0, size=(8 * n, p))
        X = X[np.abs(X @ w + b) >= 0.5][:n]
        y = (X @ w + b > 0).astype(int)
        if len(y) == n and 0 < y.sum() < n and not _linearly_separable(X, y, bias=False):
            return X, y


def _threshold_1d(rng, n):
    """One feature, label 1 above a threshold t in [1.5, 3] (margin 0.3): needs the bias."""
    t = rng.uniform(1.5, 3.0)
    while True:
        x = rng.uniform(0.0, 5.0, size=4 * n)
        x = x[np.abs(x - t) >= 0.3][:n]
        y = (x > t).astype(int)
        if len(y) == n and 0 < y.sum() < n:
            return x[:, None], y


def _cases_entrainer(rng, hidden):
    if not hidden:
        X, y = arbres_malades(30, separable=True, rng=rng)
        X1, y1 = _threshold_1d(rng, 20)
        return [{"X": X, "y": y, "alpha": 1.0, "n_epochs_max": 1000, "separable": 1},
                {"X": X1, "y": y1, "alpha": 0.5, "n_epochs_max": 1000, "separable": 1}]
    X1, y1 = arbres_malades(int(rng.integers(15, 50)), separable=True, rng=rng)
    X2, y2 = _separable_generic(rng, int(rng.integers(20, 40)), 3)
    X3, y3 = _threshold_1d(rng, int(rng.integers(10, 30)))
    X4, y4 = arbres_malades(int(rng.integers(20, 40)), separable=False, rng=rng)
    return [{"X": X1, "y": y1, "alpha": 0.1, "n_epochs_max": 1000, "separable": 1},
            {"X": X2, "y": y2, "alpha": 0.5, "n_epochs_max": 1000, "separable": 1},
            {"X": X3, "y": y3, "alpha": 2.0, "n_epochs_max": 1000, "separable": 1},
            {"X": X4, "y": y4, "alpha": 1.0, "n_epochs_max": int(rng.integers(8, 16)),
             "separable": 0}]


@_quiet
def _eval_entrainer(case, entrainer_perceptron):
    res = _unpack(entrainer_perceptron(case["X"].copy(), case["y"].copy(), float(case["alpha"]),
                                       int(case["n_epochs_max"])), 3)
    if res is None:
        return {"forme": "invalide"}
    return {"w": res[0], "b": res[1], "erreurs": res[2]}


def _verdict_entrainer(case, answer):
    if "forme" in answer:
        raise AssertionError("entrainer_perceptron doit renvoyer le triplet (w, b, erreurs)")
    X, y = case["X"], case["y"]
    n, p = X.shape
    n_max = int(case["n_epochs_max"])
    w = _vector(answer, "w", (p,), "w")
    b = _scalar(answer, "b", "b")
    err = as_array(answer, "erreurs", what="erreurs")
    if err.ndim != 1 or err.size == 0:
        raise AssertionError("erreurs : une liste non vide (une valeur par époque) est attendue")
    if np.any(err < 0) or np.any(err != np.round(err)):
        raise AssertionError("erreurs : des nombres entiers d'erreurs (≥ 0) sont attendus")
    if len(err) > n_max:
        raise AssertionError(f"{len(err)} époques alors que n_epochs_max = {n_max}")
    mistakes = int(np.sum((X @ w + b > 0).astype(int) != y))
    if case["separable"]:
        if mistakes:
            hint = ""
            if len(err) == 1:
                hint = (" Vous ne faites qu'une époque : il faut reparcourir les données tant "
                        "qu'il reste des erreurs.")
            elif b == 0:
                hint = (" Le biais b vaut 0 : l'avez-vous mis à jour ? Ces données ne sont pas "
                        "séparables par une frontière passant par l'origine.")
            raise AssertionError(
                f"les poids renvoyés classent mal {mistakes} des {n} exemples d'apprentissage, "
                "alors que les données sont linéairement séparables : le perceptron doit "
                "converger vers 0 erreur (théorème de convergence)." + hint)
        if err[-1] != 0:
            raise AssertionError("la dernière valeur de erreurs doit être 0 : on s'arrête à la "
                                 "première époque sans erreur")
        if np.any(err[:-1] == 0):
            k = int(np.argmax(err[:-1] == 0)) + 1
            raise AssertionError(f"l'époque {k} est déjà sans erreur : la boucle doit s'arrêter à "
                                 "la première époque sans erreur")
    else:
        if len(err) != n_max:
            raise AssertionError(
                f"données non séparables : le perceptron ne peut pas atteindre 0 erreur, votre "
                f"fonction doit donc faire les n_epochs_max = {n_max} époques (vous en renvoyez "
                f"{len(err)})")
        if np.any(err == 0):
            raise AssertionError("données non séparables : une époque sans erreur est impossible, "
                                 "vérifiez votre compteur d'erreurs")


CHECKS.add(Check(
    name="entrainer_perceptron", targets=("entrainer_perceptron",), cases=_cases_entrainer,
    evaluate=_eval_entrainer, verdict=_verdict_entrainer, numpy_only=True,
    doc="Entraînement complet : 0 erreur d'apprentissage (comptée par le correcteur) sur des "
        "données séparables, arrêt à la première époque sans erreur, n_epochs_max époques sur "
        "des données non séparables."))


# =============================================================================================
# Part 2 — Linear regression, empirical risk, gradient descent
# =============================================================================================
def _cases_regression(rng, hidden):
    sizes = [(7, 1), (31, 4), (12, 3)] if hidden else [(20, 2)]
    cases = []
    for n, p in sizes:
        X, y = _regression_problem(rng, n, p)
        theta = rng.normal(size=p + 1)
        theta[0] = rng.choice([-1, 1]) * rng.uniform(0.5, 2.0)
        cases.append({"X": X, "y": y, "theta": theta})
    return cases


@_quiet
def _eval_cout(case, cout_mse):
    return {"cout": cout_mse(case["X"].copy(), case["y"].copy(), case["theta"].copy())}


def _verdict_cout(case, answer):
    X, y, theta = case["X"], case["y"], case["theta"]
    n = len(y)
    got = _scalar(answer, "cout", "cout_mse")
    exp = _cost(X, y, theta)
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
    if near(_mse(y, X @ theta[1:])):
        raise AssertionError("vous avez oublié le biais w0 = theta[0] dans h(x) = w0 + Σ w_j x_j")
    if near(_mse(y, X @ theta[:-1] + theta[-1])):
        raise AssertionError("ordre des paramètres : theta = [w0, w1, ..., wp], le biais w0 est en "
                             "PREMIÈRE position")
    if near(float(np.mean(np.abs(X @ theta[1:] + theta[0] - y)))):
        raise AssertionError("carré manquant : vous calculez l'erreur absolue moyenne")
    raise AssertionError(f"coût incorrect : attendu {exp:.6g}, obtenu {got:.6g} "
                         f"(n = {n}, p = {X.shape[1]})")


CHECKS.add(Check(
    name="cout_mse", targets=("cout_mse",), cases=_cases_regression, evaluate=_eval_cout,
    verdict=_verdict_cout, numpy_only=True,
    doc="Risque empirique 1/n Σ (h(x_i) − y_i)² comparé à sklearn.metrics.mean_squared_error."))


@_quiet
def _eval_gradient(case, gradient_mse):
    return {"gradient": gradient_mse(case["X"].copy(), case["y"].copy(), case["theta"].copy())}


def _verdict_gradient(case, answer):
    X, y, theta = case["X"], case["y"], case["theta"]
    n, p = X.shape
    got = _vector(answer, "gradient", (p + 1,), "gradient", hint={
        (p,): "il manque une composante — le gradient a p + 1 composantes : ∂C/∂w0 (biais), "
              "puis ∂C/∂w1 … ∂C/∂wp"})
    exp = _fd_gradient(lambda t: _cost(X, y, t), theta, 1e-3)  # exact on a quadratic
    if _close(got, exp, 1e-6, 1e-9):
        return
    r = _ratio(got, exp)
    if _is(r, 0.5):
        raise AssertionError("le gradient diffère du gradient numérique d'un facteur 2 : avez-vous "
                             "oublié le 2 de la dérivée de (h(x) − y)² ?")
    if _is(r, -1.0):
        raise AssertionError("signe opposé : la dérivée porte sur (h(x_i) − y_i), pas sur "
                             "(y_i − h(x_i))")
    if n > 1 and _is(r, float(n)):
        raise AssertionError("division par n manquante : le gradient est la moyenne 1/n Σ …")
    if n > 1 and _is(r, n / 2):
        raise AssertionError("division par n et facteur 2 manquants : ∇C = 1/n Σ 2 (h(x_i) − y_i)"
                             "(1, x_i)")
    if _is(r, 2.0):
        raise AssertionError("facteur 2 en trop par rapport au gradient numérique")
    if _is(r, -0.5):
        raise AssertionError("signe opposé et facteur 2 manquant")
    no_bias = theta.copy()
    no_bias[0] = 0.0
    if _close(got[1:], _fd_gradient(lambda t: _cost(X, y, t), no_bias, 1e-3)[1:], 1e-6, 1e-9):
        raise AssertionError("vous avez oublié le biais w0 = theta[0] dans h(x) = w0 + Σ w_j x_j")
    if _close(got[1:], exp[1:], 1e-6, 1e-9):
        raise AssertionError(
            f"seule la composante du biais est fausse : gradient[0] = {got[0]:.6g} au lieu de "
            f"{exp[0]:.6g} (c'est la colonne de 1 : 1/n Σ 2 (h(x_i) − y_i) × 1)")
    if _close(got[0], exp[0], 1e-6, 1e-9):
        raise AssertionError("la composante du biais est juste mais celles des poids w1…wp sont "
                             f"fausses (erreur relative {relative_error(got, exp):.2g})")
    raise AssertionError(f"le gradient diffère du gradient numérique : attendu {_fmt(exp)}, "
                         f"obtenu {_fmt(got)} (erreur relative {relative_error(got, exp):.2g})")


CHECKS.add(Check(
    name="gradient_mse", targets=("gradient_mse",), cases=_cases_regression,
    evaluate=_eval_gradient, verdict=_verdict_gradient, numpy_only=True,
    doc="Gradient 1/n Σ 2 (h(x_i) − y_i)(1, x_i) comparé aux différences finies centrées du "
        "correcteur ; diagnostics : facteur 2, 1/n, signe, biais."))


def _cases_descente(rng, hidden):
    specs = [(41, 3, 0.6, 7), (15, 2, 1.5, 40), (23, 1, 0.2, 60)] if hidden else [(30, 1, 1.0, 25)]
    cases = []
    for n, p, factor, n_iter in specs:
        X, y = _regression_problem(rng, n, p)
        cases.append({"X": X, "y": y, "pas": factor / _hessian_top(X), "n_iter": n_iter})
    return cases


@_quiet
def _eval_descente(case, descente_gradient):
    res = _unpack(descente_gradient(case["X"].copy(), case["y"].copy(), float(case["pas"]),
                                    int(case["n_iter"])), 2)
    if res is None:
        return {"forme": "invalide"}
    return {"theta": res[0], "historique": res[1]}


def _verdict_descente(case, answer):
    if "forme" in answer:
        raise AssertionError("descente_gradient doit renvoyer le couple (theta, historique)")
    X, y, pas, n_iter = case["X"], case["y"], float(case["pas"]), int(case["n_iter"])
    p = X.shape[1]
    theta = _vector(answer, "theta", (p + 1,), "theta", hint={
        (p,): "il manque le biais w0 (theta = [w0, w1, ..., wp])"})
    hist = as_array(answer, "historique", what="historique")
    exp_theta, exp_hist = _gd_closed_form(X, y, pas, n_iter)
    if hist.ndim != 1 or len(hist) != n_iter + 1:
        extra = ""
        if hist.ndim == 1 and len(hist) == n_iter and n_iter > 0:
            if np.isclose(hist[0], exp_hist[0], rtol=1e-6):
                extra = " (vous en renvoyez n_iter : une mise à jour de moins ?)"
            else:
                extra = " (vous en renvoyez n_iter : il manque le coût initial)"
        raise AssertionError(f"historique : {n_iter + 1} valeurs attendues — le coût en theta "
                             "initial = 0, puis après chacune des n_iter mises à jour" + extra)
    ok_theta = _close(theta, exp_theta, 1e-6, 1e-9)
    ok_hist = _close(hist, exp_hist, 1e-6, 1e-9)
    if ok_theta and ok_hist:
        return
    if not np.isclose(hist[0], exp_hist[0], rtol=1e-6):
        raise AssertionError(f"historique[0] = {hist[0]:.6g} : ce doit être le coût de theta "
                             f"initial = 0 (soit {exp_hist[0]:.6g}) ; partez bien de theta = 0")
    if not ok_theta:
        if _close(theta, _gd_closed_form(X, y, pas / 2, n_iter)[0], 1e-6, 1e-9):
            raise AssertionError("theta correspond à un pas deux fois trop petit : facteur 2 "
                                 "oublié dans le gradient ?")
        if _close(theta, _gd_closed_form(X, y, pas * len(y), n_iter)[0], 1e-6, 1e-9):
            raise AssertionError("theta correspond à un pas n fois trop grand : division par n "
                                 "oubliée dans le gradient ?")
        for k in (n_iter - 1, n_iter + 1):
            if k >= 0 and _close(theta, _gd_closed_form(X, y, pas, k)[0], 1e-6, 1e-9):
                raise AssertionError(f"theta correspond à {k} mises à jour au lieu de "
                                     f"n_iter = {n_iter} : décalage de 1 dans la boucle")
        if _close(theta, _gd_closed_form(X, y, 1.0, n_iter)[0], 1e-6, 1e-9):
            raise AssertionError("theta correspond à un pas de 1 : avez-vous oublié de multiplier "
                                 "le gradient par le pas ?")
        if hist[-1] > hist[0]:
            raise AssertionError("le coût augmente : vous montez le long du gradient au lieu de le "
                                 "descendre (Θ ← Θ − λ∇C)")
        if _close(theta, np.zeros(p + 1)):
            raise AssertionError("theta n'a pas bougé de 0 : les mises à jour ne sont pas "
                                 "appliquées")
        raise AssertionError(f"theta après {n_iter} itérations : attendu {_fmt(exp_theta)}, obtenu "
                             f"{_fmt(theta)}")
    if _close(hist[:-1], exp_hist[1:], 1e-6, 1e-9) or _close(hist[1:], exp_hist[:-1], 1e-6, 1e-9):
        raise AssertionError("theta est correct mais l'historique est décalé : historique[t] = "
                             "coût après t mises à jour (t = 0 … n_iter)")
    raise AssertionError("theta est correct mais l'historique ne contient pas les coûts "
                         "successifs C(theta_t), t = 0 … n_iter")


CHECKS.add(Check(
    name="descente_gradient", targets=("descente_gradient",), cases=_cases_descente,
    evaluate=_eval_descente, verdict=_verdict_descente, numpy_only=True,
    doc="Descente de gradient à pas fixe depuis theta = 0 : theta et historique comparés à la "
        "forme close des itérés sur un coût quadratique (moindres carrés + valeurs propres)."))


def _cases_pas(rng, hidden):
    if hidden:
        X, y = _regression_problem(rng, int(rng.integers(20, 60)), 3)
        factors = [0.3, 0.75, 0.85, 1.2, 1.6, 2.5]
    else:
        X, y = _regression_problem(rng, 40, 1)
        factors = [0.5, 0.9, 1.2, 2.0]
    L = _hessian_top(X)
    return [{"X": X, "y": y, "pas": f * 2.0 / L} for f in factors]


@_quiet
def _eval_pas(case, pas_diverge):
    return {"diverge": pas_diverge(case["X"].copy(), case["y"].copy(), float(case["pas"]))}


def _verdict_pas(case, answer):
    got = _scalar(answer, "diverge", "pas_diverge")
    if got not in (0.0, 1.0):
        raise AssertionError(f"pas_diverge doit renvoyer True ou False (obtenu {got:g})")
    pas, L = float(case["pas"]), _hessian_top(case["X"])
    exp = pas > 2.0 / L
    if bool(got) == exp:
        return
    where = (f"pas = {pas:.4g} = {pas * L / 2:.2f} × 2/L (L = {L:.4g}, plus grande valeur propre "
             "de la hessienne H = 2/n X̃ᵀX̃)")
    if not exp and pas > 1.0 / L:
        raise AssertionError(f"{where} : au-delà de 1/L la descente oscille, mais elle converge "
                             "tant que pas < 2/L — réponse attendue : False")
    if exp and pas < 4.0 / L:
        raise AssertionError(f"{where} : la descente diverge dès que pas > 2/L (attention au "
                             "facteur 2 de H = 2/n X̃ᵀX̃) — réponse attendue : True")
    raise AssertionError(f"{where} : réponse attendue {exp}, obtenu {bool(got)}")


CHECKS.add(Check(
    name="pas_diverge", targets=("pas_diverge",), cases=_cases_pas, evaluate=_eval_pas,
    verdict=_verdict_pas, numpy_only=True,
    doc="Divergence de la descente selon le pas, jugée par le seuil 2/L (L plus grande valeur "
        "propre de la hessienne) avec une marge de 15 %."))


def _cases_mc(rng, hidden):
    sizes = [(9, 1), (40, 5), (8, 4)] if hidden else [(25, 2)]
    return [dict(zip(("X", "y"), _regression_problem(rng, n, p))) for n, p in sizes]


@_quiet
def _eval_mc(case, moindres_carres):
    return {"theta": moindres_carres(case["X"].copy(), case["y"].copy())}


def _verdict_mc(case, answer):
    X, y = case["X"], case["y"]
    p = X.shape[1]
    got = _vector(answer, "theta", (p + 1,), "theta", hint={
        (p,): "il manque le biais : ajoutez une colonne de 1 à X (theta = [w0, w1, ..., wp])"})
    exp = np.linalg.lstsq(_with_ones(X), y, rcond=None)[0]
    if _close(got, exp, 1e-6, 1e-9):
        return
    if _close(np.roll(got, 1), exp, 1e-6, 1e-9):
        raise AssertionError("le biais w0 doit être en PREMIÈRE position (colonne de 1 à gauche)")
    raise AssertionError(f"solution des moindres carrés : attendu {_fmt(exp)}, obtenu {_fmt(got)}")


CHECKS.add(Check(
    name="moindres_carres", targets=("moindres_carres",), cases=_cases_mc, evaluate=_eval_mc,
    verdict=_verdict_mc, numpy_only=True,
    doc="Solution exacte des équations normales comparée à np.linalg.lstsq."))


# =============================================================================================
# Part 3 — Gradient checking
# =============================================================================================
def _test_function(case):
    """The known function of a gradient-checking case: 0 cubic, 1 sine, 2 quadratic."""
    kind, a, A, b = int(case["kind"]), case["a"], case["A"], case["b"]
    if kind == 0:
        return lambda t: float(np.sum(a * np.asarray(t, dtype=float) ** 3))
    if kind == 1:
        return lambda t: float(np.sum(a * np.sin(np.asarray(t, dtype=float))))
    return lambda t: float(np.asarray(t, dtype=float) @ A @ np.asarray(t, dtype=float)
                           + b @ np.asarray(t, dtype=float))


def _cases_gradnum(rng, hidden):
    specs = [(1, 4, 0.05), (0, 1, 0.2), (2, 5, 1e-4)] if hidden else [(0, 3, 0.1), (2, 3, 1e-3)]
    cases = []
    for kind, p, eps in specs:
        a = rng.uniform(0.5, 2.0, size=p) * rng.choice([-1, 1], size=p)
        A = rng.normal(size=(p, p))
        cases.append({"kind": kind, "a": a, "A": A, "b": rng.normal(size=p),
                      "theta": rng.uniform(0.5, 2.0, size=p) * rng.choice([-1, 1], size=p),
                      "eps": eps})
    return cases


@_quiet
def _eval_gradnum(case, gradient_numerique):
    theta = case["theta"].copy()
    g = gradient_numerique(_test_function(case), theta, float(case["eps"]))
    return {"gradient": g, "theta_apres": theta}


def _analytic_differences(case, eps):
    """Exact values of the centred and forward differences of the case's function (closed forms,
    no finite difference computed): centred, forward, backward."""
    kind, a, A, b, t = int(case["kind"]), case["a"], case["A"], case["b"], case["theta"]
    if kind == 0:  # ((t±e)^3 - t^3) / e and the centred one 3t^2 + e^2
        return (a * (3 * t ** 2 + eps ** 2), a * (3 * t ** 2 + 3 * t * eps + eps ** 2),
                a * (3 * t ** 2 - 3 * t * eps + eps ** 2))
    if kind == 1:  # (sin(t+e) - sin(t-e)) / 2e = cos t sin e / e
        return (a * np.cos(t) * np.sin(eps) / eps,
                a * (np.cos(t) * np.sin(eps) / eps - np.sin(t) * (1 - np.cos(eps)) / eps),
                a * (np.cos(t) * np.sin(eps) / eps + np.sin(t) * (1 - np.cos(eps)) / eps))
    exact = (A + A.T) @ t + b  # the centred difference of a quadratic is exact
    return exact, exact + eps * np.diag(A), exact - eps * np.diag(A)


def _verdict_gradnum(case, answer):
    p, eps = len(case["theta"]), float(case["eps"])
    got = _vector(answer, "gradient", (p,), "gradient numérique")
    after = as_array(answer, "theta_apres", what="theta")
    names = {0: "f(θ) = Σ a_i θ_i³", 1: "f(θ) = Σ a_i sin θ_i", 2: "f(θ) = θᵀAθ + bᵀθ"}
    where = f"sur {names[int(case['kind'])]} avec ε = {eps:g}"
    if not np.array_equal(after, case["theta"]):
        raise AssertionError("votre fonction modifie theta sans le remettre à sa valeur : "
                             "travaillez sur une copie (theta.copy())")
    centred, forward, backward = _analytic_differences(case, eps)
    tol = 1e-7 if eps >= 1e-3 else 1e-5
    if _close(got, centred, tol, 1e-9):
        return
    r = _ratio(got, centred)
    if _is(r, 2.0, 1e-4):
        raise AssertionError(f"{where} : résultat 2 fois trop grand — divisez par 2ε (différence "
                             "centrée), pas par ε")
    if _is(r, -1.0, 1e-4):
        raise AssertionError(f"{where} : signe opposé — (f(θ + ε e_i) − f(θ − ε e_i)) / (2ε)")
    if _close(got, forward, tol, 1e-9) or _close(got, backward, tol, 1e-9):
        raise AssertionError(f"{where} : vous calculez une différence décentrée (avant ou "
                             "arrière), d'erreur O(ε) ; la différence centrée "
                             "(f(θ + ε e_i) − f(θ − ε e_i)) / (2ε) a une erreur O(ε²)")
    if p > 1 and np.ptp(got) <= 1e-9 * max(1.0, np.max(np.abs(got))) and np.ptp(centred) > 1e-6:
        raise AssertionError(f"{where} : toutes les composantes sont égales — perturbez une seule "
                             "coordonnée à la fois (θ + ε e_i, e_i le i-ème vecteur de base)")
    exact = _analytic_differences(case, 1e-12)[0]
    if int(case["kind"]) != 2 and _close(got, exact, 1e-5, 1e-7):
        raise AssertionError(f"{where} : votre résultat ne dépend pas de ε (gradient exact ou ε "
                             "fixé) : utilisez l'argument eps")
    raise AssertionError(f"{where} : attendu {_fmt(centred, 8)}, obtenu {_fmt(got, 8)} "
                         f"(erreur relative {relative_error(got, centred):.2g})")


CHECKS.add(Check(
    name="gradient_numerique", targets=("gradient_numerique",), cases=_cases_gradnum,
    evaluate=_eval_gradnum, verdict=_verdict_gradnum, numpy_only=True,
    doc="Différences finies centrées comparées à leurs valeurs analytiques (cubique, sinus, "
        "quadratique) : rejette les différences avant/arrière, le /ε, la perturbation de "
        "toutes les coordonnées à la fois, la modification de theta."))


# =============================================================================================
# Part 4 — Backpropagation, 2-layer network, squared error
# =============================================================================================
ACTIVATIONS = ("sigmoide", "relu")


def _cases_backprop(activation):
    code = ACTIVATIONS.index(activation)

    def cases(rng, hidden):
        shapes = [(5, 4, 4, 2), (9, 2, 5, 1), (4, 3, 2, 2)] if hidden else [(6, 3, 4, 1)]
        out = []
        for n, p, h, q in shapes:
            out.append({"X": rng.normal(size=(n, p)), "y": rng.normal(size=(n, q)),
                        "W1": rng.normal(size=(h, p)), "b1": rng.normal(size=h) * 0.5,
                        "W2": rng.normal(size=(q, h)), "b2": rng.normal(size=q) * 0.5,
                        "activation": code})
        return out

    return cases


@_quiet
def _eval_backprop(case, backprop):
    params = {k: case[k].copy() for k in ("W1", "b1", "W2", "b2")}
    res = _unpack(backprop(case["X"].copy(), case["y"].copy(), params,
                           ACTIVATIONS[int(case["activation"])]), 4)
    if res is None:
        return {"forme": "invalide"}
    return dict(zip(("W1", "b1", "W2", "b2"), res))


def _torch_gradients(case, mode="exact"):
    """Gradients of C = 1/n Σ_i ||a2_i - y_i||² by torch.autograd (float64).

    mode "sans_derivee": backward as if the activation's derivative were 1 (straight-through);
    mode "derivee_en_a": backward with the derivative evaluated at a1 = act(z1) instead of z1.
    """
    import torch

    act = torch.sigmoid if int(case["activation"]) == 0 else torch.relu
    t = {k: torch.tensor(case[k], dtype=torch.float64, requires_grad=True)
         for k in ("W1", "b1", "W2", "b2")}
    X = torch.tensor(case["X"], dtype=torch.float64)
    Y = torch.tensor(case["y"], dtype=torch.float64)
    z1 = X @ t["W1"].T + t["b1"]
    a1 = act(z1)
    if mode == "sans_derivee":
        a1 = z1 + (a1 - z1).detach()
    elif mode == "derivee_en_a":
        s = z1 - z1.detach() + a1.detach()  # value a1, derivative 1 w.r.t. z1
        a1 = a1.detach() + act(s) - act(s).detach()
    a2 = a1 @ t["W2"].T + t["b2"]
    loss = ((a2 - Y) ** 2).sum() / X.shape[0]
    loss.backward()
    return {k: v.grad.numpy().copy() for k, v in t.items()}


def _verdict_backprop(case, answer):
    if "forme" in answer:
        raise AssertionError("backprop doit renvoyer le quadruplet (dW1, db1, dW2, db2)")
    n = case["X"].shape[0]
    act = ACTIVATIONS[int(case["activation"])]
    got = {k: _vector(answer, k, case[k].shape, f"d{k}") for k in ("W1", "b1", "W2", "b2")}
    exp = _torch_gradients(case)
    ok = {k: _close(got[k], exp[k], 1e-6, 1e-9) for k in got}
    if all(ok.values()):
        return
    dims = (f"(n = {n}, p = {case['X'].shape[1]}, h = {case['W1'].shape[0]}, "
            f"q = {case['W2'].shape[0]}, activation {act})")
    for k in ("W1", "W2"):
        square = got[k].shape[0] == got[k].shape[1]
        if not ok[k] and square and _close(got[k].T, exp[k], 1e-6, 1e-9):
            raise AssertionError(f"d{k} est transposée {dims} : elle doit avoir la forme de {k}")
    flat_got = np.concatenate([got[k].ravel() for k in ("W1", "b1", "W2", "b2")])
    flat_exp = np.concatenate([exp[k].ravel() for k in ("W1", "b1", "W2", "b2")])
    r = _ratio(flat_got, flat_exp)
    if _is(r, 0.5):
        raise AssertionError(f"tous les gradients sont 2 fois trop petits {dims} : avez-vous "
                             "oublié le facteur 2 de ∂C/∂a = 2(a − y) ?")
    if n > 1 and _is(r, float(n)):
        raise AssertionError(f"tous les gradients sont n = {n} fois trop grands {dims} : division "
                             "par n manquante (le gradient est la moyenne sur les exemples)")
    if _is(r, -1.0):
        raise AssertionError(f"signe opposé {dims} : ∂C/∂a = 2(a − y), pas 2(y − a)")
    if n > 1 and _is(r, n / 2):
        raise AssertionError(f"facteur 2 et division par n manquants {dims}")
    if ok["W2"] and ok["b2"]:
        d = "σ′" if act == "sigmoide" else "relu′"
        variants = {"sans_derivee": f"oubli de {d}(z1) : ∂C/∂z1 = (∂C/∂a1) ⊙ {d}(z1)",
                    "derivee_en_a": "σ′ évaluée en a1 = σ(z1) au lieu de z1 : σ′(z1) = "
                                    "σ(z1)(1 − σ(z1)) = a1(1 − a1)"}
        for mode, msg in variants.items():
            v = _torch_gradients(case, mode)
            if _close(got["W1"], v["W1"], 1e-6, 1e-9) and _close(got["b1"], v["b1"], 1e-6, 1e-9):
                raise AssertionError(f"dW2 et db2 sont corrects mais pas la couche cachée {dims} : "
                                     + msg)
        wrong = [f"d{k}" for k in ("W1", "b1") if not ok[k]]
        raise AssertionError(f"dW2 et db2 sont corrects mais {' et '.join(wrong)} non {dims} : "
                             "l'erreur est dans la rétropropagation vers la couche cachée "
                             "(∂C/∂a1 = (∂C/∂a2) W2, puis ⊙ σ′(z1))")
    wrong = [k for k in ("W1", "b1", "W2", "b2") if not ok[k]]
    errs = ", ".join(f"d{k} (erreur relative {relative_error(got[k], exp[k]):.2g})" for k in wrong)
    raise AssertionError(f"gradients incorrects {dims} : {errs}")


for _act, _pts in (("sigmoide", "sigmoïde"), ("relu", "ReLU")):
    CHECKS.add(Check(
        name=f"backprop_{_act}", targets=("backprop",), cases=_cases_backprop(_act),
        evaluate=_eval_backprop, verdict=_verdict_backprop, numpy_only=True,
        doc=f"Rétropropagation à la main, couche cachée {_pts} : gradients de W1, b1, W2, b2 "
            "comparés à torch.autograd ; diagnostics : transposée, σ′ oubliée, facteur 2, 1/n."))


# =============================================================================================
# Part 5 — Mini-batch SGD and a non-convex surface
# =============================================================================================
def _cases_sgd(rng, hidden):
    # (n, p, batch size (0 = n: full batch), step x 1/L, epochs), L the Hessian's top eigenvalue
    specs = ([(37, 3, 0, 1.0, 12), (45, 2, 1, 0.1, 4), (64, 2, 8, 0.3, 6)] if hidden
             else [(64, 2, 0, 1.0, 20), (64, 2, 1, 0.1, 4)])
    cases = []
    for n, p, tb, factor, epochs in specs:
        X, y = _regression_problem(rng, n, p, centred=True)
        cases.append({"X": X, "y": y, "taille_batch": tb or n, "pas": factor / _hessian_top(X),
                      "n_epochs": epochs, "graine": int(rng.integers(0, 2 ** 31))})
    return cases


@_quiet
def _eval_sgd(case, sgd):
    args = (int(case["taille_batch"]), float(case["pas"]), int(case["n_epochs"]),
            int(case["graine"]))
    out = {}
    for suffix in ("", "_bis"):
        res = _unpack(sgd(case["X"].copy(), case["y"].copy(), *args), 2)
        if res is None:
            return {"forme": "invalide"}
        out["theta" + suffix], out["historique" + suffix] = res
    return out


def _verdict_sgd(case, answer):
    if "forme" in answer:
        raise AssertionError("sgd doit renvoyer le couple (theta, historique)")
    X, y = case["X"], case["y"]
    n, p = X.shape
    tb, pas, epochs = int(case["taille_batch"]), float(case["pas"]), int(case["n_epochs"])
    where = f"(n = {n}, taille_batch = {tb}, {epochs} époques)"
    theta = _vector(answer, "theta", (p + 1,), "theta")
    hist = as_array(answer, "historique", what="historique")
    if hist.ndim != 1 or len(hist) != epochs + 1:
        raise AssertionError(f"historique : {epochs + 1} valeurs attendues {where} — le coût "
                             "initial puis le coût (sur toutes les données) après chaque époque")
    theta_bis = as_array(answer, "theta_bis", what="theta")
    if theta_bis.shape != theta.shape or not np.array_equal(theta, theta_bis):
        raise AssertionError("deux appels avec la même graine donnent des résultats différents : "
                             "créez le générateur avec np.random.default_rng(rng_seed) dans sgd")
    c0 = _cost(X, y, np.zeros(p + 1))
    if not np.isclose(hist[0], c0, rtol=1e-6):
        raise AssertionError(f"historique[0] doit être le coût de theta initial = 0 ({c0:.6g})")
    c_final = _cost(X, y, theta)
    if not np.isfinite(c_final):
        raise AssertionError(f"le coût explose {where} : signe du pas, ou gradient sommé au lieu "
                             "d'être moyenné sur le mini-batch ?")
    if not np.isclose(hist[-1], c_final, rtol=1e-6):
        raise AssertionError(f"historique[-1] = {hist[-1]:.6g} n'est pas le coût sur toutes les "
                             f"données du theta renvoyé ({c_final:.6g})")
    if hist[-1] > hist[0]:
        raise AssertionError(f"le coût augmente {where} : signe du pas, ou gradient sommé au lieu "
                             "d'être moyenné sur le mini-batch ?")
    if tb == n:
        exp_theta = _gd_closed_form(X, y, pas, epochs)[0]
        if not _close(theta, exp_theta, 1e-7, 1e-9):
            raise AssertionError(f"avec taille_batch = n, chaque époque est exactement un pas de "
                                 f"descente de gradient complète {where} : attendu "
                                 f"{_fmt(exp_theta)}, obtenu {_fmt(theta)}")
        return
    star = np.linalg.lstsq(_with_ones(X), y, rcond=None)[0]
    c_star = _cost(X, y, star)
    excess = (c_final - c_star) / (c0 - c_star)
    if excess > 0.05:
        raise AssertionError(
            f"coût final {c_final:.4g} trop loin de l'optimum des moindres carrés {c_star:.4g} "
            f"{where} : faites-vous bien une mise à jour par mini-batch (n / taille_batch "
            "mises à jour par époque), avec le gradient moyen du mini-batch ?")


CHECKS.add(Check(
    name="sgd", targets=("sgd",), cases=_cases_sgd, evaluate=_eval_sgd,
    verdict=_verdict_sgd, numpy_only=True,
    doc="SGD par mini-batchs : reproductible pour une graine, identique à la descente complète "
        "quand taille_batch = n, proche de l'optimum des moindres carrés sinon."))


_PEAKS_STARTS = ((-0.5, 0.5), (0.5, -0.5), (-1.5, -0.5), (1.0, 0.5), (0.0, 0.0), (-2.0, 1.0),
                 (0.8, 0.8), (1.5, -1.5), (-0.3, -2.0))


def _cases_2d(rng, hidden):
    if not hidden:
        return [{"kind": 0, "x0": np.array([-0.5, 0.5]), "pas": 0.05, "n_iter": 300,
                 "A": np.eye(2), "b": np.zeros(2)}]
    start = np.array(_PEAKS_STARTS[int(rng.integers(len(_PEAKS_STARTS)))])
    M = rng.normal(size=(3, 3))
    A = M @ M.T + np.eye(3)
    return [{"kind": 0, "x0": start + rng.uniform(-0.1, 0.1, size=2), "pas": 0.03,
             "n_iter": 500, "A": np.eye(2), "b": np.zeros(2)},
            {"kind": 1, "x0": rng.normal(size=3), "pas": 1.0 / np.linalg.eigvalsh(A)[-1],
             "n_iter": int(np.ceil(40 * np.linalg.cond(A))) + 1, "A": A, "b": rng.normal(size=3)}]


def _grad_2d(case):
    if int(case["kind"]) == 0:
        return grad_peaks
    A, b = case["A"], case["b"]
    return lambda x: A @ np.asarray(x, dtype=float) - b


@_quiet
def _eval_2d(case, descente_2d):
    traj = descente_2d(_grad_2d(case), case["x0"].copy(), float(case["pas"]), int(case["n_iter"]))
    return {"trajectoire": traj}


def _verdict_2d(case, answer):
    x0, pas, n_iter = case["x0"], float(case["pas"]), int(case["n_iter"])
    d = len(x0)
    got = as_array(answer, "trajectoire", what="trajectoire")
    if got.shape == (n_iter, d):
        raise AssertionError(f"trajectoire : {n_iter + 1} points attendus (x0 puis les n_iter "
                             "itérés), vous en renvoyez n_iter")
    traj = _vector(answer, "trajectoire", (n_iter + 1, d), "trajectoire")
    if not np.allclose(traj[0], x0, rtol=0, atol=1e-12):
        raise AssertionError("la trajectoire doit commencer par le point de départ x0")
    if int(case["kind"]) == 0:
        f = lambda q: float(peaks(q[0], q[1]))  # noqa: E731
        G = np.array([grad_peaks(q) for q in traj[:-1]])
    else:
        A, b = case["A"], case["b"]
        f = lambda q: float(0.5 * q @ A @ q - b @ q)  # noqa: E731
        G = traj[:-1] @ A.T - b
    steps = traj[1:] - traj[:-1]
    scale = 1e-9 * (1 + np.abs(traj[:-1]))
    if not np.all(np.abs(steps + pas * G) <= scale):
        if np.all(np.abs(steps - pas * G) <= scale):
            raise AssertionError("signe opposé : vous montez le long du gradient au lieu de le "
                                 "descendre (x ← x − pas ∇f(x))")
        if np.all(np.abs(steps + G) <= scale):
            raise AssertionError("le pas n'est pas appliqué : x ← x − pas ∇f(x)")
        t = int(np.argmax(np.any(np.abs(steps + pas * G) > scale, axis=1)))
        raise AssertionError(f"l'itéré {t + 1} ne vaut pas x_{t} − pas ∇f(x_{t}) : attendu "
                             f"{_fmt(traj[t] - pas * G[t], 8)}, obtenu {_fmt(traj[t + 1], 8)}")
    g_end = _fd_gradient(f, traj[-1], 1e-6)
    if np.linalg.norm(g_end) > 1e-4:
        raise AssertionError(f"le point final {_fmt(traj[-1])} n'est pas stationnaire (‖∇f‖ = "
                             f"{np.linalg.norm(g_end):.2g})")


CHECKS.add(Check(
    name="descente_2d", targets=("descente_2d",), cases=_cases_2d, evaluate=_eval_2d,
    verdict=_verdict_2d, numpy_only=True,
    doc="Descente sur peaks (et une quadratique en 3D) : chaque pas vaut − pas ∇f, la "
        "trajectoire part de x0, contient n_iter + 1 points et finit en un point stationnaire "
        "(gradient numérique du correcteur)."))


# =============================================================================================
# Part 6 — Generalisation: polynomial features, k-fold cross-validation
# =============================================================================================
def _cases_poly(rng, hidden):
    specs = [(1, 4), (7, 0), (5, 7)] if hidden else [(6, 3)]
    return [{"x": rng.uniform(-1.5, 1.5, size=n), "degre": d} for n, d in specs]


@_quiet
def _eval_poly(case, caracteristiques_polynomiales):
    return {"phi": caracteristiques_polynomiales(case["x"].copy(), int(case["degre"]))}


def _verdict_poly(case, answer):
    from sklearn.preprocessing import PolynomialFeatures

    x, d = case["x"], int(case["degre"])
    n = len(x)
    exp = PolynomialFeatures(degree=d, include_bias=True).fit_transform(x[:, None])
    if "phi" in answer and not isinstance(answer["phi"], str):
        got = np.asarray(answer["phi"], dtype=float)
        if got.shape == (n, d) and np.all(np.isfinite(got)):
            if d > 0 and _close(got, exp[:, 1:]):
                raise AssertionError(f"degre = {d} : la colonne de 1 (x⁰, le biais) manque — "
                                     f"{d + 1} colonnes attendues [1, x, …, x^{d}]")
            if _close(got, exp[:, :-1]):
                raise AssertionError(f"degre = {d} : la colonne x^{d} manque (décalage de 1) — "
                                     f"{d + 1} colonnes attendues [1, x, …, x^{d}]")
    got = _vector(answer, "phi", (n, d + 1), "caracteristiques_polynomiales")
    if _close(got, exp):
        return
    if _close(got[:, ::-1], exp):
        raise AssertionError("colonnes dans l'ordre inverse : l'ordre attendu est [1, x, x², …] "
                             "(celui de PolynomialFeatures ; np.vander est décroissant par défaut)")
    raise AssertionError(f"degre = {d} : caractéristiques incorrectes (attendu pour "
                         f"x = {x[0]:.3g} : {_fmt(exp[0])}, obtenu {_fmt(got[0])})")


CHECKS.add(Check(
    name="caracteristiques_polynomiales", targets=("caracteristiques_polynomiales",),
    cases=_cases_poly, evaluate=_eval_poly, verdict=_verdict_poly, numpy_only=True,
    doc="Colonnes [1, x, …, x^degre] comparées à sklearn PolynomialFeatures(include_bias=True)."))


def _fit_lstsq(X, y):
    return np.linalg.lstsq(_with_ones(np.asarray(X, dtype=float)), np.asarray(y, dtype=float),
                           rcond=None)[0]


def _mse_error(modele, X, y):
    X = np.asarray(X, dtype=float)
    return _mse(y, X @ modele[1:] + modele[0])


def _rows_of(X, sub):
    """Mask of the rows of X that appear in `sub` (identified by their unique first column)."""
    try:
        sub = np.asarray(sub, dtype=float).reshape(len(sub), -1)[:, 0]
    except (TypeError, ValueError):
        return np.zeros(len(X))
    return np.isin(X[:, 0], sub).astype(float)


def _cases_cv(rng, hidden):
    specs = [(20, 1, 4), (17, 3, 3), (11, 1, 2)] if hidden else [(23, 2, 5)]
    cases = []
    for n, p, k in specs:
        X = rng.normal(size=(n, p))
        y = 1.0 + X @ rng.normal(size=p) + 0.5 * rng.normal(size=n)
        cases.append({"X": X, "y": y, "k": k})
    return cases


@_quiet
def _eval_cv(case, validation_croisee):
    X, y = case["X"], case["y"]
    train_masks, val_masks = [], []

    def ajuster(X_app, y_app):
        train_masks.append(_rows_of(X, X_app))
        return _fit_lstsq(X_app, y_app)

    def erreur(modele, X_val, y_val):
        val_masks.append(_rows_of(X, X_val))
        return _mse_error(modele, X_val, y_val)

    res = _unpack(validation_croisee(X.copy(), y.copy(), int(case["k"]), ajuster, erreur), 3)
    if res is None:
        return {"forme": "invalide"}
    n = len(X)
    return {"scores": res[0], "moyenne": res[1], "ecart_type": res[2],
            "train": np.array(train_masks).reshape(-1, n),
            "val": np.array(val_masks).reshape(-1, n)}


def _verdict_cv(case, answer):
    from sklearn.model_selection import KFold

    if "forme" in answer:
        raise AssertionError("validation_croisee doit renvoyer le triplet (scores, moyenne, "
                             "ecart_type)")
    X, y, k = case["X"], case["y"], int(case["k"])
    n = len(X)
    folds = list(KFold(n_splits=k, shuffle=False).split(X))
    exp = np.array([_mse_error(_fit_lstsq(X[a], y[a]), X[v], y[v]) for a, v in folds])
    where = f"(n = {n}, k = {k})"
    scores = _vector(answer, "scores", (k,), "scores")
    if not _close(scores, exp, 1e-6, 1e-9):
        train, val = answer.get("train"), answer.get("val")
        if isinstance(train, np.ndarray) and isinstance(val, np.ndarray):
            if len(train) != k or len(val) != k:
                raise AssertionError(f"{len(train)} apprentissages et {len(val)} évaluations au "
                                     f"lieu de k = {k} {where}")
            exp_val = np.zeros((k, n))
            for i, (_, v) in enumerate(folds):
                exp_val[i, v] = 1
            if np.any(train.sum(axis=1) + val.sum(axis=1) > n) or np.any(train * val):
                raise AssertionError(f"des exemples du pli de validation servent aussi à "
                                     f"l'apprentissage {where} : entraînez sur les k − 1 autres "
                                     "plis seulement")
            if not np.array_equal(val, exp_val):
                sizes = [len(v) for _, v in folds]
                raise AssertionError(
                    f"plis de validation incorrects {where} : attendus dans l'ordre, sans mélange, "
                    f"de tailles {sizes} (les n % k premiers plis ont un exemple de plus, comme "
                    "KFold(shuffle=False) ou np.array_split) — décalage de 1 dans les bornes ?")
            if not np.array_equal(train, 1 - exp_val):
                raise AssertionError(f"l'apprentissage doit utiliser tous les exemples hors du pli "
                                     f"de validation {where}")
        raise AssertionError(f"scores incorrects {where} : attendu {_fmt(exp)}, obtenu "
                             f"{_fmt(scores)}")
    moyenne = _scalar(answer, "moyenne", "moyenne")
    ecart = _scalar(answer, "ecart_type", "ecart_type")
    if not np.isclose(moyenne, exp.mean(), rtol=1e-6):
        raise AssertionError(f"moyenne des scores : attendu {exp.mean():.6g}, obtenu {moyenne:.6g}")
    if not np.isclose(ecart, exp.std(ddof=0), rtol=1e-6):
        if np.isclose(ecart, exp.std(ddof=1), rtol=1e-6):
            raise AssertionError("écart-type calculé avec ddof = 1 : la consigne demande ddof = 0 "
                                 "(np.std par défaut)")
        raise AssertionError(f"écart-type des scores (ddof = 0) : attendu {exp.std():.6g}, obtenu "
                             f"{ecart:.6g}")


CHECKS.add(Check(
    name="validation_croisee", targets=("validation_croisee",), cases=_cases_cv,
    evaluate=_eval_cv, verdict=_verdict_cv, numpy_only=True,
    doc="Validation croisée à k plis : plis de sklearn KFold(shuffle=False), scores, moyenne et "
        "écart-type (ddof = 0) ; diagnostics : pli de validation appris, plis décalés, ddof."))
