"""Keras in the course, kernel side (TP2, TP3): a quiet, reproducible set-up, learning curves, and
a trained model turned into plain data for the judge.

A model never travels as an object: `export_model` sends its architecture (`model.to_json()`,
with its compile config), the number of optimizer updates and its weights; the judge
(`judges/common/keras_models.py`, never in a student's kernel) checks that architecture against
an allow-list and bounds, rebuilds it and measures it itself. The notebook's own check() reads
properties of the export (layers, compile config, the kernel's outputs on the public data the
case carries): no oracle, nothing a student could not compute.

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

from grader.protocol import InvalidAnswer

if "ipykernel" not in sys.modules:
    # A judge or a test process imports Keras in the background: TensorFlow must not write its
    # start-up lines on the console. In a student's kernel, preparer_keras() silences them.
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
    """`import keras` without TensorFlow's start-up noise."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import keras
    return keras


def preparer_keras(graine=0):
    """Configure Keras pour le TP et renvoie le module `keras`.

    - backend : la variable d'environnement KERAS_BACKEND ("tensorflow" par défaut, ou "torch"),
      à choisir AVANT le premier `import keras` ;
    - messages de démarrage et de retracing de TensorFlow réduits au silence ;
    - un seul thread (deux cœurs partagés : c'est le plus rapide ici, et les exécutions sont
      reproductibles bit à bit) ;
    - graine aléatoire fixée par `keras.utils.set_random_seed(graine)` : rappelez cette fonction
      avant de construire chaque modèle, pour qu'un résultat ne dépende pas de l'ordre dans
      lequel les cellules ont été exécutées.
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
    """Courbes d'apprentissage d'un `History` de Keras (ou de son dictionnaire `.history`) :
    `metrique` sur l'ensemble d'apprentissage et, s'il est présent, sur l'ensemble de validation
    (`val_<metrique>`)."""
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


# -- a trained model as plain data ---------------------------------------------------------------
def is_model(obj) -> bool:
    return hasattr(obj, "to_json") and hasattr(obj, "get_weights")


def as_model(obj, what: str):
    """The student's model. A function without arguments that returns it is accepted too (the
    starter's stub is one: it raises NotImplementedError)."""
    if not is_model(obj) and callable(obj):
        obj = obj()
    if not is_model(obj):
        raise InvalidAnswer(f"{what} doit être un modèle Keras (keras.Sequential ou keras.Model), "
                            f"pas un objet de type {type(obj).__name__}")
    return obj


def export_model(model, what: str, weights: bool = True) -> dict:
    """A Keras model as plain data: its architecture JSON (with its compile config) and, unless
    weights=False, the number of optimizer updates and its weights."""
    if not is_model(model):
        raise InvalidAnswer(f"{what} doit renvoyer un modèle Keras (keras.Sequential ou "
                            f"keras.Model), pas un objet de type {type(model).__name__}")
    out = {"architecture": model.to_json()}
    if not weights:
        return out
    iterations = getattr(getattr(model, "optimizer", None), "iterations", None)
    try:
        out["iterations"] = float(np.asarray(iterations)) if iterations is not None else -1.0
    except Exception:
        out["iterations"] = -1.0
    arrays = model.get_weights()
    out["n_poids"] = len(arrays)
    for i, w in enumerate(arrays):
        out[f"w{i}"] = np.asarray(w, dtype=float)
    return out


def with_predictions(answer: dict, model, case: dict) -> dict:
    """The kernel's own outputs of `model` on the public inputs of `case` (X, X_app), for the
    notebook's check() only: the judge never reads them, it measures the rebuilt model itself.
    A model that does not take these inputs gets none (its JSON says why)."""
    for key, out in (("X", "P"), ("X_app", "P_app")):
        if key in case:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    answer[out] = np.asarray(model.predict(
                        np.asarray(case[key], dtype="float32"), verbose=0, batch_size=256),
                        dtype=float)
            except Exception:
                return answer
    return answer


# -- what the notebook's check() reads of an exported model (no oracle: properties only) -------
def name(obj) -> str:
    """'categorical_crossentropy', CategoricalCrossentropy() and 'CategoricalCrossentropy' read
    alike: lower case, no underscores."""
    if isinstance(obj, dict):
        cfg = obj.get("config")
        obj = cfg if obj.get("class_name") == "function" and isinstance(cfg, str) \
            else obj.get("class_name", "")
    return str(obj).lower().replace("_", "")


def read_export(answer: dict, input_shape: tuple, what: str) -> tuple[list, dict]:
    """(layers as (class name, config) after the input, compile config) of an exported model
    whose input has `input_shape`; AssertionError (French) otherwise."""
    try:
        config = json.loads(answer["architecture"])
        layers = [(l["class_name"], l.get("config") or {}) for l in config["config"]["layers"]]
    except Exception:
        raise AssertionError(f"{what} : architecture du modèle illisible") from None
    entry = [c.get("batch_shape") if isinstance(c, dict) else None
             for k, c in layers if k == "InputLayer"]
    if entry != [[None, *input_shape]]:
        raise AssertionError(f"{what} : entrée de forme {tuple((entry or [[None]])[0][1:])} au "
                             f"lieu de {tuple(input_shape)} attendue (keras.Input(shape="
                             f"{tuple(input_shape)}))")
    return [(k, c) for k, c in layers if k != "InputLayer"], config.get("compile_config") or {}


def block_activation(block) -> str:
    """A block's activation (a block: a ("dense", units, activation) token, then the tokens of
    the layers after it): its Dense's, or its activation layer's after a linear Dense."""
    acts = [t[1] for t in block[1:] if t[0] == "act"]
    dense = block[0][2]
    if dense != "linear" and acts:
        return "+".join([dense] + acts)
    return acts[0] if len(acts) == 1 else (dense if not acts else "+".join(acts))


def output_activation(layers: list) -> str:
    for kind, cfg in reversed(layers):
        if kind in ("Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Identity"):
            continue
        if kind in ("Softmax", "ReLU"):
            return kind.lower()
        return name(cfg["activation"]) if cfg.get("activation") is not None else kind.lower()
    return "?"


def check_loss(compiled: dict, what: str, names: tuple, advice: str) -> None:
    if not compiled:
        raise AssertionError(f"{what} : le modèle n'a pas été compilé (model.compile) ni entraîné")
    if name(compiled.get("loss")) not in names:
        raise AssertionError(f"{what} : fonction de perte « {name(compiled.get('loss'))} » ; "
                             f"{advice}")


def outputs(answer: dict, key: str, n_outputs: int, what: str) -> np.ndarray:
    P = answer.get(key)
    if P is None or isinstance(P, str):
        raise AssertionError(f"{what} : le modèle ne s'applique pas aux données du TP")
    if P.ndim != 2 or P.shape[1] != n_outputs:
        raise AssertionError(f"{what} : sortie de forme {P.shape[1:]} au lieu de ({n_outputs},)")
    if not np.all(np.isfinite(P)):
        raise AssertionError(f"{what} : prédictions NaN ou infinies")
    return P


def check_digits_classifier(answer: dict, case: dict, what: str, threshold: float, leak: float,
                            margin: float) -> None:
    """Ten softmax outputs, a categorical cross-entropy, accuracy on the test digits at least
    `threshold`, below `leak`, and not better by more than `margin` than on training digits."""
    layers, compiled = read_export(answer, case["X"].shape[1:], what)
    P = outputs(answer, "P", 10, what)
    if P.min() < -1e-6 or not np.allclose(P.sum(axis=1), 1.0, atol=1e-3):
        raise AssertionError(f"{what} : les 10 sorties doivent être des probabilités de somme 1 "
                             "(activation 'softmax')")
    check_loss(compiled, what, ("categoricalcrossentropy", "sparsecategoricalcrossentropy"),
               "entropie croisée catégorielle attendue")
    acc = float(np.mean(np.argmax(P, axis=1) == case["y"]))
    acc_app = float(np.mean(np.argmax(outputs(answer, "P_app", 10, what), axis=1)
                            == case["y_app"]))
    if acc < threshold:
        raise AssertionError(f"{what} : exactitude {acc:.3f} sur les chiffres de test, il faut au "
                             f"moins {threshold}")
    if acc >= leak or acc - acc_app > margin:
        raise AssertionError(f"{what} : exactitude {acc:.3f} sur les chiffres de test, "
                             f"{acc_app:.3f} sur ceux d'apprentissage : entraîné sur les données "
                             "de test ?")
