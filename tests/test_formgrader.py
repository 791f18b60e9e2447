"""Written answers graded in the browser: `grader formgrader` starts a real JupyterLab with
nbgrader's formgrader on the official work dir; the instructor reads an answer beside the
judge's verdicts, gives points and a comment through formgrader's own HTTP API, and the grade
of record, re-grading, feedback and the student's per-commit report all follow."""

import json
from dataclasses import asdict

import nbformat
import pytest

from conftest import make_toy_course, master, solution_cell, with_answer
from formgrader_client import Formgrader
from grader.collect import Submission, manifest_path
from grader.config import load_course
from grader.exports import tp_grades
from grader.official import autograde
from grader.report import tp_block
from grader.returns import feedback_page

ATTACK = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def answered(nb, text):
    solution_cell(nb, "reponse_moyenne").source = text
    return nb


@pytest.fixture
def graded_class(tmp_path):
    """The toy TP with written answers worth 1.5 points, graded: alice (all right, an answer
    with hostile HTML in it) and bob (moyenne wrong, no answer written)."""
    root = make_toy_course(tmp_path / "cours")
    toml = root / "course.toml"
    toml.write_text(toml.read_text().replace('title = "TP de test"',
                                             'title = "TP de test"\nwritten_points = 1.5', 1))
    course = load_course(toml)
    tp = course.tp("toy")
    work = tmp_path / "var"
    notebooks = {"alice": answered(master(), f"Parce que `axis=0` parcourt les lignes. {ATTACK}"),
                 "bob": with_answer(master(), "moyenne_sol",
                                    "def moyenne_colonnes(m):\n    return m.sum(axis=0)")}
    subs = []
    for student, nb in notebooks.items():
        path = work / "collected" / "toy" / student / "toy.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
        subs.append(Submission(student, f"{student.capitalize()} Martin", notebook=str(path)))
    manifest_path(work, tp).write_text(json.dumps([asdict(s) for s in subs]))
    results = autograde(course, tp, work)
    return course, tp, work, results


def test_written_answers_are_graded_in_formgrader(graded_class):
    course, tp, work, results = graded_class
    db = f"sqlite:///{work / 'gradebook.db'}"
    # before: the tests' points only, out of 5 + 1.5, and the report says what is pending
    assert tp_grades(course, tp, db) == {"alice": round(20 * 5 / 6.5, 2),
                                         "bob": round(20 * 2 / 6.5, 2)}
    assert "Réponses écrites : 1.5 point(s) en attente" in tp_block(results["alice"])

    fg = Formgrader(course, work)
    try:
        subs = {s["student"]: s for s in fg.json("/formgrader/api/submitted_notebooks/toy/toy")}
        assert subs["alice"]["needs_manual_grade"] and subs["alice"]["max_written_score"] == 1.5
        page = fg.get(f"/formgrader/submissions/{subs['alice']['id']}/")
        assert "Parce que <code>axis=0</code> parcourt les lignes." in page
        assert "Correcteur : réussi, 3/3 pt" in page  # the judge's verdict beside the code
        # the hostile HTML is shown as text, never as tags the browser would run
        assert "&lt;img src=x onerror=alert(1)&gt;" in page
        assert "<script>alert" not in page and "<img src=x" not in page and \
            '<img src="x"' not in page
        bob_page = fg.get(f"/formgrader/submissions/{subs['bob']['id']}/")
        assert "la moyenne par colonne est fausse" in bob_page

        for student, score in (("alice", 1.5), ("bob", 0.5)):
            grades = fg.json(f"/formgrader/api/grades?submission_id={subs[student]['id']}")
            written = next(g for g in grades if g["name"] == "reponse_moyenne")
            assert written["needs_manual_grade"] and written["auto_score"] is None
            fg.request(f"/formgrader/api/grade/{written['id']}", {"manual_score": score})
        comments = fg.json(f"/formgrader/api/comments?submission_id={subs['bob']['id']}")
        comment = next(c for c in comments if c["name"] == "reponse_moyenne")
        fg.request(f"/formgrader/api/comment/{comment['id']}",
                   {"manual_comment": "Une phrase suffit, mais il en faut une."})
    finally:
        fg.close()

    expected = {"alice": 20.0, "bob": round(20 * 2.5 / 6.5, 2)}
    assert tp_grades(course, tp, db) == expected
    autograde(course, tp, work)  # re-grading keeps the instructors' points
    assert tp_grades(course, tp, db) == expected
    feedback = feedback_page(work, db, tp, "bob")
    assert "Une phrase suffit, mais il en faut une." in feedback


def test_hostile_outputs_never_reach_the_instructors_browser():
    from grader.formgrader import sanitized

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        f"**gras** $a < b$ {ATTACK}<style>body{{display:none}}</style>"),
        nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
            "display_data", data={"text/html": ATTACK, "application/javascript": "alert(3)",
                                  "image/svg+xml": "<svg onload=alert(4)></svg>",
                                  "text/markdown": ATTACK, "image/png": "iVBORw0KGgo="}),
            nbformat.v4.new_output("display_data", data={  # out of its attribute, raw LaTeX
                "image/jpeg": "x' onerror='alert(5)", "text/latex": "<img src=y onerror=a>"})])])
    clean = sanitized(nb)
    text = json.dumps(clean)
    for bad in ("<script", "<img src=x", "<style", "<svg", "alert(3)", "alert(5)"):
        assert bad not in text, bad
    first, second = (o.data for o in clean.cells[1].outputs)
    assert set(first) == {"text/html", "text/plain", "image/png"}
    assert set(second) == {"text/plain"}  # the LaTeX, as text
    assert "**gras**" in sanitized(nb).cells[0].source
