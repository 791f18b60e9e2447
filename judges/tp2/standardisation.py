"""TP2, part 1: standardisation fitted on the training set only, against scikit-learn's
StandardScaler (oracle), with the usual leaks and slips named."""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_array


def scaler(X):
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit(X)


def _cases(rng, hidden):
    def data(n, m, p, constant=False, integers=False):
        centres = rng.uniform(-50, 50, size=p)
        scales = np.exp(rng.uniform(-2, 3, size=p))
        X = centres + scales * rng.normal(size=(n, p))
        Y = centres + 2.0 + scales * 1.5 * rng.normal(size=(m, p))  # test: other mean/scale
        if constant:
            j = int(rng.integers(p))
            X[:, j] = 3.0
            Y[:, j] = rng.normal(size=m) + 3.0
        if integers:
            X, Y = np.round(X), np.round(Y)
        return {"X_train": X, "X_test": Y}

    if not hidden:
        return [data(20, 8, 4)]
    return [data(int(rng.integers(5, 40)), 1, 1), data(30, 12, 5, constant=True),
            data(25, 10, 3, integers=True), data(12, 30, 6)]


def _verdict(case, answer):
    X, Y = case["X_train"], case["X_test"]
    if np.any(X.std(axis=0) == 0):
        for key, M, name in (("A", X, "X_train"), ("B", Y, "X_test")):
            value = answer.get(key)
            if isinstance(value, np.ndarray) and value.shape == M.shape \
                    and not np.all(np.isfinite(value)):
                raise AssertionError(
                    f"{name} standardisé contient des NaN ou des infinis : une colonne constante "
                    "a un écart-type nul ; remplacez un écart-type nul par 1 (comme "
                    "StandardScaler)")
    A = as_array(answer, "A", shape=X.shape, what="X_train standardisé")
    B = as_array(answer, "B", shape=Y.shape, what="X_test standardisé")
    s = scaler(X)
    tol = dict(rtol=1e-7, atol=1e-9)
    if np.allclose(A, s.transform(X), **tol) and np.allclose(B, s.transform(Y), **tol):
        return
    if np.allclose(A, s.transform(X), **tol):
        if np.allclose(B, scaler(Y).transform(Y), **tol):
            raise AssertionError("X_test est standardisé avec SA PROPRE moyenne et son propre "
                                 "écart-type : il faut utiliser ceux de X_train (le modèle ne "
                                 "doit rien apprendre des données de test)")
        raise AssertionError("X_train est correct mais pas X_test : appliquez à X_test la moyenne "
                             "et l'écart-type calculés sur X_train")
    if np.allclose(A, scaler(np.vstack([X, Y])).transform(X), **tol):
        raise AssertionError("moyenne et écart-type calculés sur X_train ET X_test réunis : fuite "
                             "d'information, ils doivent venir de X_train seulement")
    if len(X) > 1:
        sd1 = X.std(axis=0, ddof=1)
        sd1[sd1 == 0] = 1.0
        if np.allclose(A, (X - X.mean(axis=0)) / sd1, **tol):
            raise AssertionError("écart-type « corrigé » (ddof=1) : utilisez l'écart-type de "
                                 "np.std (ddof=0), celui de StandardScaler")
    if np.allclose(A, X - X.mean(axis=0), **tol):
        raise AssertionError("vous centrez sans réduire : divisez aussi par l'écart-type de "
                             "chaque colonne")
    if X.shape[1] > 1 and np.allclose(np.mean(A, axis=1), 0, atol=1e-8):
        raise AssertionError("vous standardisez chaque LIGNE (exemple) : la moyenne et "
                             "l'écart-type se calculent par COLONNE (caractéristique), axis=0")
    raise AssertionError("X_train standardisé incorrect : chaque colonne doit avoir une moyenne "
                         "0 et un écart-type 1 sur l'ensemble d'apprentissage")


CHECKS = [Check(
    "standardiser", _cases, _verdict,
    doc="Standardisation ajustée sur X_train seul, comparée à sklearn StandardScaler (colonne "
        "constante, une seule caractéristique, un seul exemple de test).")]


def _standardiser(kind):
    def standardiser(X_train, X_test):
        X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
        mu, sd = X_train.mean(axis=0), X_train.std(axis=0)
        if kind == "tout":
            both = np.vstack([X_train, X_test])
            mu, sd = both.mean(axis=0), both.std(axis=0)
        if kind == "ddof1":
            sd = X_train.std(axis=0, ddof=1)
        if kind != "zero":
            sd = np.where(sd == 0, 1.0, sd)
        if kind == "centre":
            return X_train - mu, X_test - mu
        if kind == "propre":
            sdt = X_test.std(axis=0)
            return (X_train - mu) / sd, (X_test - X_test.mean(axis=0)) / np.where(sdt == 0, 1, sdt)
        if kind == "lignes":
            m, s = X_train.mean(axis=1, keepdims=True), X_train.std(axis=1, keepdims=True)
            mt, st = X_test.mean(axis=1, keepdims=True), X_test.std(axis=1, keepdims=True)
            return (X_train - m) / s, (X_test - mt) / st
        if kind == "un":
            return (X_train - mu) / sd
        return (X_train - mu) / sd, (X_test - mu) / sd
    return standardiser


MISTAKES = {"standardiser": [
    Mistake("moyenne et écart-type sur train + test", {"standardiser": _standardiser("tout")},
            "fuite"),
    Mistake("test standardisé avec ses propres statistiques",
            {"standardiser": _standardiser("propre")}, "PROPRE"),
    Mistake("écart-type corrigé ddof=1", {"standardiser": _standardiser("ddof1")}, "ddof"),
    Mistake("centrage sans réduction", {"standardiser": _standardiser("centre")}, "réduire"),
    Mistake("par ligne au lieu de par colonne", {"standardiser": _standardiser("lignes")},
            "LIGNE", where="public"),  # hidden: one column first, a row has std 0 (NaN)
    Mistake("une seule sortie", {"standardiser": _standardiser("un")}, "couple"),
    Mistake("écart-type nul laissé tel quel", {"standardiser": _standardiser("zero")},
            "écart-type nul", where="hidden"),
]}

