"""Judge of TP1 (perceptron, gradient descent, gradient checking, backpropagation, mini-batch
SGD, generalisation, regularisation): one module per part of the TP, each with its cases,
verdicts and known mistakes. Never shipped to students.

Every oracle uses another method than the one the student implements (case analysis,
scikit-learn metrics, closed forms of gradient descent on a quadratic, `np.linalg.lstsq`,
eigenvalues of the Hessian, analytic values of finite differences, `torch.autograd`,
`sklearn.model_selection.KFold`, `sklearn.linear_model.Ridge`); the perceptron and SGD, whose
algorithms the notebook specifies exactly, are replayed in the judge's own formulation.
"""

from grader.judging import Checks
from tp1 import EXERCISES

from . import (backprop, descent, generalisation, gradient_check, perceptron, regression,
               regularisation, sgd)

CHECKS = Checks(EXERCISES, judge_imports=("torch", "scipy.optimize", "sklearn.metrics",
                                          "sklearn.model_selection", "sklearn.preprocessing",
                                          "sklearn.linear_model"))
for _part in (perceptron, regression, descent, gradient_check, backprop, sgd, generalisation,
              regularisation):
    for _check in _part.CHECKS:
        CHECKS.add(_check)
    CHECKS.mistakes.update(_part.MISTAKES)
