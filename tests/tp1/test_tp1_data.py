"""TP1's kernel package: the data generators and the given gradient of `peaks`, and what the
package imports (NumPy only at import time, never a deep-learning framework)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader.config import ROOT
from judges.tp1.common import fd_gradient
from judges.tp1.perceptron import linearly_separable, separable_generic, threshold_1d
from tp1 import (arbres_malades, donnees_polynomiales, donnees_regression, erreur_relative,
                 grad_peaks, peaks)

KERNEL = ROOT / "tp1_gradient" / "tp1"


def test_sick_trees():
    X, y = arbres_malades(40, separable=True, rng=0)
    assert X.shape == (40, 2) and set(np.unique(y)) == {0, 1}
    assert np.all(X[:, 0] == np.round(X[:, 0])) and linearly_separable(X, y)
    X2, y2 = arbres_malades(40, separable=False, rng=1)
    assert not linearly_separable(X2, y2)
    assert np.array_equal(arbres_malades(30, rng=5)[0], arbres_malades(30, rng=5)[0])


def test_judge_perceptron_data_need_a_bias():
    Xg, yg = separable_generic(np.random.default_rng(3), 30, 3)
    assert linearly_separable(Xg, yg) and not linearly_separable(Xg, yg, bias=False)
    X1, y1 = threshold_1d(np.random.default_rng(4), 20)
    assert linearly_separable(X1, y1) and not linearly_separable(X1, y1, bias=False)


def test_regression_and_polynomial_data():
    X, y = donnees_regression(60, p=3, rng=1)
    assert X.shape == (60, 3) and y.shape == (60,) and X.min() >= 0 and X.max() <= 3
    theta = np.linalg.lstsq(np.column_stack([np.ones(60), X]), y, rcond=None)[0]
    assert np.allclose(theta, [2.0, 1.5, -1.0, 0.5], atol=0.5)
    x, t = donnees_polynomiales(30, rng=5)
    assert x.shape == t.shape == (30,) and np.all(np.diff(x) >= 0)


def test_grad_peaks_and_minima():
    for point in ([0.3, -0.7], [-1.2, 0.4], [1.1, 1.3]):
        fd = fd_gradient(lambda q: peaks(q[0], q[1]), np.array(point), 1e-6)
        assert np.allclose(fd, grad_peaks(point), atol=1e-7)
    assert peaks(0.2283, -1.6255) == pytest.approx(-6.5511, abs=1e-3)


def test_relative_error():
    assert erreur_relative([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert erreur_relative([1.0], [3.0]) == pytest.approx(0.5)
    assert erreur_relative([0.0], [0.0]) == 0.0


def test_kernel_import_is_cheap():
    code = ("import sys, tp1; heavy = [m for m in ('torch', 'sklearn', 'scipy', 'matplotlib') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": f"{ROOT}:{KERNEL.parent}", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]" and out.stderr == ""


@pytest.mark.parametrize("path", sorted(KERNEL.glob("*.py")), ids=lambda p: p.name)
def test_kernel_never_names_a_framework(path: Path):
    """TP1 is NumPy-only: the sandbox hides the frameworks from its kernel altogether."""
    text = path.read_text(encoding="utf-8")
    for name in ("torch", "keras", "tensorflow", "jax"):
        assert name not in text, (path.name, name)
