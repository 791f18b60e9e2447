"""TP2's exercises: how the student's objects are applied to the judge's inputs (`evaluate`)
and, where the right answer is not unique (Keras models), the notebook's own property checks
(`selfcheck`: layers, compile config, scores on the public data the case carries).

The thresholds are the judge's (it imports them); where they come from is said in
`judges/tp2/models.py`.
"""

from __future__ import annotations

import math

import numpy as np

from course.keras_tools import (as_model, block_activation, check_digits_classifier, check_loss,
                                export_model, name, output_activation, outputs, read_export,
                                with_predictions)
from grader.protocol import Exercise, Exercises, InvalidAnswer, quiet

EXERCISES = Exercises(__file__)
check = EXERCISES.check

SEUIL_CANCER = 0.93  # accuracy on the 143 test tumours
SEUIL_DIABETE = 0.20  # R² on the 111 test patients (mean: 0, linear regression: 0.36)
SEUIL_CHIFFRES = 0.95  # accuracy on the 450 test digits
SEUIL_FUITE = 0.998  # no error at all on the 450 test digits: trained on them?
# Test score above training score by more than this: fitted on the test split (digits: accuracy,
# diabetes: R²). Breast cancer: no margin separates (see judges/tp2/models.py).
ECART_CHIFFRES = 0.015
ECART_DIABETE = 0.02
MARGE_FRIEDMAN = 0.02  # R² of the slide's model minus R² of the linear regression, at least
N_FRIEDMAN = 1000
ETAPES_DIAPO = 20 * math.ceil(N_FRIEDMAN / 64)  # fit(batch_size=64, epochs=20), once


def _r2(y, P) -> float:
    return float(1 - np.sum((y - P) ** 2) / np.sum((y - np.mean(y)) ** 2))


# -- part 1: standardisation ---------------------------------------------------------------------
@quiet
def _standardise(case, standardiser):
    res = standardiser(case["X_train"].copy(), case["X_test"].copy())
    if isinstance(res, (str, bytes, dict)) or not hasattr(res, "__len__") or len(res) != 2:
        raise InvalidAnswer("standardiser doit renvoyer le couple (X_train standardisé, "
                            "X_test standardisé)")
    return {"A": np.asarray(res[0], dtype=float), "B": np.asarray(res[1], dtype=float)}


EXERCISES.add(Exercise("standardiser", ("standardiser",), _standardise, tolerance=(1e-7, 1e-9)))


# -- part 2: the slide's model -------------------------------------------------------------------
@quiet
def _count(case, nombre_parametres_mlp):
    return {"n": nombre_parametres_mlp([int(t) for t in case["tailles"]])}


EXERCISES.add(Exercise("nombre_parametres_mlp", ("nombre_parametres_mlp",), _count,
                       tolerance=(0.0, 0.0)))


def _trained(what):
    @quiet
    def evaluate(case, model):
        model = as_model(model, what)
        return with_predictions(export_model(model, what), model, case)

    evaluate.__name__ = f"_evaluate_{what}"
    return evaluate


def _self_slide(case, answer):
    what = "modele_diapo"
    layers, compiled = read_export(answer, (20,), what)
    found = [(kind, cfg.get("units"), name(cfg.get("activation"))) for kind, cfg in layers]
    if found != [("Dense", 128, "relu"), ("Dense", 64, "relu"), ("Dense", 1, "linear")]:
        raise AssertionError(f"{what} : couches {found} au lieu de Input 20 → Dense 128 relu → "
                             "Dense 64 relu → Dense 1 sans activation")
    check_loss(compiled, what, ("mse", "meansquarederror"), "la diapositive utilise loss='mse'")
    if name(compiled.get("optimizer")) != "rmsprop":
        raise AssertionError(f"{what} : optimiseur « {name(compiled.get('optimizer'))} » au lieu "
                             "de 'rmsprop'")
    metrics = {name(m) for m in compiled.get("metrics") or []}
    if not ({"mae", "meanabsoluteerror"} & metrics and {"mse", "meansquarederror"} & metrics):
        raise AssertionError(f"{what} : metrics=['mae', 'mse'] attendu")
    if answer.get("iterations") != ETAPES_DIAPO:
        raise AssertionError(f"{what} : {answer.get('iterations')} mises à jour des poids au "
                             f"lieu de {ETAPES_DIAPO} (fit(batch_size=64, epochs=20) une fois)")
    r2 = _r2(case["y"], outputs(answer, "P", 1, what)[:, 0])
    if r2 < case["r2_lineaire"] + MARGE_FRIEDMAN:
        raise AssertionError(f"{what} : R² = {r2:.3f} sur des données de test, pas mieux que la "
                             f"régression linéaire ({case['r2_lineaire']:.3f})")


EXERCISES.add(Exercise("modele_diapo", ("modele_diapo",), _trained("modele_diapo"),
                       selfcheck=_self_slide))


# -- part 3: an MLP builder and the three archetypes ----------------------------------------------
def _arguments(case):
    return (int(case["n_entrees"]), [int(c) for c in case["couches"]], int(case["n_sorties"]),
            str(case["activation_sortie"]), float(case["dropout"]), bool(case["batchnorm"]))


def _call_text(case) -> str:
    n_in, couches, n_out, act, dropout, bn = _arguments(case)
    return (f"construire_mlp({n_in}, {couches}, {n_out}, '{act}', dropout={dropout:g}, "
            f"batchnorm={bn})")


@quiet
def _build(case, construire_mlp):
    n_in, couches, n_out, act, dropout, bn = _arguments(case)
    model = construire_mlp(n_in, couches, n_out, act, dropout=dropout, batchnorm=bn)
    return export_model(model, _call_text(case), weights=False)


_ACTIVATION_LAYERS = {"Activation": None, "ReLU": "relu", "Softmax": "softmax"}


def _self_build(case, answer):
    """One block per Dense layer: hidden blocks Dense → ReLU (in the Dense or as a layer) →
    BatchNormalization if asked → Dropout(rate), last, if asked; the output block alone."""
    n_in, couches, n_out, act_out, dropout, bn = _arguments(case)
    what = _call_text(case)
    layers, _ = read_export(answer, (n_in,), what)
    blocks = []
    for kind, cfg in layers:
        if kind == "Dense":
            blocks.append([("dense", cfg.get("units"), name(cfg.get("activation")))])
            continue
        if kind in _ACTIVATION_LAYERS:
            token = ("act", _ACTIVATION_LAYERS[kind] or name(cfg.get("activation")))
        elif kind in ("BatchNormalization", "Dropout"):
            token = ("bn",) if kind == "BatchNormalization" else ("dropout", cfg.get("rate"))
        else:
            raise AssertionError(f"{what} : couche {kind} inattendue")
        if not blocks:
            raise AssertionError(f"{what} : une couche {kind} avant la première couche Dense")
        blocks[-1].append(token)
    if [b[0][1] for b in blocks] != couches + [n_out]:
        raise AssertionError(f"{what} : couches Dense de tailles {[b[0][1] for b in blocks]} "
                             f"au lieu de {couches + [n_out]}")
    for block in blocks[:-1]:
        rates = [t[1] for t in block if t[0] == "dropout"]
        if block_activation(block) != "relu" or sum(t[0] == "bn" for t in block) != int(bn):
            raise AssertionError(f"{what} : couche cachée {block} : Dense + ReLU, puis une "
                                 "BatchNormalization si batchnorm=True")
        if dropout > 0 and not (len(rates) == 1 and isinstance(rates[0], float)
                                and abs(rates[0] - dropout) < 1e-9 and block[-1][0] == "dropout"):
            raise AssertionError(f"{what} : couche cachée {block} : un Dropout({dropout:g}) à la "
                                 "fin de chaque couche cachée")
        if dropout == 0 and any(rates):
            raise AssertionError(f"{what} : Dropout alors que dropout=0")
    if any(t[0] in ("bn", "dropout") for t in blocks[-1]) \
            or block_activation(blocks[-1]) != act_out:
        raise AssertionError(f"{what} : sortie {blocks[-1]} au lieu de Dense({n_out}, "
                             f"activation='{act_out}') seule")


EXERCISES.add(Exercise("construire_mlp", ("construire_mlp",), _build, selfcheck=_self_build))


def _self_cancer(case, answer):
    what = "modele_cancer"
    layers, compiled = read_export(answer, (30,), what)
    P = outputs(answer, "P", 1, what)[:, 0]
    if P.min() < -1e-6 or P.max() > 1 + 1e-6 or output_activation(layers) != "sigmoid":
        raise AssertionError(f"{what} : une probabilité est attendue en sortie (activation "
                             "'sigmoid')")
    check_loss(compiled, what, ("binarycrossentropy", "bce"), "loss='binary_crossentropy'")
    acc = float(np.mean((P > 0.5) == case["y"]))
    if acc < SEUIL_CANCER:
        raise AssertionError(f"{what} : exactitude {acc:.3f} sur l'ensemble de test, il faut au "
                             f"moins {SEUIL_CANCER}")


def _self_diabetes(case, answer):
    what = "modele_diabete"
    layers, compiled = read_export(answer, (10,), what)
    P = outputs(answer, "P", 1, what)[:, 0]
    if output_activation(layers) != "linear":
        raise AssertionError(f"{what} : pas d'activation en sortie d'une régression")
    check_loss(compiled, what, ("mse", "meansquarederror", "mae", "meanabsoluteerror"),
               "loss='mse' ou 'mae'")
    r2 = _r2(case["y"], P)
    if r2 < SEUIL_DIABETE:
        raise AssertionError(f"{what} : R² = {r2:.3f} sur l'ensemble de test, il faut au moins "
                             f"{SEUIL_DIABETE} (cible centrée-réduite ?)")
    r2_app = _r2(case["y_app"], outputs(answer, "P_app", 1, what)[:, 0])
    if r2 - r2_app > ECART_DIABETE:
        raise AssertionError(f"{what} : R² = {r2:.3f} sur l'ensemble de test mais {r2_app:.3f} "
                             "sur l'ensemble d'apprentissage : entraîné sur les données de test ?")


def _self_digits(case, answer):
    check_digits_classifier(answer, case, "modele_chiffres", SEUIL_CHIFFRES, SEUIL_FUITE,
                            ECART_CHIFFRES)


for _name, _selfcheck in (("modele_cancer", _self_cancer), ("modele_diabete", _self_diabetes),
                          ("modele_chiffres", _self_digits)):
    EXERCISES.add(Exercise(_name, (_name,), _trained(_name), selfcheck=_selfcheck))


# -- part 5: weight updates ----------------------------------------------------------------------
@quiet
def _updates(case, nombre_mises_a_jour):
    return {"m": nombre_mises_a_jour(int(case["n"]), int(case["batch_size"]), int(case["epochs"]))}


EXERCISES.add(Exercise("nombre_mises_a_jour", ("nombre_mises_a_jour",), _updates,
                       tolerance=(0.0, 0.0)))


# -- part 6: early stopping and cross-validation -------------------------------------------------
@quiet
def _early_stopping(case, arret_precoce):
    res = arret_precoce([float(v) for v in case["pertes"]], int(case["patience"]))
    if isinstance(res, (str, bytes, dict)) or not hasattr(res, "__len__") or len(res) != 2:
        raise InvalidAnswer("arret_precoce doit renvoyer le couple (n_epoques, meilleure)")
    return {"n": res[0], "meilleure": res[1]}


EXERCISES.add(Exercise("arret_precoce", ("arret_precoce",), _early_stopping,
                       tolerance=(0.0, 0.0)))


class _FakeClassifier:
    """A stand-in for a compiled Keras binary classifier: `fit` ACCUMULATES the per-class sums
    (like a Keras model that keeps its weights from one fit to the next), `predict` gives
    P(y = 1) from the nearest class mean, `evaluate` returns [loss, accuracy] (or a dict)."""

    def __init__(self):
        self.sums, self.counts, self.history = None, np.zeros(2), None

    def compile(self, *args, **kwargs):
        return None

    def fit(self, x, y=None, *args, **kwargs):
        x, y = np.asarray(x, dtype=float), np.asarray(y).reshape(-1).astype(int)
        if self.sums is None:
            self.sums = np.zeros((2, x.shape[1]))
        for c in (0, 1):
            self.sums[c] += x[y == c].sum(axis=0)
            self.counts[c] += np.sum(y == c)
        epochs = max(1, int(kwargs.get("epochs", 1) or 1))
        loss, acc = self.evaluate(x, y)
        history = {"loss": [loss] * epochs, "accuracy": [acc] * epochs}
        validation = kwargs.get("validation_data")
        if validation is not None and len(validation) >= 2:
            vloss, vacc = self.evaluate(validation[0], validation[1])
            history.update(val_loss=[vloss] * epochs, val_accuracy=[vacc] * epochs)
        self.history = type("History", (), {"history": history})()
        return self.history

    def predict(self, x, *args, **kwargs):
        x = np.asarray(x, dtype=float)
        if self.sums is None:
            return np.full((len(x), 1), 0.5, dtype="float32")
        centres = self.sums / np.maximum(self.counts, 1)[:, None]
        d = ((x[:, None, :] - centres[None]) ** 2).sum(axis=2)
        z = np.clip(d[:, 0] - d[:, 1], -50, 50)
        return (1.0 / (1.0 + np.exp(-z)))[:, None].astype("float32")

    __call__ = predict

    def evaluate(self, x, y=None, *args, return_dict=False, **kwargs):
        p = self.predict(x)[:, 0].astype(float)
        y = np.asarray(y).reshape(-1).astype(int)
        pc = np.clip(p, 1e-7, 1 - 1e-7)
        loss = float(-np.mean(y * np.log(pc) + (1 - y) * np.log(1 - pc)))
        acc = float(np.mean((p > 0.5).astype(int) == y))
        return {"loss": loss, "accuracy": acc} if return_dict else [loss, acc]


@quiet
def _cross_validate(case, validation_croisee):
    built = []

    def construire():
        built.append(_FakeClassifier())
        return built[-1]

    k = int(case["k"])
    scores = validation_croisee(construire, case["X"].copy(), case["y"].copy(), k=k, epochs=2,
                                batch_size=8, graine=int(case["graine"]))
    # Models built: only "fewer than k" matters (then the folds share what a model learnt).
    return {"scores": np.asarray(scores, dtype=float).reshape(-1), "construits": min(len(built), k)}


EXERCISES.add(Exercise("validation_croisee", ("validation_croisee",), _cross_validate,
                       tolerance=(1e-9, 1e-9)))


# -- part 3 (digits): confusion matrix, cross-entropy, the initial loss ---------------------------
@quiet
def _confusion(case, matrice_confusion):
    M = matrice_confusion(case["y_vrai"].copy(), case["y_pred"].copy(), int(case["n_classes"]))
    return {"M": np.asarray(M, dtype=float)}


EXERCISES.add(Exercise("matrice_confusion", ("matrice_confusion",), _confusion,
                       tolerance=(0.0, 0.0)))


@quiet
def _cross_entropy(case, entropie_croisee):
    return {"L": entropie_croisee(case["Y"].copy(), case["P"].copy())}


EXERCISES.add(Exercise("entropie_croisee", ("entropie_croisee",), _cross_entropy,
                       tolerance=(1e-7, 1e-10)))


@quiet
def _initial_loss(case, perte_initiale_attendue):
    return {"L": perte_initiale_attendue(int(case["k"]))}


EXERCISES.add(Exercise("perte_initiale_attendue", ("perte_initiale_attendue",), _initial_loss,
                       tolerance=(1e-9, 0.0)))


# -- part 5 (mini-lots): the gradient of each mini-lot and its variance ---------------------------
@quiet
def _minibatch_gradients(case, gradients_minilots):
    G = gradients_minilots(case["X"].copy(), case["y"].copy(), case["w"].copy(),
                           case["lots"].copy())
    return {"G": np.asarray(G, dtype=float)}


EXERCISES.add(Exercise("gradients_minilots", ("gradients_minilots",), _minibatch_gradients,
                       tolerance=(1e-7, 1e-9)))


@quiet
def _minibatch_variance(case, variance_minilots):
    return {"V": variance_minilots(case["X"].copy(), case["y"].copy(), case["w"].copy(),
                                   int(case["b"]))}


EXERCISES.add(Exercise("variance_minilots", ("variance_minilots",), _minibatch_variance,
                       tolerance=(1e-7, 1e-9)))


# -- part 4.2: L2 penalty on the two moons --------------------------------------------------------
@quiet
def _moons_builder(case, mlp_lunes):
    h, lam = int(case["n_caches"]), float(case["lam"])
    return export_model(mlp_lunes(h, lam), f"mlp_lunes({h}, {lam:g})", weights=False)


def _penalty(cfg) -> tuple[float, float]:
    """(l1, l2) of a serialised regularizer (None: no penalty)."""
    if not isinstance(cfg, dict):
        return 0.0, 0.0
    inner = cfg.get("config") or {}
    return float(inner.get("l1", 0.0) or 0.0), float(inner.get("l2", 0.0) or 0.0)


def _self_moons(case, answer):
    h, lam = int(case["n_caches"]), float(case["lam"])
    what = f"mlp_lunes({h}, {lam:g})"
    layers, _ = read_export(answer, (2,), what)
    found = [(kind, cfg.get("units"), name(cfg.get("activation"))) for kind, cfg in layers]
    if found != [("Dense", h, "relu"), ("Dense", 1, "sigmoid")]:
        raise AssertionError(f"{what} : couches {found} au lieu de Dense({h}, relu) puis "
                             "Dense(1, sigmoid)")
    for (_, cfg), which in zip(layers, ("couche cachée", "couche de sortie")):
        if cfg.get("activity_regularizer") or any(_penalty(cfg.get("bias_regularizer"))):
            raise AssertionError(f"{what} : {which} : la pénalité λ‖w‖² porte sur les matrices "
                                 "de poids seulement (kernel_regularizer)")
        l1, l2 = _penalty(cfg.get("kernel_regularizer"))
        if l1 or not math.isclose(l2, lam, rel_tol=1e-6, abs_tol=1e-12):
            raise AssertionError(f"{what} : {which} : kernel_regularizer=L2({lam:g}) attendu")


EXERCISES.add(Exercise("mlp_lunes", ("mlp_lunes",), _moons_builder, selfcheck=_self_moons))
