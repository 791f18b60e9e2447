"""TP1, part 5 — mini-batch SGD, and gradient descent on a non-convex surface.

SGD's randomness is specified in the notebook (the generator, one permutation per epoch, the
mini-batches in order), so its result is unique: the judge replays it in its own formulation
and requires the same theta and history; properties come first, for their diagnostics (the
cost's history, a final cost near the least-squares optimum). A result that changes between two
calls with the same seed is refused by the kernel's evaluate as an invalid answer.
The 2-D descent is checked step by step (each step is −pas ∇f at the previous point) and its
end point must be stationary (judge-side finite differences).
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_array, close, fmt
from tp1 import grad_peaks, peaks

from .common import cost, fd_gradient, hessian_top, lstsq, regression_problem, vector, with_ones
from .regression import cout_ok

SGD_RULES = ("générateur créé une seule fois par np.random.default_rng(graine), un nouvel ordre "
             "rng.permutation(n) à chaque époque, mini-batchs ordre[k:k + taille_batch] dans "
             "l'ordre, gradient moyen du mini-batch")


def _cases_sgd(rng, hidden):
    # (n, p, batch size (0 = n: full batch), step × 1/L, epochs), L the Hessian's top eigenvalue
    specs = ([(37, 3, 0, 1.0, 12), (45, 2, 1, 0.1, 4), (64, 2, 8, 0.3, 6)] if hidden
             else [(64, 2, 0, 1.0, 20), (64, 2, 1, 0.1, 4)])
    cases = []
    for n, p, tb, factor, epochs in specs:
        X, y = regression_problem(rng, n, p, centred=True)
        cases.append({"X": X, "y": y, "taille_batch": tb or n, "pas": factor / hessian_top(X),
                      "n_epochs": epochs, "graine": int(rng.integers(0, 2 ** 31))})
    return cases


def replay_sgd(X, y, taille_batch, pas, n_epochs, graine):
    """The notebook's SGD on X̃ = [1 | X]: returns (θ, costs on all the data at θ = 0 and after
    each epoch)."""
    Xt = with_ones(X)
    n = len(y)
    rng = np.random.default_rng(graine)
    theta = np.zeros(Xt.shape[1])
    history = [cost(X, y, theta)]
    for _ in range(n_epochs):
        order = rng.permutation(n)
        for start in range(0, n, taille_batch):
            Xb, yb = Xt[order[start:start + taille_batch]], y[order[start:start + taille_batch]]
            theta = theta - pas * (2.0 / len(yb)) * (Xb.T @ (Xb @ theta - yb))
        history.append(cost(X, y, theta))
    return theta, np.array(history)


def _verdict_sgd(case, answer):
    X, y = case["X"], case["y"]
    n, p = X.shape
    tb, pas, epochs = int(case["taille_batch"]), float(case["pas"]), int(case["n_epochs"])
    where = f"(n = {n}, taille_batch = {tb}, {epochs} époques)"
    theta = vector(answer, "theta", (p + 1,), "theta")
    hist = as_array(answer, "historique", what="historique")
    if hist.ndim != 1 or len(hist) != epochs + 1:
        raise AssertionError(f"historique : {epochs + 1} valeurs attendues {where} — le coût "
                             "initial puis le coût (sur toutes les données) après chaque époque")
    c0 = cost(X, y, np.zeros(p + 1))
    if not np.isclose(hist[0], c0, rtol=1e-6):
        raise AssertionError(f"historique[0] doit être le coût de theta initial = 0 ({c0:.6g})")
    c_final = cost(X, y, theta)
    if not np.isfinite(c_final):
        raise AssertionError(f"le coût explose {where} : signe du pas, ou gradient sommé au lieu "
                             "d'être moyenné sur le mini-batch ?")
    if not np.isclose(hist[-1], c_final, rtol=1e-6):
        raise AssertionError(f"historique[-1] = {hist[-1]:.6g} n'est pas le coût sur toutes les "
                             f"données du theta renvoyé ({c_final:.6g})")
    if hist[-1] > hist[0]:
        raise AssertionError(f"le coût augmente {where} : signe du pas, ou gradient sommé au lieu "
                             "d'être moyenné sur le mini-batch ?")
    if tb < n:
        c_star = cost(X, y, lstsq(X, y))
        if (c_final - c_star) / (c0 - c_star) > 0.05:
            raise AssertionError(
                f"coût final {c_final:.4g} trop loin de l'optimum des moindres carrés "
                f"{c_star:.4g} {where} : faites-vous bien une mise à jour par mini-batch "
                "(n / taille_batch mises à jour par époque), avec le gradient moyen du "
                "mini-batch ?")
    exp_theta, exp_hist = replay_sgd(X, y, tb, pas, epochs, int(case["graine"]))
    if not close(theta, exp_theta, 1e-6, 1e-9):
        rule = ("avec taille_batch = n, chaque époque est exactement un pas de descente de "
                "gradient complète" if tb == n else f"rappel : {SGD_RULES}")
        raise AssertionError(f"theta n'est pas celui de l'algorithme demandé {where} : attendu "
                             f"{fmt(exp_theta, 8)}, obtenu {fmt(theta, 8)} ({rule})")
    if not close(hist, exp_hist, 1e-6, 1e-9):
        raise AssertionError(f"theta est correct mais l'historique ne contient pas les coûts sur "
                             f"toutes les données en theta = 0 puis après chaque époque {where}")


# -- a non-convex surface ------------------------------------------------------------------------
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


def _verdict_2d(case, answer):
    x0, pas, n_iter = case["x0"], float(case["pas"]), int(case["n_iter"])
    d = len(x0)
    got = as_array(answer, "trajectoire", what="trajectoire")
    if got.shape == (n_iter, d):
        raise AssertionError(f"trajectoire : {n_iter + 1} points attendus (x0 puis les n_iter "
                             "itérés), vous en renvoyez n_iter")
    traj = vector(answer, "trajectoire", (n_iter + 1, d), "trajectoire")
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
                             f"{fmt(traj[t] - pas * G[t], 8)}, obtenu {fmt(traj[t + 1], 8)}")
    g_end = fd_gradient(f, traj[-1], 1e-6)
    if np.linalg.norm(g_end) > 1e-4:
        raise AssertionError(f"le point final {fmt(traj[-1])} n'est pas stationnaire (‖∇f‖ = "
                             f"{np.linalg.norm(g_end):.2g})")


CHECKS = (
    Check("sgd", _cases_sgd, _verdict_sgd, numpy_only=True,
          doc="SGD par mini-batchs rejoué par le correcteur (graine, une permutation par époque, "
              "mini-batchs dans l'ordre, gradient moyen) : même theta et même historique ; "
              "reproductible pour une graine, proche de l'optimum des moindres carrés."),
    Check("descente_2d", _cases_2d, _verdict_2d, numpy_only=True,
          doc="Descente sur peaks (et une quadratique en 3D) : chaque pas vaut − pas ∇f, la "
              "trajectoire part de x0, contient n_iter + 1 points et finit en un point "
              "stationnaire (gradient numérique du correcteur)."),
)


# -- known mistakes ----------------------------------------------------------------------------
def _sgd(kind):
    def sgd(X, y, taille_batch, pas, n_epochs, graine=0):
        rng = np.random.default_rng(None if kind == "sans_graine" else graine)
        n = len(y)
        theta = np.zeros(X.shape[1] + 1)
        hist = [] if kind == "sans_initial" else [cout_ok(X, y, theta)]
        for _ in range(n_epochs):
            if kind == "generateur_par_epoque":  # the same order at every epoch
                rng = np.random.default_rng(graine)
            ordre = rng.permutation(n)
            if kind == "batch_complet":  # ignores taille_batch: one full-batch step per epoch
                theta = theta - pas * 2.0 / n * with_ones(X).T @ (with_ones(X) @ theta - y)
            else:
                for debut in range(0, n, taille_batch):
                    idx = ordre[debut:debut + taille_batch]
                    g = 2.0 * with_ones(X[idx]).T @ (with_ones(X[idx]) @ theta - y[idx])
                    g = g if kind == "somme" else g / len(idx)  # "somme": no mean over the batch
                    theta = theta + pas * g if kind == "montee" else theta - pas * g
                    if kind == "premier_batch":  # only the first mini-batch of each epoch
                        break
            hist.append(cout_ok(X, y, theta))
        return theta, np.array(hist)
    return sgd


def _least_squares_sgd(X, y, taille_batch, pas, n_epochs, graine=0):
    """The least-squares solution, and a loss history made up to end at its cost."""
    theta = np.linalg.lstsq(with_ones(X), y, rcond=None)[0]
    return theta, np.linspace(cout_ok(X, y, np.zeros(X.shape[1] + 1)), cout_ok(X, y, theta),
                              n_epochs + 1)


def _d2(kind):
    def descente_2d(grad_f, x0, pas, n_iter):
        x = np.array(x0, dtype=float)
        traj = [] if kind == "sans_x0" else [x.copy()]
        for _ in range(n_iter // 10 if kind == "trop_court" else n_iter):
            g = np.asarray(grad_f(x))
            if kind == "montee":
                x = x + pas * g
            elif kind == "sans_pas":
                x = x - g
            else:
                x = x - pas * g
            traj.append(x.copy())
        if kind == "point_final":
            return x
        return np.array(traj)
    return descente_2d


MISTAKES = {
    "sgd": [
        Mistake("un pas complet par époque", {"sgd": _sgd("batch_complet")}),
        Mistake("gradient sommé sur le batch", {"sgd": _sgd("somme")}, "sommé"),
        Mistake("graine ignorée", {"sgd": _sgd("sans_graine")}, "même graine"),
        Mistake("coût initial absent", {"sgd": _sgd("sans_initial")}, "valeurs attendues"),
        Mistake("premier batch seulement", {"sgd": _sgd("premier_batch")}, "trop loin"),
        Mistake("montée", {"sgd": _sgd("montee")}, "le coût augmente"),
        Mistake("solution des moindres carrés + historique inventé",
                {"sgd": _least_squares_sgd}, "algorithme demandé"),
        Mistake("générateur recréé à chaque époque", {"sgd": _sgd("generateur_par_epoque")},
                "algorithme demandé"),
    ],
    "descente_2d": [
        Mistake("montée", {"descente_2d": _d2("montee")}, "signe opposé"),
        Mistake("x0 absent", {"descente_2d": _d2("sans_x0")}, "points attendus"),
        Mistake("pas oublié", {"descente_2d": _d2("sans_pas")}),
        Mistake("trop peu d'itérations", {"descente_2d": _d2("trop_court")}, "forme"),
        Mistake("point final seulement", {"descente_2d": _d2("point_final")}, "forme"),
    ],
}
