"""TP2, part 3: the MLP builder. The judge rebuilds the student's architecture (weightless,
within the allow-list and bounds of `judges.common.keras_models`) and reads the layers Keras made
of it: sizes, hidden ReLUs, one BatchNormalization and one Dropout(rate) per hidden layer, the
output activation, nothing after the output."""

from __future__ import annotations

import numpy as np

from course.keras_tools import block_activation
from grader.judging import Check, Mistake
from judges.common.keras_models import canonical_name, model_layers, rebuild

OUTPUT_ACTIVATIONS = ("sigmoid", "softmax", "linear")


def _cases(rng, hidden):
    if not hidden:  # the cancer model's call, and one with every option
        return [{"n_entrees": 30, "couches": np.array([16, 8]), "n_sorties": 1,
                 "activation_sortie": "sigmoid", "dropout": 0.0, "batchnorm": 0},
                {"n_entrees": 20, "couches": np.array([32, 16]), "n_sorties": 3,
                 "activation_sortie": "softmax", "dropout": 0.25, "batchnorm": 1}]
    cases = []
    for dropout, bn in ((0.3, 0), (0.0, 1), (0.25, 1), (0.0, 0)):
        act = str(rng.choice(OUTPUT_ACTIVATIONS))
        cases.append({"n_entrees": int(rng.integers(2, 70)),
                      "couches": rng.integers(2, 100, size=int(rng.integers(1, 4))),
                      "n_sorties": 1 if act != "softmax" else int(rng.integers(2, 12)),
                      "activation_sortie": act, "dropout": dropout, "batchnorm": bn})
    return cases


def _tokens(model) -> list:
    """The layers as tokens: ("dense", units, act), ("bn",), ("dropout", rate), ("act", name)."""
    tokens = []
    for layer in model_layers(model):
        kind, cfg = type(layer).__name__, layer.get_config()
        if kind == "Dense":
            tokens.append(("dense", cfg["units"], canonical_name(cfg["activation"])))
        elif kind == "BatchNormalization":
            tokens.append(("bn",))
        elif kind == "Dropout":
            tokens.append(("dropout", float(cfg["rate"])))
        elif kind in ("Activation", "ReLU", "Softmax"):
            tokens.append(("act", canonical_name(cfg["activation"]) if kind == "Activation"
                           else kind.lower()))
        else:
            tokens.append(("other", kind))
    return tokens


def _verdict(case, answer):
    n_in, layers = int(case["n_entrees"]), [int(c) for c in case["couches"]]
    n_out, act_out = int(case["n_sorties"]), str(case["activation_sortie"])
    dropout, bn = float(case["dropout"]), bool(case["batchnorm"])
    call = (f"construire_mlp({n_in}, {layers}, {n_out}, '{act_out}', dropout={dropout:g}, "
            f"batchnorm={bn})")
    tokens = _tokens(rebuild(answer, (n_in,), call, weights=False).model)
    others = [t[1] for t in tokens if t[0] == "other"]
    if others:
        raise AssertionError(f"{call} : couches inattendues {others}")
    blocks = []  # one per Dense layer
    for t in tokens:
        if t[0] == "dense":
            blocks.append([t])
        elif not blocks:
            raise AssertionError(f"{call} : une couche {t[0]} avant la première couche Dense")
        else:
            blocks[-1].append(t)
    units = [b[0][1] for b in blocks]
    if units != layers + [n_out]:
        raise AssertionError(f"{call} : couches Dense de tailles {units} au lieu de "
                             f"{layers + [n_out]} (couches cachées puis sortie)")
    for i, block in enumerate(blocks[:-1]):
        which = f"couche cachée n° {i + 1}"
        if block_activation(block) != "relu":
            raise AssertionError(f"{call} : {which} d'activation « {block_activation(block)} » "
                                 "au lieu de 'relu'")
        n_bn = sum(1 for t in block if t[0] == "bn")
        rates = [t[1] for t in block if t[0] == "dropout"]
        if bn and n_bn != 1:
            raise AssertionError(f"{call} : {which} : {n_bn} BatchNormalization au lieu d'une "
                                 "par couche cachée")
        if not bn and n_bn:
            raise AssertionError(f"{call} : BatchNormalization alors que batchnorm=False")
        if dropout > 0:
            if len(rates) != 1:
                raise AssertionError(f"{call} : {which} : {len(rates)} Dropout au lieu d'un "
                                     "après chaque couche cachée")
            if abs(rates[0] - dropout) > 1e-9:
                raise AssertionError(f"{call} : Dropout({rates[0]:g}) au lieu de "
                                     f"Dropout({dropout:g})")
            if block[-1][0] != "dropout":
                raise AssertionError(f"{call} : {which} : le Dropout se place après "
                                     "l'activation (et la BatchNormalization)")
        elif any(r > 0 for r in rates):
            raise AssertionError(f"{call} : Dropout alors que dropout=0")
    output = blocks[-1]
    if any(t[0] in ("bn", "dropout") for t in output):
        raise AssertionError(f"{call} : ni Dropout ni BatchNormalization après la couche de "
                             "sortie")
    if block_activation(output) != act_out:
        raise AssertionError(f"{call} : activation de sortie « {block_activation(output)} » "
                             f"au lieu de '{act_out}'")


CHECKS = [Check(
    "construire_mlp", _cases, _verdict,
    doc="Structure du modèle reconstruit par le correcteur : tailles, ReLU cachées, activation "
        "de sortie, une BatchNormalization et un Dropout(taux) par couche cachée, rien après la "
        "sortie.")]


def builder(kind):
    """The master's builder with one mistake ("bn_avant_relu", "fonctionnel": right variants)."""
    def construire_mlp(n_entrees, couches, n_sorties, activation_sortie, dropout=0.0,
                       batchnorm=False):
        import keras

        L = keras.layers
        if kind == "fonctionnel":
            x = entree = keras.Input(shape=(n_entrees,))
            for h in couches:
                x = L.Dense(h, activation="relu")(x)
                if batchnorm:
                    x = L.BatchNormalization()(x)
                if dropout > 0:
                    x = L.Dropout(dropout)(x)
            return keras.Model(entree, L.Dense(n_sorties, activation=activation_sortie)(x))
        m = keras.Sequential([keras.Input(shape=(n_entrees,))])
        for h in couches:
            if kind == "bn_avant_relu":  # Dense -> BN -> ReLU: accepted
                m.add(L.Dense(h))
                if batchnorm:
                    m.add(L.BatchNormalization())
                m.add(L.Activation("relu"))
                if dropout > 0:
                    m.add(L.Dropout(dropout))
                continue
            m.add(L.Dense(h, activation="sigmoid" if kind == "sigmoide" else "relu"))
            if kind == "dropout_avant_bn":
                if dropout > 0:
                    m.add(L.Dropout(dropout))
                if batchnorm:
                    m.add(L.BatchNormalization())
                continue
            if batchnorm and kind != "sans_bn":
                m.add(L.BatchNormalization())
            if dropout > 0 and kind != "sans_dropout":
                m.add(L.Dropout(0.5 if kind == "taux_fixe" else dropout))
        m.add(L.Dense(n_sorties, activation="softmax" if kind == "sortie_softmax"
                      else activation_sortie))
        if kind == "dropout_sortie" and dropout > 0:
            m.add(L.Dropout(dropout))
        return m
    return construire_mlp


MISTAKES = {"construire_mlp": [
    Mistake(label, {"construire_mlp": builder(kind)}, words)
    for label, kind, words in (
        ("Dropout après la sortie", "dropout_sortie", "après la couche de sortie"),
        ("Dropout oublié", "sans_dropout", "Dropout"),
        ("taux de Dropout fixe", "taux_fixe", "Dropout(0.5)"),
        ("BatchNormalization oubliée", "sans_bn", "BatchNormalization"),
        ("Dropout avant BatchNormalization", "dropout_avant_bn", "après l'activation"),
        ("activations cachées sigmoïdes", "sigmoide", "relu"),
        ("sortie toujours softmax", "sortie_softmax", "activation de sortie"))]}
