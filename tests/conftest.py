"""Helpers for grading small notebooks of the test TP (tests/toy) in the real sandbox."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest

from grader.config import ROOT, load_course
from grader.grading import TPResult, grade_tp
from grader.notebooks import release

TOY_COURSE_TOML = ROOT / "tests" / "toy" / "course.toml"
TOY_COURSE = load_course(TOY_COURSE_TOML)
TOY = TOY_COURSE.tp("toy")
TOY_MASTER = TOY_COURSE.master(TOY)
sys.path.insert(0, str(TOY_COURSE.folder(TOY)))  # the toy's kernel package, as for real TPs
FAST_LIMITS = TOY_COURSE.limits  # short: a runaway cell costs seconds, not minutes


def master() -> nbformat.NotebookNode:
    return nbformat.read(TOY_MASTER, as_version=4)


def starter() -> nbformat.NotebookNode:
    return release(master())


def solution_cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def with_answer(nb, grade_id: str, source: str):
    """`nb` with the solution cell `grade_id` replaced by `source`."""
    solution_cell(nb, grade_id).source = source
    return nb


def prepend(nb, source: str):
    """`nb` with a code cell `source` inserted first (before the imports)."""
    nb.cells.insert(0, nbformat.v4.new_code_cell(source))
    return nb


TOY_COURSE_TEXT = """
[course]
name = "Cours de test"
cell_timeout_s = 5
notebook_timeout_s = 60
memory_limit_gb = 8
file_size_limit_mb = 50
max_processes = 1024

[tp.toy]
title = "TP de test"
weight = 1
deadline = 2030-01-01T00:00:00+01:00

[tp.toy2]
title = "Second TP de test"
weight = 3
deadline = 2030-02-01T00:00:00+01:00

[late_policy]
mode = "penalty"
points_per_day = 2.0
"""


def make_toy_course(root: Path) -> Path:
    """A course directory with toy and toy2 (same content): course.toml, kernel packages and
    public tables, judges, masters, and the student pipeline."""
    toy = ROOT / "tests" / "toy"
    (root / "solutions").mkdir(parents=True)
    (root / "judges").mkdir()
    (root / "course.toml").write_text(TOY_COURSE_TEXT, encoding="utf-8")
    (root / ".gitlab-ci.yml").write_text((ROOT / ".gitlab-ci.yml").read_text())
    shutil.copy(toy / "judges" / "__init__.py", root / "judges" / "__init__.py")
    for name in ("toy", "toy2"):
        shutil.copytree(toy / "toy" / "toy", root / name / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
        (root / "judges" / name).mkdir()
        judge = (toy / "judges" / "toy" / "__init__.py").read_text()
        (root / "judges" / name / "__init__.py").write_text(
            judge.replace("from toy import EXERCISES", f"from {name} import EXERCISES"))
        nb = master()
        nb.cells[1].source = nb.cells[1].source.replace("from toy import", f"from {name} import")
        nbformat.write(nb, root / "solutions" / f"{name}.ipynb")
    return root


@pytest.fixture
def course(tmp_path):
    return make_toy_course(tmp_path / "cours")


WRONG = {  # plausible wrong answers for both toy exercises
    "carre_sol": "def carre(x):\n    return 2 * x",
    "moyenne_sol": "def moyenne_colonnes(m):\n    return m.sum(axis=0)",
}


def wrong() -> nbformat.NotebookNode:
    nb = master()
    for gid, src in WRONG.items():
        with_answer(nb, gid, src)
    return nb


@pytest.fixture
def grade(tmp_path):
    """grade(nb or raw text or None) -> TPResult, for the toy TP, with hidden cases."""

    def _grade(submission, **kw) -> TPResult:
        path = tmp_path / "toy.ipynb"
        if isinstance(submission, (str, bytes)):
            path.write_bytes(submission if isinstance(submission, bytes) else submission.encode())
        elif submission is not None:
            nbformat.write(submission, path)
        kw.setdefault("seed", 7)
        kw.setdefault("feedback", False)
        course = replace(TOY_COURSE, limits=kw.pop("limits", FAST_LIMITS))
        tp = kw.pop("tp", TOY)
        return grade_tp(replace(course, tps={tp.name: tp}), tp, path, **kw)

    return _grade


def points(result: TPResult) -> dict[str, float]:
    return {c.grade_id: c.points for c in result.cells}


def dump(result: TPResult) -> str:
    return json.dumps({c.grade_id: [c.points, c.status, c.message] for c in result.cells},
                      ensure_ascii=False)
