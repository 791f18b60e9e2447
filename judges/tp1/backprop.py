"""TP1, part 4 — backpropagation by hand in a two-layer network (sigmoid, then ReLU hidden
layer, linear output, mean squared error).

Oracle: torch.autograd in float64 (imported when a verdict needs it); variants of the backward
pass (activation's derivative forgotten, or evaluated at a1) name the classic mistakes.
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, close, relative_error
from tp1.exercises import ACTIVATIONS

from .common import is_ratio, ratio, vector

PARAMS = ("W1", "b1", "W2", "b2")


def _cases_backprop(activation):
    code = ACTIVATIONS.index(activation)

    def cases(rng, hidden):
        shapes = [(5, 4, 4, 2), (9, 2, 5, 1), (4, 3, 2, 2)] if hidden else [(6, 3, 4, 1)]
        return [{"X": rng.normal(size=(n, p)), "y": rng.normal(size=(n, q)),
                 "W1": rng.normal(size=(h, p)), "b1": rng.normal(size=h) * 0.5,
                 "W2": rng.normal(size=(q, h)), "b2": rng.normal(size=q) * 0.5,
                 "activation": code} for n, p, h, q in shapes]

    return cases


def torch_gradients(case, mode="exact"):
    """Gradients of C = 1/n Σ_i ||a2_i − y_i||² by torch.autograd (float64).

    mode "sans_derivee": backward as if the activation's derivative were 1 (straight-through);
    mode "derivee_en_a": backward with the derivative evaluated at a1 = act(z1) instead of z1.
    """
    import torch

    act = torch.sigmoid if int(case["activation"]) == 0 else torch.relu
    t = {k: torch.tensor(case[k], dtype=torch.float64, requires_grad=True) for k in PARAMS}
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
    n = case["X"].shape[0]
    act = ACTIVATIONS[int(case["activation"])]
    got = {k: vector(answer, k, case[k].shape, f"d{k}") for k in PARAMS}
    exp = torch_gradients(case)
    ok = {k: close(got[k], exp[k], 1e-6, 1e-9) for k in got}
    if all(ok.values()):
        return
    dims = (f"(n = {n}, p = {case['X'].shape[1]}, h = {case['W1'].shape[0]}, "
            f"q = {case['W2'].shape[0]}, activation {act})")
    for k in ("W1", "W2"):
        square = got[k].shape[0] == got[k].shape[1]
        if not ok[k] and square and close(got[k].T, exp[k], 1e-6, 1e-9):
            raise AssertionError(f"d{k} est transposée {dims} : elle doit avoir la forme de {k}")
    flat_got = np.concatenate([got[k].ravel() for k in PARAMS])
    flat_exp = np.concatenate([exp[k].ravel() for k in PARAMS])
    r = ratio(flat_got, flat_exp)
    if is_ratio(r, 0.5):
        raise AssertionError(f"tous les gradients sont 2 fois trop petits {dims} : avez-vous "
                             "oublié le facteur 2 de ∂C/∂a = 2(a − y) ?")
    if n > 1 and is_ratio(r, float(n)):
        raise AssertionError(f"tous les gradients sont n = {n} fois trop grands {dims} : division "
                             "par n manquante (le gradient est la moyenne sur les exemples)")
    if is_ratio(r, -1.0):
        raise AssertionError(f"signe opposé {dims} : ∂C/∂a = 2(a − y), pas 2(y − a)")
    if n > 1 and is_ratio(r, n / 2):
        raise AssertionError(f"facteur 2 et division par n manquants {dims}")
    if ok["W2"] and ok["b2"]:
        d = "σ′" if act == "sigmoide" else "relu′"
        variants = {"sans_derivee": f"oubli de {d}(z1) : ∂C/∂z1 = (∂C/∂a1) ⊙ {d}(z1)",
                    "derivee_en_a": "σ′ évaluée en a1 = σ(z1) au lieu de z1 : σ′(z1) = "
                                    "σ(z1)(1 − σ(z1)) = a1(1 − a1)"}
        for mode, msg in variants.items():
            v = torch_gradients(case, mode)
            if close(got["W1"], v["W1"], 1e-6, 1e-9) and close(got["b1"], v["b1"], 1e-6, 1e-9):
                raise AssertionError(f"dW2 et db2 sont corrects mais pas la couche cachée {dims} : "
                                     + msg)
        wrong = [f"d{k}" for k in ("W1", "b1") if not ok[k]]
        raise AssertionError(f"dW2 et db2 sont corrects mais {' et '.join(wrong)} non {dims} : "
                             "l'erreur est dans la rétropropagation vers la couche cachée "
                             "(∂C/∂a1 = (∂C/∂a2) W2, puis ⊙ σ′(z1))")
    wrong = [k for k in PARAMS if not ok[k]]
    errs = ", ".join(f"d{k} (erreur relative {relative_error(got[k], exp[k]):.2g})" for k in wrong)
    raise AssertionError(f"gradients incorrects {dims} : {errs}")


CHECKS = tuple(
    Check(f"backprop_{act}", _cases_backprop(act), _verdict_backprop, numpy_only=True,
          doc=f"Rétropropagation à la main, couche cachée {label} : gradients de W1, b1, W2, b2 "
              "comparés à torch.autograd ; diagnostics : transposée, σ′ oubliée, facteur 2, 1/n.")
    for act, label in (("sigmoide", "sigmoïde"), ("relu", "ReLU")))


# -- known mistakes ----------------------------------------------------------------------------
def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def _backprop(kind):
    def backprop(X, y, params, activation="sigmoide"):
        n = X.shape[0]
        W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
        Z1 = X @ W1.T + b1
        sig = activation == "sigmoide" or kind == "toujours_sigmoide"
        A1 = _sig(Z1) if sig else np.maximum(Z1, 0)
        A2 = A1 @ W2.T + b2
        dA2 = 2.0 * (A2 - y) / n
        if kind == "sans_2":  # forgot the 2 of 2(a - y)
            dA2 = dA2 / 2
        elif kind == "sans_n":  # forgot 1/n
            dA2 = dA2 * n
        elif kind == "signe":  # 2(y - a)
            dA2 = -dA2
        if sig:
            d = A1 * (1 - A1)
            if kind == "derivee_en_a":  # sigma'(a1) instead of sigma'(z1)
                d = _sig(A1) * (1 - _sig(A1))
        else:
            d = (Z1 > 0).astype(float)
        if kind == "sans_derivee":  # forgot sigma'
            d = np.ones_like(Z1)
        dZ1 = (dA2 @ W2) * d
        dW1, db1 = dZ1.T @ X, dZ1.sum(axis=0)
        dW2, db2 = dA2.T @ A1, dA2.sum(axis=0)
        if kind == "transposee":  # dW1 transposed
            dW1 = dW1.T
        if kind == "biais_2d":  # db2 with keepdims
            db2 = dA2.sum(axis=0, keepdims=True)
        return dW1, db1, dW2, db2
    return backprop


MISTAKES = {
    "backprop_sigmoide": [
        Mistake("facteur 2 oublié", {"backprop": _backprop("sans_2")}, "facteur 2"),
        Mistake("1/n oublié", {"backprop": _backprop("sans_n")}, "division par n"),
        Mistake("σ′ oubliée", {"backprop": _backprop("sans_derivee")}, "oubli de σ′"),
        Mistake("σ′ évaluée en a1", {"backprop": _backprop("derivee_en_a")}, "évaluée en a1"),
        Mistake("dW1 transposée", {"backprop": _backprop("transposee")}, "transposée"),
        Mistake("signe opposé", {"backprop": _backprop("signe")}, "signe opposé"),
        Mistake("db2 de forme (1, q)", {"backprop": _backprop("biais_2d")}, "forme"),
    ],
    "backprop_relu": [
        Mistake("facteur 2 oublié", {"backprop": _backprop("sans_2")}, "facteur 2"),
        Mistake("1/n oublié", {"backprop": _backprop("sans_n")}, "division par n"),
        Mistake("relu′ oubliée", {"backprop": _backprop("sans_derivee")}, "oubli de relu′"),
        Mistake("dW1 transposée", {"backprop": _backprop("transposee")}, "transposée"),
        Mistake("activation ignorée (toujours sigmoïde)",
                {"backprop": _backprop("toujours_sigmoide")}),
    ],
}
