"""Keras in the course, shared by the reference modules of the Keras TPs (TP2, TP3).

Kernel side (given to the students): a quiet, reproducible Keras set-up (`preparer_keras`) and
learning curves (`tracer_historique`); `export_model` turns a trained model into plain data
for the judge (architecture JSON with its compile config, optimizer updates, weights).

Judge side: a trained model is never trusted as an object. `rebuild` checks the architecture
against an allow-list of plain Keras layers of bounded size, rebuilds it in the grader's process
(Keras safe mode) with the weights sent, and `predict` measures it on data the judge keeps.

Keras is imported inside the functions: importing this module stays cheap. Messages a student
can read are in French.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings

import numpy as np

from .checks import as_array, as_number

if "ipykernel" not in sys.modules:
    # The judge (and the tests): the grader imports Keras in a background thread (a reference
    # module's judge_imports); TensorFlow must not write its start-up lines on the grader's
    # console. In a student's kernel, preparer_keras() silences those lines itself.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@contextlib.contextmanager
def quiet_stderr():
    """Silence file descriptor 2 (TensorFlow's C++ start-up lines) for the duration of the block.

    TF 2.21 prints "oneDNN custom operations are on" through absl before `TF_CPP_MIN_LOG_LEVEL`
    applies when the variable is set from Python: in a notebook those lines become stderr output.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_keras():
    """`import keras` without TensorFlow's start-up noise (kernel and judge)."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import keras
    return keras


def preparer_keras(graine=0):
    """Set Keras up for this TP and return the `keras` module.

    - backend: the KERAS_BACKEND environment variable ("tensorflow" by default, or "torch"),
      which must be chosen BEFORE the first `import keras`;
    - TensorFlow's start-up and retracing messages silenced;
    - one thread (two shared cores: fastest here, and runs are bit-for-bit reproducible);
    - random seed fixed with `keras.utils.set_random_seed(graine)`: call it again before building
      each model so that a result does not depend on the order the cells were run in.
    """
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    keras = import_keras()
    with quiet_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if keras.backend.backend() == "torch":
            import torch

            torch.set_num_threads(1)
        else:
            import tensorflow as tf

            try:
                tf.config.threading.set_intra_op_parallelism_threads(1)
                tf.config.threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:  # already initialised (cell run twice): keep the setting
                pass
            # Grappler's graph optimisations cost more than they save on these tiny models
            # (measured: about 30 % of the per-epoch time of fit).
            tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
        keras.utils.set_random_seed(graine)  # imports TensorFlow, even under torch
        try:  # "N out of the last M calls … triggered tf.function retracing": noise here
            import tensorflow as tf

            tf.get_logger().setLevel("ERROR")
        except Exception:
            pass
    return keras


def tracer_historique(historique, metrique="loss", ax=None, titre=None, label=None):
    """Learning curves of a Keras `History` (or its `.history` dict): `metrique` on the training
    set and, when present, on the validation set (`val_<metrique>`)."""
    import matplotlib.pyplot as plt

    h = getattr(historique, "history", historique)
    ax = ax or plt.gca()
    prefixe = f"{label} — " if label else ""
    epoques = np.arange(1, len(h[metrique]) + 1)
    (ligne,) = ax.plot(epoques, h[metrique], "-", label=f"{prefixe}apprentissage")
    if f"val_{metrique}" in h:
        ax.plot(epoques, h[f"val_{metrique}"], "--", color=ligne.get_color(),
                label=f"{prefixe}validation")
    ax.set_xlabel("époque")
    ax.set_ylabel(metrique)
    ax.legend(loc="best", fontsize="small")
    if titre:
        ax.set_title(titre)
    return ax


# -- trained models: export in the kernel, rebuild and measure in the judge --------------------
def export_model(modele) -> dict:
    """Kernel side: a Keras model as plain data (architecture JSON with its compile config,
    number of optimizer updates, weights)."""
    if not (hasattr(modele, "to_json") and hasattr(modele, "get_weights")):
        return {"type": type(modele).__name__}
    out = {"architecture": modele.to_json()}
    iterations = getattr(getattr(modele, "optimizer", None), "iterations", None)
    try:
        out["iterations"] = float(np.asarray(iterations)) if iterations is not None else -1.0
    except Exception:
        out["iterations"] = -1.0
    poids = modele.get_weights()
    out["n_poids"] = len(poids)
    for i, w in enumerate(poids):
        out[f"w{i}"] = np.asarray(w, dtype=float)
    return out


ALLOWED_LAYERS = {
    "Sequential", "Functional", "Model", "InputLayer", "__keras_tensor__", "DTypePolicy",
    "Dense", "Dropout", "BatchNormalization", "LayerNormalization", "Activation", "ReLU",
    "LeakyReLU", "ELU", "PReLU", "Softmax", "Flatten", "Reshape", "GaussianNoise",
    "GaussianDropout", "AlphaDropout", "SpatialDropout1D", "SpatialDropout2D", "Identity",
    "Conv2D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D", "Rescaling",
    "RandomTranslation", "RandomRotation", "RandomZoom",
}
FREE_MODULES = ("keras.initializers", "keras.regularizers", "keras.constraints")
SIZE_LIMITS = {"units": 2048, "filters": 512}
MAX_LAYERS = 40
MAX_WEIGHTS = 2_000_000


def validate_architecture(config, forme_entree, quoi):
    """Judge side, before anything is built: only plain Keras layers of a reasonable size, and
    the expected input shape. Raises AssertionError (French) otherwise."""
    noeuds, formes = [], []

    def walk(obj):
        if isinstance(obj, dict):
            if "class_name" in obj:
                module = obj.get("module")
                nom = obj.get("class_name")
                if module not in (None, "builtins") and not (
                        isinstance(module, str) and (module == "keras" or module.startswith("keras."))):
                    raise AssertionError(f"{quoi} : objet « {nom} » d'un module non autorisé")
                libre = isinstance(module, str) and module.startswith(FREE_MODULES)
                if not libre and nom not in ALLOWED_LAYERS and module != "builtins":
                    raise AssertionError(
                        f"{quoi} : couche « {nom} » non acceptée dans ce TP (couches Keras "
                        "standard uniquement : Dense, Conv2D, MaxPooling2D, Flatten, Dropout, "
                        "BatchNormalization, Activation…)")
                noeuds.append(nom)
                cfg = obj.get("config")
                if isinstance(cfg, dict):
                    for cle, limite in SIZE_LIMITS.items():
                        v = cfg.get(cle)
                        if isinstance(v, (int, float)) and not (0 < v <= limite):
                            raise AssertionError(f"{quoi} : {cle} = {v} hors des limites de ce "
                                                 f"TP (1 à {limite})")
                    for cle in ("kernel_size", "pool_size", "strides"):
                        v = cfg.get(cle)
                        vals = v if isinstance(v, list) else [v]
                        if any(isinstance(t, (int, float)) and not (0 < t <= 8) for t in vals):
                            raise AssertionError(f"{quoi} : {cle} = {v} hors des limites de ce "
                                                 "TP (1 à 8)")
                    if nom == "InputLayer":
                        formes.append(cfg.get("batch_shape") or cfg.get("batch_input_shape"))
            for v in obj.values():
                walk(v)
        elif isinstance(obj, list):
            for v in obj:
                walk(v)

    walk(config)
    if not isinstance(config, dict) or config.get("class_name") not in ("Sequential", "Functional",
                                                                        "Model"):
        raise AssertionError(f"{quoi} : un modèle keras.Sequential ou keras.Model est attendu")
    if sum(1 for n in noeuds if n not in ("DTypePolicy", "__keras_tensor__")) > 3 * MAX_LAYERS:
        raise AssertionError(f"{quoi} : trop de couches pour ce TP")
    if not formes:
        raise AssertionError(
            f"{quoi} : le modèle n'a pas de couche d'entrée : commencez par "
            f"keras.Input(shape={tuple(forme_entree)}) (et entraînez-le)")
    attendu = [None, *forme_entree]
    if any(list(f or []) != attendu for f in formes):
        raise AssertionError(
            f"{quoi} : entrée de forme {tuple((formes[0] or [None])[1:])} au lieu de "
            f"{tuple(forme_entree)} attendue")


def rebuild(answer, forme_entree, quoi):
    """Judge side: the student's model rebuilt from its JSON and weights (never trusted as an
    object). Returns (model, compile config dict, optimizer iterations)."""
    if "type" in answer:
        raise AssertionError(f"{quoi} doit être un modèle Keras (keras.Sequential ou keras.Model), "
                             f"pas un objet de type {answer['type']}")
    arch = answer.get("architecture")
    if not isinstance(arch, str):
        raise AssertionError(f"{quoi} : architecture du modèle illisible")
    try:
        config = json.loads(arch)
    except ValueError:
        raise AssertionError(f"{quoi} : architecture du modèle illisible") from None
    compilation = config.pop("compile_config", None) if isinstance(config, dict) else None
    validate_architecture(config, forme_entree, quoi)
    n_poids = int(as_number(answer, "n_poids", f"{quoi} (nombre de tableaux de poids)"))
    if not 0 <= n_poids <= 4 * MAX_LAYERS:
        raise AssertionError(f"{quoi} : poids du modèle illisibles")
    poids = [as_array(answer, f"w{i}", what=f"{quoi} (poids n° {i})") for i in range(n_poids)]
    if sum(p.size for p in poids) > MAX_WEIGHTS:
        raise AssertionError(f"{quoi} : plus de {MAX_WEIGHTS} paramètres, trop pour ce TP")
    keras = import_keras()
    try:
        with quiet_stderr(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            modele = keras.models.model_from_json(json.dumps(config))
    except Exception as exc:
        raise AssertionError(f"{quoi} : impossible de rebuild le modèle ({type(exc).__name__}"
                             f" : {str(exc)[:150]})") from None
    attendu = [tuple(w.shape) for w in modele.get_weights()]
    if not attendu or not poids:
        raise AssertionError(f"{quoi} : le modèle n'a aucun poids (a-t-il été construit ?)")
    if attendu != [tuple(p.shape) for p in poids]:
        raise AssertionError(f"{quoi} : les poids envoyés ne correspondent pas à l'architecture")
    modele.set_weights(poids)
    iterations = as_number(answer, "iterations", f"{quoi} (mises à jour)") if "iterations" in answer else -1.0
    return modele, (compilation if isinstance(compilation, dict) else {}), iterations


def predict(modele, X):
    """Judge side: the rebuilt model's outputs on X, as a float array (eager call, no retracing)."""
    keras = import_keras()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sortie = modele(np.asarray(X, dtype="float32"), training=False)
        sortie = np.asarray(keras.ops.convert_to_numpy(sortie), dtype=float)
    if not np.all(np.isfinite(sortie)):
        raise AssertionError("les prédictions du modèle contiennent des NaN ou des infinis "
                             "(apprentissage qui a divergé ?)")
    return sortie


def canonical_name(objet) -> str:
    """Canonical name of a serialized loss / optimizer / metric: lower case, no underscores."""
    if isinstance(objet, dict):
        cfg = objet.get("config")
        if objet.get("class_name") == "function" and isinstance(cfg, str):
            objet = cfg
        elif isinstance(cfg, dict) and objet.get("module", "").startswith("keras.losses"):
            objet = objet.get("class_name", "")
        else:
            objet = objet.get("class_name", "")
    return str(objet).lower().replace("_", "")
