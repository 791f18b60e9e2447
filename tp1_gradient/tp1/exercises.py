"""TP1's exercises, kernel side: how each one applies the student's functions to the judge's
inputs. Only plain data comes out (no verdict here: the judge decides, the notebook's check()
compares with the public table).

Set-up helpers (the test functions of gradient checking, the gradient given to the 2-D descent,
the callbacks handed to the cross-validation) live here; no function computes an answer.
"""

from __future__ import annotations

import numpy as np

from grader.protocol import Exercise, Exercises, InvalidAnswer, quiet, unpack

from .data import grad_peaks

EXERCISES = Exercises(__file__)
check = EXERCISES.check
ACTIVATIONS = ("sigmoide", "relu")  # case["activation"] is the index of the name


def _items(result, k: int, what: str):
    """The student's result as a k-tuple, else InvalidAnswer with what was expected."""
    try:
        return unpack(result, k, "")
    except InvalidAnswer:
        raise InvalidAnswer(f"{what} (renvoyé : {type(result).__name__})") from None


def _add(name, targets, evaluate):
    EXERCISES.add(Exercise(name, targets, quiet(evaluate)))


# -- Part 1: perceptron -------------------------------------------------------------------------
def _eval_etape(case, etape_perceptron):
    out = {}
    for i in range(len(case["Ys"])):
        res = etape_perceptron(case["W"][i].copy(), float(case["B"][i]), case["Xs"][i].copy(),
                               int(case["Ys"][i]), float(case["alpha"]))
        out[f"w{i}"], out[f"b{i}"] = _items(
            res, 2, "etape_perceptron doit renvoyer le couple (w, b) des nouveaux poids")
    return out


def _eval_entrainer(case, entrainer_perceptron):
    res = entrainer_perceptron(case["X"].copy(), case["y"].copy(), float(case["alpha"]),
                               int(case["n_epochs_max"]))
    w, b, erreurs = _items(res, 3, "entrainer_perceptron doit renvoyer le triplet "
                                   "(w, b, erreurs)")
    return {"w": w, "b": b, "erreurs": erreurs}


_add("etape_perceptron", ("etape_perceptron",), _eval_etape)
_add("entrainer_perceptron", ("entrainer_perceptron",), _eval_entrainer)


# -- Part 2: linear regression, gradient descent -----------------------------------------------
def _eval_cout(case, cout_mse):
    return {"cout": cout_mse(case["X"].copy(), case["y"].copy(), case["theta"].copy())}


def _eval_gradient(case, gradient_mse):
    return {"gradient": gradient_mse(case["X"].copy(), case["y"].copy(), case["theta"].copy())}


def _eval_descente(case, descente_gradient):
    res = descente_gradient(case["X"].copy(), case["y"].copy(), float(case["pas"]),
                            int(case["n_iter"]))
    theta, historique = _items(res, 2, "descente_gradient doit renvoyer le couple "
                                       "(theta, historique)")
    return {"theta": theta, "historique": historique}


def _eval_pas(case, pas_diverge):
    return {"diverge": pas_diverge(case["X"].copy(), case["y"].copy(), float(case["pas"]))}


def _eval_mc(case, moindres_carres):
    return {"theta": moindres_carres(case["X"].copy(), case["y"].copy())}


_add("cout_mse", ("cout_mse",), _eval_cout)
_add("gradient_mse", ("gradient_mse",), _eval_gradient)
_add("descente_gradient", ("descente_gradient",), _eval_descente)
_add("pas_diverge", ("pas_diverge",), _eval_pas)
_add("moindres_carres", ("moindres_carres",), _eval_mc)


# -- Part 3: gradient checking --------------------------------------------------------------
def _test_function(case):
    """The known function f of a gradient-checking case: kind 0 Σ a_i θ_i³, 1 Σ a_i sin θ_i,
    2 θᵀAθ + bᵀθ (the student's finite differences are applied to it)."""
    kind, a, A, b = int(case["kind"]), case["a"], case["A"], case["b"]
    if kind == 0:
        return lambda t: float(np.sum(a * np.asarray(t, dtype=float) ** 3))
    if kind == 1:
        return lambda t: float(np.sum(a * np.sin(np.asarray(t, dtype=float))))
    return lambda t: float(np.asarray(t, dtype=float) @ A @ np.asarray(t, dtype=float)
                           + b @ np.asarray(t, dtype=float))


def _eval_gradnum(case, gradient_numerique):
    theta = case["theta"].copy()
    g = gradient_numerique(_test_function(case), theta, float(case["eps"]))
    return {"gradient": g, "theta_apres": theta}


_add("gradient_numerique", ("gradient_numerique",), _eval_gradnum)


# -- Part 4: backpropagation ---------------------------------------------------------------
def _eval_backprop(case, backprop):
    params = {k: case[k].copy() for k in ("W1", "b1", "W2", "b2")}
    res = backprop(case["X"].copy(), case["y"].copy(), params,
                   ACTIVATIONS[int(case["activation"])])
    return dict(zip(("W1", "b1", "W2", "b2"), _items(
        res, 4, "backprop doit renvoyer le quadruplet (dW1, db1, dW2, db2)")))


_add("backprop_sigmoide", ("backprop",), _eval_backprop)
_add("backprop_relu", ("backprop",), _eval_backprop)


# -- Part 5: mini-batch SGD, a non-convex surface -------------------------------------------
def _same(a, b) -> bool:
    """The two results hold the same numbers (NaN included); not numbers: left to encoding."""
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return True
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def _eval_sgd(case, sgd):
    """Called twice with the same seed: a result that changes is refused as it is (a random
    answer could not be compared with anything)."""
    args = (int(case["taille_batch"]), float(case["pas"]), int(case["n_epochs"]),
            int(case["graine"]))
    runs = [_items(sgd(case["X"].copy(), case["y"].copy(), *args), 2,
                   "sgd doit renvoyer le couple (theta, historique)") for _ in range(2)]
    if not all(_same(a, b) for a, b in zip(*runs)):
        raise InvalidAnswer("deux appels avec la même graine donnent des résultats différents : "
                            "créez le générateur avec np.random.default_rng(graine) dans sgd")
    return {"theta": runs[0][0], "historique": runs[0][1]}


def _gradient_2d(case):
    """The gradient handed to descente_2d: grad_peaks (kind 0), or x ↦ A x − b (kind 1)."""
    if int(case["kind"]) == 0:
        return grad_peaks
    A, b = case["A"], case["b"]
    return lambda x: A @ np.asarray(x, dtype=float) - b


def _eval_2d(case, descente_2d):
    return {"trajectoire": descente_2d(_gradient_2d(case), case["x0"].copy(),
                                       float(case["pas"]), int(case["n_iter"]))}


_add("sgd", ("sgd",), _eval_sgd)
_add("descente_2d", ("descente_2d",), _eval_2d)


# -- Part 6: generalisation ------------------------------------------------------------------
def _eval_poly(case, caracteristiques_polynomiales):
    return {"phi": caracteristiques_polynomiales(case["x"].copy(), int(case["degre"]))}


def _rows_of(X, sub):
    """Mask of the rows of X that appear in `sub` (rows are told apart by their first column,
    distinct in the cross-validation cases): which examples the student passed."""
    try:
        sub = np.asarray(sub, dtype=float).reshape(len(sub), -1)[:, 0]
    except (TypeError, ValueError):
        return np.zeros(len(X))
    return np.isin(X[:, 0], sub).astype(float)


def _eval_cv(case, validation_croisee):
    """The callbacks record which rows the student trains and validates on. Their model is a
    constant (the mean of the training targets), scored by its mean squared error: what the
    exercise is about is the folds, not the model."""
    X, y = case["X"], case["y"]
    train, val = [], []

    def ajuster(X_app, y_app):
        train.append(_rows_of(X, X_app))
        return np.array([np.mean(np.asarray(y_app, dtype=float))])

    def erreur(modele, X_val, y_val):
        val.append(_rows_of(X, X_val))
        return float(np.mean((np.asarray(y_val, dtype=float) - modele[0]) ** 2))

    res = validation_croisee(X.copy(), y.copy(), int(case["k"]), ajuster, erreur)
    scores, moyenne, ecart_type = _items(res, 3, "validation_croisee doit renvoyer le triplet "
                                                 "(scores, moyenne, ecart_type)")
    n = len(X)
    return {"scores": scores, "moyenne": moyenne, "ecart_type": ecart_type,
            "train": np.array(train).reshape(-1, n), "val": np.array(val).reshape(-1, n)}


_add("caracteristiques_polynomiales", ("caracteristiques_polynomiales",), _eval_poly)
_add("validation_croisee", ("validation_croisee",), _eval_cv)


# -- Part 6 (continued): regularisation ------------------------------------------------------
def _eval_gradient_ridge(case, gradient_ridge):
    return {"gradient": gradient_ridge(case["X"].copy(), case["y"].copy(), case["theta"].copy(),
                                       float(case["lam"]))}


def _eval_ridge(case, ridge):
    return {"theta": ridge(case["X"].copy(), case["y"].copy(), float(case["lam"]))}


_add("gradient_ridge", ("gradient_ridge",), _eval_gradient_ridge)
_add("ridge", ("ridge",), _eval_ridge)
