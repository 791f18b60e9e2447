"""TP3's master notebook and oracles: imports of the kernel package, quiet Keras calls, NumPy-only
exercises, the course's printed figures agree with the frameworks."""

from __future__ import annotations


import nbformat
import numpy as np

from grader.config import ROOT
from grader.masters import Master
from keras_helpers import quiet_keras_calls
from grader.notebooks import numpy_only_violations
from judges.tp3 import CHECKS
from judges.tp3.architecture import SLIDE
from judges.tp3.counts import mlp_image_count
from judges.tp3.oracles import keras_architecture, keras_dense_count
from tp3.exercises import PARAMETRES_MLP_TP2, layer_tuples

MASTER = Master(ROOT / "solutions" / "tp3_cnn.ipynb")




def test_master_imports_the_kernel_package_and_calls_keras_quietly():
    first = next(c for c in MASTER.notebook.cells if c.cell_type == "code")
    assert "%matplotlib inline" in first.source and "from tp3 import" in first.source
    assert 'os.environ.setdefault("KERAS_BACKEND"' in first.source
    for cell in MASTER.notebook.cells:
        meta = cell.metadata.get("nbgrader")
        if meta and cell.cell_type == "code" and not meta["grade"]:
            quiet_keras_calls(cell.source, meta["grade_id"])


def test_every_exercise_but_the_cnn_is_numpy_only():
    assert {n for n, c in CHECKS.items() if c.numpy_only} == set(CHECKS) - {"cnn_chiffres"}


def test_keras_answer_to_a_numpy_exercise_is_refused():
    nb = nbformat.from_dict(MASTER.notebook)
    cell = next(c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "sol_nombre_parametres_conv")
    cell.source = ("def nombre_parametres_conv(kx, ky, i, f):\n"
                   "    m = keras.Sequential([keras.Input((9, 9, i)), "
                   "keras.layers.Conv2D(f, (ky, kx))])\n    return m.count_params()")
    out = numpy_only_violations(nb, {"nombre_parametres_conv": ("nombre_parametres_conv",)})
    assert "keras" in out["nombre_parametres_conv"]


def test_course_figures():
    ns = MASTER.ns()
    assert ns["parametres_mlp_image"](24, 24) == mlp_image_count(24, 24) == 207_937
    assert ns["parametres_mlp_image"](512, 512) == mlp_image_count(512, 512) == 42_949_935_105
    assert keras_dense_count([576, 288, 144, 1]) == 207_937  # the course's figure is Keras's
    slide = ns["resume_architecture"]((9, 9, 3), layer_tuples(SLIDE["couches"]))
    assert slide == keras_architecture((9, 9, 3), SLIDE["couches"])
    assert keras_dense_count((64, 128, 64, 10)) == PARAMETRES_MLP_TP2


def test_the_images_are_the_courses_digits():
    from course.digits import split
    from tp3 import charger_chiffres_images

    X_train, X_test, y_train, y_test = charger_chiffres_images()
    Xs, Xt, ys, yt = split()
    assert X_train.shape == (1347, 8, 8, 1) and np.allclose(X_test.reshape(-1, 64) * 16, Xt)
    assert np.array_equal(y_train, ys) and np.array_equal(y_test, yt)


def test_receptive_field_oracles_agree():
    """The judge's two oracles (index sets, torch.autograd) agree on the public stacks, on hidden
    stacks of several seeds, and on fields known by hand."""
    from judges.tp3.receptive import PUBLIC_STACKS, _cases, autograd_field, index_field

    assert index_field(PUBLIC_STACKS[0]) == (8, 8) and index_field(PUBLIC_STACKS[1]) == (20, 20)
    assert index_field([[0, 1, 1, 1, 0, 1]]) == (1, 1)
    assert index_field([[0, 1, 3, 5, 0, 1], [0, 1, 3, 5, 0, 1]]) == (5, 9)
    for seed in range(5):
        for case in _cases(np.random.default_rng(seed), True):
            field = index_field(case["couches"])
            assert autograd_field(case["couches"], (field[0] + 4, field[1] + 1)) == field


def test_texture_synthesis_matches_the_source_statistics():
    """The given synthesis brings the Gram matrices (the students' definition, NumPy here) of
    every scale far closer to the source's than its starting noise, for several seeds; the
    source texture is made by code, deterministic, in [0, 1]."""
    from numpy.lib.stride_tricks import sliding_window_view

    from tp3 import synthetiser_texture, texture_source

    source = texture_source(64)[:32, :32]
    assert np.array_equal(source, texture_source(64)[:32, :32])
    assert 0 <= source.min() and source.max() <= 1 and source.std() > 0.1

    def gram(image, noyaux):
        windows = sliding_window_view(image, noyaux.shape[:2])
        maps = np.maximum(np.einsum("xyuv,uvf->xyf", windows, noyaux[:, :, 0, :]), 0)
        flat = maps.reshape(-1, maps.shape[-1])
        return flat.T @ flat

    worst = 0.0
    for seed in (0, 1, 2, 3):
        out = synthetiser_texture(source, n_etapes=300, graine=seed)
        assert out["pertes"][-1] < 0.01 * out["pertes"][0]
        for noyaux in out["noyaux"]:
            g = gram(source, noyaux)
            ratio = (np.sum((g - gram(out["texture"], noyaux)) ** 2)
                     / np.sum((g - gram(out["bruit"], noyaux)) ** 2))
            worst = max(worst, ratio)
    assert worst < 0.02, worst
