"""TP3's exercises: how the student's objects are applied to the judge's inputs (`evaluate`)
and, for the trained CNN (many right answers), the notebook's own property checks (`selfcheck`:
a convolution, fewer parameters than TP2's MLP, scores on the public digits the case carries).

The thresholds are the judge's (it imports them); where they come from is said in
`judges/tp3/cnn.py`.
"""

from __future__ import annotations

import numpy as np

from course.keras_tools import (as_model, check_digits_classifier, export_model, read_export,
                                with_predictions)
from grader.protocol import Exercise, Exercises, InvalidAnswer, quiet

EXERCISES = Exercises(__file__)
check = EXERCISES.check

SEUIL_CNN = 0.96  # accuracy on the 450 test digits
SEUIL_FUITE = 0.998  # no error at all on the 450 test digits: trained on them?
ECART_CHIFFRES = 0.015  # test accuracy above training accuracy: trained on the test digits?
PARAMETRES_MLP_TP2 = 17_226  # TP2's MLP 64 → 128 → 64 → 10, which the CNN must beat in size
CONVOLUTIONS = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")


# -- part 1: the MLP on images -------------------------------------------------------------------
@quiet
def _mlp_image(case, parametres_mlp_image):
    return {"n": parametres_mlp_image(int(case["h"]), int(case["w"]))}


EXERCISES.add(Exercise("parametres_mlp_image", ("parametres_mlp_image",), _mlp_image,
                       tolerance=(0.0, 0.0)))


# -- part 2: convolution and pooling by hand -----------------------------------------------------
@quiet
def _conv2d(case, convolution2d):
    return {"sortie": np.asarray(convolution2d(case["image"].copy(), case["noyau"].copy(),
                                               padding=int(case["padding"]),
                                               stride=int(case["stride"])), dtype=float)}


@quiet
def _layer(case, couche_convolution):
    return {"sortie": np.asarray(couche_convolution(
        case["images"].copy(), case["noyaux"].copy(), case["biais"].copy(),
        padding=int(case["padding"]), stride=int(case["stride"])), dtype=float)}


@quiet
def _pool(case, max_pooling):
    s = int(case["stride"])
    if s < 0:  # the default stride
        out = max_pooling(case["carte"].copy(), int(case["taille"]))
    else:
        out = max_pooling(case["carte"].copy(), int(case["taille"]), stride=s)
    return {"sortie": np.asarray(out, dtype=float)}


EXERCISES.add(Exercise("convolution2d", ("convolution2d",), _conv2d, tolerance=(1e-9, 1e-9)))
EXERCISES.add(Exercise("couche_convolution", ("couche_convolution",), _layer,
                       tolerance=(1e-8, 1e-8)))
EXERCISES.add(Exercise("max_pooling", ("max_pooling",), _pool, tolerance=(0.0, 1e-12)))


# -- part 3: sizes and parameter counts ----------------------------------------------------------
@quiet
def _size(case, taille_sortie):
    out = [[taille_sortie(int(h), int(kh), int(p), int(s)),
            taille_sortie(int(w), int(kw), int(p), int(s))]
           for h, w, kh, kw, p, s in case["configs"]]
    return {"tailles": np.asarray(out, dtype=float)}


@quiet
def _conv_count(case, nombre_parametres_conv):
    return {"n": np.asarray([nombre_parametres_conv(int(kx), int(ky), int(i), int(f))
                             for kx, ky, i, f in case["configs"]], dtype=float)}


def layer_tuples(codes) -> list:
    """The judge's layer codes [type, a, b, c, d, e] as the students' tuples: ("conv", F,
    (kh, kw), p, s), ("pool", k, s), ("flatten",), ("dense", units)."""
    out = []
    for t, a, b, c, d, e in np.asarray(codes).astype(int).tolist():
        out.append([("conv", a, (b, c), d, e), ("pool", a, b), ("flatten",), ("dense", a)][t])
    return out


@quiet
def _summary(case, resume_architecture):
    res = resume_architecture(tuple(int(v) for v in case["entree"]), layer_tuples(case["couches"]))
    invalid = InvalidAnswer("resume_architecture doit renvoyer une liste de couples (forme de "
                            "sortie, nombre de paramètres), un par couche")
    if isinstance(res, (str, bytes, dict)) or not hasattr(res, "__len__"):
        raise invalid
    out = {"n": len(res)}
    for i, item in enumerate(res):
        if isinstance(item, (str, bytes)) or not hasattr(item, "__len__") or len(item) != 2:
            raise invalid
        out[f"forme{i}"] = np.asarray(tuple(item[0]), dtype=float)
        out[f"params{i}"] = item[1]
    return out


EXERCISES.add(Exercise("taille_sortie", ("taille_sortie",), _size, tolerance=(0.0, 0.0)))
EXERCISES.add(Exercise("nombre_parametres_conv", ("nombre_parametres_conv",), _conv_count,
                       tolerance=(0.0, 0.0)))
EXERCISES.add(Exercise("resume_architecture", ("resume_architecture",), _summary,
                       tolerance=(0.0, 0.0)))


@quiet
def _field(case, champ_recepteur):
    res = champ_recepteur(layer_tuples(case["couches"]))
    if isinstance(res, (str, bytes, dict)) or not hasattr(res, "__len__") or len(res) != 2:
        raise InvalidAnswer("champ_recepteur doit renvoyer un couple (hauteur, largeur)")
    return {"champ": np.asarray(tuple(res), dtype=float)}


EXERCISES.add(Exercise("champ_recepteur", ("champ_recepteur",), _field, tolerance=(0.0, 0.0)))

# -- part 4: a CNN trained on the digits -----------------------------------------------------------
@quiet
def _cnn(case, cnn_chiffres):
    model = as_model(cnn_chiffres, "cnn_chiffres")
    return with_predictions(export_model(model, "cnn_chiffres"), model, case)


def _self_cnn(case, answer):
    what = "cnn_chiffres"
    layers, _ = read_export(answer, (8, 8, 1), what)
    if not any(kind in CONVOLUTIONS for kind, _ in layers):
        raise AssertionError(f"{what} : aucune couche de convolution (Conv2D)")
    check_digits_classifier(answer, case, what, SEUIL_CNN, SEUIL_FUITE, ECART_CHIFFRES)
    n = sum(np.size(answer.get(f"w{i}", 0)) for i in range(int(answer.get("n_poids", 0))))
    if n >= PARAMETRES_MLP_TP2:
        raise AssertionError(f"{what} : {n} paramètres, pas moins que le MLP du TP2 "
                             f"({PARAMETRES_MLP_TP2})")


EXERCISES.add(Exercise("cnn_chiffres", ("cnn_chiffres",), _cnn, selfcheck=_self_cnn))


# -- part 5: texture statistics (Gram matrices) ---------------------------------------------------
@quiet
def _gram(case, matrice_gram):
    return {"G": np.asarray(matrice_gram(case["cartes"].copy()), dtype=float)}


@quiet
def _style(case, distance_style):
    return {"d": distance_style(case["G"].copy(), case["G_chapeau"].copy())}


EXERCISES.add(Exercise("matrice_gram", ("matrice_gram",), _gram, tolerance=(1e-9, 1e-9)))
EXERCISES.add(Exercise("distance_style", ("distance_style",), _style, tolerance=(1e-9, 1e-9)))
