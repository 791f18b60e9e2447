"""The similarity report on a class collected from real git repositories.

Students of the synthetic regression TP (tests/similarity_class.py): three independent correct
solutions in different styles, a copy of one of them (variables renamed, functions reordered,
one moved to a cell of its own, later commit), two notebooks sharing only the starter, one with
hostile cells (a megabyte of code, a lone surrogate, a bad grade_id), a broken notebook and a
student without a repository. The copy ranks first, above the threshold;
nothing else does; students' text never renders as HTML.
"""

import csv
import json
import re

import nbformat
import pytest

import similarity_class as sc
from grader.collect import collect
from grader.config import CourseError, load_course
from grader.similarity import DEFAULT_THRESHOLD, answers, compare, similarity_report, \
    threshold_for
from test_workflow import git

COURSE = """[course]
name = "Cours de test"
cell_timeout_s = 5
notebook_timeout_s = 60
memory_limit_gb = 1
file_size_limit_mb = 5
max_processes = 64
{extra}
[tp.regression]
title = "TP de régression"
weight = 1
deadline = 2030-01-01T00:00:00+01:00
"""
HOSTILE = "</pre><script>alert('copie')</script><img src=x onerror=alert(1)>"
HABITS = [{k: v[i % len(v)] for k, v in sc.SLOTS.items()} for i in range(3)]


def cells(master):
    """(solution grade_ids, other grade_ids) of the master's code cells."""
    ids = [c.metadata.nbgrader.grade_id for c in master.cells if c.cell_type == "code"]
    sols = [c.metadata.nbgrader.grade_id for c in master.cells if c.metadata.nbgrader.solution]
    return sols, set(ids) - set(sols)


def _own(start, gid, code):
    """The starter with one exercise answered by `code` (not one of the styles)."""
    nb = sc.student(start, {}, HABITS[0])
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
    cell.source = re.sub(r"# VOTRE CODE ICI\n\s*raise NotImplementedError\(\)", code, cell.source)
    return nb


def _copy(original):
    """alice's notebook as david hands it in: renamed, reordered, propagation_avant moved to a
    cell he added at the end."""
    nb = sc.disguise(original, sc.RENAMES)
    cell = next(c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "sol_reseau")
    backprop, forward = cell.source.split("\n\ndef propagation_avant")
    cell.source = backprop
    nb.cells.append(nbformat.v4.new_code_cell("def propagation_avant" + forward))
    return nb


def notebooks(start) -> dict[str, tuple[str, str]]:
    alice = sc.student(start, {g: 0 for g in sc.EXERCISES}, HABITS[0])
    study = next(c for c in alice.cells if c.metadata.get("nbgrader", {}).get("grade_id") ==
                 "sol_etude_pas")
    study.source = study.source.replace("plt.legend()", f'plt.legend(title="{HOSTILE}")')
    bruno = sc.student(start, {g: 1 for g in sc.EXERCISES}, HABITS[1], [sc.HELPER])
    chloe = sc.student(start, {g: 2 for g in sc.EXERCISES}, HABITS[2])
    emma = _own(start, "sol_cout_mse", "return np.mean(np.square(X.dot(theta[1:]) + theta[0] - y))")
    farid = _own(start, "sol_moindres_carres",
                 "return np.linalg.pinv(np.c_[np.ones(len(X)), X]) @ y")
    ines = sc.student(start, {}, HABITS[0], ["x = 1\n" * 200_000, "s = '\ud800'"])
    ines.cells[-1].metadata["nbgrader"] = {"grade_id": ["pas", "un", "texte"]}
    text = nbformat.writes
    return {"alice": (text(alice), "2029-12-20T18:00:00+01:00"),
            "bruno": (text(bruno), "2029-12-21T09:30:00+01:00"),
            "chloe": (text(chloe), "2029-12-29T22:15:00+01:00"),
            "david": (text(_copy(alice)), "2029-12-31T23:50:00+01:00"),
            "emma": (text(emma), "2029-12-22T10:00:00+01:00"),
            "farid": (text(farid), "2029-12-23T11:00:00+01:00"),
            "ines": (json.dumps(ines), "2029-12-23T12:00:00+01:00"),  # \ud800: escaped, valid
            "gaspard": ('{"cells": [ pas du json', "2029-12-24T12:00:00+01:00")}


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """The course, the TP and the collected class (real git repositories, `collect`)."""
    tmp = tmp_path_factory.mktemp("similarite")
    root = tmp / "cours"
    (root / "solutions").mkdir(parents=True)
    (root / "course.toml").write_text(COURSE.format(extra=""), encoding="utf-8")
    master = sc.master_notebook()
    nbformat.write(master, root / "solutions" / "regression.ipynb")
    rows = ["id,name,git_url"]
    for sid, (text, date) in notebooks(sc.starter(master)).items():
        repo = tmp / "depots" / sid
        (repo / "regression").mkdir(parents=True)
        git("init", "-q", "-b", "main", cwd=repo)
        (repo / "regression" / "regression.ipynb").write_text(text, encoding="utf-8")
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", "TP rendu", cwd=repo, date=date)
        rows.append(f"{sid},{sid.capitalize()} <b>Martin</b>,{repo}")
    rows.append(f"hugo,Hugo Petit,{tmp / 'depots' / 'absent'}")
    (tmp / "roster.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    course = load_course(root / "course.toml")
    tp = course.tp("regression")
    work = tmp / "var"
    collect(course, tp, tmp / "roster.csv", work)
    html, table, pairs = similarity_report(course, tp, work)
    return {"course": course, "tp": tp, "work": work, "html": html, "csv": table,
            "pairs": {frozenset((p.a, p.b)): p for p in pairs}, "ranked": pairs}


def test_the_renamed_copy_ranks_first_and_alone_above_the_threshold(klass):
    first, *others = klass["ranked"]
    assert {first.a, first.b} == {"alice", "david"}
    assert first.flagged and first.score >= DEFAULT_THRESHOLD
    assert not any(p.flagged or p.score >= DEFAULT_THRESHOLD for p in others), others[:3]
    assert len(klass["ranked"]) == 21  # seven readable notebooks; gaspard's and hugo's left out


def test_independent_styles_and_the_starter_are_not_copying(klass):
    pairs = klass["pairs"]
    for a, b in [("alice", "bruno"), ("alice", "chloe"), ("bruno", "chloe"),
                 ("david", "bruno"), ("david", "chloe")]:
        assert pairs[frozenset((a, b))].score < 0.5, (a, b, pairs[frozenset((a, b))])
    assert pairs[frozenset(("emma", "farid"))].score == 0


def test_without_the_starter_as_boilerplate_the_starter_pair_would_look_copied(klass):
    """What the boilerplate is for: emma's and farid's notebooks are almost all starter."""
    from grader.collect import load_manifest

    subs = {s.student: s for s in load_manifest(klass["work"], klass["tp"])}
    sols, given = cells(nbformat.read(klass["course"].master(klass["tp"]), as_version=4))
    docs = [answers(nbformat.read(subs[s].notebook, as_version=4), s, subs[s], sols, given)
            for s in ("emma", "farid")]
    pair = compare(docs, "", DEFAULT_THRESHOLD)[0]
    assert pair.flagged and pair.score > 0.8


def test_the_report_shows_passages_side_by_side_with_commit_dates_and_escapes(klass):
    html = klass["html"].read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;/pre&gt;&lt;script&gt;" in html  # alice's string, copied by david, as text
    assert "&lt;b&gt;Martin&lt;/b&gt;" in html and "<b>Martin" not in html
    assert "default-src 'none'" in html
    assert "20/12/2029 18:00 (+0100)" in html and "31/12/2029 23:50 (+0100)" in html
    assert "cellules ajoutées" in html and "sol_reseau" in html and "<mark>" in html
    assert "gaspard : copie illisible" in html and "hugo : pas de copie" in html
    assert "Une ressemblance n'est pas une preuve" in html


def test_the_csv_has_every_pair_ranked(klass):
    with open(klass["csv"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 21
    assert {rows[0]["etudiant_a"], rows[0]["etudiant_b"]} == {"alice", "david"}
    assert [r["au_dessus_du_seuil"] for r in rows].count("oui") == 1
    scores = [float(r["similarite"]) for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_it_reports_and_never_grades(klass):
    assert not (klass["work"] / "gradebook.db").exists()
    assert sorted(p.name for p in (klass["work"] / "reports").iterdir()) == [
        "regression_similarite.csv", "regression_similarite.html"]


def test_the_threshold_is_a_course_setting(tmp_path):
    def course(extra):
        (tmp_path / "course.toml").write_text(COURSE.format(extra=extra), encoding="utf-8")
        return load_course(tmp_path / "course.toml")

    assert threshold_for(course("")) == DEFAULT_THRESHOLD
    assert threshold_for(course("similarity_threshold = 0.6")) == 0.6
    for bad in ("0", "1.5", '"80 %"', "true"):
        with pytest.raises(CourseError, match="similarity_threshold"):
            threshold_for(course(f"similarity_threshold = {bad}"))


def test_in_a_random_class_the_whole_copies_come_first():
    """40 students with habits and styles drawn at random, 3 whole (disguised) copies."""
    from grader.collect import Submission
    from grader.similarity import _code

    master = sc.master_notebook()
    start = sc.starter(master)
    nbs, whole, _ = sc.random_class(start, 40, seed=0)
    sols, given = cells(master)
    docs = [answers(nb, s, Submission(s, s), sols, given) for s, nb in nbs.items()]
    pairs = compare(docs, _code(start), DEFAULT_THRESHOLD)
    assert {frozenset((p.a, p.b)) for p in pairs if p.flagged} == {frozenset(c) for c in whole}


def test_the_command_line_prints_the_flagged_pairs(klass):
    import subprocess
    import sys

    from grader.config import ROOT

    proc = subprocess.run([sys.executable, "-m", "grader", "--course",
                           str(klass["course"].root / "course.toml"), "similarite", "--tp",
                           klass["tp"].name, "--work", str(klass["work"])],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "alice ↔ david" in proc.stdout or "david ↔ alice" in proc.stdout
    assert "pas une preuve" in proc.stdout
