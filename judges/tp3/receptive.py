"""TP3, part 3: the receptive field of a stack of convolutions and poolings, against two other
methods: the gradient of one output neuron with respect to the input (torch.autograd through a
real stack of Conv2d / AvgPool2d layers: the input pixels with a non-zero derivative are the
ones the neuron sees) and the brute-force index sets (which input rows feed one output row,
layer by layer, walking backwards)."""

from __future__ import annotations

import numpy as np

from grader.judging import Check, Mistake, as_array
from tp3.exercises import layer_tuples

from .architecture import SLIDE
from .oracles import torch

# the slide's stack without Flatten/Dense (8×8), and a LeNet-like stack (20×20; the sum of the
# windows, 15, differs from the field there, unlike for (conv 3×3, pool 2×2) stacks)
PUBLIC_STACKS = [SLIDE["couches"][:3],
                 [[0, 8, 5, 5, 2, 1], [1, 2, 2, 0, 0, 0], [0, 16, 3, 3, 1, 1], [1, 2, 2, 0, 0, 0],
                  [0, 32, 3, 3, 1, 1]]]
MAX_FIELD = 80  # hidden stacks stay small (the autograd oracle builds an input this large)


def _window(code) -> tuple[int, int, int, int]:
    """(kh, kw, stride_h, stride_w) of a layer code [type, a, b, c, d, e]."""
    t, a, b, c, d, e = (int(v) for v in code)
    return (b, c, e, e) if t == 0 else (a, a, b, b)


def index_field(codes) -> tuple[int, int]:
    """Brute force: the input rows (columns) that output row (column) 0 of the last layer reads,
    walking back through the windows."""
    out = []
    for axis in (0, 1):
        rows = {0}
        for code in reversed(np.asarray(codes).tolist()):
            k, s = _window(code)[axis], _window(code)[2 + axis]
            rows = {i * s + u for i in rows for u in range(k)}
        out.append(max(rows) - min(rows) + 1)
    return tuple(out)


def autograd_field(codes, size) -> tuple[int, int]:
    """torch.autograd: d(output neuron (0, 0)) / d(input) through Conv2d layers with positive
    weights and AvgPool2d (the window of a max-pooling, without its arg max), no padding; the
    receptive field is the extent of the non-zero derivatives."""
    t = torch()
    x = t.zeros(1, 1, size[0], size[1], dtype=t.float64, requires_grad=True)
    y = x
    for code in np.asarray(codes).tolist():
        kh, kw, sh, sw = _window(code)
        if int(code[0]) == 0:
            y = t.nn.functional.conv2d(y, t.ones(1, 1, kh, kw, dtype=t.float64), stride=(sh, sw))
        else:
            y = t.nn.functional.avg_pool2d(y, (kh, kw), stride=(sh, sw))
    y[0, 0, 0, 0].backward()
    rows, cols = np.nonzero(x.grad[0, 0].numpy())
    return int(rows.max() + 1), int(cols.max() + 1)


def _random_stack(rng):
    for _ in range(1000):
        layers = []
        for _ in range(int(rng.integers(2, 6))):
            if rng.random() < 0.6:
                layers.append([0, int(rng.integers(1, 9)), int(rng.integers(1, 6)),
                               int(rng.integers(1, 6)), int(rng.integers(0, 3)),
                               int(rng.integers(1, 3))])
            else:
                k = int(rng.integers(2, 4))
                layers.append([1, k, int(rng.integers(1, k + 1)), 0, 0, 0])
        kinds = {c[0] for c in layers}
        if kinds == {0, 1} and any(_window(c)[2] > 1 for c in layers[:-1]) and any(
                c[0] == 0 and c[2] != c[3] for c in layers) and max(index_field(layers)) \
                <= MAX_FIELD and _telling(layers):
            return layers
    raise RuntimeError("no stack")


def _telling(codes) -> bool:
    """Every known wrong formula gives its own answer on this stack, none the right one: the
    diagnostic names the mistake made."""
    layers = [(*_window(c), int(c[0]) == 1) for c in codes]
    answers = [index_field(codes)] + [_formula(kind)(layers) for kind, _ in DIAGNOSTICS]
    return len(set(answers)) == len(answers)


def _cases(rng, hidden):
    stacks = PUBLIC_STACKS if not hidden else [_random_stack(rng) for _ in range(5)] + [
        [[0, 4, 1, 1, 0, 1]],  # one 1×1 convolution sees one pixel
        [[0, 4, 3, 3, 1, 2], [0, 4, 3, 3, 1, 2], [1, 2, 2, 0, 0, 0], [0, 4, 5, 3, 2, 1]]]
    return [{"couches": np.array(s)} for s in stacks]


# candidate wrong formulas, (kh, kw, sh, sw, is_pool) per layer -> (r_h, r_w)
def _formula(kind):
    def field(layers):
        out = []
        for axis in (0, 1):
            r, jump = 1, 1
            for kh, kw, sh, sw, pool in layers:
                k, s = (kh, sh) if axis == 0 else (kw, sw)
                if kind == "transpose":
                    k = kw if axis == 0 else kh
                if kind == "sans_pooling" and pool:
                    continue
                if kind == "saut_avant":
                    jump *= s
                r += (k - 1) * (1 if kind == "sans_strides" else jump)
                if kind not in ("saut_avant", "sans_strides"):
                    jump *= s
            out.append(r - 1 if kind == "sans_plus_un" else r)
        if kind == "somme_noyaux":
            out = [sum(l[a] for l in layers) for a in (0, 1)]
        if kind == "produit_noyaux":
            out = [int(np.prod([l[a] for l in layers])) for a in (0, 1)]
        return tuple(out)
    return field


DIAGNOSTICS = (
    ("sans_strides", "les strides des couches PRÉCÉDENTES multiplient l'écart entre deux "
                     "neurones voisins : r ← r + (k − 1) × (produit des strides avant la couche)"),
    ("saut_avant", "le stride d'une couche n'agrandit que les couches SUIVANTES : multipliez le "
                   "saut par s APRÈS avoir ajouté (k − 1) × saut"),
    ("sans_pooling", "le pooling a lui aussi une fenêtre (k × k) et un stride : il agrandit le "
                     "champ récepteur comme une convolution"),
    ("sans_plus_un", "il manque 1 : un neurone d'une convolution 1×1 voit déjà 1 pixel (r part "
                     "de 1)"),
    ("somme_noyaux", "ce n'est pas la somme des tailles des noyaux : deux fenêtres voisines se "
                     "recouvrent, r = 1 + Σ (k − 1) × saut"),
    ("produit_noyaux", "ce n'est pas le produit des tailles des noyaux : r = 1 + Σ (k − 1) × "
                       "saut"),
    ("transpose", "hauteur et largeur échangées : un noyau (ky, kx) a ky lignes"),
)


def _verdict(case, answer):
    codes = case["couches"]
    specs = layer_tuples(codes)
    expected = index_field(codes)
    size = (expected[0] + 2, expected[1] + 3)
    if autograd_field(codes, size) != expected:
        raise RuntimeError("oracles en désaccord")
    got = as_array(answer, "champ", shape=(2,), what="champ_recepteur (hauteur, largeur)")
    if tuple(got.tolist()) == expected:
        return
    where = (f"couches {specs} : un neurone de la dernière couche voit {expected[0]}×"
             f"{expected[1]} pixels de l'entrée, vous {got[0]:g}×{got[1]:g}")
    layers = [(*_window(c), int(c[0]) == 1) for c in np.asarray(codes).tolist()]
    for kind, message in DIAGNOSTICS:
        if tuple(got.tolist()) == _formula(kind)(layers):
            raise AssertionError(f"{where} : {message}")
    raise AssertionError(f"{where} (r = 1 + Σ (k − 1) × produit des strides précédents)")


CHECKS = [Check(
    "champ_recepteur", _cases, _verdict, numpy_only=True,
    doc="Champ récepteur (hauteur, largeur) d'un neurone de la dernière couche d'un empilement "
        "de convolutions et de poolings, comparé au support du gradient de ce neurone par "
        "rapport à l'entrée (torch.autograd) et aux ensembles d'indices parcourus couche par "
        "couche : noyaux non carrés, strides > 1, convolution 1×1.")]


def _student(kind):
    field = _formula(kind)

    def champ_recepteur(couches):
        layers = []
        for c in couches:
            if c[0] == "conv":
                layers.append((c[2][0], c[2][1], c[4], c[4], False))
            else:
                layers.append((c[1], c[1], c[2], c[2], True))
        return field(layers)
    return champ_recepteur


MISTAKES = {"champ_recepteur": [
    Mistake(label, {"champ_recepteur": _student(kind)}, words, *where)
    for label, kind, words, *where in (
        ("strides oubliés", "sans_strides", "PRÉCÉDENTES"),
        ("stride de la couche compté trop tôt", "saut_avant", "APRÈS"),
        ("pooling ignoré", "sans_pooling", "pooling"),
        ("sans le + 1", "sans_plus_un", "il manque 1"),
        ("somme des noyaux", "somme_noyaux", "somme"),
        ("produit des noyaux", "produit_noyaux", "produit des tailles"),
        ("hauteur et largeur échangées", "transpose", "échangées", "hidden"))]}
