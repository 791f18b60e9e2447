"""The frameworks' own layers as TP3's oracles: torch.nn.Conv2d / torch.nn.functional.conv2d and
Keras ZeroPadding2D, Conv2D, MaxPooling2D, AveragePooling2D, Dense (output shapes,
count_params(), outputs computed with given weights)."""

from __future__ import annotations

import warnings

import numpy as np

from course.keras_tools import import_keras, quiet_stderr


def torch():
    with quiet_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torch
    return torch


def torch_output_size(h, w, kh, kw, p, s) -> tuple[int, int]:
    """(H_out, W_out) of a real torch.nn.Conv2d layer applied to a (zero) image."""
    t = torch()
    with t.no_grad():
        layer = t.nn.Conv2d(1, 1, (kh, kw), stride=s, padding=p, bias=False)
        out = layer(t.zeros(1, 1, h, w))
    return tuple(int(v) for v in out.shape[2:])


def keras_output_size(h, w, kh, kw, p, s, layer="conv") -> tuple[int, int]:
    """(H_out, W_out) of Keras ZeroPadding2D(p) → Conv2D((kh, kw), strides=s) (or
    MaxPooling2D((kh, kw), strides=s)), from the layers' own output shapes."""
    L = import_keras().layers
    shape = (1, h, w, 1)
    if p:
        shape = L.ZeroPadding2D(p).compute_output_shape(shape)
    if layer == "conv":
        shape = L.Conv2D(1, (kh, kw), strides=s).compute_output_shape(shape)
    else:
        shape = L.MaxPooling2D((kh, kw), strides=s).compute_output_shape(shape)
    return int(shape[1]), int(shape[2])


def torch_conv(image, kernel, p, s) -> np.ndarray:
    """The single-channel convolution (a cross-correlation, like every framework)."""
    t = torch()
    with t.no_grad():
        out = t.nn.functional.conv2d(t.as_tensor(image, dtype=t.float64)[None, None],
                                     t.as_tensor(kernel, dtype=t.float64)[None, None],
                                     stride=s, padding=p)
    return out[0, 0].numpy()


def keras_conv_layer(images, kernels, biases, p, s) -> np.ndarray:
    """A real Keras ZeroPadding2D(p) → Conv2D(F, (kh, kw), strides=s) layer holding the given
    weights, applied to the image."""
    keras = import_keras()
    L = keras.layers
    kh, kw, c, f = kernels.shape
    layers = ([L.ZeroPadding2D(p, dtype="float64")] if p else []) + [
        L.Conv2D(f, (kh, kw), strides=s, dtype="float64")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = keras.Sequential([keras.Input(images.shape, dtype="float64")] + layers)
        model.layers[-1].set_weights([kernels, biases])
        out = model(images[None].astype("float64"), training=False)
    return np.asarray(keras.ops.convert_to_numpy(out), dtype=float)[0]


def keras_pool(feature_map, k, s, mode="max") -> np.ndarray:
    keras = import_keras()
    L = keras.layers
    layer = (L.MaxPooling2D if mode == "max" else L.AveragePooling2D)(
        pool_size=k, strides=s, dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = layer(keras.ops.convert_to_tensor(feature_map[None].astype("float64")))
    return np.asarray(keras.ops.convert_to_numpy(out), dtype=float)[0]


def keras_dense_count(sizes) -> int:
    """count_params() of Input(t0) → Dense(t1) → … → Dense(tL)."""
    keras = import_keras()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return int(keras.Sequential([keras.Input((int(sizes[0]),))] + [
            keras.layers.Dense(int(t)) for t in sizes[1:]]).count_params())


def conv_count(kx, ky, i, f) -> int:
    """count_params() of a Keras Conv2D, checked against torch.nn.Conv2d's parameters."""
    keras, t = import_keras(), torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k = keras.Sequential([keras.Input((12, 12, i)), keras.layers.Conv2D(f, (ky, kx))])
        n_keras = int(k.count_params())
    n_torch = sum(int(p.numel()) for p in t.nn.Conv2d(i, f, (ky, kx)).parameters())
    if n_keras != n_torch:
        raise RuntimeError("oracles en désaccord")
    return n_keras


def keras_architecture(input_shape, codes) -> list:
    """Per layer (output shape, count_params) of the Keras model of an architecture (codes
    [type, a, b, c, d, e]; a convolution with padding p is ZeroPadding2D(p) → Conv2D, one
    layer)."""
    keras = import_keras()
    L = keras.layers
    x = entry = keras.Input(tuple(int(v) for v in input_shape))
    summary = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t, a, b, c, d, e in np.asarray(codes).astype(int).tolist():
            if t == 0:
                if d:
                    x = L.ZeroPadding2D(d)(x)
                layer = L.Conv2D(a, (b, c), strides=e)
            elif t == 1:
                layer = L.MaxPooling2D(a, strides=b)
            elif t == 2:
                layer = L.Flatten()
            else:
                layer = L.Dense(a)
            x = layer(x)
            summary.append((tuple(int(v) for v in x.shape[1:]), int(layer.count_params())))
        keras.Model(entry, x)  # the whole model builds
    return summary
