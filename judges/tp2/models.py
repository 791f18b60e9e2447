"""TP2's trained models, measured by the judge on data it keeps: the slide's regression model on
Friedman samples drawn from a seed the kernel never sees (hidden cases), and the three
archetypes on the test split of their fixed split.

The test splits are public (the notebook shows them): a model could have been fitted on them.
Two rules catch it. A model with no error at all on the 450 test digits (SEUIL_FUITE) is refused,
and the judge also measures the model on the training split: a model fitted on X_train does at
least as well there, so a model clearly better on the test split was fitted on it. Measured
(tensorflow, 10 seeds of the master's cell; the same recipe fitted on the test split only; test
score minus training score):

- digits (MLP 64-128-64-10, 15 epochs): master -0.027 to -0.018; fitted on the test split
  +0.048 to +0.059 (and 100 % on the test digits; under torch, 4 seeds: master -0.029 to
  -0.018, fitted on the test split +0.053 to +0.059 with 99.8 % twice, below SEUIL_FUITE: the
  gap is what refuses them): margin ECART_CHIFFRES = 0.015, as for TP3;
- diabetes (R², 20 epochs): master -0.28 to -0.07 (also -0.16 to -0.06 after 3 or 8 epochs);
  fitted on the test split: 20 epochs -0.06 to +0.04 (R² 0.24 to 0.40 on the training patients,
  it never saw: such a model deserves its score), 60 epochs +0.05 to +0.16, 150 epochs +0.25 to
  +0.40: margin ECART_DIABETE = 0.02;
- breast cancer (accuracy, 20 epochs): master -0.033 to -0.007; fitted on the test split
  -0.018 to +0.010, with 0.95 to 0.97 on the training tumours it never saw (above SEUIL_CANCER:
  it generalises): no margin separates them, the rule does not apply.
"""

from __future__ import annotations

import functools

import numpy as np

from grader.judging import Check
from judges.common.keras_models import (canonical_name, check_loss, digits_classifier,
                                        fitted_on_evaluation, model_layers, output_activation,
                                        pct, predict, rebuild)
from tp2.data import charger_cancer_sein, charger_chiffres, charger_diabete, donnees_friedman
from tp2.exercises import (ECART_CHIFFRES, ECART_DIABETE, ETAPES_DIAPO, MARGE_FRIEDMAN,
                           N_FRIEDMAN, SEUIL_CANCER, SEUIL_CHIFFRES, SEUIL_DIABETE, SEUIL_FUITE)

from .standardisation import scaler

N_FRESH = {False: 500, True: 2000}  # new Friedman examples: public case, hidden case


def r2(y, P) -> float:
    from sklearn.metrics import r2_score

    return float(r2_score(y, P))


def with_public(case: dict, hidden: bool, keys=("X", "y", "X_app", "y_app"), **extra) -> list:
    """[case]: the judge's data under "_" keys; the public case also gives the kernel those of
    `keys` (float32 inputs), for the notebook's own check()."""
    if hidden:
        return [case]
    public = {k: (case["_" + k].astype(np.float32) if case["_" + k].dtype.kind == "f"
                  else case["_" + k]) for k in keys}
    return [{**case, **public, **extra}]


# -- the slide's model ---------------------------------------------------------------------------
def _slide_cases(rng, hidden):
    from sklearn.linear_model import LinearRegression

    X, y = donnees_friedman(N_FRIEDMAN)
    Xf, yf = donnees_friedman(N_FRESH[hidden], graine=int(rng.integers(1, 2**31 - 1)))
    s, mu, sd = scaler(X), y.mean(), y.std()
    case = {"_X": s.transform(Xf), "_y": (yf - mu) / sd}
    case["_r2_lin"] = r2(case["_y"], LinearRegression().fit(s.transform(X), (y - mu) / sd)
                         .predict(case["_X"]))
    return with_public(case, hidden, ("X", "y"), r2_lineaire=case["_r2_lin"])


def _slide_verdict(case, answer):
    what = "modele_diapo"
    rebuilt = rebuild(answer, (20,), what)
    kinds = [type(layer).__name__ for layer in model_layers(rebuilt.model)]
    if set(kinds) != {"Dense"}:
        raise AssertionError(f"{what} : le modèle de la diapositive n'a que des couches Dense "
                             f"(trouvé : {', '.join(kinds)})")
    found = [(layer.get_config()["units"], canonical_name(layer.get_config()["activation"]))
             for layer in model_layers(rebuilt.model)]
    expected = [(128, "relu"), (64, "relu"), (1, "linear")]
    if found != expected:
        raise AssertionError(f"{what} : couches Dense {found} au lieu de {expected} (Input 20 → "
                             "Dense 128 relu → Dense 64 relu → Dense 1 sans activation)")
    compiled = rebuilt.compile
    if not compiled:
        raise AssertionError(f"{what} : le modèle n'a pas été compilé (model.compile)")
    optimizer = canonical_name(compiled.get("optimizer"))
    if optimizer != "rmsprop":
        raise AssertionError(f"{what} : optimiseur « {optimizer} » au lieu de 'rmsprop'")
    check_loss(compiled, what, ("mse",), "la diapositive utilise loss='mse'")
    metrics = {canonical_name(m) for m in (compiled.get("metrics") or [])}
    if not ({"mae", "meanabsoluteerror"} & metrics and {"mse", "meansquarederror"} & metrics):
        raise AssertionError(f"{what} : métriques {sorted(metrics)} ; la diapositive demande "
                             "metrics=['mae', 'mse']")
    if rebuilt.iterations != ETAPES_DIAPO:
        raise AssertionError(
            f"{what} : {rebuilt.iterations:g} mises à jour des poids au lieu de {ETAPES_DIAPO} = "
            f"20 époques × ⌈{N_FRIEDMAN}/64⌉ lots : fit(batch_size=64, epochs=20) sur les "
            f"{N_FRIEDMAN} exemples d'apprentissage, une seule fois (reconstruisez le modèle "
            "avant de relancer fit)")
    P = predict(rebuilt, case["_X"], what)[:, 0]
    score, linear = r2(case["_y"], P), case["_r2_lin"]
    if score >= linear + MARGE_FRIEDMAN:
        return
    if abs(np.mean(P)) > 5:
        raise AssertionError(f"{what} : prédictions de moyenne {np.mean(P):.3g} : le modèle "
                             "doit prédire la cible CENTRÉE-RÉDUITE (y − moyenne) / écart-type "
                             "de y_train, pas y brut")
    raise AssertionError(
        f"{what} : R² = {score:.3f} sur {len(P)} nouveaux exemples, pas mieux que la régression "
        f"linéaire (R² = {linear:.3f}, il faut au moins {linear + MARGE_FRIEDMAN:.3f}) : entrées "
        "standardisées avec standardiser ? cible centrée-réduite ?")


# -- the three archetypes ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def standardised(dataset: str) -> dict:
    """The judge's data of an archetype: test and training splits, inputs standardised with the
    training statistics (regression: the target too)."""
    load = {"cancer": charger_cancer_sein, "diabete": charger_diabete,
            "chiffres": charger_chiffres}[dataset]
    X_train, X_test, y_train, y_test = load()
    s = scaler(X_train)
    if dataset == "diabete":
        mu, sd = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mu) / sd, (y_test - mu) / sd
    return {"_X": s.transform(X_test), "_y": y_test, "_X_app": s.transform(X_train),
            "_y_app": y_train}


def _archetype_cases(dataset):
    def cases(rng, hidden):
        """The same fixed splits in both: the hidden case measures without the kernel's view."""
        keys = ("X", "y") if dataset == "cancer" else ("X", "y", "X_app", "y_app")
        return with_public(dict(standardised(dataset)), hidden, keys)

    return cases


def _single_output(rebuilt, case, what, advice):
    P = predict(rebuilt, case["_X"], what)
    if P.ndim != 2 or P.shape[1] != 1:
        raise AssertionError(f"{what} : sortie de forme {P.shape[1:]} {advice}")
    return P[:, 0]


def _cancer_verdict(case, answer):
    what = "modele_cancer"
    rebuilt = rebuild(answer, (30,), what)
    P = _single_output(rebuilt, case, what, "; la classification binaire a UNE sortie : la "
                       "probabilité de la classe 1 (Dense(1, activation='sigmoid'))")
    activation = output_activation(rebuilt.model)
    if P.min() < -1e-6 or P.max() > 1 + 1e-6 or activation != "sigmoid":
        raise AssertionError(f"{what} : la sortie doit être une probabilité entre 0 et 1 : "
                             f"activation 'sigmoid' en sortie (trouvé « {activation} »)")
    check_loss(rebuilt.compile, what, ("bce",), "la classification binaire utilise "
                                                "loss='binary_crossentropy'")
    acc = float(np.mean((P > 0.5).astype(int) == case["_y"]))
    if acc < SEUIL_CANCER:
        raise AssertionError(f"{what} : exactitude {pct(acc)} sur l'ensemble de test, il faut au "
                             f"moins {pct(SEUIL_CANCER)} (entrées standardisées ? assez "
                             "d'époques ?)")


def _diabetes_verdict(case, answer):
    what = "modele_diabete"
    rebuilt = rebuild(answer, (10,), what)
    P = _single_output(rebuilt, case, what, "au lieu d'un seul nombre")
    activation = output_activation(rebuilt.model)
    if activation != "linear":
        raise AssertionError(f"{what} : activation de sortie « {activation} » : une régression "
                             "n'a PAS de fonction d'activation en sortie (la cible peut être "
                             "négative ou grande)")
    check_loss(rebuilt.compile, what, ("mse", "mae"), "une régression utilise loss='mse' ou "
                                                      "'mae'")
    score = r2(case["_y"], P)
    if score < SEUIL_DIABETE:
        if abs(np.mean(P)) > 5:
            raise AssertionError(f"{what} : prédictions de moyenne {np.mean(P):.3g} : le modèle "
                                 "doit prédire la cible CENTRÉE-RÉDUITE (y − moyenne) / "
                                 "écart-type de y_train")
        raise AssertionError(f"{what} : R² = {score:.3f} sur l'ensemble de test ; il faut au "
                             f"moins {SEUIL_DIABETE} (prédire la moyenne donne 0, la régression "
                             "linéaire 0.36)")
    train = r2(case["_y_app"], predict(rebuilt, case["_X_app"], what)[:, 0])
    fitted_on_evaluation(score, train, ECART_DIABETE, what, "R²")


def _digits_verdict(case, answer):
    what = "modele_chiffres"
    digits_classifier(rebuild(answer, (64,), what), case, what, SEUIL_CHIFFRES, SEUIL_FUITE,
                      ECART_CHIFFRES, "entrées standardisées ? assez d'époques ?")


CHECKS = [
    Check("modele_diapo", _slide_cases, _slide_verdict,
          doc="Le modèle de la diapositive à l'identique (architecture, compile, nombre de mises "
              "à jour de fit(batch_size=64, epochs=20)) et un R² sur des données de Friedman "
              "neuves, jamais vues, supérieur à celui de la régression linéaire."),
    Check("modele_cancer", _archetype_cases("cancer"), _cancer_verdict,
          doc=f"Classification binaire : une sortie sigmoïde, entropie croisée binaire, "
              f"exactitude ≥ {SEUIL_CANCER} sur l'ensemble de test (mesurée par le correcteur)."),
    Check("modele_diabete", _archetype_cases("diabete"), _diabetes_verdict,
          doc=f"Régression : sortie linéaire, MSE ou MAE, R² ≥ {SEUIL_DIABETE} sur l'ensemble de "
              "test (prédicteur constant 0, régression linéaire 0.36), pas nettement meilleur "
              "que sur l'ensemble d'apprentissage."),
    Check("modele_chiffres", _archetype_cases("chiffres"), _digits_verdict,
          doc=f"Classification multi-classe : 10 sorties softmax, entropie croisée catégorielle, "
              f"exactitude ≥ {SEUIL_CHIFFRES} sur les chiffres de test, sans fuite (ni parfaite, "
              "ni nettement meilleure que sur les chiffres d'apprentissage)."),
]
