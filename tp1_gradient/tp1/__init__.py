"""TP1 (perceptron, gradient descent, gradient checking, backpropagation, mini-batch SGD,
generalisation), kernel side: what the students' notebook imports.

The data generators, the plotting helpers and `check`. The checks' verdicts are the judge's
(`judges/tp1/`, never shipped): nothing here computes an answer.
"""

from .data import (arbres_malades, donnees_polynomiales, donnees_regression, erreur_relative,
                   grad_peaks, peaks)
from .exercises import EXERCISES, check
from .plots import tracer_frontiere, tracer_peaks

__all__ = ["EXERCISES", "check", "arbres_malades", "donnees_regression", "donnees_polynomiales",
           "peaks", "grad_peaks", "erreur_relative", "tracer_frontiere", "tracer_peaks"]
