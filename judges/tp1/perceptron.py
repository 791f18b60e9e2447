"""TP1, part 1 — the perceptron: one update, then the whole training replayed by the judge.

The training is specified exactly in the notebook (w = 0, b = 0; the examples in the given
order; the course's rule with α; the mistakes of each epoch counted; stop after the first epoch
without mistake or after n_epochs_max epochs), so its result is unique: the judge replays it in
its own formulation (augmented vectors [b, w], [1, x]) and requires the same w, b and history.
Cases are drawn so that no example falls within rounding distance of the hyperplane during the
replay: any faithful implementation then makes exactly the same decisions.
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_array, as_number, close, fmt
from tp1 import arbres_malades

from .common import vector

MARGIN = 1e-9  # relative |w·x + b| / Σ|w_j x_j| + |b| under which a case is redrawn


# -- one update --------------------------------------------------------------------------------
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


def _verdict_etape(case, answer):
    alpha = float(case["alpha"])
    for i in range(len(case["Ys"])):
        w, b, x, y = case["W"][i], float(case["B"][i]), case["Xs"][i], int(case["Ys"][i])
        what = f"exemple {i + 1}"
        got_w = vector(answer, f"w{i}", w.shape, f"w ({what})")
        got_b = as_number(answer, f"b{i}", f"b ({what})")
        z = float(w @ x) + b
        pred = 1 if z > 0 else 0
        if pred == y:
            exp_w, exp_b = w, b
        elif y == 1:
            exp_w, exp_b = w + alpha * x, b + alpha
        else:
            exp_w, exp_b = w - alpha * x, b - alpha
        if close(got_w, exp_w, 1e-9, 1e-12) and abs(got_b - exp_b) <= 1e-9 * max(1, abs(exp_b)):
            continue
        where = (f"{what} (x = {fmt(x)}, y = {y}, w·x + b = {z:.4g}, donc f(x) = {pred}, "
                 f"α = {alpha:g})")
        unchanged = close(got_w, w, 1e-9, 1e-12) and abs(got_b - b) <= 1e-9 * max(1, abs(b))
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
        if close(got_w, 2 * w - exp_w, 1e-9, 1e-12):
            raise AssertionError(f"{where} : signe opposé — la règle est w ← w + α (y − f(x)) x ; "
                                 "vous utilisez (f(x) − y)")
        if close(got_w, exp_w, 1e-9, 1e-12) and abs(got_b - b) <= 1e-12 * max(1, abs(b)):
            raise AssertionError(f"{where} : w est correct mais vous avez oublié de mettre à jour "
                                 "le biais : b ← b + α (y − f(x))")
        if close(got_w, w + (exp_w - w) / alpha, 1e-9, 1e-12):
            raise AssertionError(f"{where} : avez-vous oublié le taux d'apprentissage α ?")
        raise AssertionError(f"{where} : attendu w = {fmt(exp_w)}, b = {exp_b:.4g} ; obtenu "
                             f"w = {fmt(got_w)}, b = {got_b:.4g}")


# -- the whole training ------------------------------------------------------------------------
def replay(X, y, alpha, n_epochs_max):
    """The course's perceptron on augmented vectors θ = [b, w], x̃ = [1, x]: θ ← θ + α (y − f) x̃
    for each example in order, epochs until one without mistake or n_epochs_max.
    Returns (w, b, mistakes per epoch, smallest relative margin |θ·x̃| / Σ|θ_j x̃_j| met while
    θ ≠ 0: under MARGIN, rounding could change a decision)."""
    Xt = np.column_stack([np.ones(len(X)), np.asarray(X, dtype=float)])
    theta = np.zeros(Xt.shape[1])
    history, margin = [], np.inf
    for _ in range(n_epochs_max):
        mistakes = 0
        for xt, target in zip(Xt, np.asarray(y)):
            z = float(theta @ xt)
            if theta.any():
                margin = min(margin, abs(z) / max(float(np.abs(theta) @ np.abs(xt)), 1e-300))
            delta = int(target) - (1 if z > 0 else 0)
            if delta:
                mistakes += 1
                theta = theta + (alpha * delta) * xt
        history.append(mistakes)
        if mistakes == 0:
            break
    return theta[1:], float(theta[0]), np.array(history, dtype=float), margin


def linearly_separable(X, y, bias=True) -> bool:
    """True when some (w, b) gives (2 y_i − 1)(w·x_i + b) >= 1 for all i (a linear program);
    with bias=False, only hyperplanes through the origin (b = 0) are allowed."""
    from scipy.optimize import linprog

    s = 2.0 * np.asarray(y, dtype=float) - 1.0
    Xt = np.column_stack([X, np.ones(len(X))]) if bias else np.asarray(X, dtype=float)
    res = linprog(np.zeros(Xt.shape[1]), A_ub=-(s[:, None] * Xt), b_ub=-np.ones(len(X)),
                  bounds=[(None, None)] * Xt.shape[1], method="highs")
    return res.status == 0


def separable_generic(rng, n, p):
    """Linearly separable data in R^p with a margin, that no hyperplane through the origin
    separates (a forgotten bias cannot reach 0 errors)."""
    while True:
        w = rng.normal(size=p)
        w /= np.linalg.norm(w)
        b = rng.choice([-1.0, 1.0]) * rng.uniform(1.0, 2.0)
        X = rng.uniform(-3.0, 3.0, size=(8 * n, p))
        X = X[np.abs(X @ w + b) >= 0.5][:n]
        y = (X @ w + b > 0).astype(int)
        if len(y) == n and 0 < y.sum() < n and not linearly_separable(X, y, bias=False):
            return X, y


def threshold_1d(rng, n):
    """One feature, label 1 above a threshold t in [1.5, 3] (margin 0.3): needs the bias."""
    t = rng.uniform(1.5, 3.0)
    while True:
        x = rng.uniform(0.0, 5.0, size=4 * n)
        x = x[np.abs(x - t) >= 0.3][:n]
        y = (x > t).astype(int)
        if len(y) == n and 0 < y.sum() < n:
            return x[:, None], y


def _case(draw, alpha, n_epochs_max, separable):
    """A training case whose replay keeps every decision away from rounding (redrawn else)."""
    while True:
        X, y = draw()
        if replay(X, y, alpha, n_epochs_max)[3] > MARGIN:
            return {"X": X, "y": y, "alpha": alpha, "n_epochs_max": n_epochs_max,
                    "_separable": int(separable)}


def _cases_entrainer(rng, hidden):
    # Cases that need a bias come first: a sick-trees sample is nearly always separable by a
    # line through the origin too (a forgotten bias then shows only in the replay).
    if not hidden:
        return [_case(lambda: threshold_1d(rng, 20), 0.5, 1000, True),
                _case(lambda: arbres_malades(30, separable=True, rng=rng), 1.0, 1000, True)]
    return [
        _case(lambda: separable_generic(rng, int(rng.integers(20, 40)), 3), 0.5, 1000, True),
        _case(lambda: threshold_1d(rng, int(rng.integers(10, 30))), 2.0, 1000, True),
        _case(lambda: arbres_malades(int(rng.integers(15, 50)), separable=True, rng=rng), 0.1,
              1000, True),
        _case(lambda: arbres_malades(int(rng.integers(20, 40)), separable=False, rng=rng), 1.0,
              int(rng.integers(8, 16)), False)]


RULES = ("départ w = 0, b = 0, exemples dans l'ordre donné, mise à jour après chaque exemple "
         "mal classé, erreurs comptées pendant l'époque")


def _verdict_entrainer(case, answer):
    X, y = case["X"], case["y"]
    n, p = X.shape
    alpha, n_max = float(case["alpha"]), int(case["n_epochs_max"])
    w = vector(answer, "w", (p,), "w")
    b = as_number(answer, "b", "b")
    err = as_array(answer, "erreurs", what="erreurs")
    if err.ndim != 1 or err.size == 0:
        raise AssertionError("erreurs : une liste non vide (une valeur par époque) est attendue")
    if np.any(err < 0) or np.any(err != np.round(err)):
        raise AssertionError("erreurs : des nombres entiers d'erreurs (≥ 0) sont attendus")
    if len(err) > n_max:
        raise AssertionError(f"{len(err)} époques alors que n_epochs_max = {n_max}")
    mistakes = int(np.sum((X @ w + b > 0).astype(int) != y))
    if case["_separable"]:
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
    exp_w, exp_b, exp_err, _ = replay(X, y, alpha, n_max)
    where = f"(n = {n}, α = {alpha:g})"
    if len(err) != len(exp_err) or np.any(err != exp_err):
        m = min(len(err), len(exp_err))
        first = int(np.argmax(err[:m] != exp_err[:m])) if np.any(err[:m] != exp_err[:m]) else m
        detail = (f"{len(err)} époques au lieu de {len(exp_err)}" if first == m else
                  f"époque {first + 1} : {int(err[first])} erreurs au lieu de "
                  f"{int(exp_err[first])}")
        raise AssertionError(f"ce n'est pas l'historique du perceptron du cours {where} : "
                             f"{detail} (rappel : {RULES})")
    if not (close(w, exp_w, 1e-9, 1e-12) and abs(b - exp_b) <= 1e-9 * max(1.0, abs(exp_b))):
        hint = " — le biais b vaut 0 : l'avez-vous mis à jour ?" if b == 0 != exp_b else ""
        raise AssertionError(f"l'historique des erreurs est juste mais (w, b) n'est pas celui du "
                             f"perceptron du cours {where} : attendu w = {fmt(exp_w)}, "
                             f"b = {exp_b:.6g} ; obtenu w = {fmt(w)}, b = {b:.6g}{hint}")


CHECKS = (
    Check("etape_perceptron", _cases_etape, _verdict_etape, numpy_only=True,
          doc="Une mise à jour du perceptron : exemples bien/mal classés, cas w·x + b = 0, biais, "
              "signe de y − f(x), taux α."),
    Check("entrainer_perceptron", _cases_entrainer, _verdict_entrainer, numpy_only=True,
          doc="Entraînement complet rejoué par le correcteur (départ à 0, exemples dans l'ordre, "
              "arrêt à la première époque sans erreur ou après n_epochs_max) : mêmes w, b et "
              "même historique des erreurs ; 0 erreur sur des données séparables."),
)


# -- known mistakes ----------------------------------------------------------------------------
def _etape(sign=1, bias=True, strict=True, always=False, use_alpha=True):
    def etape_perceptron(w, b, x, y, alpha):
        z = np.dot(w, x) + b
        f = (1 if z > 0 else 0) if strict else (1 if z >= 0 else 0)
        a = alpha if use_alpha else 1.0
        c = a * (2 * y - 1) if always else sign * a * (y - f)
        return w + c * x, (b + c if bias else b)
    return etape_perceptron


def _entrainer(update_sign=1, bias=True, one_epoch=False, stop=True, epochs_offset=0):
    def entrainer_perceptron(X, y, alpha=1.0, n_epochs_max=100):
        w, b, erreurs = np.zeros(X.shape[1]), 0.0, []
        for _ in range(1 if one_epoch else n_epochs_max + epochs_offset):
            k = 0
            for xi, yi in zip(X, y):
                f = 1 if xi @ w + b > 0 else 0
                if f != yi:
                    k += 1
                    w = w + update_sign * alpha * (yi - f) * xi
                    b = b + (update_sign * alpha * (yi - f) if bias else 0.0)
            erreurs.append(k)
            if stop and k == 0:
                break
        return w, b, erreurs
    return entrainer_perceptron


def _linear_program(X, y, alpha=1.0, n_epochs_max=100):
    """A separating hyperplane from a linear program, and an error history made up."""
    from scipy.optimize import linprog

    s = 2.0 * y - 1.0
    Xt = np.column_stack([X, np.ones(len(X))])
    res = linprog(np.zeros(Xt.shape[1]), A_ub=-(s[:, None] * Xt), b_ub=-np.ones(len(X)),
                  bounds=[(None, None)] * Xt.shape[1], method="highs")
    if res.status != 0:
        return np.zeros(X.shape[1]), 0.0, [len(y) // 2] * n_epochs_max
    return res.x[:-1], float(res.x[-1]), [len(y) // 2, len(y) // 5, 0]


MISTAKES = {
    "etape_perceptron": [
        Mistake("signe opposé", {"etape_perceptron": _etape(sign=-1)}, "signe opposé"),
        Mistake("biais oublié", {"etape_perceptron": _etape(bias=False)}, "biais"),
        Mistake("inégalité large", {"etape_perceptron": _etape(strict=False)},
                "inégalité stricte"),
        Mistake("mise à jour même si bien classé", {"etape_perceptron": _etape(always=True)},
                "bien classé"),
        Mistake("α oublié", {"etape_perceptron": _etape(use_alpha=False)},
                "taux d'apprentissage"),
    ],
    "entrainer_perceptron": [
        Mistake("signe de la mise à jour", {"entrainer_perceptron": _entrainer(update_sign=-1)},
                "classent mal"),
        Mistake("biais oublié", {"entrainer_perceptron": _entrainer(bias=False)}, "classent mal"),
        Mistake("une seule époque", {"entrainer_perceptron": _entrainer(one_epoch=True)}),
        Mistake("pas d'arrêt à 0 erreur", {"entrainer_perceptron": _entrainer(stop=False)},
                "première époque sans erreur"),
        Mistake("n_epochs_max − 1 époques",
                {"entrainer_perceptron": _entrainer(epochs_offset=-1)}, "non séparables",
                "hidden"),
        Mistake("hyperplan trouvé par programmation linéaire + historique inventé",
                {"entrainer_perceptron": _linear_program}, "perceptron du cours"),
    ],
}
