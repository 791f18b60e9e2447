"""The students' template repository: complete, a real git repository, and without answers."""

import re
import subprocess

import nbformat
import pytest

from grader.config import ROOT, load_course
from grader.notebooks import starter_text
from grader.release import PUBLIC_MASTERS, build_template

COURSE = load_course()
PUBLISHED = [tp for tp in COURSE.tps.values() if COURSE.master(tp).exists()]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    target = tmp_path_factory.mktemp("release") / "modele"
    build_template(COURSE, target)
    return target


def _solution_lines(master_path):
    """Substantial lines inside the master's solution regions."""
    lines = set()
    for cell in nbformat.read(master_path, as_version=4).cells:
        inside = False
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and len(line.strip()) >= 25 and not line.strip().startswith("#"):
                lines.add(line.strip())
    return lines


def test_template_is_a_git_repository_with_one_commit(template):
    log = subprocess.run(["git", "-C", str(template), "log", "--oneline"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert len(log) == 1
    status = subprocess.run(["git", "-C", str(template), "status", "--porcelain"],
                            capture_output=True, text=True, check=True).stdout
    assert status == ""


def test_template_has_what_students_need(template):
    for name in (".gitlab-ci.yml", "README.md", "Makefile", "pyproject.toml", "requirements.lock",
                 "course.toml", "grader/__main__.py", "grader/checks.py"):
        assert (template / name).is_file(), name
    assert 'masters = ".grader/masters"' in (template / "course.toml").read_text()
    for tp in PUBLISHED:
        assert (template / tp.name / tp.notebook_name).is_file()
        assert (template / tp.name / f"{tp.reference_module}.py").is_file()
        assert (template / PUBLIC_MASTERS / tp.notebook_name).read_text() == \
            (template / tp.name / tp.notebook_name).read_text()
    assert "Pour rendre" in (template / "README.md").read_text() or \
        "Rendre" in (template / "README.md").read_text()


def test_template_holds_no_answers(template):
    assert not (template / "solutions").exists()
    assert not list(template.rglob("test_*.py")), "mutation tests read the masters"
    # the answers: solution lines that no starter has (given code is not an answer)
    starters = "\n".join(starter_text(COURSE.master(tp)) for tp in PUBLISHED)
    answers = {line for tp in PUBLISHED for line in _solution_lines(COURSE.master(tp))
               if line not in starters}
    assert answers, "the masters have solution regions"
    for path in template.rglob("*"):
        if not path.is_file() or ".git" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "hidden=True)"):
            assert marker not in text, (path, marker)
        leaked = [a for a in answers if a in text]
        assert not leaked, (path, leaked[:3])


def test_student_grading_in_template_gives_zero(template):
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "grader", "grade", "--out", "grades"],
        cwd=template, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert re.findall(r"^Note : (\S+)/20", proc.stdout, re.M) == ["0.00"]
    assert "à compléter" in proc.stdout
