"""TP2's data: fixed splits (the judge uses the same), raw features (the students standardise
them). scikit-learn is imported inside the functions: importing the package stays cheap."""

from __future__ import annotations

import numpy as np

GRAINE_DONNEES = 0


def _decoupe(X, y, stratifier, random_state, test_size=0.25):
    from sklearn.model_selection import train_test_split

    return train_test_split(np.asarray(X, dtype=float), np.asarray(y), test_size=test_size,
                            stratify=y if stratifier else None, random_state=random_state)


def charger_cancer_sein():
    """Breast cancer (scikit-learn): 569 tumours, 30 features, y = 1 benign, 0 malignant.
    Returns X_train, X_test, y_train, y_test (75 % / 25 %, stratified, fixed split)."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return _decoupe(X, y, True, 42)


def charger_diabete():
    """Diabetes (scikit-learn): 442 patients, 10 features, y = disease progression after one
    year. Returns X_train, X_test, y_train, y_test (75 % / 25 %, fixed split)."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = _decoupe(X, y, False, GRAINE_DONNEES)
    return X_train, X_test, y_train.astype(float), y_test.astype(float)


def charger_chiffres():
    """Handwritten digits: 1797 images 8×8 flattened into 64 grey levels 0..16, y = digit 0..9.
    Returns X_train, X_test, y_train, y_test: the course's one split (`course.digits`, 75 % /
    25 %, stratified), the same digits as in TP3, TP4 and the project."""
    from course.digits import split

    return split()


def donnees_friedman(n=1000, graine=GRAINE_DONNEES):
    """Friedman #1 regression with 20 features (scikit-learn's `make_friedman1`):
    y = 10 sin(π x1 x2) + 20 (x3 − 1/2)² + 10 x4 + 5 x5 + noise, x6..x20 are pure noise.
    Non-linear: a linear regression cannot fit it. Returns X (n, 20), y (n,)."""
    from sklearn.datasets import make_friedman1

    return make_friedman1(n_samples=n, n_features=20, noise=1.0, random_state=graine)
