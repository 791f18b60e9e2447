"""TP2, evaluating a classifier: the confusion matrix (oracle: scikit-learn's confusion_matrix),
the mean categorical cross-entropy (oracle: scikit-learn's log_loss) and the loss an untrained
k-class classifier should start from, ln k (oracle: the cross-entropy of the uniform
prediction, computed by log_loss)."""

from __future__ import annotations

import math

import numpy as np

from grader.judging import Check, Mistake, as_array, as_number


# -- matrice_confusion ----------------------------------------------------------------------------
def _confusion_cases(rng, hidden):
    def labels(n, k, present=None, accuracy=0.6):
        classes = np.arange(k) if present is None else np.asarray(present)
        y = rng.choice(classes, size=n)
        wrong = rng.random(n) > accuracy
        p = np.where(wrong, rng.choice(classes, size=n), y)
        return {"y_vrai": y.astype(int), "y_pred": p.astype(int), "n_classes": k}

    if not hidden:
        return [labels(30, 4)]
    k = int(rng.integers(5, 11))
    return [labels(200, 10, present=np.arange(9)),  # class 9 never seen: still a row and column
            labels(int(rng.integers(40, 120)), k),
            labels(25, 3, accuracy=1.0),  # perfect classifier: diagonal
            labels(60, 2, accuracy=0.3)]


def confusion_oracle(y, p, k) -> np.ndarray:
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y, p, labels=np.arange(k)).astype(float)


def _confusion_verdict(case, answer):
    y, p, k = np.asarray(case["y_vrai"]), np.asarray(case["y_pred"]), int(case["n_classes"])
    value = answer.get("M")
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape != (k, k) \
            and value.shape[0] == value.shape[1]:
        raise AssertionError(f"matrice {value.shape[0]} × {value.shape[1]} au lieu de {k} × {k} : "
                             "une ligne et une colonne par classe (n_classes), même pour une "
                             "classe qui n'apparaît pas dans les étiquettes")
    M = as_array(answer, "M", shape=(k, k), what="matrice de confusion")
    expected = confusion_oracle(y, p, k)
    if np.array_equal(M, expected):
        return
    where = f"pour {len(y)} exemples et {k} classes"
    rows = expected.sum(axis=1, keepdims=True)
    if np.allclose(M, expected.T):
        raise AssertionError(f"{where} : matrice transposée : la ligne i est la classe VRAIE i, "
                             "la colonne j la classe PRÉDITE j (convention de scikit-learn)")
    if np.allclose(M, expected / np.where(rows == 0, 1, rows)) \
            or np.allclose(M, expected / max(expected.sum(), 1)):
        raise AssertionError(f"{where} : des proportions au lieu des effectifs : M[i, j] est le "
                             "NOMBRE d'exemples de classe i prédits j (ne normalisez pas)")
    for shift in (1, -1):
        if np.array_equal(M, np.roll(expected, (-shift, -shift), axis=(0, 1))):
            raise AssertionError(f"{where} : classes décalées de 1 : la classe c va dans la "
                                 "ligne et la colonne d'indice c (les classes sont numérotées "
                                 "à partir de 0)")
    if np.array_equal(M, (expected > 0).astype(float)):
        raise AssertionError(f"{where} : chaque case vaut au plus 1 : M[y_vrai, y_pred] += 1 "
                             "n'ajoute qu'UNE fois par couple répété ; comptez avec une boucle "
                             "ou np.add.at")
    if M.sum() != len(y):
        raise AssertionError(f"{where} : la somme des cases vaut {M.sum():g} au lieu de "
                             f"{len(y)} (un exemple = une case incrémentée)")
    raise AssertionError(f"{where} : matrice incorrecte ; attendu M[i, j] = nombre d'exemples de "
                         "classe vraie i prédits j")


def _confusion(kind):
    def matrice_confusion(y_vrai, y_pred, n_classes):
        y, p = np.asarray(y_vrai, dtype=int), np.asarray(y_pred, dtype=int)
        k = int(n_classes)
        if kind == "taille_etiquettes":
            k = int(max(y.max(), p.max())) + 1
        M = np.zeros((k, k))
        if kind == "decale":
            y, p = y - 1, p - 1  # classes counted from 1: class 0 lands in the last row
        if kind == "indexation":
            M[y, p] += 1
            return M
        np.add.at(M, (y, p), 1)
        if kind == "transposee":
            return M.T
        if kind == "normalisee":
            return M / np.maximum(M.sum(axis=1, keepdims=True), 1)
        return M
    return matrice_confusion


# -- entropie_croisee -----------------------------------------------------------------------------
def _entropy_cases(rng, hidden):
    def probabilities(n, k, sharp=2.0):
        z = sharp * rng.normal(size=(n, k))
        P = np.exp(z - z.max(axis=1, keepdims=True))
        P = P / P.sum(axis=1, keepdims=True)
        P = (P + 1e-3) / (1 + k * 1e-3)  # no probability near 0: no clipping question
        y = rng.integers(0, k, size=n)
        return {"Y": np.eye(k)[y], "P": P}

    if not hidden:
        return [probabilities(6, 4)]
    k = int(rng.integers(3, 12))
    uniform = probabilities(int(rng.integers(5, 30)), k)
    uniform["P"] = np.full_like(uniform["P"], 1.0 / k)  # the untrained network: ln k
    return [probabilities(int(rng.integers(20, 80)), 10), probabilities(1, 3),
            probabilities(15, 2, sharp=4.0), uniform]


def entropy_oracle(Y, P) -> float:
    from sklearn.metrics import log_loss

    k = Y.shape[1]
    return float(log_loss(np.argmax(Y, axis=1), P, labels=np.arange(k)))


def _entropy_verdict(case, answer):
    Y, P = np.asarray(case["Y"], dtype=float), np.asarray(case["P"], dtype=float)
    L = as_number(answer, "L", "entropie_croisee")
    expected = entropy_oracle(Y, P)
    if math.isclose(L, expected, rel_tol=1e-7, abs_tol=1e-10):
        return
    n, k = Y.shape
    where = f"pour {n} exemple(s) et {k} classes"
    per_example = -np.sum(Y * np.log(P), axis=1)
    if math.isclose(L, -expected, rel_tol=1e-7):
        raise AssertionError(f"{where} : signe opposé : L = −(1/n) Σ_i Σ_k y_ik ln p_ik est "
                             "positive (ln p ≤ 0)")
    if n > 1 and math.isclose(L, per_example.sum(), rel_tol=1e-7):
        raise AssertionError(f"{where} : vous sommez sur les exemples : la perte de Keras est la "
                             "MOYENNE sur les exemples")
    if math.isclose(L, expected / k, rel_tol=1e-7):
        raise AssertionError(f"{where} : moyenne sur les n × k cases : divisez par le nombre "
                             "d'exemples n seulement (la somme sur les classes reste une somme)")
    if math.isclose(L, expected / math.log(10), rel_tol=1e-7) \
            or math.isclose(L, expected / math.log(2), rel_tol=1e-7):
        raise AssertionError(f"{where} : logarithme népérien attendu (np.log), pas log10 ou log2")
    if math.isclose(L, float(-np.mean(np.sum(np.log(P), axis=1))), rel_tol=1e-7):
        raise AssertionError(f"{where} : seule la probabilité de la VRAIE classe compte : "
                             "multipliez ln p_ik par y_ik (one-hot)")
    raise AssertionError(f"{where} : L = {L:.6g} au lieu de {expected:.6g} "
                         "(−(1/n) Σ_i Σ_k y_ik ln p_ik)")


def _entropy(kind):
    def entropie_croisee(Y, P):
        Y, P = np.asarray(Y, dtype=float), np.asarray(P, dtype=float)
        log = {"log10": np.log10, "log2": np.log2}.get(kind, np.log)
        terms = -(Y * log(P))
        if kind == "toutes_classes":
            terms = -log(P)
        if kind == "signe":
            terms = -terms
        if kind == "somme":
            return terms.sum()
        if kind == "cases":
            return terms.mean()
        return terms.sum(axis=1).mean()
    return entropie_croisee


# -- perte_initiale_attendue ------------------------------------------------------------------------
def _initial_cases(rng, hidden):
    if not hidden:
        return [{"k": 10}]
    return [{"k": 2}, {"k": 3}, {"k": int(rng.integers(4, 50))}, {"k": 1000}]


def _initial_verdict(case, answer):
    k = int(case["k"])
    L = as_number(answer, "L", "perte_initiale_attendue")
    # Oracle: the cross-entropy of the uniform prediction, whatever the true classes.
    expected = entropy_oracle(np.eye(k)[np.arange(k)], np.full((k, k), 1.0 / k))
    if math.isclose(L, expected, rel_tol=1e-9):
        return
    where = f"pour k = {k} classes"
    if math.isclose(L, math.log10(k), rel_tol=1e-9) or math.isclose(L, math.log2(k),
                                                                      rel_tol=1e-9):
        raise AssertionError(f"{where} : la perte de Keras utilise le logarithme népérien : "
                             f"ln {k}, pas log10 ni log2")
    if math.isclose(L, 1.0 / k, rel_tol=1e-9):
        raise AssertionError(f"{where} : 1/k est la probabilité que donne un réseau non entraîné "
                             "à chaque classe ; la perte est −ln de la probabilité de la vraie "
                             "classe")
    if math.isclose(L, -expected, rel_tol=1e-9):
        raise AssertionError(f"{where} : signe opposé : −ln(1/k) = ln k est positif")
    if math.isclose(L, -math.log(1 - 1.0 / k), rel_tol=1e-9):
        raise AssertionError(f"{where} : −ln(1 − 1/k) est la perte d'une mauvaise classe ; "
                             "c'est la probabilité 1/k de la VRAIE classe qui compte")
    raise AssertionError(f"{where} : {L:.6g} au lieu de {expected:.6g}")


def _initial(kind):
    def perte_initiale_attendue(k):
        return {"log10": math.log10(k), "inverse": 1.0 / k, "signe": -math.log(k),
                "complement": -math.log(1 - 1.0 / k)}.get(kind, math.log(k))
    return perte_initiale_attendue


CHECKS = [
    Check("matrice_confusion", _confusion_cases, _confusion_verdict,
          doc="Matrice de confusion (lignes : classes vraies, colonnes : classes prédites) "
              "comparée à sklearn.metrics.confusion_matrix ; classe absente, classifieur "
              "parfait, deux classes."),
    Check("entropie_croisee", _entropy_cases, _entropy_verdict,
          doc="Entropie croisée catégorielle moyenne comparée à sklearn.metrics.log_loss ; un "
              "seul exemple, deux classes, prédiction uniforme (ln k)."),
    Check("perte_initiale_attendue", _initial_cases, _initial_verdict,
          doc="Perte d'un classifieur à k classes non entraîné (prédiction uniforme) : ln k, "
              "comparée à log_loss de la prédiction uniforme."),
]


def _mistakes(target, factory, specs):
    return [Mistake(label, {target: factory(kind)}, words, where)
            for label, kind, words, where in specs]


MISTAKES = {
    "matrice_confusion": _mistakes("matrice_confusion", _confusion, [
        ("transposée", "transposee", "transposée", "both"),
        ("lignes normalisées", "normalisee", "proportions", "both"),
        ("classes comptées à partir de 1", "decale", "décalées", "both"),
        ("M[y, p] += 1 (couples répétés comptés une fois)", "indexation", "np.add.at", "both"),
        ("taille déduite des étiquettes", "taille_etiquettes", "n_classes", "hidden")]),
    "entropie_croisee": _mistakes("entropie_croisee", _entropy, [
        ("signe oublié", "signe", "signe", "both"),
        ("somme sur les exemples", "somme", "MOYENNE", "both"),
        ("moyenne sur les n × k cases", "cases", "n × k", "both"),
        ("log10", "log10", "népérien", "both"),
        ("log2", "log2", "népérien", "both"),
        ("toutes les classes comptées", "toutes_classes", "VRAIE", "both")]),
    "perte_initiale_attendue": _mistakes("perte_initiale_attendue", _initial, [
        ("log10", "log10", "népérien", "both"),
        ("1/k", "inverse", "probabilité", "both"),
        ("signe", "signe", "signe", "both"),
        ("−ln(1 − 1/k)", "complement", "VRAIE", "both")]),
}
