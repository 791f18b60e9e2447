"""TP2, part 6: early stopping (oracle: Keras's own EarlyStopping callback driven epoch by epoch)
and k-fold cross-validation (oracle: scikit-learn's StratifiedKFold, StandardScaler and
NearestCentroid, the classifier the kernel's stand-in model behaves as)."""

from __future__ import annotations

import numpy as np

from course.keras_tools import import_keras
from grader.judging import Check, Mistake, as_array, as_number, fmt

from .standardisation import _standardiser, scaler


# -- arret_precoce --------------------------------------------------------------------------------
def _stop_cases(rng, hidden):
    def curve(n, noise):
        t = np.arange(n)
        low = rng.uniform(0.2, 0.7) * n
        return np.round(1.0 + 0.002 * (t - low) ** 2 + noise * rng.normal(size=n), 3)

    if not hidden:
        return [{"pertes": np.array([0.9, 0.7, 0.6, 0.62, 0.58, 0.61, 0.6, 0.63, 0.65, 0.7]),
                 "patience": 3}]
    tie = np.array([1.0, 0.8, 0.8, 0.8, 0.79, 0.85, 0.9])  # a tie is not an improvement
    return [{"pertes": curve(40, 0.02), "patience": int(rng.integers(2, 6))},
            {"pertes": tie, "patience": 2},
            {"pertes": np.linspace(1.0, 0.5, int(rng.integers(5, 15))), "patience": 3},  # no stop
            {"pertes": np.array([0.5, 0.6, 0.7, 0.8]), "patience": 1},
            {"pertes": curve(30, 0.05), "patience": 1},
            {"pertes": curve(25, 0.01), "patience": 0}]


def keras_early_stopping(losses, patience) -> tuple[int, int]:
    """Keras's EarlyStopping callback driven epoch by epoch on these validation losses."""
    keras = import_keras()

    class _Model:  # what the callback touches: stop_training and the weights
        stop_training = False
        epoch = 0

        def get_weights(self):
            return [self.epoch]

        def set_weights(self, w):
            pass

    model = _Model()
    cb = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                       restore_best_weights=True)
    cb.set_model(model)
    cb.on_train_begin()
    n = len(losses)
    for epoch, v in enumerate(losses):
        model.epoch = epoch
        cb.on_epoch_end(epoch, {"loss": 0.0, "val_loss": float(v)})
        if model.stop_training:
            n = epoch + 1
            break
    return n, int(cb.best_epoch)


def _replay(losses, patience, improves, exhausted):
    """A plain replay used only to name a wrong answer (the oracle is Keras)."""
    best, index, wait = None, 0, 0
    for i, v in enumerate(losses):
        wait += 1
        if best is None or improves(v, best):
            best, index, wait = v, i, 0
            continue
        if exhausted(wait, patience) and i > 0:
            return i + 1, index
    return len(losses), index


def _stop_verdict(case, answer):
    losses, patience = [float(v) for v in case["pertes"]], int(case["patience"])
    n = as_number(answer, "n", "n_epoques")
    best = as_number(answer, "meilleure", "meilleure")
    en, eb = keras_early_stopping(losses, patience)
    if (n, best) == (en, eb):
        return
    where = f"pertes de validation {fmt(np.array(losses))} avec patience = {patience}"
    if n == en and best == eb + 1:
        raise AssertionError(f"{where} : meilleure époque décalée de 1 : l'indice commence à 0 "
                             "(comme history.history['val_loss'])")
    if (n, best) == _replay(losses, patience, lambda v, m: v <= m, lambda a, p: a >= p):
        raise AssertionError(f"{where} : une égalité n'est pas une amélioration (Keras exige une "
                             "perte strictement plus petite que la meilleure)")
    if (n, best) == _replay(losses, patience, lambda v, m: v < m, lambda a, p: a > p):
        raise AssertionError(f"{where} : une époque de trop : Keras s'arrête dès que « patience » "
                             "époques de suite n'ont pas amélioré la meilleure perte")
    if n == en and best == en - 1:
        raise AssertionError(f"{where} : vous renvoyez la dernière époque, pas la meilleure "
                             "(poids restaurés : restore_best_weights=True)")
    if n == en and best == int(np.argmin(losses)) and best != eb:
        raise AssertionError(f"{where} : la meilleure époque se cherche parmi les époques "
                             "EFFECTUÉES, pas sur toute la liste")
    if n < en:
        raise AssertionError(f"{where} : arrêt trop tôt ({n:g} époques au lieu de {en}) : il faut "
                             "« patience » époques de suite SANS amélioration")
    if en == len(losses) and n != en:
        raise AssertionError(f"{where} : la patience n'est jamais épuisée, l'apprentissage va au "
                             f"bout des {en} époques")
    raise AssertionError(f"{where} : attendu ({en}, {eb}) = (époques effectuées, indice de la "
                         f"meilleure), obtenu ({n:g}, {best:g})")


# -- validation_croisee ----------------------------------------------------------------------------
def _fold_cases(rng, hidden):
    def data(n, p, k, share=0.5):
        y = (rng.random(n) < share).astype(int)
        y[:k], y[k:2 * k] = 0, 1  # both classes in every fold
        scales = np.exp(rng.uniform(-3, 3, size=p))
        centres = rng.uniform(-20, 20, size=p)
        X = centres + scales * (rng.normal(size=(n, p)) + 0.9 * y[:, None]
                                * rng.choice([-1, 1], size=p))
        X[rng.random((n, p)) < 0.05] *= 6  # outliers: fold statistics differ from global ones
        return {"X": X, "y": y, "k": k, "graine": int(rng.integers(0, 1000))}

    if not hidden:
        return [data(60, 3, 5)]
    return [data(45, 4, 3), data(50, 2, 4, 0.3), data(80, 5, 5, 0.6)]


def sklearn_scores(X, y, k, seed, split="stratified", scaling="fold"):
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.neighbors import NearestCentroid

    if split == "stratified":
        folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(X, y)
    elif split == "kfold":
        folds = KFold(n_splits=k, shuffle=True, random_state=seed).split(X, y)
    else:
        folds = StratifiedKFold(n_splits=k).split(X, y)
    scores, everything = [], scaler(X)
    for tr, va in folds:
        s = everything if scaling == "global" else scaler(X[tr])
        f = (lambda A: A) if scaling == "none" else s.transform
        scores.append(NearestCentroid().fit(f(X[tr]), y[tr]).score(f(X[va]), y[va]))
    return np.array(scores)


def _fold_verdict(case, answer):
    X, y, k, g = case["X"], case["y"], int(case["k"]), int(case["graine"])
    where = f"(n = {len(y)}, k = {k}, graine = {g})"
    scores = as_array(answer, "scores", what="validation_croisee")
    if scores.shape != (k,):
        raise AssertionError(f"{where} : validation_croisee doit renvoyer les {k} scores (un par "
                             f"pli), pas un tableau de forme {scores.shape}")
    built = as_number(answer, "construits", "nombre de modèles construits")
    if built < k:  # even where the scores happen to match: the folds share a model
        raise AssertionError(f"{where} : {built:g} modèle(s) construit(s) pour {k} plis : "
                             "appelez construire_modele() à CHAQUE pli, sinon le modèle garde ce "
                             "qu'il a appris (y compris le pli de validation) au pli précédent")
    expected = sklearn_scores(X, y, k, g)
    if np.allclose(scores, expected, atol=1e-9):
        return
    for split, scaling, message in (
            ("stratified", "global", "standardisation ajustée sur toutes les données : dans "
                                     "chaque pli, ajustez-la sur les plis d'apprentissage "
                                     "seulement (standardiser(X[app], X[val]))"),
            ("stratified", "none", "données non standardisées : appelez standardiser(X[app], "
                                   "X[val]) dans chaque pli"),
            ("kfold", "fold", "découpage KFold : utilisez StratifiedKFold (mêmes proportions de "
                              "classes dans chaque pli)"),
            ("ordered", "fold", "plis non mélangés : StratifiedKFold(n_splits=k, shuffle=True, "
                                "random_state=graine)")):
        if np.allclose(scores, sklearn_scores(X, y, k, g, split, scaling), atol=1e-9):
            raise AssertionError(f"{where} : {message}")
    raise AssertionError(f"{where} : scores {fmt(scores)} au lieu de {fmt(expected)} : chaque "
                         "score est l'exactitude du modèle sur le pli de VALIDATION, après fit "
                         "sur les k − 1 autres plis")


CHECKS = [
    Check("arret_precoce", _stop_cases, _stop_verdict,
          doc="Époques effectuées et meilleure époque comparées au callback EarlyStopping de "
              "Keras (patience, égalités, pas d'arrêt, patience 0)."),
    Check("validation_croisee", _fold_cases, _fold_verdict,
          doc="k scores comparés à StratifiedKFold + StandardScaler par pli + NearestCentroid "
              "de scikit-learn, avec un modèle factice qui, comme Keras, garde ce qu'il a appris "
              "d'un fit à l'autre (modèle neuf à chaque pli, standardisation par pli, plis "
              "mélangés)."),
]


def _stopping(kind):
    def arret_precoce(pertes_val, patience):
        best, idx, wait = np.inf, 0, 0
        for e, v in enumerate(pertes_val):
            if (v <= best) if kind == "egalite" else (v < best):
                best, idx, wait = v, e, 0
                continue
            wait += 1
            if (wait > patience) if kind == "tard" else (wait >= patience):
                if kind == "jamais":
                    continue
                return e + 1, (e if kind == "derniere" else idx + (kind == "base1"))
        if kind == "jamais":
            return len(pertes_val), int(np.argmin(pertes_val))
        return len(pertes_val), (len(pertes_val) - 1 if kind == "derniere"
                                 else idx + (kind == "base1"))
    return arret_precoce


def _cross_validation(kind):
    def validation_croisee(construire_modele, X, y, k=5, epochs=10, batch_size=32, graine=0):
        from sklearn.model_selection import KFold, StratifiedKFold

        if kind == "kfold":
            folds = KFold(n_splits=k, shuffle=True, random_state=graine).split(X, y)
        elif kind == "ordre":
            folds = StratifiedKFold(n_splits=k).split(X, y)
        else:
            folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=graine).split(X, y)
        std = _standardiser("")
        model = construire_modele()
        scores = []
        for app, val in folds:
            if kind == "global":
                Xs, _ = std(X, X)
                X_app, X_val = Xs[app], Xs[val]
            elif kind == "brut":
                X_app, X_val = X[app], X[val]
            else:
                X_app, X_val = std(X[app], X[val])
            if kind != "meme_modele":
                model = construire_modele()
            model.fit(X_app, y[app], epochs=epochs, batch_size=batch_size, verbose=0)
            on = (X_app, y[app]) if kind == "sur_app" else (X_val, y[val])
            scores.append(model.evaluate(*on, verbose=0)[1])
        return float(np.mean(scores)) if kind == "moyenne" else np.array(scores)
    return validation_croisee


MISTAKES = {
    "arret_precoce": [
        Mistake("égalité comptée comme amélioration", {"arret_precoce": _stopping("egalite")},
                "égalité", where="hidden"),
        Mistake("une époque de trop", {"arret_precoce": _stopping("tard")}, "de trop"),
        Mistake("dernière époque au lieu de la meilleure", {"arret_precoce": _stopping("derniere")},
                "dernière"),
        Mistake("meilleure époque comptée à partir de 1", {"arret_precoce": _stopping("base1")},
                "décalée"),
        Mistake("ne s'arrête jamais", {"arret_precoce": _stopping("jamais")}),
    ],
    "validation_croisee": [
        Mistake(label, {"validation_croisee": _cross_validation(kind)}, words)
        for label, kind, words in (
            ("même modèle pour tous les plis", "meme_modele", "CHAQUE pli"),
            ("standardisation sur toutes les données", "global", "toutes les données"),
            ("pas de standardisation", "brut", "non standardisées"),
            ("KFold au lieu de StratifiedKFold", "kfold", "StratifiedKFold"),
            ("plis non mélangés", "ordre", "shuffle"),
            ("exactitude sur les plis d'apprentissage", "sur_app", "VALIDATION"),
            ("moyenne au lieu des k scores", "moyenne", "scores"))],
}
