"""Judge of the grader's test TP: two small checks with real oracles, and known mistakes."""

import numpy as np

from grader.judging import Check, Checks, Mistake, as_array
from toy import EXERCISES

CHECKS = Checks(EXERCISES)


def _square_cases(rng, hidden):
    sizes = [5] if not hidden else [1, int(rng.integers(7, 20))]
    return [{"x": rng.normal(size=n)} for n in sizes]


def _square_verdict(case, answer):
    y = as_array(answer, "y", shape=case["x"].shape, what="carre(x)")
    if np.allclose(y, 2 * case["x"]):
        raise AssertionError("vous calculez 2x au lieu de x² (x**2)")
    if not np.allclose(y, np.multiply(case["x"], case["x"])):
        raise AssertionError("carre(x) diffère de x·x")


CHECKS.add(Check("carre", _square_cases, _square_verdict, numpy_only=True,
                 doc="x² élément par élément, comparé à x·x."))


def _mean_cases(rng, hidden):
    shapes = [(4, 3)] if not hidden else [(int(rng.choice([2, 3, 5, 7])), int(rng.integers(1, 5)))]
    return [{"m": rng.normal(size=s)} for s in shapes]


def _mean_verdict(case, answer):
    m = case["m"]
    got = as_array(answer, "mu", shape=(m.shape[1],), what="moyenne_colonnes(m)")
    if not np.allclose(got, np.add.reduce(m, axis=0) / m.shape[0]):
        raise AssertionError("la moyenne par colonne est fausse")


CHECKS.add(Check("moyenne", _mean_cases, _mean_verdict,
                 doc="Moyenne de chaque colonne, comparée à la somme divisée par n."))

CHECKS.mistakes = {
    "carre": [Mistake("2x au lieu de x²", {"carre": lambda x: 2 * x}, "2x au lieu de x²"),
              Mistake("x au lieu de x²", {"carre": lambda x: x}, "diffère de x·x"),
              Mistake("valeur absolue", {"carre": lambda x: abs(x)}, "diffère de x·x")],
    "moyenne": [Mistake("somme au lieu de la moyenne",
                        {"moyenne_colonnes": lambda m: m.sum(axis=0)}, "fausse"),
                Mistake("moyenne des lignes", {"moyenne_colonnes": lambda m: m.mean(axis=1)}),
                Mistake("médiane", {"moyenne_colonnes": lambda m: np.median(m, axis=0)},
                        "fausse")],
}
