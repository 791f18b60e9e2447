"""Grading a class: one student's notebook, however broken or hostile, never stops or skews the
others. Each case is graded with `autograde` beside good copies; every student gets a recorded
result with a French reason, and the good copies their full grade."""

import json
import os
import signal
import threading
import time
from dataclasses import asdict

import nbformat
import pytest

from conftest import make_toy_course, master
from processes import cmdline, descendants
from grader.collect import Submission, manifest_path, read_roster
from grader.config import CourseError, load_course
from grader.exports import notes as grader_notes, tp_grades
from grader.official import autograde
from grader.results import Status


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _with_cell(cell) -> str:
    nb = master()
    nb.cells.insert(2, cell)
    return nbformat.writes(nb)


def _duplicated_test_cell() -> str:
    nb = master()
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    copy = nbformat.from_dict(json.loads(json.dumps(test)))
    copy["id"] = "copie-collee"
    nb.cells.insert(2, copy)
    return nbformat.writes(nb)


def _invalid_ids() -> str:
    data = json.loads(nbformat.writes(master()))
    data["cells"][0]["id"] = "pas un id valide ! " * 10
    data["cells"][2]["id"] = ""
    return json.dumps(data)


KERNEL_SENDS_DEEP = ("from IPython.display import display\nx = []\nfor _ in range(20000):\n"
                     "    x = [x]\ndisplay({'application/json': x}, raw=True)")

BROKEN = {  # student -> notebook text
    "profond": '{"cells": ' + _nested(3000) + ', "nbformat": 4}',
    "marqueur": _with_cell(nbformat.v4.new_markdown_cell(
        "Dans le corrigé :\n```\n### BEGIN HIDDEN TESTS\ncheck('carre', hidden=True)\n```")),
    "doublon": _duplicated_test_cell(),
    "message": _with_cell(nbformat.v4.new_code_cell(KERNEL_SENDS_DEEP)),
    "ids": _invalid_ids(),
}
GOOD = ("alice", "zoe")


def _class(tmp_path, notebooks: dict[str, str]):
    root = make_toy_course(tmp_path / "cours")
    course = load_course(root / "course.toml")
    tp = course.tp("toy")
    work = tmp_path / "var"
    subs = []
    for student, text in notebooks.items():
        path = work / "collected" / "toy" / student / "toy.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        subs.append(Submission(student, student.capitalize(), notebook=str(path)))
    manifest_path(work, tp).write_text(json.dumps([asdict(s) for s in subs]))
    return course, tp, work


def test_broken_notebooks_are_recorded_and_the_class_graded(tmp_path):
    notebooks = {"alice": nbformat.writes(master()), **BROKEN,
                 "zoe": nbformat.writes(master())}
    course, tp, work = _class(tmp_path, notebooks)
    results = autograde(course, tp, work, jobs=2)
    grades = tp_grades(course, tp, f"sqlite:///{work / 'gradebook.db'}")
    assert set(grades) == set(notebooks)
    assert all(grades[s] == 20.0 for s in GOOD), grades
    assert grades["profond"] == 0 and "imbriquée" in results["profond"].problem
    assert grades["doublon"] == 20.0  # a test cell judged once, whatever its copies
    assert grades["marqueur"] == 20.0 and grades["ids"] == 20.0
    assert grades["message"] == 20.0  # the deep message was dropped unread
    feedback = (work / "feedback" / "toy" / "marqueur.html").read_text()
    assert 'check("carre", hidden=True)' not in feedback  # the master's hidden test
    assert "check('carre', hidden=True)" in feedback  # the student's own text, quoted
    notes = grader_notes(work)["toy"]
    assert "imbriquée" in notes["profond"]["note"]


def test_a_grading_process_killed_midway_costs_that_student_only(tmp_path):
    """A grading process that dies (segfault, OOM killer) takes one notebook with it: that
    student's result is recorded as a grader fault, a fresh process grades the others."""
    slow = master()
    slow.cells.insert(2, nbformat.v4.new_code_cell("import time\ntime.sleep(40)"))
    notebooks = {"lent": nbformat.writes(slow), "alice": nbformat.writes(master()),
                 "zoe": nbformat.writes(master())}
    course, tp, work = _class(tmp_path, notebooks)
    killed = []

    def kill_the_first_grading_process():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            for pid in descendants(os.getpid()):
                if "grader.class_grading" in cmdline(pid) and any("ipykernel_launcher" in cmdline(p) for p in descendants(pid)):
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_the_first_grading_process)
    killer.start()
    results = autograde(course, tp, work, jobs=1)
    killer.join()
    assert killed
    assert results["lent"].cells[0].status == Status.GRADER_FAULT and results["lent"].grade == 0
    assert results["alice"].grade == 20 and results["zoe"].grade == 20
    notes = grader_notes(work)["toy"]
    assert "erreur(s) du correcteur" in notes["lent"]["note"]


def test_the_grade_of_record_fails_closed_without_sandbox(tmp_path, monkeypatch):
    import grader.official

    course, tp, work = _class(tmp_path, {"alice": nbformat.writes(master())})
    monkeypatch.setattr(grader.official, "isolation_problem", lambda: "pas de bwrap ici")
    with pytest.raises(CourseError, match="--allow-unsandboxed"):
        autograde(course, tp, work)
    assert not (work / "gradebook.db").exists()


@pytest.mark.parametrize("bad_id", ["../evil", "a/b", "..", "", "x" * 100, "é\n"])
def test_roster_ids_are_validated(tmp_path, bad_id):
    roster = tmp_path / "roster.csv"
    roster.write_text(f"id,name,git_url\nalice,Alice,/x\n{bad_id},Eve,/y\n", encoding="utf-8")
    with pytest.raises(CourseError, match="identifiant|colonnes"):
        read_roster(roster)
