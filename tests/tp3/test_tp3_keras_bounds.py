"""The judge's bounds on a student's Keras model (judges/common/keras_models.py, shared by TP2
and TP3): hostile architectures made of allow-listed layers are refused from their JSON alone,
in milliseconds, with a French message, before Keras builds anything; the cost estimate counts
the parameters Keras builds.

Found by a hostile student: a large ZeroPadding2D before a few Conv2D segfaulted the judge in
predict; layers of bounded sizes but many parameters, or a layer whose build config claims a huge
input, made it allocate gigabytes before refusing. The hostile JSONs are written here by editing
small real models' configs: building them would be the very allocation under test.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from course.keras_tools import export_model, preparer_keras
from judges.common import keras_models as km
from judges.tp3 import CHECKS
from grader.judging import run_verdict


@pytest.fixture(scope="module")
def keras():
    return preparer_keras()


def _answer(model, edit=None) -> dict:
    """`model`'s export, its JSON edited by `edit(config)` (layers after the input)."""
    answer = export_model(model, "m")
    config = json.loads(answer["architecture"])
    if edit:
        edit(config["config"]["layers"])
    answer["architecture"] = json.dumps(config)
    return answer


def _refused(answer, input_shape=(8, 8, 1)) -> tuple[str, float]:
    start = time.perf_counter()
    with pytest.raises(AssertionError) as info:
        km.rebuild(answer, input_shape, "cnn_chiffres")
    return str(info.value), time.perf_counter() - start


def _cnn(keras, *layers):
    L = keras.layers
    m = keras.Sequential([keras.Input((8, 8, 1)), *layers, L.Flatten(),
                          L.Dense(10, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    return m


def test_large_zero_padding_is_refused_at_once(keras):
    """The segfault: ZeroPadding2D(4000) before two Conv2D(64, 3) (8 008 × 8 008 × 64 floats
    per image in predict)."""
    L = keras.layers
    model = _cnn(keras, L.ZeroPadding2D(1), L.Conv2D(64, 3), L.Conv2D(64, 3))

    def pad(layers):
        layers[1]["config"]["padding"] = [[4000, 4000], [4000, 4000]]

    message, seconds = _refused(_answer(model, pad))
    assert "padding" in message and "hors des limites" in message, message
    assert seconds < 0.5, seconds  # measured: about 1 ms


def test_paddings_within_bounds_are_refused_by_the_cost(keras):
    """Twelve ZeroPadding2D(8), each within its bound, then Conv2D(512, 8): 200 × 200 pixels,
    billions of operations per image."""
    L = keras.layers
    model = _cnn(keras, *[L.ZeroPadding2D(1) for _ in range(12)], L.Conv2D(4, 3), L.Conv2D(4, 3))

    def grow(layers):
        for layer in layers[1:13]:
            layer["config"]["padding"] = [[8, 8], [8, 8]]
        for layer in layers[13:15]:
            layer["config"].update(filters=512, kernel_size=[8, 8])

    message, seconds = _refused(_answer(model, grow))
    assert "opérations par exemple" in message and "trop pour ce TP" in message, message
    assert seconds < 0.5, seconds


def test_gigabytes_of_parameters_are_refused_before_building(keras):
    """Forty Conv2D(512, 8, padding='same'), each within the old per-layer bounds: 16.8 million
    parameters each, 2.7 GB of float32 that Keras allocated before the old judge refused."""
    L = keras.layers
    model = _cnn(keras, L.Conv2D(8, 8, padding="same"))

    def grow(layers):
        conv = layers[1]
        conv["config"]["filters"] = 512
        layers[1:2] = [{**conv, "config": {**conv["config"], "name": f"conv{i}"}, "build_config": None}
                       for i in range(36)]

    message, seconds = _refused(_answer(model, grow))
    assert "paramètres" in message and "trop pour ce TP" in message, message
    assert seconds < 0.5, seconds


def test_a_claimed_build_shape_allocates_nothing(keras):
    """A Dense whose build config claims 10⁸ inputs: Keras would build a 10⁸ × 32 kernel from
    it. The judge drops build configs: the shapes come from the input layer."""
    L = keras.layers
    model = keras.Sequential([keras.Input((64,)), L.Dense(32, activation="relu"),
                              L.Dense(10, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")

    def claim(layers):
        layers[1]["build_config"] = {"input_shape": [None, 10**8]}

    start = time.perf_counter()
    rebuilt = km.rebuild(_answer(model, claim), (64,), "modele_chiffres")
    assert time.perf_counter() - start < 5
    assert rebuilt.model.count_params() == model.count_params()


@pytest.mark.parametrize("case", ["dense", "conv", "nested", "shared", "branch", "channels"])
def test_structures_beyond_a_chain_or_the_bounds_are_refused(keras, case):
    L = keras.layers
    if case == "dense":
        model = keras.Sequential([keras.Input((64,)), L.Dense(4096), L.Dense(10)])
        words, shape = "units = 4096 hors des limites", (64,)
    elif case == "conv":
        model = _cnn(keras, L.Conv2D(8, 3, strides=1))
        model = _answer(model, lambda layers: layers[1]["config"].update(kernel_size=[9, 9]))
        words, shape = "kernel_size", (8, 8, 1)
    elif case == "nested":
        inner = keras.Sequential([keras.Input((64,)), L.Dense(8)])
        model = keras.Sequential([keras.Input((64,)), inner, L.Dense(10)])
        words, shape = "un modèle dans un modèle", (64,)
    elif case == "shared":
        x = keras.Input((8,))
        dense = L.Dense(8)
        model = keras.Model(x, dense(dense(x)))
        words, shape = "une seule fois", (8,)
    elif case == "branch":
        x = keras.Input((8,))
        model = keras.Model(x, L.Add()([L.Dense(4)(x), L.Dense(4)(x)]))
        words, shape = "non acceptée", (8,)
    else:
        model = _cnn(keras, L.Conv2D(4, 3))
        model = _answer(model, lambda layers: layers[1]["config"].update(
            data_format="channels_first"))
        words, shape = "channels_last", (8, 8, 1)
    answer = model if isinstance(model, dict) else _answer(model)
    message, seconds = _refused(answer, shape)
    assert words in message, message
    assert seconds < 0.5


def test_the_estimate_counts_what_keras_builds(keras):
    L = keras.layers
    models = [
        _cnn(keras, L.ZeroPadding2D(((1, 2), (0, 3))), L.Conv2D(6, (3, 2), strides=2),
             L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(2, strides=1, padding="same"),
             L.SeparableConv2D(8, 3, depth_multiplier=2, padding="same"),
             L.DepthwiseConv2D(2, depth_multiplier=3), L.LayerNormalization(), L.PReLU(),
             L.Conv2D(8, 3, dilation_rate=2, padding="same", groups=2)),
        _cnn(keras, L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
             L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
             L.Dropout(0.25), L.GlobalAveragePooling2D(keepdims=True), L.Reshape((-1, 8)),
             L.Identity()),
        keras.Sequential([keras.Input((64,)), L.Reshape((8, 8, 1)), L.Rescaling(1 / 16),
                          L.Conv2D(4, 3), L.GlobalMaxPooling2D(), L.Dense(10)]),
    ]
    for model in models:
        config = json.loads(model.to_json())
        config.pop("compile_config", None)
        _, cost = km.estimate(config, model.input_shape[1:], "m")
        assert cost.params == model.count_params()
        rebuilt = km.rebuild(export_model(model, "m"), model.input_shape[1:], "m")
        X = np.random.default_rng(0).random((5, *model.input_shape[1:]))
        assert np.allclose(km.predict(rebuilt, X, "m"), model.predict(X, verbose=0), atol=1e-5)


def test_the_masters_cnn_costs_little():
    from judges.tp3.cnn import trained

    answer = export_model(trained()["cnn_chiffres"], "cnn_chiffres")
    config = json.loads(answer["architecture"])
    config.pop("compile_config")
    _, cost = km.estimate(config, (8, 8, 1), "cnn_chiffres")
    assert (cost.params, cost.flops, cost.activations) == (10_858, 337_024, 3_530)
    assert cost.batch == 256


def test_the_verdict_refuses_a_hostile_cnn_as_the_students_failure(keras):
    """Through the check itself: a failure (AssertionError, French), never a grader fault."""
    L = keras.layers
    model = _cnn(keras, L.ZeroPadding2D(1), L.Conv2D(64, 3), L.Conv2D(64, 3))
    answer = _answer(model, lambda layers: layers[1]["config"].update(padding=4000))
    case = CHECKS["cnn_chiffres"].cases(np.random.default_rng(0), True)[0]
    with pytest.raises(AssertionError, match="hors des limites de ce TP"):
        run_verdict(CHECKS["cnn_chiffres"], case, answer)
