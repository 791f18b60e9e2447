"""Grade one TP: notebook -> restore test cells -> execute in the sandbox -> judge -> scores.

Three processes take part, and only one of them runs student code:

- this one (the grader) restores the test cells (nbgrader), drives the kernel cell by cell and
  records the points; it never imports a judge or an oracle;
- the kernel, in the sandbox (`grader.sandbox`), runs the student's cells; after each test cell
  it only *evaluates* the student's objects on the judge's inputs and answers with plain data;
- the judge (`grader.judge_worker`) makes the inputs (public cases, hidden cases from a seed the
  kernel never sees) and decides on each answer.

What the student's code did in its kernel (monkeypatching, fake prints, failing or passing
in-kernel asserts) never counts: only answers the judge verified earn points.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from .config import TP, Course
from .execute import Execution
from .judge_client import Judge
from .judge_worker import JudgeWorker
from .notebooks import (Unusable, grade_cells, is_test, load_submission,
                        numpy_only_violations, written_points)
from .results import CellResult, Status, TPResult, clean_text
from .sandbox import Sandbox, forbid_inspection


def grade_tp(course: Course, tp: TP, submission: Path, *, hidden: bool = True,
             seed: int | None = None, feedback: bool = True, student: str = "etudiant",
             worker: JudgeWorker | None = None,
             progress: Callable[[CellResult], None] | None = None,
             decided: Callable[[TPResult], None] | None = None) -> TPResult:
    """Grade `submission` (a student's notebook) against the TP's master and judge.

    hidden=False: the public cases only, decided with the public table (a quick self-check).
    Where the course has no judge for the TP (a student's repository), that is all there is.
    `worker` may be shared by several gradings of the same TP (a class); `progress` is told
    each test cell's result as soon as the judge has decided, `decided` the TP's result as soon
    as it is recorded (before the feedback page is rendered)."""
    forbid_inspection()
    start = time.monotonic()
    seed = secrets.randbits(63) if seed is None else seed
    result = TPResult(tp=tp, notebook=str(submission), seed=seed)
    master_nb = course.master_notebook(tp)
    result.cells = [CellResult(gid, pts) for gid, pts in grade_cells(master_nb)]
    result.written = written_points(master_nb)
    try:
        submitted = load_submission(submission, f"{tp.name}/{tp.notebook_name}")
    except Unusable as exc:
        return _unusable(result, str(exc), start)

    box = Path(tempfile.mkdtemp(prefix="grader-box-"))  # the kernel sees parts of it
    private = Path(tempfile.mkdtemp(prefix="grader-"))  # gradebook: never in the kernel's view
    own_worker = worker is None
    execution = None
    try:
        # The judge and the kernel start at once and boot while nbgrader restores the test cells.
        worker = worker or JudgeWorker(course.root, course.folder(tp), tp.package,
                                       public_only=not hidden,
                                       memory_bytes=course.limits.memory_bytes,
                                       timeout_s=course.limits.cell_timeout_s)
        sandbox = Sandbox(box, course.limits, numpy_only=tp.numpy_only)
        sandbox.prepare(course.kernel_package(tp), course.library)
        execution = Execution(sandbox)
        execution.start_kernel()
        from .gradebook import GradebookSession  # nbgrader: ~1.5 s of imports, overlapped too

        book = GradebookSession.private(private, tp.name, student, master_nb)
        try:
            nb = book.restore(submitted)
        except Unusable as exc:
            return _unusable(result, str(exc), start)
        missing = [c.grade_id for c in result.cells if c.grade_id not in worker.checks]
        if missing:
            raise RuntimeError(f"{tp.name}: test cells without a check: {missing}")
        result.hidden = hidden and worker.hidden
        static = numpy_only_violations(nb, {name: info.targets for name, info
                                            in worker.checks.items() if info.numpy_only})
        by_id = {c.grade_id: c for c in result.cells}
        judge = Judge(worker, tp.package, by_id, sandbox.inbox, seed, result.hidden, static, nb)
        judge.progress = progress or judge.progress
        # Test cells only repeat in the kernel what the judge does (their result never counts):
        # they are not run; the judge's verdict is shown under each of them instead.
        execution.run(nb, after_cell=judge, skip=is_test)
        judge.finish()
        book.record_submission({c.grade_id: c.points for c in result.cells})
        result.graded_nb = nb
        result.seconds = time.monotonic() - start
        if decided:
            decided(result)
        if feedback:
            docs = {name: info.doc for name, info in worker.checks.items()}
            try:
                result.feedback_html = book.feedback_html(nb, docs)
            except Exception as exc:  # the grade is decided: a report must not lose it
                result.feedback_html = _feedback_failed(exc)
    finally:
        if execution is not None:
            execution.close()
        if own_worker and worker is not None:
            worker.close()
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(box, ignore_errors=True)
    result.seconds = time.monotonic() - start
    return result


def _feedback_failed(exc: Exception) -> str:
    import html

    return ("<!DOCTYPE html><html lang='fr'><meta charset='utf-8'><body><p>Le retour détaillé "
            "n'a pas pu être produit pour ce notebook (la note ci-dessus est valable) : "
            f"{html.escape(type(exc).__name__)}.</p></body></html>")


def _unusable(result: TPResult, reason: str, start: float) -> TPResult:
    reason = result.problem = clean_text(reason)
    for c in result.cells:
        c.status, c.message = Status.UNUSABLE, reason
    result.seconds = time.monotonic() - start
    return result
