"""Keras in the course, kernel side (TP2, TP3): a quiet, reproducible set-up, learning curves, and
a trained model turned into plain data for the judge.

A model never travels as an object: `export_model` sends its architecture (`model.to_json()`,
with its compile config), the number of optimizer updates and its weights; the judge
(`judges/common/keras_models.py`, never in a student's kernel) checks that architecture against
an allow-list and bounds, rebuilds it and measures it on data it keeps.

Keras is imported inside the functions: importing this module stays cheap. Messages a student
can read are in French.
"""

from __future__ import annotations

import contextlib
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
    """Set Keras up for the TP and return the `keras` module.

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


# -- a trained model as plain data ---------------------------------------------------------------
def is_model(obj) -> bool:
    return hasattr(obj, "to_json") and hasattr(obj, "get_weights")


def as_model(obj, what: str):
    """The student's model. A function without arguments that returns it is accepted too (the
    starter's stub is one: it raises NotImplementedError). Anything else: InvalidAnswer."""
    if not is_model(obj) and callable(obj):
        obj = obj()
    if not is_model(obj):
        raise InvalidAnswer(f"{what} doit être un modèle Keras (keras.Sequential ou keras.Model), "
                            f"pas un objet de type {type(obj).__name__}")
    return obj


def export_model(model, what: str, weights: bool = True) -> dict:
    """A Keras model as plain data: its architecture JSON (with its compile config) and, unless
    weights=False, the number of optimizer updates and its weights."""
    model = as_model(model, what)
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


def predictions(model, X) -> np.ndarray:
    """The model's outputs on X (the kernel's own view, for the notebook's check() only: the
    judge never trusts them and measures the rebuilt model itself)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(model.predict(np.asarray(X, dtype="float32"), verbose=0,
                                        batch_size=256), dtype=float)
