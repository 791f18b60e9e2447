"""TP4, part 0: PyTorch's three gestures (tensors and autograd, zero_grad/backward/step) on a
1-D linear regression trained by plain gradient descent.

Oracle: gradient descent on a quadratic is an affine iteration, θ_{k+1} = θ_k − 2 lr (A θ_k − c)
with A = E[(x, 1)(x, 1)ᵀ], c = E[(x, 1) y]; after n steps from θ_0 = 0,
θ_n = θ* − (I − 2 lr A)ⁿ θ*, with θ* the least-squares solution (np.linalg.lstsq) and the matrix
power computed by NumPy: no loop, no autograd. The known mistakes (accumulated gradients,
wrong sign, n ± 1 steps, summed loss, lr ignored) are replayed to name them.
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, as_array


def _cases(rng, hidden):
    specs = [(12, 25, 0.1), (40, 7, 0.3), (5, 1, 0.05)] if hidden else [(20, 15, 0.1)]
    cases = []
    for n, steps, lr in specs:
        x = rng.uniform(-1, 1, size=n)
        w, b = rng.uniform(0.5, 2) * rng.choice([-1, 1]), rng.uniform(-1, 1)
        cases.append({"x": x, "y": w * x + b + 0.1 * rng.normal(size=n), "n_pas": steps,
                      "lr": lr})
    return cases


def _system(x, y):
    """A and c of the mean squared error E[(w x + b − y)²] = θᵀAθ − 2 cᵀθ + E[y²]."""
    U = np.stack([x, np.ones_like(x)], axis=1)
    return U.T @ U / len(x), U.T @ y / len(x)


def descente(x, y, n_steps, lr):
    """θ_n of gradient descent on the mean squared error from θ_0 = (0, 0), in closed form."""
    if n_steps <= 0:
        return np.zeros(2)
    A = _system(x, y)[0]
    U = np.stack([x, np.ones_like(x)], axis=1)
    star = np.linalg.lstsq(U, y, rcond=None)[0]
    return star - np.linalg.matrix_power(np.eye(2) - 2 * lr * A, n_steps) @ star


def _accumulated(x, y, n_steps, lr):
    """Without zero_grad: the step uses the sum of all the gradients so far (a loop: this is a
    known mistake's behaviour, not the oracle)."""
    A, c = _system(x, y)
    theta, total = np.zeros(2), np.zeros(2)
    for _ in range(n_steps):
        total = total + 2 * (A @ theta - c)
        theta = theta - lr * total
    return theta


def _wrong_sign(x, y, n_steps, lr):
    A, c = _system(x, y)
    theta = np.zeros(2)
    for _ in range(n_steps):
        theta = theta + lr * 2 * (A @ theta - c)
    return theta


def _verdict(case, answer):
    x, y, n, lr = case["x"], case["y"], int(case["n_pas"]), float(case["lr"])
    got = as_array(answer, "wb", (2,), what="regression_sgd(x, y, n_pas, lr) → (w, b)")
    expected = descente(x, y, n, lr)

    def near(theta):
        return np.allclose(got, theta, rtol=1e-4, atol=1e-5)

    if near(expected):
        return
    where = f"(n = {len(x)} points, n_pas = {n}, lr = {lr:g})"
    for theta, words in (
            (np.zeros(2), "w et b n'ont pas bougé de 0 : à chaque pas, calculez la perte, "
                          "appelez perte.backward() PUIS optimiseur.step() (un step avant "
                          "backward, ou un zero_grad entre les deux, efface le gradient)"),
            (_accumulated(x, y, n, lr), "les gradients s'accumulent d'un pas à l'autre : "
                                        "optimiseur.zero_grad() à chaque pas, avant backward()"),
            (_wrong_sign(x, y, n, lr), "les paramètres montent le long du gradient : la "
                                       "descente fait θ ← θ − lr ∇perte (signe opposé)"),
            (descente(x, y, n - 1, lr), f"{n - 1} pas faits au lieu de n_pas = {n} (décalage "
                                        "d'un pas)"),
            (descente(x, y, n + 1, lr), f"{n + 1} pas faits au lieu de n_pas = {n} (décalage "
                                        "d'un pas)"),
            (descente(x, y, n, lr * len(x)), "perte SOMMÉE sur les points : la perte est "
                                             "l'erreur quadratique MOYENNE (F.mse_loss)"),
            (descente(x, y, n, 1e-3), "le taux d'apprentissage lr est ignoré (celui par défaut "
                                      "de SGD ?)"),
            (descente(x, y, n, lr / 2), "gradient deux fois trop petit : la perte est la moyenne "
                                        "de (w x + b − y)², sans facteur ½")):
        if n > 1 or "pas faits" not in words:
            if near(theta):
                raise AssertionError(f"{words} {where}")
    raise AssertionError(f"(w, b) après {n} pas : attendu ({expected[0]:.6g}, {expected[1]:.6g})"
                         f", obtenu ({got[0]:.6g}, {got[1]:.6g}) {where}")


CHECKS = [
    Check("regression_sgd", _cases, _verdict,
          doc="n_pas de descente de gradient (torch.optim.SGD) sur l'erreur quadratique moyenne "
              "d'une régression linéaire 1-D, depuis w = b = 0, comparés à la forme close de la "
              "descente de gradient sur une quadratique (θ* − (I − 2 lr A)ⁿ θ*) ; diagnostics : "
              "gradients accumulés (zero_grad oublié), signe, pas de moins ou de plus, perte "
              "sommée, lr ignoré."),
]
