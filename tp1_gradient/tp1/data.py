"""TP1's data, given to the students: the sick-trees data, regression and polynomial data, the
`peaks` surface with its gradient, and the relative error used to compare two gradients.

Nothing here answers an exercise. Module-level code stays cheap: scipy is imported inside the
one function that needs it.
"""

from __future__ import annotations

import numpy as np


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _linearly_separable(X, y) -> bool:
    """True when some (w, b) gives (2 y_i - 1)(w.x_i + b) >= 1 for all i (a feasibility linear
    program: it says whether a hyperplane exists, it returns none)."""
    from scipy.optimize import linprog

    s = 2.0 * np.asarray(y, dtype=float) - 1.0
    Xt = np.column_stack([X, np.ones(len(X))])
    res = linprog(np.zeros(Xt.shape[1]), A_ub=-(s[:, None] * Xt), b_ub=-np.ones(len(X)),
                  bounds=[(None, None)] * Xt.shape[1], method="highs")
    return res.status == 0


def arbres_malades(n=40, separable=True, rng=None):
    """Les données des arbres malades du cours : X[:, 0] = nombre de branches cassées (entier),
    X[:, 1] = hauteur en mètres ; y = 1 pour un arbre malade, 0 sinon.

    separable=True : étiquette donnée par la droite branches = 0.5 * hauteur + 1, aucun point à
    moins de 0.75 branche de cette droite (données linéairement séparables). separable=False :
    étiquettes bruitées autour de cette droite, et un échantillon qui n'est jamais linéairement
    séparable (c'est vérifié).
    """
    rng = _rng(rng)
    while True:
        branches = rng.integers(0, 16, size=4 * n).astype(float)
        height = np.round(rng.uniform(2.0, 20.0, size=4 * n), 1)
        s = branches - 0.5 * height - 1.0
        if separable:
            keep = np.abs(s) >= 0.75
            branches, height, s = branches[keep][:n], height[keep][:n], s[keep][:n]
            y = (s > 0).astype(int)
        else:
            branches, height, s = branches[:n], height[:n], s[:n]
            y = (s + rng.normal(0.0, 1.5, size=n) > 0).astype(int)
        X = np.column_stack([branches, height])
        if len(y) == n and 0 < y.sum() < n and (separable or not _linearly_separable(X, y)):
            return X, y


def donnees_regression(n=60, p=1, bruit=0.5, rng=None):
    """Données de régression linéaire y = 2 + 1.5 x_1 - x_2 + ... + bruit, caractéristiques
    uniformes sur [0, 3] (non centrées : le biais compte et le problème est un peu mal
    conditionné)."""
    rng = _rng(rng)
    X = rng.uniform(0.0, 3.0, size=(n, p))
    theta_vrai = np.concatenate([[2.0], [1.5, -1.0, 0.5, 2.0, -0.5][:p],
                                 rng.normal(size=max(0, p - 5))])
    y = theta_vrai[0] + X @ theta_vrai[1:] + bruit * rng.normal(size=n)
    return X, y


def donnees_polynomiales(n=30, bruit=0.25, rng=None):
    """Données 1-D y = sin(pi x) + bruit, avec x uniforme sur [-1, 1] (pour étudier le
    sur-apprentissage)."""
    rng = _rng(rng)
    x = np.sort(rng.uniform(-1.0, 1.0, size=n))
    y = np.sin(np.pi * x) + bruit * rng.normal(size=n)
    return x, y


def peaks(x, y):
    """La surface `peaks` de MATLAB (vectorisée) : trois minima locaux, trois maxima locaux."""
    return (3 * (1 - x) ** 2 * np.exp(-x ** 2 - (y + 1) ** 2)
            - 10 * (x / 5 - x ** 3 - y ** 5) * np.exp(-x ** 2 - y ** 2)
            - np.exp(-(x + 1) ** 2 - y ** 2) / 3)


def grad_peaks(point):
    """Gradient analytique de `peaks` au point point = (x, y) ; renvoie un tableau de forme (2,).
    Fourni aux étudiants : l'exercice de descente reçoit le gradient en argument."""
    x, y = np.asarray(point, dtype=float)
    a = np.exp(-x ** 2 - (y + 1) ** 2)
    b = np.exp(-x ** 2 - y ** 2)
    c = np.exp(-(x + 1) ** 2 - y ** 2)
    u = x / 5 - x ** 3 - y ** 5
    dx = (-6 * (1 - x) * a - 6 * x * (1 - x) ** 2 * a
          - 10 * ((0.2 - 3 * x ** 2) - 2 * x * u) * b + (2 / 3) * (x + 1) * c)
    dy = (-6 * (1 - x) ** 2 * (y + 1) * a
          - 10 * (-5 * y ** 4 - 2 * y * u) * b + (2 / 3) * y * c)
    return np.array([dx, dy])


def erreur_relative(a, b):
    """Erreur relative de CS231n : max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|).

    Repères pour vérifier un gradient : < 1e-7 très bien, 1e-7..1e-4 suspect, > 1e-2 faux.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
