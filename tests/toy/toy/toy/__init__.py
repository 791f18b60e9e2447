"""Kernel side of the grader's test TP: what its notebook imports (two exercises)."""

from grader.protocol import Exercise, Exercises

EXERCISES = Exercises(__file__)
check = EXERCISES.check

EXERCISES.add(Exercise("carre", ("carre",), lambda case, carre: {"y": carre(case["x"])}))
EXERCISES.add(Exercise("moyenne", ("moyenne_colonnes",), lambda case, f: {"mu": f(case["m"])}))
