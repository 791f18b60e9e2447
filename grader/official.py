"""The grade of record: official grading of collected notebooks into nbgrader's gradebook
(instructors' side; exports and reports read that gradebook).

Each submission is graded in its own throwaway sandbox by a pool of grading processes
(`grader.class_grading`, `jobs` in parallel), from the notebook alone, with the masters' hidden
tests and hidden cases drawn from a secret seed. This process records the judge's points in the
gradebook as nbgrader auto-scores as each student is graded, so a manual score entered by an
instructor is never overwritten and re-running is idempotent. The grade of record fails closed:
no sandbox, no grades (unless explicitly allowed, and then every record says so).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Callable

import nbformat

from .class_grading import grade_class
from .collect import Submission, load_manifest
from .config import TP, Course, CourseError
from .exports import default_db_url, record_path
from .formgrader import sanitized
from .gradebook import GradebookSession
from .notebooks import grade_cells
from .report import tp_json
from .results import TPResult
from .sandbox import isolation_problem


def course_secret(work: Path, shard: tuple[int, int] | None = None) -> bytes:
    """The seed of the hidden cases: GRADER_SECRET, else a random secret kept in the work dir
    (never in a student's reach), so that re-grading draws the same cases. Shards need
    GRADER_SECRET: runners do not share a work dir, and each would draw other cases."""
    if os.environ.get("GRADER_SECRET"):
        return os.environ["GRADER_SECRET"].encode()
    if shard is not None:
        raise CourseError("--shard : toutes les parts doivent tirer les mêmes cas cachés ; "
                          "donnez à chacune la même variable GRADER_SECRET (variable masquée "
                          "du projet des enseignants)")
    path = work / "secret"
    if not path.exists():  # created whole or not at all (two gradings may start at once)
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"secret.{os.getpid()}")
        draft.write_text(secrets.token_hex(32))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip().encode()


def _seed(secret: bytes, tp: TP, student: str) -> int:
    return int.from_bytes(hashlib.sha256(secret + f"/{tp.name}/{student}".encode()).digest()[:8],
                          "big") >> 1


def shard_of(subs: list[Submission], shard: tuple[int, int] | None) -> list[Submission]:
    """Part i of n of the class (1 ≤ i ≤ n): every n-th student in id order, from the i-th, so
    that n runners given the same manifest grade each student exactly once."""
    if shard is None:
        return subs  # the roster's order
    return sorted(subs, key=lambda s: s.student)[shard[0] - 1::shard[1]]


def autograde(course: Course, tp: TP, work: Path, db_url: str | None = None, jobs: int = 1,
              allow_unsandboxed: bool = False,
              progress: Callable[[str, TPResult], None] | None = None,
              shard: tuple[int, int] | None = None) -> dict[str, TPResult]:
    """Grade every collected submission of `tp` (or the `shard` (i, n) of them) and record it in
    the gradebook, each student as soon as graded (an interrupted run keeps what it recorded;
    re-running is idempotent). Shards may run at once on several machines into one PostgreSQL
    gradebook: they share no student and no file of the work dir.

    The grade of record fails closed: without the sandbox it refuses, unless `allow_unsandboxed`
    (then every record says so)."""
    problem = isolation_problem()
    if problem and not allow_unsandboxed:
        raise CourseError(
            f"correction officielle refusée : le bac à sable ne peut pas être construit ici "
            f"({problem}). Corrigez sur une machine où bubblewrap fonctionne (apt install "
            "bubblewrap ; espaces de noms utilisateur autorisés), ou relancez avec "
            "--allow-unsandboxed : ce sera noté pour chaque copie.")
    db_url = db_url or default_db_url(work)
    subs = shard_of(load_manifest(work, tp), shard)
    secret = course_secret(work, shard)
    master = course.master_notebook(tp)
    GradebookSession(db_url, tp.name).save_master_once(master)
    cells = grade_cells(master)
    feedback_dir = work / "feedback" / tp.name
    feedback_dir.mkdir(parents=True, exist_ok=True)
    by_student = {s.student: s for s in subs}
    results: dict[str, TPResult] = {}
    unsandboxed = "corrigé SANS bac à sable (--allow-unsandboxed)" if problem else None

    def record(student: str, result: TPResult | None) -> None:
        sub = by_student[student]
        if result is not None:
            results[student] = result
        try:
            _record(course, tp, work, db_url, sub, result, feedback_dir, unsandboxed)
        except Exception as exc:  # one student's record never stops the class
            _save_record(work, tp, sub, f"enregistrement impossible ({type(exc).__name__}: "
                       f"{exc})"[:300], unsandboxed)
        if progress and result is not None:
            progress(student, result)

    for sub in subs:
        if not sub.notebook:
            record(sub.student, None)
    todo = [(s.student, s.notebook, _seed(secret, tp, s.student)) for s in subs if s.notebook]
    grade_class(course, tp, todo, jobs, cells, record)
    return results


def _record(course: Course, tp: TP, work: Path, db_url: str, sub: Submission,
            result: TPResult | None, feedback_dir: Path, unsandboxed: str | None) -> None:
    book = GradebookSession(db_url, tp.name, sub.student)
    problem = sub.problem or (result.problem if result else None)
    scores = {} if result is None or result.problem else {
        c.grade_id: c.points for c in result.cells}
    book.record_submission(scores, late_penalty=sub.penalty, student_name=sub.name)
    faults = len(result.faults) if result else 0
    if faults:
        problem = (f"{faults} erreur(s) du correcteur : à re-corriger ({result.faults[0].fault})"
                   [:300])
    _save_record(work, tp, sub, problem, unsandboxed, result)
    graded = autograded_path(work, tp, sub.student)  # where formgrader looks for it
    if result is not None and result.graded_nb is not None:
        graded.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(sanitized(result.graded_nb), graded)
        (feedback_dir / f"{sub.student}.html").write_text(
            book.feedback_html(result.graded_nb), encoding="utf-8")
    else:
        graded.unlink(missing_ok=True)


def autograded_path(work: Path, tp: TP, student: str) -> Path:
    """The graded notebook (the judge's verdicts under each test cell), in nbgrader's course
    layout: formgrader shows it to the instructors who grade the written answers."""
    return work / "autograded" / student / tp.name / tp.notebook_name


def _save_record(work: Path, tp: TP, sub: Submission, problem: str | None,
                 unsandboxed: str | None = None, result: TPResult | None = None) -> None:
    """Beside the gradebook, one file per copy (so that shards never write the same file):
    why the student has no grade, how late, how it was graded (for the exports), and each
    exercise's status and diagnostic (for the class report)."""
    text = "; ".join(t for t in (
        problem, f"rendu en retard de {sub.late_days} jour(s) : −{sub.penalty:g} point(s)"
        if sub.late_days and not problem else "", unsandboxed) if t)
    record = {"name": sub.name, "note": text, "commit": sub.commit}
    if result is not None:
        record.update(tp_json(result))
    path = record_path(work, tp.name, sub.student)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
