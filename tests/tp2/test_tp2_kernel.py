"""TP2's kernel side and master notebook: a cheap package import, a silent and reproducible Keras
set-up under both backends, quiet Keras calls in the master, the data splits the judge uses."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from grader.config import ROOT
from grader.masters import Master
from keras_helpers import quiet_keras_calls

MASTER = Master(ROOT / "solutions" / "tp2_mlp.ipynb")
PYTHONPATH = f"{ROOT}:{ROOT / 'tp2_mlp'}:{ROOT / 'tp3_cnn'}"




def test_master_imports_the_kernel_package_and_calls_keras_quietly():
    nb = MASTER.notebook
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "%matplotlib inline" in first.source and "from tp2 import" in first.source
    assert 'os.environ.setdefault("KERAS_BACKEND"' in first.source
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta and cell.cell_type == "code" and not meta["grade"]:
            quiet_keras_calls(cell.source, meta["grade_id"])


@pytest.mark.parametrize("package", ["tp2", "tp3"])
def test_kernel_package_import_is_cheap(package):
    code = (f"import sys, {package}; heavy = [m for m in ('keras', 'tensorflow', 'torch', "
            "'sklearn', 'matplotlib', 'judges') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": PYTHONPATH, "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]" and out.stderr == ""


@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_preparer_keras_is_silent_and_reproducible(backend):
    code = ("import os; os.environ['KERAS_BACKEND'] = {b!r}\n"
            "from course.keras_tools import preparer_keras\nk = preparer_keras(3)\n"
            "import numpy as np\n"
            "def run():\n    k.utils.set_random_seed(3)\n"
            "    m = k.Sequential([k.Input((4,)), k.layers.Dense(3), k.layers.Dense(1)])\n"
            "    m.compile('adam', 'mse')\n"
            "    m.fit(np.ones((8, 4)), np.ones(8), epochs=2, verbose=0)\n"
            "    return m.get_weights()[0]\n"
            "print(k.backend.backend(), bool(np.array_equal(run(), run())))")
    out = subprocess.run([sys.executable, "-c", code.format(b=backend)], capture_output=True,
                         text=True, check=True,
                         env={"PYTHONPATH": PYTHONPATH, "PATH": os.environ["PATH"],
                              "HOME": os.environ.get("HOME", "/tmp")})
    assert out.stdout.split() == [backend, "True"]
    assert out.stderr == "", out.stderr[:500]


def test_the_digits_are_the_courses_split():
    from course.digits import split
    from tp2 import charger_chiffres

    assert all(np.array_equal(a, b) for a, b in zip(charger_chiffres(), split()))


def test_the_judge_standardises_with_the_training_statistics():
    """The data the judge measures the archetypes on: the notebook's own preparation."""
    from judges.tp2.models import standardised
    from tp2 import charger_diabete

    X_train, X_test, y_train, y_test = charger_diabete()
    data = standardised("diabete")
    sd = X_train.std(axis=0)
    assert np.allclose(data["_X"], (X_test - X_train.mean(axis=0)) / sd)
    assert np.allclose(data["_y_app"], (y_train - y_train.mean()) / y_train.std())
