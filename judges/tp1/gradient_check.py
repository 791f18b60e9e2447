"""TP1, part 3 — gradient checking by centred finite differences.

Oracle: the exact values of the centred (and of the forward and backward) differences of the
case's known function, in closed form (no finite difference computed by the judge).
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_array, close, fmt, relative_error

from .common import is_ratio, ratio, vector


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


def analytic_differences(case, eps):
    """Exact values of the centred, forward and backward differences of the case's function
    (kind 0 Σ a_i θ_i³, 1 Σ a_i sin θ_i, 2 θᵀAθ + bᵀθ), in closed form."""
    kind, a, A, b, t = int(case["kind"]), case["a"], case["A"], case["b"], case["theta"]
    if kind == 0:  # ((t±e)^3 - t^3) / ±e and the centred one 3t^2 + e^2
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
    got = vector(answer, "gradient", (p,), "gradient numérique")
    after = as_array(answer, "theta_apres", what="theta")
    names = {0: "f(θ) = Σ a_i θ_i³", 1: "f(θ) = Σ a_i sin θ_i", 2: "f(θ) = θᵀAθ + bᵀθ"}
    where = f"sur {names[int(case['kind'])]} avec ε = {eps:g}"
    if after.shape != case["theta"].shape or not np.array_equal(after, case["theta"]):
        raise AssertionError("votre fonction modifie theta sans le remettre à sa valeur : "
                             "travaillez sur une copie (theta.copy())")
    centred, forward, backward = analytic_differences(case, eps)
    tol = 1e-7 if eps >= 1e-3 else 1e-5  # rounding: ~1e-16 |f| / ε
    if close(got, centred, tol, 1e-9):
        return
    r = ratio(got, centred)
    if is_ratio(r, 2.0, 1e-4):
        raise AssertionError(f"{where} : résultat 2 fois trop grand — divisez par 2ε (différence "
                             "centrée), pas par ε")
    if is_ratio(r, -1.0, 1e-4):
        raise AssertionError(f"{where} : signe opposé — (f(θ + ε e_i) − f(θ − ε e_i)) / (2ε)")
    if close(got, forward, tol, 1e-9) or close(got, backward, tol, 1e-9):
        raise AssertionError(f"{where} : vous calculez une différence décentrée (avant ou "
                             "arrière), d'erreur O(ε) ; la différence centrée "
                             "(f(θ + ε e_i) − f(θ − ε e_i)) / (2ε) a une erreur O(ε²)")
    if p > 1 and np.ptp(got) <= 1e-9 * max(1.0, np.max(np.abs(got))) and np.ptp(centred) > 1e-6:
        raise AssertionError(f"{where} : toutes les composantes sont égales — perturbez une seule "
                             "coordonnée à la fois (θ + ε e_i, e_i le i-ème vecteur de base)")
    exact = analytic_differences(case, 1e-12)[0]
    if int(case["kind"]) != 2 and close(got, exact, 1e-5, 1e-7):
        raise AssertionError(f"{where} : votre résultat ne dépend pas de ε (gradient exact ou ε "
                             "fixé) : utilisez l'argument eps")
    raise AssertionError(f"{where} : attendu {fmt(centred, 8)}, obtenu {fmt(got, 8)} "
                         f"(erreur relative {relative_error(got, centred):.2g})")


CHECKS = (
    Check("gradient_numerique", _cases_gradnum, _verdict_gradnum, numpy_only=True,
          doc="Différences finies centrées comparées à leurs valeurs analytiques (cubique, sinus, "
              "quadratique) : rejette les différences avant/arrière, le /ε, la perturbation de "
              "toutes les coordonnées à la fois, la modification de theta."),
)


# -- known mistakes ----------------------------------------------------------------------------
def _gradnum(kind):
    def gradient_numerique(f, theta, eps=1e-5):
        g = np.zeros_like(theta, dtype=float)
        for i in range(theta.size):
            e = np.zeros_like(theta, dtype=float)
            e[i] = eps
            if kind == "avant":  # forward difference
                g[i] = (f(theta + e) - f(theta)) / eps
            elif kind == "divise_par_eps":  # / eps instead of / 2 eps
                g[i] = (f(theta + e) - f(theta - e)) / eps
            elif kind == "tout_perturber":  # all coordinates at once
                g[i] = (f(theta + eps) - f(theta - eps)) / (2 * eps)
            elif kind == "signe":
                g[i] = (f(theta - e) - f(theta + e)) / (2 * eps)
            elif kind == "eps_fixe":  # ignores the eps argument
                h = np.zeros_like(theta, dtype=float)
                h[i] = 1e-6
                g[i] = (f(theta + h) - f(theta - h)) / 2e-6
            elif kind == "en_place":  # modifies theta in place and never restores it
                theta[i] += eps
                fp = f(theta)
                theta[i] -= 2 * eps
                g[i] = (fp - f(theta)) / (2 * eps)
        return g
    return gradient_numerique


MISTAKES = {
    "gradient_numerique": [
        Mistake("différence avant", {"gradient_numerique": _gradnum("avant")}, "décentrée"),
        Mistake("/ε au lieu de /2ε", {"gradient_numerique": _gradnum("divise_par_eps")}, "2ε"),
        Mistake("toutes les coordonnées à la fois",
                {"gradient_numerique": _gradnum("tout_perturber")}, "une seule"),
        Mistake("signe opposé", {"gradient_numerique": _gradnum("signe")}, "signe opposé"),
        Mistake("ε ignoré", {"gradient_numerique": _gradnum("eps_fixe")}),
        Mistake("theta modifié en place", {"gradient_numerique": _gradnum("en_place")},
                "modifie theta"),
    ],
}
