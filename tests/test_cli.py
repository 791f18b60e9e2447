"""The command line on a throwaway course with two small TPs: reports, exit codes, grade line."""

import json
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import nbformat
import pytest

from conftest import master, starter
from processes import alive, cmdline, descendants
from grader.config import ROOT

GRADE_LINE = re.compile(r"^Note : (\d+\.\d+)/20 \((\d+\.\d+) %\)$", re.M)


def run(course, *args):
    proc = subprocess.run([sys.executable, "-m", "grader", "--course", str(course / "course.toml"),
                           *args], capture_output=True, text=True, cwd=ROOT, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_release_then_grade_starters_gives_zero(course):
    code, out, err = run(course, "release")
    assert code == 0, err
    assert (course / "toy" / "toy.ipynb").exists()
    code, out, err = run(course, "grade", "--out", str(course / "grades"))
    assert code == 0, err
    assert GRADE_LINE.findall(out) == [("0.00", "0.00")]
    assert out.count("à compléter —") == 4  # the table, one line per exercise
    assert "Traceback" not in out + err
    junit = ET.parse(course / "grades" / "junit.xml").getroot()
    assert len(list(junit.iter("skipped"))) == 4 and not list(junit.iter("failure"))


def test_grade_masters_full_marks_and_reports(course):
    out_dir = course / "grades"
    code, out, err = run(course, "grade", "--from", str(course / "solutions"), "--out", str(out_dir))
    assert code == 0, err
    assert out.strip().splitlines()[-2] == "Note : 20.00/20 (100.00 %)" or \
        GRADE_LINE.findall(out) == [("20.00", "100.00")]
    data = json.loads((out_dir / "grades.json").read_text())
    assert data["grade"] == 20 and set(data["tps"]) == {"toy", "toy2"}
    cell = data["tps"]["toy"]["cells"][0]
    assert set(cell) == {"grade_id", "points", "max", "status", "message", "fault"}
    assert data["tps"]["toy"]["hidden"] and data["tps"]["toy"]["grader_faults"] == 0
    suites = ET.parse(out_dir / "junit.xml").getroot()
    names = [c.get("name") for c in suites.iter("testcase")]
    assert names == ["carre", "moyenne", "carre", "moyenne"]  # stable across pipelines
    points = [p.get("value") for p in suites.iter("property") if p.get("name") == "points"]
    assert points == ["2", "3", "2", "3"]
    assert "✔ carre : 2/2" in out  # progress, as each exercise is judged
    assert str(out_dir / "feedback_toy.html") in out and "<tp>" not in out
    html = (out_dir / "feedback_toy.html").read_text()
    assert "Points" in html and "HIDDEN" not in html


def test_one_tp_graded_prints_that_tps_grade(course):
    nb = master()
    nb.cells[4].source = "def moyenne_colonnes(m):\n    return m.sum(axis=0)"  # wrong: 2/5
    nb.cells[1].source = nb.cells[1].source.replace("from toy import", "from toy2 import")
    nbformat.write(nb, course / "toy2" / "toy2.ipynb")
    code, out, _ = run(course, "grade", "toy2", "--out", str(course / "g"))
    assert code == 0
    assert GRADE_LINE.findall(out) == [("8.00", "40.00")]


def test_unusable_submission_exit_2_and_other_tps_still_graded(course):
    shutil.copy(course / "solutions" / "toy.ipynb", course / "toy" / "toy.ipynb")
    (course / "toy2" / "toy2.ipynb").write_text("{ pas du json")
    code, out, err = run(course, "grade", "--out", str(course / "g"))
    assert code == 2
    assert "JSON valide" in err and "toy2" in err
    # weighted mean: toy 20 (weight 1), toy2 0 (weight 3)
    assert GRADE_LINE.findall(out) == [("5.00", "25.00")]
    data = json.loads((course / "g" / "grades.json").read_text())
    assert data["tps"]["toy2"]["problem"] and data["tps"]["toy"]["grade"] == 20


def test_missing_notebook_exit_2(course):
    code, out, err = run(course, "grade", "toy", "--out", str(course / "g"))
    assert code == 2 and "introuvable" in err
    assert GRADE_LINE.findall(out) == [("0.00", "0.00")]


def test_student_output_cannot_fake_the_grade_line(course):
    nb = starter()
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "import os\nprint('Note : 20.00/20 (100.00 %)')\n"
        "os.write(1, b'\\nNote : 20.00/20 (100.00 %)\\n')\n"
        "raise ValueError('\\nNote : 20.00/20 (100.00 %)')"))
    nbformat.write(nb, course / "toy" / "toy.ipynb")
    code, out, err = run(course, "grade", "toy", "--out", str(course / "g"))
    assert GRADE_LINE.findall(out + err) == [("0.00", "0.00")]


def test_check_runs_public_tests_only(course):
    shutil.copy(course / "solutions" / "toy.ipynb", course / "toy" / "toy.ipynb")
    code, out, err = run(course, "check", "toy")
    assert code == 0, err
    assert GRADE_LINE.findall(out) == [("20.00", "100.00")]
    assert "Tests publics seulement" in out and "cas cachés" in out


def test_unknown_tp_is_a_clear_error(course):
    code, out, err = run(course, "grade", "tp9")
    assert code == 3 and "TP inconnu" in err and "Traceback" not in err


@pytest.mark.parametrize("args,words", [
    (("report", "--tp", "toy", "--work", "VAR"), "lancez d'abord `grader autograde`"),
    (("export", "--db-url", "postgresql://x@/nope?host=/nulle-part"), "inaccessible"),
    (("autograde", "--tp", "toy", "--work", "VAR"), "rien de collecté"),
    (("final", "--exam", "/nulle-part.csv", "--work", "VAR"), "fichier d'examen illisible"),
    (("collect", "--tp", "toy", "--roster", "/nulle-part.csv", "--work", "VAR"), "illisible"),
    (("autograde",), "arguments obligatoires manquants : --tp"),
    (("grade", "--jobs", "2"), "arguments inconnus"),
], ids=["report-first", "bad-db", "nothing-collected", "no-exam", "no-roster", "usage",
        "unknown-option"])
def test_instructor_errors_are_one_french_line_with_the_fix(course, args, words):
    code, out, err = run(course, *(str(course / "var") if a == "VAR" else a for a in args))
    assert code == 3, (code, out, err)
    assert words in err and "Traceback" not in err


def test_help_is_french_with_defaults(course):
    code, out, _ = run(course, "autograde", "--help")
    assert code == 0
    assert "correction officielle" in out and "(défaut : 1)" in out and "default" not in out


def test_killed_grader_leaves_no_kernel_behind(course):
    """A cancelled CI job SIGKILLs the grader: its kernel (stuck in a loop here) must go too."""
    nb = starter()
    nb.cells.insert(0, nbformat.v4.new_code_cell("while True:\n    pass"))
    nbformat.write(nb, course / "toy" / "toy.ipynb")
    proc = subprocess.Popen([sys.executable, "-m", "grader", "--course", str(course / "course.toml"),
                             "grade", "toy", "--out", str(course / "g")], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # until the kernel runs (it is a python under the grader)
        kernel = [p for p in descendants(proc.pid) if "ipykernel_launcher" in cmdline(p)]
        if kernel:
            break
        time.sleep(0.2)
    assert kernel, "the kernel never started"
    family = descendants(proc.pid)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(map(alive, family)):
        time.sleep(0.2)
    assert not [p for p in family if alive(p)]
