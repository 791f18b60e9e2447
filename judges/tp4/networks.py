"""TP4's networks rebuilt by the judge: the weights the kernel sends are checked against the
imposed architecture, then the networks are computed here with NumPy (float64), on the judge's
own inputs. The kernel's own outputs are only compared with these."""

from __future__ import annotations

import numpy as np

from grader.judging import as_array, close
from tp4.data import ecart_architecture


def weights(answer, expected: dict, what: str, hints: dict | None = None) -> dict:
    """The weights sent by the kernel ("w:<name>"), checked against the imposed architecture
    (names and shapes of the state_dict): {name: float64 array}, else AssertionError."""
    received = {k[2:]: v for k, v in answer.items() if k.startswith("w:")}
    if any(isinstance(v, str) for v in received.values()):
        raise AssertionError(f"{what} : paramètres illisibles")
    problem = ecart_architecture({k: np.shape(v) for k, v in received.items()}, expected, what,
                                 hints)
    if problem:
        raise AssertionError(problem)
    out = {}
    for k in expected:
        v = np.asarray(received[k], dtype=float)
        if not np.all(np.isfinite(v)):
            raise AssertionError(f"{what} : {k} contient des NaN ou des valeurs infinies "
                                 "(l'entraînement a divergé ?)")
        out[k] = v
    return out


def rebuilt(answer, name: str, kind: str, call: str, expected: dict, hints: dict | None,
            forward, z, architecture: str) -> dict:
    """The weights of the trained network `name` (a `kind`) the kernel sent, once its outputs
    `call` on the case's noise z agree with the judge's own `forward(W, z)`; else AssertionError
    naming what does not match (`architecture`: what the outputs should come from)."""
    if "type" in answer:
        raise AssertionError(f"{name} doit être votre {kind} entraîné (un nn.Module), pas "
                             f"{answer['type']}")
    W = weights(answer, expected, name, hints)
    if "erreur_sortie" in answer:
        raise AssertionError(f"{call} lève une erreur : {answer['erreur_sortie']}")
    out, judged = as_array(answer, "sortie", what=call), forward(W, z)
    if out.shape != judged.shape or not close(out, judged, 1e-4, 1e-5):
        raise AssertionError(f"{call} ne correspond pas à {architecture}")
    return W


def relu(x):
    return np.maximum(x, 0.0)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def leaky(x):
    return np.where(x > 0, x, 0.2 * x)


def linear(W, name, x):
    return x @ W[f"{name}.weight"].T + W[f"{name}.bias"]


def ae_encode(W, X):
    return linear(W, "encodeur.2", relu(linear(W, "encodeur.0", X)))


def ae_decode(W, Z):
    return sigmoid(linear(W, "decodeur.2", relu(linear(W, "decodeur.0", Z))))


def ae_forward(W, X):
    return ae_decode(W, ae_encode(W, X))


def generate(W, z):
    h = leaky(linear(W, "reseau.0", z))
    h = leaky(linear(W, "reseau.2", h))
    return sigmoid(linear(W, "reseau.4", h))


def init_autoencoder(rng, d, scale=1.0) -> dict:
    """Random weights of the imposed auto-encoder (PyTorch's default initialisation law)."""
    W = {}
    for name, (n_out, n_in) in (("encodeur.0", (128, 64)), ("encodeur.2", (d, 128)),
                                ("decodeur.0", (128, d)), ("decodeur.2", (64, 128))):
        bound = scale / np.sqrt(n_in)
        W[f"{name}.weight"] = rng.uniform(-bound, bound, size=(n_out, n_in))
        W[f"{name}.bias"] = rng.uniform(-bound, bound, size=n_out)
    return W


def as_case_weights(W: dict) -> dict:
    """Weights handed to the kernel in a case (keys "p:<name>")."""
    return {f"p:{k}": v for k, v in W.items()}


def from_case(case) -> dict:
    return {k[2:]: np.asarray(v, dtype=float) for k, v in case.items() if k.startswith("p:")}


# -- the convolutional auto-encoder (NumPy: windows, reshapes, repeats; no convolution routine) --
def conv3x3(W, name, x):
    """Convolution 3 × 3 with padding 1 (cross-correlation, as nn.Conv2d): x (n, c, h, w)."""
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(2, 3))
    return (np.einsum("ncijab,ocab->noij", windows, W[f"{name}.weight"])
            + W[f"{name}.bias"][None, :, None, None])


def maxpool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def avgpool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))


def upsample2(x):
    """Nearest-neighbour resizing by 2 (nn.Upsample(scale_factor=2))."""
    return x.repeat(2, axis=2).repeat(2, axis=3)


def conv_encode(W, X, pool=maxpool2, first_relu=True):
    h = conv3x3(W, "encodeur.1", X.reshape(-1, 1, 8, 8))
    h = pool(relu(h) if first_relu else h)
    h = pool(relu(conv3x3(W, "encodeur.4", h)))
    return linear(W, "encodeur.8", h.reshape(len(X), -1))


def conv_decode(W, Z, resize=upsample2, final=sigmoid):
    h = relu(linear(W, "decodeur.0", Z)).reshape(-1, 16, 2, 2)
    h = relu(conv3x3(W, "decodeur.4", resize(h)))
    return final(conv3x3(W, "decodeur.7", resize(h))).reshape(len(Z), 64)


def init_conv_autoencoder(rng, d, forme) -> dict:
    """Random weights of the imposed convolutional auto-encoder (uniform ±1/√fan_in)."""
    W = {}
    for k, shape in forme.items():
        if k.endswith("weight"):
            bound = 1 / np.sqrt(np.prod(shape[1:]))
            W[k] = rng.uniform(-bound, bound, size=shape)
            W[k.replace("weight", "bias")] = rng.uniform(-bound, bound, size=shape[0])
    return W
