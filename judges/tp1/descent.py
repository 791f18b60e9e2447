"""TP1, part 2 (continued) — gradient descent on the empirical risk, and the step's divergence
threshold.

Oracles: the closed form of gradient descent on a quadratic (least squares and the Hessian's
eigenvalues, no iteration), the threshold 2/L on the Hessian's top eigenvalue.
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_array, as_number, close, fmt

from .common import gd_closed_form, hessian_top, regression_problem, vector, with_ones
from .regression import cout_ok, wrong_gradient


# -- gradient descent --------------------------------------------------------------------------
def _cases_descente(rng, hidden):
    specs = [(41, 3, 0.6, 7), (15, 2, 1.5, 40), (23, 1, 0.2, 60)] if hidden else [(30, 1, 1.0, 25)]
    cases = []
    for n, p, factor, n_iter in specs:
        X, y = regression_problem(rng, n, p)
        cases.append({"X": X, "y": y, "pas": factor / hessian_top(X), "n_iter": n_iter})
    return cases


def _verdict_descente(case, answer):
    X, y, pas, n_iter = case["X"], case["y"], float(case["pas"]), int(case["n_iter"])
    p = X.shape[1]
    theta = vector(answer, "theta", (p + 1,), "theta", hint={
        (p,): "il manque le biais w0 (theta = [w0, w1, ..., wp])"})
    hist = as_array(answer, "historique", what="historique")
    exp_theta, exp_hist = gd_closed_form(X, y, pas, n_iter)
    if hist.ndim != 1 or len(hist) != n_iter + 1:
        extra = ""
        if hist.ndim == 1 and len(hist) == n_iter and n_iter > 0:
            if np.isclose(hist[0], exp_hist[0], rtol=1e-6):
                extra = " (vous en renvoyez n_iter : une mise à jour de moins ?)"
            else:
                extra = " (vous en renvoyez n_iter : il manque le coût initial)"
        raise AssertionError(f"historique : {n_iter + 1} valeurs attendues — le coût en theta "
                             "initial = 0, puis après chacune des n_iter mises à jour" + extra)
    ok_theta = close(theta, exp_theta, 1e-6, 1e-9)
    if ok_theta and close(hist, exp_hist, 1e-6, 1e-9):
        return
    if not np.isclose(hist[0], exp_hist[0], rtol=1e-6):
        raise AssertionError(f"historique[0] = {hist[0]:.6g} : ce doit être le coût de theta "
                             f"initial = 0 (soit {exp_hist[0]:.6g}) ; partez bien de theta = 0")
    if not ok_theta:
        if close(theta, gd_closed_form(X, y, pas / 2, n_iter)[0], 1e-6, 1e-9):
            raise AssertionError("theta correspond à un pas deux fois trop petit : facteur 2 "
                                 "oublié dans le gradient ?")
        if close(theta, gd_closed_form(X, y, pas * len(y), n_iter)[0], 1e-6, 1e-9):
            raise AssertionError("theta correspond à un pas n fois trop grand : division par n "
                                 "oubliée dans le gradient ?")
        for k in (n_iter - 1, n_iter + 1):
            if k >= 0 and close(theta, gd_closed_form(X, y, pas, k)[0], 1e-6, 1e-9):
                raise AssertionError(f"theta correspond à {k} mises à jour au lieu de "
                                     f"n_iter = {n_iter} : décalage de 1 dans la boucle")
        if close(theta, gd_closed_form(X, y, 1.0, n_iter)[0], 1e-6, 1e-9):
            raise AssertionError("theta correspond à un pas de 1 : avez-vous oublié de multiplier "
                                 "le gradient par le pas ?")
        if hist[-1] > hist[0]:
            raise AssertionError("le coût augmente : vous montez le long du gradient au lieu de le "
                                 "descendre (Θ ← Θ − λ∇C)")
        if close(theta, np.zeros(p + 1)):
            raise AssertionError("theta n'a pas bougé de 0 : les mises à jour ne sont pas "
                                 "appliquées")
        raise AssertionError(f"theta après {n_iter} itérations : attendu {fmt(exp_theta)}, obtenu "
                             f"{fmt(theta)}")
    if close(hist[:-1], exp_hist[1:], 1e-6, 1e-9) or close(hist[1:], exp_hist[:-1], 1e-6, 1e-9):
        raise AssertionError("theta est correct mais l'historique est décalé : historique[t] = "
                             "coût après t mises à jour (t = 0 … n_iter)")
    raise AssertionError("theta est correct mais l'historique ne contient pas les coûts "
                         "successifs C(theta_t), t = 0 … n_iter")


# -- the step's divergence threshold ------------------------------------------------------------
def _cases_pas(rng, hidden):
    if hidden:
        X, y = regression_problem(rng, int(rng.integers(20, 60)), 3)
        factors = [0.3, 0.75, 0.85, 1.2, 1.6, 2.5]
    else:
        X, y = regression_problem(rng, 40, 1)
        factors = [0.5, 0.9, 1.2, 2.0]
    L = hessian_top(X)
    return [{"X": X, "y": y, "pas": f * 2.0 / L} for f in factors]


def _verdict_pas(case, answer):
    got = as_number(answer, "diverge", "pas_diverge")
    if got not in (0.0, 1.0):
        raise AssertionError(f"pas_diverge doit renvoyer True ou False (obtenu {got:g})")
    pas, L = float(case["pas"]), hessian_top(case["X"])
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


CHECKS = (
    Check("descente_gradient", _cases_descente, _verdict_descente, numpy_only=True,
          doc="Descente de gradient à pas fixe depuis theta = 0 : theta et historique comparés à "
              "la forme close des itérés sur un coût quadratique (moindres carrés + valeurs "
              "propres)."),
    Check("pas_diverge", _cases_pas, _verdict_pas, numpy_only=True,
          doc="Divergence de la descente selon le pas, jugée par le seuil 2/L (L plus grande "
              "valeur propre de la hessienne) avec une marge de 15 %."),
)


# -- known mistakes ----------------------------------------------------------------------------
def _descente(kind):
    def descente_gradient(X, y, pas, n_iter):
        theta = np.ones(X.shape[1] + 1) if kind == "depart_un" else np.zeros(X.shape[1] + 1)
        hist = [] if kind == "sans_initial" else [cout_ok(X, y, theta)]
        for _ in range(n_iter - 1 if kind == "une_de_moins" else n_iter):
            g = 2.0 / len(y) * with_ones(X).T @ (with_ones(X) @ theta - y)
            if kind == "montee":  # + instead of -
                theta = theta + pas * g
            elif kind == "sans_pas":  # forgot the step size
                theta = theta - g
            else:
                theta = theta - pas * g
            hist.append(cout_ok(X, y, theta))
        return theta, np.array(hist)
    return descente_gradient


def _pas(kind):
    def pas_diverge(X, y, pas):
        H = 2.0 / len(y) * with_ones(X).T @ with_ones(X)
        L = np.linalg.eigvalsh(H).max()
        if kind == "toujours_faux":
            return False
        if kind == "seuil_1_sur_L":  # oscillation taken for divergence
            return bool(pas > 1.0 / L)
        if kind == "hessienne_sans_2":  # L of X̃ᵀX̃/n instead of 2/n X̃ᵀX̃
            return bool(pas > 2.0 / (L / 2))
        if kind == "inverse":
            return bool(pas <= 2.0 / L)
        if kind == "texte":  # a string instead of a boolean
            return "diverge"
        raise ValueError(kind)
    return pas_diverge


MISTAKES = {
    "descente_gradient": [
        Mistake("montée", {"descente_gradient": _descente("montee")}, "le coût augmente"),
        Mistake("facteur 2 oublié dans le gradient", {"gradient_mse": wrong_gradient("sans_2")},
                "facteur 2"),
        Mistake("1/n oublié dans le gradient", {"gradient_mse": wrong_gradient("sans_n")}),
        Mistake("une mise à jour de moins", {"descente_gradient": _descente("une_de_moins")},
                "une mise à jour de moins"),
        Mistake("coût initial absent", {"descente_gradient": _descente("sans_initial")},
                "il manque le coût initial"),
        Mistake("pas oublié", {"descente_gradient": _descente("sans_pas")}, "pas de 1"),
        Mistake("départ en 1", {"descente_gradient": _descente("depart_un")}, "historique[0]"),
    ],
    "pas_diverge": [
        Mistake("toujours False", {"pas_diverge": _pas("toujours_faux")}, "réponse attendue"),
        Mistake("seuil 1/L", {"pas_diverge": _pas("seuil_1_sur_L")}, "oscille"),
        Mistake("hessienne sans le 2", {"pas_diverge": _pas("hessienne_sans_2")}, "facteur 2"),
        Mistake("réponse inversée", {"pas_diverge": _pas("inverse")}),
        Mistake("texte", {"pas_diverge": _pas("texte")}, "texte"),
    ],
}
