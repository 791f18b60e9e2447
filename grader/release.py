"""Releases: the starters in the course repository, and the students' template repository.

The template repository (`grader release --to DIR`) is a real git repository holding what a
student needs and nothing of the answers: the TP folders (starters, reference modules), the
grader, the pinned environment, the student pipeline and README, and the *public* masters
(the starters themselves, kept pristine under `.grader/masters/` so that test cells can be
restored when grading). No `solutions/`, no hidden tests, no mutation tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from .config import ROOT, Course
from .notebooks import starter_text

PUBLIC_MASTERS = ".grader/masters"
TEMPLATES = Path(__file__).parent / "templates"
# Files of the course repository that a student repository gets as they are.
SHARED_FILES = ("pyproject.toml", "requirements.lock", "Makefile")
GITIGNORE = ".venv/\ngrades/\n.grader-cache/\n__pycache__/\n*.egg-info/\n.ipynb_checkpoints/\n"


def write_starters(course: Course) -> list[str]:
    """Regenerate every TP's starter from its master; returns the TPs written."""
    done = []
    for tp in course.tps.values():
        if course.master(tp).exists():
            target = course.folder(tp) / tp.notebook_name
            target.write_text(starter_text(course.master(tp)), encoding="utf-8")
            done.append(tp.name)
    return done


def _ignore_in_tp_folder(directory: str, names: list[str]) -> list[str]:
    return [n for n in names
            if n.startswith("test_") or n in ("__pycache__", ".ipynb_checkpoints")
            or n.endswith(".pyc")]


MATRIX_LINE = re.compile(r"(?m)^(\s*- TP: )\[.*\]$")


def pipeline_text(course: Course) -> str:
    """The student pipeline with one grading job per TP of the course."""
    text = (course.root / ".gitlab-ci.yml").read_text(encoding="utf-8")
    return MATRIX_LINE.sub(lambda m: m.group(1) + "[" + ", ".join(course.tps) + "]", text, 1)


def student_course_toml(course: Course) -> str:
    text = (course.root / "course.toml").read_text(encoding="utf-8")
    return re.sub(r"(?m)^\[course\]\n", f'[course]\nmasters = "{PUBLIC_MASTERS}"\n', text, count=1)


def build_template(course: Course, target: Path) -> None:
    """Write the students' template repository into `target` (a new git repository)."""
    if target.exists() and any(target.iterdir()):
        raise SystemExit(f"{target} existe déjà et n'est pas vide")
    target.mkdir(parents=True, exist_ok=True)
    for name in SHARED_FILES:
        shutil.copy2(ROOT / name, target / name)
    (target / ".gitlab-ci.yml").write_text(pipeline_text(course), encoding="utf-8")
    (target / "course.toml").write_text(student_course_toml(course), encoding="utf-8")
    (target / "README.md").write_text(
        (TEMPLATES / "README_etudiant.md").read_text(encoding="utf-8"), encoding="utf-8")
    (target / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    shutil.copytree(ROOT / "grader", target / "grader",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    masters = target / PUBLIC_MASTERS
    masters.mkdir(parents=True)
    for tp in course.tps.values():
        folder = course.folder(tp)
        if not folder.is_dir():
            continue
        shutil.copytree(folder, target / tp.name, ignore=_ignore_in_tp_folder)
        if course.master(tp).exists():
            starter = starter_text(course.master(tp))
            (target / tp.name / tp.notebook_name).write_text(starter, encoding="utf-8")
            (masters / tp.notebook_name).write_text(starter, encoding="utf-8")
    git = ["git", "-C", str(target), "-c", "user.name=Équipe pédagogique",
           "-c", "user.email=enseignants@example.org"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(target)], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "Sujets des TP"], check=True)
