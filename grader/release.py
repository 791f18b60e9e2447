"""Releases: what the masters and judges generate, and the students' template repository.

`grader release` writes, for every TP with a master, the starter notebook (the master without
solutions and hidden tests) and the public table beside the TP's kernel package (public cases,
expected answers, known mistakes with the judge's diagnostics: what the notebook's `check()`
uses instead of an oracle). Both are generated, never edited by hand.

The template repository (`grader release --to DIR`) is a real git repository holding what a
student needs and nothing of the answers: the TP folders (starters, kernel packages, public
tables), the course library, the grader, the pinned environment, the student pipeline and
README, and the *public* masters (the starters themselves, kept pristine under
`.grader/masters/` so that test cells can be restored when grading). No `solutions/`, no
`judges/`, no hidden tests, no mutation tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from .config import ROOT, TP, Course, CourseError
from .notebooks import starter_text
from .protocol import PUBLIC_TABLE
from .public_table import load_public_table, save_public_table

PUBLIC_MASTERS = ".grader/masters"
TEMPLATES = Path(__file__).parent / "templates"
# Files of the course repository that a student repository gets as they are.
SHARED_FILES = ("pyproject.toml", "requirements.lock", "Makefile")
GITIGNORE = ".venv/\ngrades/\n.grader-cache/\n__pycache__/\n*.egg-info/\n.ipynb_checkpoints/\n"


def _chosen(course: Course, names: list[str] | None) -> list[TP]:
    """The TPs named (all of them when none is): `release --tp` regenerates one TP only."""
    return [course.tp(n) for n in names] if names else list(course.tps.values())


def write_starters(course: Course, names: list[str] | None = None) -> list[str]:
    """Regenerate the starters of the TPs named (every TP by default); returns those written."""
    done = []
    for tp in _chosen(course, names):
        if course.master(tp).exists():
            target = course.folder(tp) / tp.notebook_name
            target.write_text(starter_text(course.master_notebook(tp)), encoding="utf-8")
            done.append(tp.name)
    return done


def public_table(course: Course, tp: TP) -> dict:
    """The TP's public table as the judge and the master make it now (in a judge process)."""
    from .judge_worker import JudgeWorker

    worker = JudgeWorker(course.root, course.folder(tp), tp.package, timeout_s=1800)
    try:
        return worker.call("public_table", str(course.master(tp)))
    finally:
        worker.close()


def write_public_tables(course: Course, names: list[str] | None = None) -> list[str]:
    """Regenerate the public tables of the TPs named (default: every one with a master and a
    judge)."""
    done = []
    for tp in _chosen(course, names):
        if course.master(tp).exists() and course.judge_package(tp).is_dir():
            save_public_table(course.kernel_package(tp) / PUBLIC_TABLE, public_table(course, tp))
            done.append(tp.name)
    return done


def stale_public_tables(course: Course) -> list[str]:
    """The TPs whose committed public table differs from what release would write."""
    from .judging import same_answers

    stale = []
    for tp in course.tps.values():
        path = course.kernel_package(tp) / PUBLIC_TABLE
        if not (course.master(tp).exists() and course.judge_package(tp).is_dir()):
            continue
        if not path.exists():
            stale.append(tp.name)
            continue
        fresh, stored = public_table(course, tp), load_public_table(path)
        if set(fresh) != set(stored) or any(
                not same_answers(fresh[n].cases, stored[n].cases)
                or (fresh[n].expected is None) != (stored[n].expected is None)
                or (fresh[n].expected and not same_answers(fresh[n].expected,
                                                             stored[n].expected))
                or [m for _, m in fresh[n].mistakes] != [m for _, m in stored[n].mistakes]
                for n in fresh):
            stale.append(tp.name)
    return stale


def _ignore_in_tp_folder(directory: str, names: list[str]) -> list[str]:
    return [n for n in names
            if n.startswith("test_") or n in ("__pycache__", ".ipynb_checkpoints")
            or n.endswith(".pyc")]


def student_course_toml(course: Course) -> str:
    text = (course.root / "course.toml").read_text(encoding="utf-8")
    return re.sub(r"(?m)^\[course\]\n", f'[course]\nmasters = "{PUBLIC_MASTERS}"\n', text, count=1)


def build_template(course: Course, target: Path) -> None:
    """Write the students' template repository into `target` (a new git repository)."""
    if target.exists() and any(target.iterdir()):
        raise CourseError(f"{target} existe déjà et n'est pas vide")
    target.mkdir(parents=True, exist_ok=True)
    for name in SHARED_FILES:
        shutil.copy2(ROOT / name, target / name)
    shutil.copy2(course.root / ".gitlab-ci.yml", target / ".gitlab-ci.yml")
    (target / "course.toml").write_text(student_course_toml(course), encoding="utf-8")
    (target / "README.md").write_text(
        (TEMPLATES / "README_etudiant.md").read_text(encoding="utf-8"), encoding="utf-8")
    (target / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    # JupyterLab for students (`make lab`): nbgrader's instructor tools and Validate button off
    shutil.copytree(TEMPLATES / "jupyter_etudiant", target / ".jupyter")
    shutil.copytree(ROOT / "grader", target / "grader",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if course.library.is_dir():
        shutil.copytree(course.library, target / course.library.name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "test_*"))
    masters = target / PUBLIC_MASTERS
    masters.mkdir(parents=True)
    for tp in course.tps.values():
        folder = course.folder(tp)
        if not folder.is_dir():
            continue
        shutil.copytree(folder, target / tp.name, ignore=_ignore_in_tp_folder)
        if course.master(tp).exists():
            starter = starter_text(course.master_notebook(tp))
            (target / tp.name / tp.notebook_name).write_text(starter, encoding="utf-8")
            (masters / tp.notebook_name).write_text(starter, encoding="utf-8")
    git = ["git", "-C", str(target), "-c", "user.name=Équipe pédagogique",
           "-c", "user.email=enseignants@example.org"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(target)], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "Sujets des TP"], check=True)
