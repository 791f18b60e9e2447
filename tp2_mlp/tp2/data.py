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
    """Cancer du sein (scikit-learn) : 569 tumeurs, 30 caractéristiques, y = 1 bénigne,
    0 maligne. Renvoie X_train, X_test, y_train, y_test (75 % / 25 %, stratifié, découpage fixe)."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    return _decoupe(X, y, True, 42)


def charger_diabete():
    """Diabète (scikit-learn) : 442 patients, 10 caractéristiques, y = progression de la maladie
    au bout d'un an. Renvoie X_train, X_test, y_train, y_test (75 % / 25 %, découpage fixe)."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    X_train, X_test, y_train, y_test = _decoupe(X, y, False, GRAINE_DONNEES)
    return X_train, X_test, y_train.astype(float), y_test.astype(float)


def charger_chiffres():
    """Chiffres manuscrits : 1797 images 8×8 aplaties en 64 niveaux de gris de 0 à 16,
    y = chiffre 0..9. Renvoie X_train, X_test, y_train, y_test : l'unique découpage du cours
    (`course.digits`, 75 % / 25 %, stratifié), les mêmes chiffres qu'aux TP3 et TP4 et dans le
    projet."""
    from course.digits import split

    return split()


def donnees_friedman(n=1000, graine=GRAINE_DONNEES):
    """Régression Friedman #1 à 20 caractéristiques (`make_friedman1` de scikit-learn) :
    y = 10 sin(π x1 x2) + 20 (x3 − 1/2)² + 10 x4 + 5 x5 + bruit ; x6..x20 sont du bruit pur.
    Non linéaire : une régression linéaire ne peut pas s'y ajuster. Renvoie X (n, 20), y (n,)."""
    from sklearn.datasets import make_friedman1

    return make_friedman1(n_samples=n, n_features=20, noise=1.0, random_state=graine)
