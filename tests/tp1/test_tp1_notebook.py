"""TP1's master notebook and its check() in a notebook: metadata, the exercises' targets, the
specifications the judge replays, and what check() says."""

import numpy as np
import pytest

from grader.masters import Master
from grader.notebooks import is_written
from grader.protocol import CheckFailed
from judges.tp1 import CHECKS
from judges.tp1.regression import _cout

MASTER = Master(CHECKS.exercises.folder.parent.parent / "solutions" / "tp1_gradient.ipynb")


def _stub(*args, **kwargs):
    raise NotImplementedError()


def test_master_metadata():
    nb = MASTER.notebook
    assert nb.nbformat == 4 and nb.metadata.kernelspec.name == "python3"
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "%matplotlib inline" in first.source and "from tp1 import" in first.source
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        assert meta["schema_version"] == 3 and {"grade", "solution", "locked"} <= set(meta)
        if is_written(cell):  # a written answer (course_suite checks those)
            continue
        if meta["solution"]:
            assert cell.cell_type == "code"
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        if cell.cell_type == "markdown":
            assert not meta["grade"] and not meta["solution"]


def test_targets_defined_by_master_solution_cells():
    ns = MASTER.ns()
    for name in CHECKS:
        for target in CHECKS.exercise(name).targets:
            assert callable(ns.get(target)), target


def test_notebook_states_what_the_judge_replays():
    text = "\n".join(c.source for c in MASTER.notebook.cells)
    for words in ("$w = 0$", "$b = 0$", "dans l'ordre donné", "première époque sans erreur",
                  "n_epochs_max", "rng = np.random.default_rng(graine)",
                  "ordre = rng.permutation(n)", "ordre[k:k + taille_batch]",
                  "gradient **moyen**", "n_epochs + 1", "biais $w_0$ n'est pas pénalisé",
                  "lam"):
        assert words in text, words


def _check(name, ns):
    exec(compile(f"check({name!r})", "<test>", "exec"), {**ns, "check": CHECKS.exercises.check})


def test_check_in_notebook_prints_and_raises(capsys):
    _check("cout_mse", MASTER.ns())
    assert "✔ cout_mse" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="division par n"):
        _check("cout_mse", MASTER.ns(cout_mse=_cout("somme")))
    with pytest.raises(NotImplementedError, match="à compléter"):
        _check("cout_mse", MASTER.ns(cout_mse=_stub))


def test_check_refuses_a_random_sgd():
    def sgd(X, y, taille_batch, pas, n_epochs, graine=0):
        return np.random.default_rng().normal(size=X.shape[1] + 1), np.ones(n_epochs + 1)

    with pytest.raises(CheckFailed, match="même graine"):
        _check("sgd", MASTER.ns(sgd=sgd))
