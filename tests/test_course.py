"""The real course: every TP with a master grades 20/20 from solutions/ and 0/20 as released,
its starter is exactly what `grader release` makes, and nothing of the answers leaks."""

import pytest

from grader.config import load_course
from grader.grading import grade_tp
from grader.notebooks import starter_text
from grader.results import Status

COURSE = load_course()
TPS = [tp for tp in COURSE.tps.values() if COURSE.master(tp).exists()]
# Keras TPs are graded under every backend they support (the kernel inherits KERAS_BACKEND).
GRADED = [(tp, backend) for tp in TPS for backend in (tp.keras_backends or (None,))]


def _ids(param):
    tp, backend = param
    return tp.name + (f"-{backend}" if backend else "")


@pytest.fixture(params=GRADED, ids=[_ids(p) for p in GRADED])
def graded(request, monkeypatch):
    tp, backend = request.param
    if backend:
        monkeypatch.setenv("KERAS_BACKEND", backend)
    return tp


@pytest.mark.parametrize("tp", TPS, ids=lambda tp: tp.name)
def test_starter_is_in_sync_with_master(tp):
    starter = COURSE.folder(tp) / tp.notebook_name
    assert starter.exists(), f"run `make release` to create {starter}"
    assert starter.read_text(encoding="utf-8") == starter_text(COURSE.master_notebook(tp)), (
        f"{starter} is out of sync with solutions/{tp.notebook_name}: run `make release`")


@pytest.mark.parametrize("tp", TPS, ids=lambda tp: tp.name)
def test_starter_leaks_no_answer(tp):
    text = (COURSE.folder(tp) / tp.notebook_name).read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "hidden=True"):
        assert marker not in text
    assert '"outputs": []' in text and '"image/png"' not in text


def test_master_scores_20(graded):
    tp = graded
    r = grade_tp(COURSE, tp, COURSE.master(tp), seed=11, feedback=False)
    failures = {c.grade_id: (c.status, c.message, c.fault) for c in r.cells
                if c.status != Status.PASSED}
    assert not failures and r.hidden
    assert r.max_score == 20 and r.grade == 20


def test_starter_scores_0_all_to_complete(graded):
    tp = graded
    r = grade_tp(COURSE, tp, COURSE.folder(tp) / tp.notebook_name, seed=11, feedback=False)
    assert r.grade == 0 and r.problem is None
    assert {c.status for c in r.cells} == {Status.INCOMPLETE}, [(c.grade_id, c.message) for c in r.cells]
