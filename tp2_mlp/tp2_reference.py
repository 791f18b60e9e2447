"""Reference module of TP2 (deep neural networks with Keras: the three archetypes, parameter
counts, dropout / batch normalisation, optimisers, batch size, early stopping, k-fold
cross-validation).

It holds what the students' notebook imports (Keras set-up, data loaders, plotting helpers) and
the graded checks (`CHECKS`, `check`). It holds no solution: the oracles are scikit-learn
(`StandardScaler`, `LinearRegression`, `NearestCentroid`, `StratifiedKFold`, metrics), Keras
itself (`count_params`, the `EarlyStopping` callback, the data adapter that cuts an epoch into
batches) and held-out data whose labels never leave the judge.

Trained models are never trusted: the kernel only sends the model's architecture
(`model.to_json()`) and weights (`model.get_weights()`); the judge checks the architecture
against an allow-list, rebuilds the model in its own process (Keras safe mode) and measures it
itself on held-out data.

Module-level code stays cheap: Keras, scikit-learn and matplotlib are imported inside the
functions that need them. Every message a student can read is in French.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sys
import warnings

import numpy as np

from grader.checks import Check, Checks, as_array, as_number
# preparer_keras and tracer_historique are given to the students through this module.
from grader.keras_models import (canonical_name, export_model, import_keras, predict,  # noqa: F401
                                 preparer_keras, quiet_stderr, rebuild, tracer_historique,
                                 validate_architecture)

CHECKS = Checks(judge_imports=("keras", "sklearn.preprocessing", "sklearn.linear_model",
                               "sklearn.model_selection", "sklearn.neighbors",
                               "sklearn.metrics"))
check = CHECKS.check

GRAINE_DONNEES = 0  # every split of this TP is fixed: the judge uses the same one


# =============================================================================================
# Data (given): fixed splits, raw features (the students standardise them)
# =============================================================================================
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
    """Handwritten digits (scikit-learn): 1797 images 8×8 flattened into 64 grey levels 0..16,
    y = digit 0..9. Returns X_train, X_test, y_train, y_test (75 % / 25 %, stratified)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return _decoupe(X, y, True, GRAINE_DONNEES)


def donnees_friedman(n=1000, graine=GRAINE_DONNEES):
    """Friedman #1 regression with 20 features (scikit-learn's `make_friedman1`):
    y = 10 sin(π x1 x2) + 20 (x3 − 1/2)² + 10 x4 + 5 x5 + noise, x6..x20 are pure noise.
    Non-linear: a linear regression cannot fit it. Returns X (n, 20), y (n,)."""
    from sklearn.datasets import make_friedman1

    return make_friedman1(n_samples=n, n_features=20, noise=1.0, random_state=graine)


# =============================================================================================
# Plots and small tools (given)
# =============================================================================================
def enregistreur_pertes():
    """A Keras callback recording the training loss after every update (every batch):
    `cb = enregistreur_pertes(); model.fit(..., callbacks=[cb]); cb.pertes` is the list."""
    keras = import_keras()

    class EnregistreurPertes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.pertes = []

        def on_train_batch_end(self, batch, logs=None):
            self.pertes.append(float((logs or {}).get("loss", np.nan)))

    return EnregistreurPertes()


# =============================================================================================
# Helpers shared by the checks
# =============================================================================================
def _quiet(fn):
    """Run the student's code without NumPy/Keras warnings on stderr."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    return wrapper


def _fmt(x, digits=4):
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return f"{float(x):.{digits}g}"
    return np.array2string(x, precision=digits, max_line_width=120, threshold=12)


def _pct(x):
    return f"{100 * x:.1f} %"


def _scaler(X_train):
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit(X_train)


_PERTES = {
    "mse": {"mse", "meansquarederror"},
    "mae": {"mae", "meanabsoluteerror"},
    "bce": {"binarycrossentropy", "bce"},
    "cce": {"categoricalcrossentropy", "sparsecategoricalcrossentropy"},
}


def _perte(compilation, quoi, attendues, conseil):
    if not compilation:
        raise AssertionError(f"{quoi} : le modèle n'a pas été compilé (model.compile) ni entraîné")
    nom = canonical_name(compilation.get("loss"))
    if not any(nom in _PERTES[a] for a in attendues):
        raise AssertionError(f"{quoi} : fonction de perte « {nom or 'aucune'} » ; {conseil}")


def _dernieres_couches(modele):
    return [c for c in modele.layers if type(c).__name__ != "InputLayer"]


def _activation_sortie(modele) -> str:
    """Name of the output activation: the last Dense's, or a trailing Activation/Softmax layer."""
    for couche in reversed(_dernieres_couches(modele)):
        nom = type(couche).__name__
        if nom in ("Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout"):
            continue
        if nom == "Softmax":
            return "softmax"
        if nom == "ReLU":
            return "relu"
        cfg = couche.get_config()
        act = cfg.get("activation")
        if nom == "Activation" or nom == "Dense":
            return str(act if isinstance(act, str) else canonical_name(act)).lower()
        return nom.lower()
    return "?"


# =============================================================================================
# Part 1 — Standardisation (fitted on the training set only)
# =============================================================================================
def _cas_standardiser(rng, hidden):
    def jeu(n, m, p, constante=False, entiers=False):
        centres = rng.uniform(-50, 50, size=p)
        echelles = np.exp(rng.uniform(-2, 3, size=p))
        X = centres + echelles * rng.normal(size=(n, p))
        Y = centres + 2.0 + echelles * 1.5 * rng.normal(size=(m, p))  # test: other mean/scale
        if constante:
            j = int(rng.integers(p))
            X[:, j] = 3.0
            Y[:, j] = rng.normal(size=m) + 3.0
        if entiers:
            X, Y = np.round(X), np.round(Y)
        return {"X_train": X, "X_test": Y}

    if not hidden:
        return [jeu(20, 8, 4)]
    return [jeu(int(rng.integers(5, 40)), 1, 1), jeu(30, 12, 5, constante=True),
            jeu(25, 10, 3, entiers=True), jeu(12, 30, 6)]


@_quiet
def _eval_standardiser(case, standardiser):
    res = standardiser(case["X_train"].copy(), case["X_test"].copy())
    if isinstance(res, (str, bytes, dict)) or not hasattr(res, "__len__") or len(res) != 2:
        return {"forme": "invalide"}
    return {"A": np.asarray(res[0], dtype=float), "B": np.asarray(res[1], dtype=float)}


def _verdict_standardiser(case, answer):
    if "forme" in answer:
        raise AssertionError("standardiser doit renvoyer le couple (X_train standardisé, "
                             "X_test standardisé)")
    X, Y = case["X_train"], case["X_test"]
    constante = bool(np.any(X.std(axis=0) == 0))
    for cle, M, nom in (("A", X, "X_train"), ("B", Y, "X_test")):
        if constante and cle in answer and np.shape(answer[cle]) == M.shape:
            a = np.asarray(answer[cle], dtype=float)
            if not np.all(np.isfinite(a)):
                raise AssertionError(
                    f"{nom} standardisé contient des NaN ou des infinis : une colonne constante a "
                    "un écart-type nul ; remplacez un écart-type nul par 1 (comme StandardScaler)")
    A = as_array(answer, "A", shape=X.shape, what="X_train standardisé")
    B = as_array(answer, "B", shape=Y.shape, what="X_test standardisé")
    s = _scaler(X)
    EA, EB = s.transform(X), s.transform(Y)
    tol = dict(rtol=1e-7, atol=1e-9)
    if np.allclose(A, EA, **tol) and np.allclose(B, EB, **tol):
        return
    if np.allclose(A, EA, **tol):
        if np.allclose(B, _scaler(Y).transform(Y), **tol):
            raise AssertionError("X_test est standardisé avec SA PROPRE moyenne et son propre "
                                 "écart-type : il faut utiliser ceux de X_train (le modèle ne "
                                 "doit rien apprendre des données de test)")
        raise AssertionError("X_train est correct mais pas X_test : appliquez à X_test la moyenne "
                             "et l'écart-type calculés sur X_train")
    tout = _scaler(np.vstack([X, Y]))
    if np.allclose(A, tout.transform(X), **tol):
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


CHECKS.add(Check(
    name="standardiser", targets=("standardiser",), cases=_cas_standardiser,
    evaluate=_eval_standardiser, verdict=_verdict_standardiser,
    doc="Standardisation ajustée sur X_train seul, comparée à sklearn StandardScaler (colonne "
        "constante, une seule caractéristique, un seul exemple de test)."))


# =============================================================================================
# Part 2 — Parameter count of an MLP, the slide's model
# =============================================================================================
def _cas_parametres(rng, hidden):
    if not hidden:
        return [{"tailles": np.array([20, 128, 64, 1])}, {"tailles": np.array([30, 16, 8, 1])}]
    cas = [{"tailles": np.array([int(rng.integers(1, 50)), 1])},  # one layer only
           {"tailles": np.array([64, 10])}]
    for _ in range(4):
        profondeur = int(rng.integers(2, 7))
        cas.append({"tailles": rng.integers(1, 300, size=profondeur + 1)})
    return cas


@_quiet
def _eval_parametres(case, nombre_parametres_mlp):
    return {"n": nombre_parametres_mlp([int(t) for t in case["tailles"]])}


def _compte_keras(tailles):
    """Oracle: the parameter count Keras gives for Input(t0) → Dense(t1) → … → Dense(tL)."""
    keras = import_keras()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        modele = keras.Sequential([keras.Input((int(tailles[0]),))]
                                  + [keras.layers.Dense(int(t)) for t in tailles[1:]])
        return int(modele.count_params())


def _verdict_parametres(case, answer):
    t = [int(v) for v in case["tailles"]]
    n = as_number(answer, "n", "nombre_parametres_mlp")
    attendu = _compte_keras(t)
    if n == attendu:
        return
    poids = sum(a * b for a, b in zip(t[:-1], t[1:]))
    ou = f"pour les tailles {t}"
    if n == poids:
        raise AssertionError(f"{ou} : vous oubliez les biais (un par neurone de la couche "
                             f"suivante : + h_(i+1)) ; Keras compte {attendu}")
    if n == poids + sum(t[:-1]):
        raise AssertionError(f"{ou} : biais comptés sur la couche d'entrée de chaque connexion "
                             f"(+ h_i) au lieu de la couche suivante (+ h_(i+1))")
    if len(t) > 2 and n == sum(a * b + b for a, b in zip(t[:-2], t[1:-1])):
        raise AssertionError(f"{ou} : la dernière connexion (vers la couche de sortie) manque")
    if n == sum(t):
        raise AssertionError(f"{ou} : vous comptez les neurones, pas les paramètres (poids + "
                             "biais)")
    if n == sum((a + 1) * (b + 1) for a, b in zip(t[:-1], t[1:])):
        raise AssertionError(f"{ou} : (h_i + 1)(h_(i+1) + 1) compte un biais de trop par couche")
    raise AssertionError(f"{ou} : {n:g} paramètres au lieu de {attendu} (model.count_params())")


CHECKS.add(Check(
    name="nombre_parametres_mlp", targets=("nombre_parametres_mlp",), cases=_cas_parametres,
    evaluate=_eval_parametres, verdict=_verdict_parametres,
    doc="Σ h_i·h_(i+1) + h_(i+1) comparé à model.count_params() de Keras sur des architectures "
        "aléatoires (une seule couche, jusqu'à six)."))


def _r2(y, pred):
    from sklearn.metrics import r2_score

    return float(r2_score(y, pred))


N_FRIEDMAN = 1000
MARGE_FRIEDMAN = 0.02  # R² of the slide's model minus R² of the linear regression, at least


def _cas_diapo(rng, hidden):
    X, y = donnees_friedman(N_FRIEDMAN)
    Xf, yf = donnees_friedman(2000, graine=int(rng.integers(1, 2**31 - 1)))
    s = _scaler(X)
    mu, sd = y.mean(), y.std()
    return [{"_X": s.transform(Xf), "_y": (yf - mu) / sd, "_Xa": s.transform(X),
             "_ya": (y - mu) / sd}]


def _eval_modele(nom):
    @_quiet
    def evaluate(case, modele):
        return export_model(modele)

    evaluate.__name__ = f"_eval_{nom}"
    return evaluate


def _verdict_diapo(case, answer):
    quoi = "modele_diapo"
    modele, compilation, iterations = rebuild(answer, (20,), quoi)
    denses = [c for c in _dernieres_couches(modele) if type(c).__name__ == "Dense"]
    autres = [type(c).__name__ for c in _dernieres_couches(modele) if type(c).__name__ != "Dense"]
    if autres:
        raise AssertionError(f"{quoi} : le modèle de la diapositive n'a que des couches Dense "
                             f"(trouvé aussi : {', '.join(autres)})")
    archi = [(c.get_config()["units"], str(c.get_config()["activation"])) for c in denses]
    attendu = [(128, "relu"), (64, "relu"), (1, "linear")]
    if archi != attendu:
        raise AssertionError(f"{quoi} : couches Dense {archi} au lieu de {attendu} (Input 20 → "
                             "Dense 128 relu → Dense 64 relu → Dense 1 sans activation)")
    opt = canonical_name(compilation.get("optimizer")) if compilation else ""
    if not compilation:
        raise AssertionError(f"{quoi} : le modèle n'a pas été compilé (model.compile)")
    if opt != "rmsprop":
        raise AssertionError(f"{quoi} : optimiseur « {opt} » au lieu de 'rmsprop'")
    _perte(compilation, quoi, ("mse",), "la diapositive utilise loss='mse'")
    metriques = {canonical_name(m) for m in (compilation.get("metrics") or [])}
    if not ({"mae", "meanabsoluteerror"} & metriques and {"mse", "meansquarederror"} & metriques):
        raise AssertionError(f"{quoi} : métriques {sorted(metriques)} ; la diapositive demande "
                             "metrics=['mae', 'mse']")
    etapes = 20 * math.ceil(N_FRIEDMAN / 64)
    if iterations != etapes:
        raise AssertionError(
            f"{quoi} : {iterations:g} mises à jour des poids au lieu de {etapes} = 20 époques × "
            f"⌈{N_FRIEDMAN}/64⌉ lots : fit(batch_size=64, epochs=20) sur les {N_FRIEDMAN} "
            "exemples d'apprentissage, une seule fois (reconstruisez le modèle avant de "
            "relancer fit)")
    pred = predict(modele, case["_X"])[:, 0]
    r2 = _r2(case["_y"], pred)
    from sklearn.linear_model import LinearRegression

    lin = _r2(case["_y"], LinearRegression().fit(case["_Xa"], case["_ya"]).predict(case["_X"]))
    if r2 >= lin + MARGE_FRIEDMAN:
        return
    if abs(np.mean(pred)) > 5:
        raise AssertionError(f"{quoi} : prédictions de moyenne {np.mean(pred):.3g} : le modèle "
                             "doit prédire la cible CENTRÉE-RÉDUITE (y − moyenne) / écart-type "
                             "de y_train, pas y brut")
    raise AssertionError(
        f"{quoi} : R² = {r2:.3f} sur 2000 nouveaux exemples, pas mieux que la régression "
        f"linéaire (R² = {lin:.3f}, il faut au moins {lin + MARGE_FRIEDMAN:.3f}) : entrées "
        "standardisées avec standardiser ? cible centrée-réduite ?")


CHECKS.add(Check(
    name="modele_diapo", targets=("modele_diapo",), cases=_cas_diapo,
    evaluate=_eval_modele("diapo"), verdict=_verdict_diapo,
    doc="Le modèle de la diapositive à l'identique (architecture, compile, nombre de mises à "
        "jour de fit(batch_size=64, epochs=20)) et un R² sur des données de Friedman neuves, "
        "jamais vues, supérieur à celui de la régression linéaire."))


# =============================================================================================
# Part 3 — An MLP builder (dropout, batch normalisation) and the three archetypes
# =============================================================================================
_ACTIVATIONS_SORTIE = ("sigmoid", "softmax", "linear")


def _cas_construire(rng, hidden):
    if not hidden:
        return [{"n_entrees": 30, "couches": np.array([16, 8]), "n_sorties": 1,
                 "activation_sortie": "sigmoid", "dropout": 0.0, "batchnorm": 0}]
    cas = []
    for dropout, bn in ((0.3, 0), (0.0, 1), (0.25, 1), (0.0, 0)):
        profondeur = int(rng.integers(1, 4))
        act = str(rng.choice(_ACTIVATIONS_SORTIE))
        cas.append({"n_entrees": int(rng.integers(2, 70)),
                    "couches": rng.integers(2, 100, size=profondeur),
                    "n_sorties": 1 if act != "softmax" else int(rng.integers(2, 12)),
                    "activation_sortie": act, "dropout": dropout, "batchnorm": bn})
    return cas


@_quiet
def _eval_construire(case, construire_mlp):
    modele = construire_mlp(int(case["n_entrees"]), [int(c) for c in case["couches"]],
                            int(case["n_sorties"]), str(case["activation_sortie"]),
                            dropout=float(case["dropout"]), batchnorm=bool(case["batchnorm"]))
    if not hasattr(modele, "to_json"):
        return {"type": type(modele).__name__}
    return {"architecture": modele.to_json()}


def _jetons(modele):
    """The layers as tokens: ("dense", units, act), ("bn",), ("dropout", rate), ("act", name)."""
    jetons = []
    for c in _dernieres_couches(modele):
        nom, cfg = type(c).__name__, c.get_config()
        if nom == "Dense":
            jetons.append(("dense", cfg["units"], str(cfg["activation"])))
        elif nom == "BatchNormalization":
            jetons.append(("bn",))
        elif nom == "Dropout":
            jetons.append(("dropout", float(cfg["rate"])))
        elif nom == "Activation":
            jetons.append(("act", str(cfg["activation"])))
        elif nom == "ReLU":
            jetons.append(("act", "relu"))
        elif nom == "Softmax":
            jetons.append(("act", "softmax"))
        else:
            jetons.append(("autre", nom))
    return jetons


def _verdict_construire(case, answer):
    if "type" in answer:
        raise AssertionError(f"construire_mlp doit renvoyer un modèle Keras, pas un objet de type "
                             f"{answer['type']}")
    n_in, couches = int(case["n_entrees"]), [int(c) for c in case["couches"]]
    n_out, act_out = int(case["n_sorties"]), str(case["activation_sortie"])
    dropout, bn = float(case["dropout"]), bool(case["batchnorm"])
    appel = (f"construire_mlp({n_in}, {couches}, {n_out}, '{act_out}', dropout={dropout:g}, "
             f"batchnorm={bn})")
    arch = answer.get("architecture")
    if not isinstance(arch, str):
        raise AssertionError(f"{appel} : architecture illisible")
    try:
        config = json.loads(arch)
    except ValueError:
        raise AssertionError(f"{appel} : architecture illisible") from None
    if isinstance(config, dict):
        config.pop("compile_config", None)
    validate_architecture(config, (n_in,), appel)
    keras = import_keras()
    try:
        with quiet_stderr(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            modele = keras.models.model_from_json(json.dumps(config))
    except Exception as exc:
        raise AssertionError(f"{appel} : modèle impossible à reconstruire ({exc})"[:300]) from None
    jetons = _jetons(modele)
    autres = [j[1] for j in jetons if j[0] == "autre"]
    if autres:
        raise AssertionError(f"{appel} : couches inattendues {autres}")
    # cut into blocks, one per Dense layer
    blocs, courant = [], None
    for j in jetons:
        if j[0] == "dense":
            courant = [j]
            blocs.append(courant)
        elif courant is None:
            raise AssertionError(f"{appel} : une couche {j[0]} avant la première couche Dense")
        else:
            courant.append(j)
    unites = [b[0][1] for b in blocs]
    if unites != couches + [n_out]:
        raise AssertionError(f"{appel} : couches Dense de tailles {unites} au lieu de "
                             f"{couches + [n_out]} (couches cachées puis sortie)")

    def activation(bloc):
        acts = [j[1] for j in bloc[1:] if j[0] == "act"]
        dense = bloc[0][2]
        if dense != "linear" and acts:
            return "+".join([dense] + acts)
        return acts[0] if len(acts) == 1 else (dense if not acts else "+".join(acts))

    for i, bloc in enumerate(blocs[:-1]):
        quelle = f"couche cachée n° {i + 1}"
        if activation(bloc) != "relu":
            raise AssertionError(f"{appel} : {quelle} d'activation « {activation(bloc)} » au lieu "
                                 "de 'relu'")
        n_bn = sum(1 for j in bloc if j[0] == "bn")
        taux = [j[1] for j in bloc if j[0] == "dropout"]
        if bn and n_bn != 1:
            raise AssertionError(f"{appel} : {quelle} : {n_bn} BatchNormalization au lieu d'une "
                                 "par couche cachée")
        if not bn and n_bn:
            raise AssertionError(f"{appel} : BatchNormalization alors que batchnorm=False")
        if dropout > 0:
            if len(taux) != 1:
                raise AssertionError(f"{appel} : {quelle} : {len(taux)} Dropout au lieu d'un "
                                     "après chaque couche cachée")
            if abs(taux[0] - dropout) > 1e-9:
                raise AssertionError(f"{appel} : Dropout({taux[0]:g}) au lieu de "
                                     f"Dropout({dropout:g})")
            if bloc[-1][0] != "dropout":
                raise AssertionError(f"{appel} : {quelle} : le Dropout se place après "
                                     "l'activation (et la BatchNormalization)")
        elif any(t > 0 for t in taux):
            raise AssertionError(f"{appel} : Dropout alors que dropout=0")
    sortie = blocs[-1]
    if any(j[0] in ("bn", "dropout") for j in sortie):
        raise AssertionError(f"{appel} : ni Dropout ni BatchNormalization après la couche de "
                             "sortie")
    if activation(sortie) != act_out:
        raise AssertionError(f"{appel} : activation de sortie « {activation(sortie)} » au lieu "
                             f"de '{act_out}'")


CHECKS.add(Check(
    name="construire_mlp", targets=("construire_mlp",), cases=_cas_construire,
    evaluate=_eval_construire, verdict=_verdict_construire,
    doc="Structure du modèle reconstruit par le correcteur : tailles, ReLU cachées, activation "
        "de sortie, une BatchNormalization et un Dropout(taux) par couche cachée, rien après la "
        "sortie."))


# -- the three archetypes: held-out measures in the judge -------------------------------------
SEUIL_CANCER = 0.93
SEUIL_DIABETE = 0.20
SEUIL_CHIFFRES = 0.95
SEUIL_FUITE = 0.998  # at most 0 error on the 450 test digits: trained on the test set?


def _cas_cancer(rng, hidden):
    if hidden:
        return []
    X_train, X_test, _, y_test = charger_cancer_sein()
    return [{"_X": _scaler(X_train).transform(X_test), "_y": y_test}]


def _verdict_cancer(case, answer):
    quoi = "modele_cancer"
    modele, compilation, _ = rebuild(answer, (30,), quoi)
    P = predict(modele, case["_X"])
    if P.ndim != 2 or P.shape[1] != 1:
        raise AssertionError(f"{quoi} : sortie de forme {P.shape[1:]} ; la classification "
                             "binaire a UNE sortie : la probabilité de la classe 1 (Dense(1, "
                             "activation='sigmoid'))")
    if P.min() < -1e-6 or P.max() > 1 + 1e-6 or _activation_sortie(modele) != "sigmoid":
        raise AssertionError(f"{quoi} : la sortie doit être une probabilité entre 0 et 1 : "
                             f"activation 'sigmoid' en sortie (trouvé « "
                             f"{_activation_sortie(modele)} »)")
    _perte(compilation, quoi, ("bce",), "la classification binaire utilise "
                                        "loss='binary_crossentropy'")
    acc = float(np.mean((P[:, 0] > 0.5).astype(int) == case["_y"]))
    if acc < SEUIL_CANCER:
        raise AssertionError(f"{quoi} : exactitude {_pct(acc)} sur l'ensemble de test, il faut au "
                             f"moins {_pct(SEUIL_CANCER)} (entrées standardisées ? assez "
                             "d'époques ?)")


def _cas_diabete(rng, hidden):
    if hidden:
        return []
    X_train, X_test, y_train, y_test = charger_diabete()
    from sklearn.linear_model import LinearRegression

    s = _scaler(X_train)
    lin = LinearRegression().fit(s.transform(X_train), y_train).predict(s.transform(X_test))
    return [{"_X": s.transform(X_test), "_y": (y_test - y_train.mean()) / y_train.std(),
             "_r2_lin": _r2(y_test, lin)}]


def _verdict_diabete(case, answer):
    quoi = "modele_diabete"
    modele, compilation, _ = rebuild(answer, (10,), quoi)
    P = predict(modele, case["_X"])
    if P.ndim != 2 or P.shape[1] != 1:
        raise AssertionError(f"{quoi} : sortie de forme {P.shape[1:]} au lieu d'un seul nombre")
    act = _activation_sortie(modele)
    if act != "linear":
        raise AssertionError(f"{quoi} : activation de sortie « {act} » : une régression n'a "
                             "PAS de fonction d'activation en sortie (la cible peut être "
                             "négative ou grande)")
    _perte(compilation, quoi, ("mse", "mae"), "une régression utilise loss='mse' ou 'mae'")
    r2 = _r2(case["_y"], P[:, 0])
    if r2 >= SEUIL_DIABETE:
        return
    if abs(np.mean(P)) > 5:
        raise AssertionError(f"{quoi} : prédictions de moyenne {np.mean(P):.3g} : le modèle doit "
                             "prédire la cible CENTRÉE-RÉDUITE (y − moyenne) / écart-type de "
                             "y_train")
    raise AssertionError(
        f"{quoi} : R² = {r2:.3f} sur l'ensemble de test ; il faut au moins {SEUIL_DIABETE} "
        f"(prédire la moyenne donne 0, la régression linéaire {case['_r2_lin']:.3f})")


def _cas_chiffres(rng, hidden):
    if hidden:
        return []
    X_train, X_test, _, y_test = charger_chiffres()
    return [{"_X": _scaler(X_train).transform(X_test), "_y": y_test}]


def _verdict_proba_chiffres(P, quoi, modele):
    if P.ndim != 2 or P.shape[1] != 10:
        raise AssertionError(f"{quoi} : sortie de forme {P.shape[1:]} au lieu de (10,) : un "
                             "neurone de sortie par chiffre")
    if P.min() < -1e-6 or not np.allclose(P.sum(axis=1), 1.0, atol=1e-3):
        raise AssertionError(f"{quoi} : les 10 sorties doivent être des probabilités de somme 1 : "
                             f"activation 'softmax' en sortie (trouvé « "
                             f"{_activation_sortie(modele)} »)")


def _verdict_exactitude_chiffres(acc, quoi, seuil, conseil):
    if acc < seuil:
        raise AssertionError(f"{quoi} : exactitude {_pct(acc)} sur les 450 chiffres de test, il "
                             f"faut au moins {_pct(seuil)} ({conseil})")
    if acc >= SEUIL_FUITE:
        raise AssertionError(
            f"{quoi} : exactitude {_pct(acc)} sur l'ensemble de test, trop belle pour être vraie "
            "(aucune erreur) : le modèle a-t-il été entraîné sur les données de test ? N'utilisez "
            "que X_train, y_train pour fit")


def _verdict_chiffres(case, answer):
    quoi = "modele_chiffres"
    modele, compilation, _ = rebuild(answer, (64,), quoi)
    P = predict(modele, case["_X"])
    _verdict_proba_chiffres(P, quoi, modele)
    _perte(compilation, quoi, ("cce",), "la classification multi-classe utilise "
                                        "loss='categorical_crossentropy' (étiquettes one-hot)")
    acc = float(np.mean(np.argmax(P, axis=1) == case["_y"]))
    _verdict_exactitude_chiffres(acc, quoi, SEUIL_CHIFFRES,
                                 "entrées standardisées ? assez d'époques ?")


for _nom_check, _cible, _cas, _verdict, _doc in (
        ("modele_cancer", "modele_cancer", _cas_cancer, _verdict_cancer,
         f"Classification binaire : une sortie sigmoïde, entropie croisée binaire, exactitude ≥ "
         f"{SEUIL_CANCER} sur l'ensemble de test (mesurée par le correcteur)."),
        ("modele_diabete", "modele_diabete", _cas_diabete, _verdict_diabete,
         f"Régression : sortie linéaire, MSE ou MAE, R² ≥ {SEUIL_DIABETE} sur l'ensemble de test "
         "(prédicteur constant 0, régression linéaire 0.36)."),
        ("modele_chiffres", "modele_chiffres", _cas_chiffres, _verdict_chiffres,
         f"Classification multi-classe : 10 sorties softmax, entropie croisée catégorielle, "
         f"exactitude ≥ {SEUIL_CHIFFRES} sur les chiffres de test, sans fuite.")):
    CHECKS.add(Check(name=_nom_check, targets=(_cible,), cases=_cas,
                     evaluate=_eval_modele(_nom_check), verdict=_verdict, doc=_doc))


# =============================================================================================
# Part 4 — Optimisation: number of updates per training
# =============================================================================================
def _cas_mises_a_jour(rng, hidden):
    if not hidden:
        return [{"n": 1347, "batch_size": 64, "epochs": 20}]
    n = int(rng.integers(50, 3000))
    return [{"n": n, "batch_size": 1, "epochs": 3}, {"n": n, "batch_size": n, "epochs": 7},
            {"n": 640, "batch_size": 64, "epochs": 5}, {"n": 30, "batch_size": 64, "epochs": 2},
            {"n": n, "batch_size": int(rng.integers(2, 200)), "epochs": int(rng.integers(1, 30))}]


@_quiet
def _eval_mises_a_jour(case, nombre_mises_a_jour):
    return {"m": nombre_mises_a_jour(int(case["n"]), int(case["batch_size"]), int(case["epochs"]))}


def _lots_keras(n, batch_size):
    """Oracle: how many batches Keras's own data adapter cuts n examples into."""
    import_keras()
    try:
        from keras.src.trainers.data_adapters.array_data_adapter import ArrayDataAdapter

        return int(ArrayDataAdapter(np.zeros((n, 1), dtype="float32"),
                                    batch_size=batch_size).num_batches)
    except Exception:  # internal API moved: the documented behaviour (last batch kept)
        return -(-n // batch_size)


def _verdict_mises_a_jour(case, answer):
    n, b, e = int(case["n"]), int(case["batch_size"]), int(case["epochs"])
    m = as_number(answer, "m", "nombre_mises_a_jour")
    attendu = e * _lots_keras(n, b)
    if m == attendu:
        return
    ou = f"n = {n}, batch_size = {b}, epochs = {e}"
    if m == e * (n // b):
        raise AssertionError(f"{ou} : le dernier lot incomplet compte aussi (Keras le garde) : "
                             "arrondi à l'entier SUPÉRIEUR")
    if abs(m - e * n / b) < 1e-9:
        raise AssertionError(f"{ou} : un nombre entier de lots est attendu (arrondi supérieur "
                             "de n / batch_size)")
    if m == attendu / e:
        raise AssertionError(f"{ou} : c'est le nombre de mises à jour d'UNE époque ; multipliez "
                             "par le nombre d'époques")
    raise AssertionError(f"{ou} : {m:g} mises à jour au lieu de {attendu}")


CHECKS.add(Check(
    name="nombre_mises_a_jour", targets=("nombre_mises_a_jour",), cases=_cas_mises_a_jour,
    evaluate=_eval_mises_a_jour, verdict=_verdict_mises_a_jour,
    doc="epochs × nombre de lots, comparé au découpage en lots de Keras (dernier lot incomplet, "
        "batch_size = 1, lot = tout l'ensemble)."))


# =============================================================================================
# Part 5 — Early stopping and k-fold cross-validation
# =============================================================================================
def _cas_arret(rng, hidden):
    def courbe(n, bruit):
        t = np.arange(n)
        creux = rng.uniform(0.2, 0.7) * n
        return np.round(1.0 + 0.002 * (t - creux) ** 2 + bruit * rng.normal(size=n), 3)

    if not hidden:
        return [{"pertes": np.array([0.9, 0.7, 0.6, 0.62, 0.58, 0.61, 0.6, 0.63, 0.65, 0.7]),
                 "patience": 3}]
    egalite = np.array([1.0, 0.8, 0.8, 0.8, 0.79, 0.85, 0.9])  # a tie is not an improvement
    return [{"pertes": courbe(40, 0.02), "patience": int(rng.integers(2, 6))},
            {"pertes": egalite, "patience": 2},
            {"pertes": np.linspace(1.0, 0.5, int(rng.integers(5, 15))), "patience": 3},  # no stop
            {"pertes": np.array([0.5, 0.6, 0.7, 0.8]), "patience": 1},
            {"pertes": courbe(30, 0.05), "patience": 1},
            {"pertes": courbe(25, 0.01), "patience": 0}]


@_quiet
def _eval_arret(case, arret_precoce):
    res = arret_precoce([float(v) for v in case["pertes"]], int(case["patience"]))
    if isinstance(res, (str, bytes, dict)) or not hasattr(res, "__len__") or len(res) != 2:
        return {"forme": "invalide"}
    return {"n": res[0], "meilleure": res[1]}


def _oracle_arret(pertes, patience):
    """Keras's own EarlyStopping callback driven epoch by epoch on these validation losses."""
    keras = import_keras()

    class _Modele:  # what the callback touches: stop_training and the weights
        stop_training = False
        epoque = 0

        def get_weights(self):
            return [self.epoque]

        def set_weights(self, w):
            pass

    modele = _Modele()
    cb = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                       restore_best_weights=True)
    cb.set_model(modele)
    cb.on_train_begin()
    n = len(pertes)
    for epoque, v in enumerate(pertes):
        modele.epoque = epoque
        cb.on_epoch_end(epoque, {"loss": 0.0, "val_loss": float(v)})
        if modele.stop_training:
            n = epoque + 1
            break
    return n, int(cb.best_epoch)


def _simule_arret(pertes, patience, ameliore, epuisee):
    """A plain re-implementation used only to name a wrong answer (the oracle is Keras)."""
    meilleure, indice, attente = None, 0, 0
    for i, v in enumerate(pertes):
        attente += 1
        if meilleure is None or ameliore(v, meilleure):
            meilleure, indice, attente = v, i, 0
            continue
        if epuisee(attente, patience) and i > 0:
            return i + 1, indice
    return len(pertes), indice


def _verdict_arret(case, answer):
    if "forme" in answer:
        raise AssertionError("arret_precoce doit renvoyer le couple (n_epoques, meilleure)")
    pertes, patience = [float(v) for v in case["pertes"]], int(case["patience"])
    n = as_number(answer, "n", "n_epoques")
    best = as_number(answer, "meilleure", "meilleure")
    en, eb = _oracle_arret(pertes, patience)
    if (n, best) == (en, eb):
        return
    ou = f"pertes de validation {_fmt(np.array(pertes))} avec patience = {patience}"
    if n == en and best == eb + 1:
        raise AssertionError(f"{ou} : meilleure époque décalée de 1 : l'indice commence à 0 "
                             "(comme history.history['val_loss'])")
    if (n, best) == _simule_arret(pertes, patience, lambda v, m: v <= m, lambda a, p: a >= p):
        raise AssertionError(f"{ou} : une égalité n'est pas une amélioration (Keras exige une "
                             "perte strictement plus petite que la meilleure)")
    if (n, best) == _simule_arret(pertes, patience, lambda v, m: v < m, lambda a, p: a > p):
        raise AssertionError(f"{ou} : une époque de trop : Keras s'arrête dès que « patience » "
                             "époques de suite n'ont pas amélioré la meilleure perte")
    if n == en and best == en - 1:
        raise AssertionError(f"{ou} : vous renvoyez la dernière époque, pas la meilleure (poids "
                             "restaurés : restore_best_weights=True)")
    if n == en and best == int(np.argmin(pertes)) and best != eb:
        raise AssertionError(f"{ou} : la meilleure époque se cherche parmi les époques "
                             "EFFECTUÉES, pas sur toute la liste")
    if n < en:
        raise AssertionError(f"{ou} : arrêt trop tôt ({n:g} époques au lieu de {en}) : il faut "
                             "« patience » époques de suite SANS amélioration")
    if en == len(pertes) and n != en:
        raise AssertionError(f"{ou} : la patience n'est jamais épuisée, l'apprentissage va au "
                             f"bout des {en} époques")
    raise AssertionError(f"{ou} : attendu ({en}, {eb}) = (époques effectuées, indice de la "
                         f"meilleure), obtenu ({n:g}, {best:g})")


CHECKS.add(Check(
    name="arret_precoce", targets=("arret_precoce",), cases=_cas_arret, evaluate=_eval_arret,
    verdict=_verdict_arret,
    doc="Époques effectuées et meilleure époque comparées au callback EarlyStopping de Keras "
        "(patience, égalités, pas d'arrêt, patience 0)."))


class _ModeleFactice:
    """A stand-in for a compiled Keras binary classifier, used by the cross-validation check:
    `fit` ACCUMULATES the per-class sums (like a Keras model that keeps its weights from one
    fit to the next), `predict` gives P(y = 1) from the nearest class mean,
    `evaluate` returns [loss, accuracy] (or a dict with return_dict=True)."""

    def __init__(self):
        self.sommes = None
        self.comptes = np.zeros(2)
        self.history = None

    def compile(self, *args, **kwargs):
        return None

    def fit(self, x, y=None, *args, **kwargs):
        x = np.asarray(x, dtype=float)
        y = np.asarray(y).reshape(-1).astype(int)
        if self.sommes is None:
            self.sommes = np.zeros((2, x.shape[1]))
        for c in (0, 1):
            self.sommes[c] += x[y == c].sum(axis=0)
            self.comptes[c] += np.sum(y == c)
        epochs = max(1, int(kwargs.get("epochs", 1) or 1))
        perte, acc = self.evaluate(x, y)
        histoire = {"loss": [perte] * epochs, "accuracy": [acc] * epochs}
        validation = kwargs.get("validation_data")
        if validation is not None and len(validation) >= 2:
            vperte, vacc = self.evaluate(validation[0], validation[1])
            histoire.update(val_loss=[vperte] * epochs, val_accuracy=[vacc] * epochs)

        class _Histoire:
            history = histoire

        self.history = _Histoire()
        return self.history

    def predict(self, x, *args, **kwargs):
        x = np.asarray(x, dtype=float)
        if self.sommes is None:
            return np.full((len(x), 1), 0.5, dtype="float32")
        centres = self.sommes / np.maximum(self.comptes, 1)[:, None]
        d = ((x[:, None, :] - centres[None]) ** 2).sum(axis=2)
        z = np.clip(d[:, 0] - d[:, 1], -50, 50)
        return (1.0 / (1.0 + np.exp(-z)))[:, None].astype("float32")

    __call__ = predict

    def evaluate(self, x, y=None, *args, return_dict=False, **kwargs):
        p = self.predict(x)[:, 0].astype(float)
        y = np.asarray(y).reshape(-1).astype(int)
        pc = np.clip(p, 1e-7, 1 - 1e-7)
        perte = float(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc)))
        acc = float(np.mean((p > 0.5).astype(int) == y))
        return {"loss": perte, "accuracy": acc} if return_dict else [perte, acc]


def _cas_validation(rng, hidden):
    def jeu(n, p, k, desequilibre=0.5):
        y = (rng.random(n) < desequilibre).astype(int)
        y[:k], y[k:2 * k] = 0, 1  # both classes in every fold
        echelles = np.exp(rng.uniform(-3, 3, size=p))
        centres = rng.uniform(-20, 20, size=p)
        X = centres + echelles * (rng.normal(size=(n, p)) + 0.9 * y[:, None]
                                  * rng.choice([-1, 1], size=p))
        X[rng.random((n, p)) < 0.05] *= 6  # outliers: fold statistics differ from global ones
        return {"X": X, "y": y, "k": k, "graine": int(rng.integers(0, 1000))}

    if not hidden:
        return [jeu(60, 3, 5)]
    return [jeu(45, 4, 3), jeu(50, 2, 4, 0.3), jeu(80, 5, 5, 0.6)]


@_quiet
def _eval_validation(case, validation_croisee):
    construits = []

    def construire():
        m = _ModeleFactice()
        construits.append(m)
        return m

    scores = validation_croisee(construire, case["X"].copy(), case["y"].copy(), k=int(case["k"]),
                                epochs=2, batch_size=8, graine=int(case["graine"]))
    return {"scores": np.asarray(scores, dtype=float).reshape(-1), "construits": len(construits)}


def _scores_oracle(X, y, k, graine, decoupe="stratifie", standardise="pli"):
    from sklearn.model_selection import KFold, StratifiedKFold
    from sklearn.neighbors import NearestCentroid

    if decoupe == "stratifie":
        plis = StratifiedKFold(n_splits=k, shuffle=True, random_state=graine).split(X, y)
    elif decoupe == "kfold":
        plis = KFold(n_splits=k, shuffle=True, random_state=graine).split(X, y)
    else:
        plis = StratifiedKFold(n_splits=k).split(X, y)
    scores = []
    global_ = _scaler(X)
    for tr, va in plis:
        s = global_ if standardise == "global" else _scaler(X[tr])
        f = (lambda A: A) if standardise == "aucune" else s.transform
        scores.append(NearestCentroid().fit(f(X[tr]), y[tr]).score(f(X[va]), y[va]))
    return np.array(scores)


def _verdict_validation(case, answer):
    X, y, k, g = case["X"], case["y"], int(case["k"]), int(case["graine"])
    ou = f"(n = {len(y)}, k = {k}, graine = {g})"
    scores = as_array(answer, "scores", what="validation_croisee")
    if scores.shape != (k,):
        raise AssertionError(f"{ou} : validation_croisee doit renvoyer les {k} scores (un par "
                             f"pli), pas un tableau de forme {scores.shape}")
    attendu = _scores_oracle(X, y, k, g)
    if np.allclose(scores, attendu, atol=1e-9):
        return
    construits = as_number(answer, "construits", "nombre de modèles construits")
    if construits < k:
        raise AssertionError(f"{ou} : {construits:g} modèle(s) construit(s) pour {k} plis : "
                             "appelez construire_modele() à CHAQUE pli, sinon le modèle garde ce "
                             "qu'il a appris (y compris le pli de validation) au pli précédent")
    for decoupe, standardise, message in (
            ("stratifie", "global", "standardisation ajustée sur toutes les données : dans chaque "
                                    "pli, ajustez-la sur les plis d'apprentissage seulement "
                                    "(standardiser(X[app], X[val]))"),
            ("stratifie", "aucune", "données non standardisées : appelez standardiser(X[app], "
                                    "X[val]) dans chaque pli"),
            ("kfold", "pli", "découpage KFold : utilisez StratifiedKFold (mêmes proportions de "
                             "classes dans chaque pli)"),
            ("ordre", "pli", "plis non mélangés : StratifiedKFold(n_splits=k, shuffle=True, "
                             "random_state=graine)")):
        if np.allclose(scores, _scores_oracle(X, y, k, g, decoupe, standardise), atol=1e-9):
            raise AssertionError(f"{ou} : {message}")
    raise AssertionError(f"{ou} : scores {_fmt(scores)} au lieu de {_fmt(attendu)} : chaque score "
                         "est l'exactitude du modèle sur le pli de VALIDATION, après fit sur les "
                         "k − 1 autres plis")


CHECKS.add(Check(
    name="validation_croisee", targets=("validation_croisee",), cases=_cas_validation,
    evaluate=_eval_validation, verdict=_verdict_validation,
    doc="k scores comparés à StratifiedKFold + StandardScaler par pli + NearestCentroid de "
        "scikit-learn, avec un modèle factice qui, comme Keras, garde ce qu'il a appris d'un fit "
        "à l'autre (modèle neuf à chaque pli, standardisation par pli, plis mélangés)."))
