"""TP1, part 6 — generalisation: polynomial features and k-fold cross-validation.

Oracles: scikit-learn's PolynomialFeatures, and KFold(shuffle=False) for the folds; the
kernel's callbacks record which rows the student trains and validates on (their model is a
constant, the mean of the training targets: the exercise is about the folds).
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_number, close, fmt

from .common import vector


def _cases_poly(rng, hidden):
    specs = [(1, 4), (7, 0), (5, 7)] if hidden else [(6, 3)]
    return [{"x": rng.uniform(-1.5, 1.5, size=n), "degre": d} for n, d in specs]


def _verdict_poly(case, answer):
    from sklearn.preprocessing import PolynomialFeatures

    x, d = case["x"], int(case["degre"])
    n = len(x)
    exp = PolynomialFeatures(degree=d, include_bias=True).fit_transform(x[:, None])
    if "phi" in answer and not isinstance(answer["phi"], str):
        got = np.asarray(answer["phi"], dtype=float)
        if got.shape == (n, d) and np.all(np.isfinite(got)):
            if d > 0 and close(got, exp[:, 1:]):
                raise AssertionError(f"degre = {d} : la colonne de 1 (x⁰, le biais) manque — "
                                     f"{d + 1} colonnes attendues [1, x, …, x^{d}]")
            if close(got, exp[:, :-1]):
                raise AssertionError(f"degre = {d} : la colonne x^{d} manque (décalage de 1) — "
                                     f"{d + 1} colonnes attendues [1, x, …, x^{d}]")
    got = vector(answer, "phi", (n, d + 1), "caracteristiques_polynomiales")
    if close(got, exp):
        return
    if close(got[:, ::-1], exp):
        raise AssertionError("colonnes dans l'ordre inverse : l'ordre attendu est [1, x, x², …] "
                             "(celui de PolynomialFeatures ; np.vander est décroissant par défaut)")
    raise AssertionError(f"degre = {d} : caractéristiques incorrectes (attendu pour "
                         f"x = {x[0]:.3g} : {fmt(exp[0])}, obtenu {fmt(got[0])})")


def _cases_cv(rng, hidden):
    specs = [(20, 1, 4), (17, 3, 3), (11, 1, 2)] if hidden else [(23, 2, 5)]
    cases = []
    for n, p, k in specs:
        X = rng.normal(size=(n, p))
        y = 1.0 + X @ rng.normal(size=p) + 0.5 * rng.normal(size=n)
        cases.append({"X": X, "y": y, "k": k})
    return cases


def fold_scores(X, y, k):
    """KFold(k, shuffle=False)'s folds and the scores of the kernel's constant model on them
    (mean of the training targets, mean squared error on the validation fold)."""
    from sklearn.model_selection import KFold

    folds = list(KFold(n_splits=k, shuffle=False).split(X))
    return folds, np.array([np.mean((y[v] - np.mean(y[a])) ** 2) for a, v in folds])


def _verdict_cv(case, answer):
    X, y, k = case["X"], case["y"], int(case["k"])
    n = len(X)
    folds, exp = fold_scores(X, y, k)
    where = f"(n = {n}, k = {k})"
    scores = vector(answer, "scores", (k,), "scores")
    if not close(scores, exp, 1e-6, 1e-9):
        train, val = answer.get("train"), answer.get("val")
        if isinstance(train, np.ndarray) and isinstance(val, np.ndarray) \
                and train.ndim == val.ndim == 2 and train.shape[1] == val.shape[1] == n:
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
        raise AssertionError(f"scores incorrects {where} : attendu {fmt(exp)}, obtenu "
                             f"{fmt(scores)}")
    moyenne = as_number(answer, "moyenne", "moyenne")
    ecart = as_number(answer, "ecart_type", "ecart_type")
    if not np.isclose(moyenne, exp.mean(), rtol=1e-6):
        raise AssertionError(f"moyenne des scores : attendu {exp.mean():.6g}, obtenu {moyenne:.6g}")
    if not np.isclose(ecart, exp.std(ddof=0), rtol=1e-6):
        if np.isclose(ecart, exp.std(ddof=1), rtol=1e-6):
            raise AssertionError("écart-type calculé avec ddof = 1 : la consigne demande ddof = 0 "
                                 "(np.std par défaut)")
        raise AssertionError(f"écart-type des scores (ddof = 0) : attendu {exp.std():.6g}, obtenu "
                             f"{ecart:.6g}")


CHECKS = (
    Check("caracteristiques_polynomiales", _cases_poly, _verdict_poly, numpy_only=True,
          doc="Colonnes [1, x, …, x^degre] comparées à sklearn PolynomialFeatures"
              "(include_bias=True)."),
    Check("validation_croisee", _cases_cv, _verdict_cv, numpy_only=True,
          doc="Validation croisée à k plis : plis de sklearn KFold(shuffle=False), scores, "
              "moyenne et écart-type (ddof = 0) ; diagnostics : pli de validation appris, plis "
              "décalés, ddof."),
)


# -- known mistakes ----------------------------------------------------------------------------
def _poly(kind):
    def caracteristiques_polynomiales(x, degre):
        x = np.asarray(x, dtype=float)
        if kind == "sans_biais":  # no column of ones
            return np.column_stack([x ** k for k in range(1, degre + 1)] or [np.empty((len(x), 0))])
        if kind == "decalage":  # range(degre): misses x^degre
            return np.column_stack([x ** k for k in range(degre)] or [np.empty((len(x), 0))])
        if kind == "vander":  # decreasing powers
            return np.vander(x, degre + 1)
        if kind == "transposee":
            return np.array([x ** k for k in range(degre + 1)])
        raise ValueError(kind)
    return caracteristiques_polynomiales


def _cv(kind):
    def validation_croisee(X, y, k, ajuster, erreur):
        n = len(y)
        idx = np.arange(n)
        if kind == "melange":  # shuffled folds
            idx = np.random.default_rng(0).permutation(n)
        if kind in ("reste_dernier", "chevauchement"):
            m = n // k
            extra = 1 if kind == "chevauchement" else 0  # off by one: folds overlap
            plis = [idx[i * m:(i + 1) * m + extra] for i in range(k - 1)]
            plis.append(idx[(k - 1) * m:])  # the remainder in the last fold
        else:
            plis = np.array_split(idx, k)
        scores = []
        for pli in plis:
            app = idx if kind == "tout_apprendre" else np.setdiff1d(idx, pli)
            modele = ajuster(X[app], y[app])
            scores.append(erreur(modele, X[pli], y[pli]))
        scores = np.array(scores)
        return scores, scores.mean(), scores.std(ddof=1 if kind == "ddof1" else 0)
    return validation_croisee


MISTAKES = {
    "caracteristiques_polynomiales": [
        Mistake("colonne de 1 oubliée", {"caracteristiques_polynomiales": _poly("sans_biais")},
                "colonne de 1"),
        Mistake("range(degre)", {"caracteristiques_polynomiales": _poly("decalage")}, "manque"),
        Mistake("np.vander (ordre décroissant)",
                {"caracteristiques_polynomiales": _poly("vander")}, "ordre inverse"),
        Mistake("transposée", {"caracteristiques_polynomiales": _poly("transposee")},
                "transposée"),
    ],
    "validation_croisee": [
        Mistake("apprend aussi sur le pli de validation",
                {"validation_croisee": _cv("tout_apprendre")}, "servent aussi"),
        Mistake("reste dans le dernier pli", {"validation_croisee": _cv("reste_dernier")},
                "plis de validation incorrects"),
        Mistake("plis qui se chevauchent", {"validation_croisee": _cv("chevauchement")}),
        Mistake("plis mélangés", {"validation_croisee": _cv("melange")}, "plis de validation"),
        Mistake("écart-type ddof = 1", {"validation_croisee": _cv("ddof1")}, "ddof"),
    ],
}
