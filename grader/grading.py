"""Grade one TP: notebook -> restore test cells -> execute in the sandbox -> judge -> scores.

The judge lives here, in the grader's process. After each restored test cell has run, it makes
the check's inputs (public cases, plus hidden cases from a seed the kernel never sees), asks the
kernel to evaluate the student's objects on them (`CHECKS.respond`), takes the plain-data answer
from the kernel's output message, and decides with the check's verdict. What the student's code
did in its kernel (monkeypatching, fake prints, failing or passing in-kernel asserts) never
counts: only answers the judge verified earn points.
"""

from __future__ import annotations

import html
import importlib.util
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import nbformat
import numpy as np
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from . import checks as proto
from .config import GRADE_SCALE, ROOT, TP, Limits
from .execute import Execution
from .notebooks import Unusable, grade_cells, load_submission, numpy_only_violations
from .sandbox import Sandbox, forbid_inspection

NOT_RUN = "non exécutée"


@dataclass
class CellResult:
    grade_id: str
    max_points: float
    points: float = 0.0
    status: str = NOT_RUN
    message: str = "la cellule de test n'a pas été atteinte"


@dataclass
class TPResult:
    tp: TP
    notebook: str
    cells: list[CellResult] = field(default_factory=list)
    problem: str | None = None  # the submission was unusable: why (French)
    seed: int | None = None
    seconds: float = 0.0
    feedback_html: str | None = None
    graded_nb: dict | None = None  # the executed notebook with the judge's verdicts

    @property
    def score(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.cells)

    @property
    def grade(self) -> float:
        """The grade on /20."""
        return GRADE_SCALE * self.score / self.max_score if self.max_score else 0.0


def load_reference(tp: TP, reference_dir: Path) -> ModuleType:
    """The TP's reference module, from the grader's trusted copy (never the submission's)."""
    path = reference_dir / f"{tp.reference_module}.py"
    spec = importlib.util.spec_from_file_location(f"_judge_{tp.reference_module}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Judge:
    """Decides each test cell right after it ran (the `after_cell` hook of the execution)."""

    def __init__(self, reference: ModuleType, module_name: str, results: dict[str, CellResult],
                 inbox: Path, seed: int, hidden: bool, static_failures: dict[str, str]):
        self.checks: proto.Checks = reference.CHECKS
        self.module_name = module_name
        self.results = results
        self.inbox = inbox
        self.seed = seed
        self.hidden = hidden
        self.static_failures = static_failures

    def cases(self, chk: proto.Check) -> list[proto.Case]:
        cases = chk.cases(np.random.default_rng(proto.PUBLIC_SEED), False)
        if self.hidden:
            rng = np.random.default_rng([self.seed, *chk.name.encode()])
            cases += chk.cases(rng, True)
        return cases

    def __call__(self, cell, index: int, run_code) -> None:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not _is_test_cell(cell) or grade_id not in self.results:
            return
        result = self.results[grade_id]
        if result.status != NOT_RUN:  # a duplicated test cell is judged once
            return
        chk = self.checks[grade_id]
        try:
            if grade_id in self.static_failures:
                result.status, result.message = proto.FAILED, self.static_failures[grade_id]
                return
            if run_code is None:
                result.status, result.message = proto.ERROR, (
                    "le noyau s'est arrêté pendant cette cellule de test (votre code appelle "
                    "sys.exit/os._exit, plante ou dépasse une limite)")
                return
            cases = self.cases(chk)
            path = self.inbox / f"{secrets.token_hex(8)}.npz"
            proto.save_cases(cases, path)
            try:
                outputs = run_code(f"__import__({self.module_name!r}).CHECKS.respond("
                                   f"{grade_id!r}, {str(path)!r})")
            except DeadKernelError:
                result.status, result.message = proto.ERROR, (
                    "le noyau s'est arrêté pendant la vérification de votre code")
                raise
            except CellTimeoutError:
                outputs = []
            finally:
                path.unlink(missing_ok=True)
            result.status, result.message = proto.judge(chk, cases, _answer(outputs, grade_id))
            if result.status == proto.ERROR and _interrupted(outputs):
                result.message = "pas de réponse dans le temps imparti (boucle infinie ?)"
        finally:
            result.points = result.max_points if result.status == proto.PASSED else 0.0
            cell.setdefault("outputs", []).append(_verdict_output(result))


def _answer(outputs: list, grade_id: str):
    """The payloads of the kernel's answer for `grade_id` (last one wins), or None."""
    payloads = None
    for out in outputs:
        data = out.get("data", {}).get(proto.ANSWER_MIME) if isinstance(out, dict) else None
        if isinstance(data, dict) and data.get("check") == grade_id:
            payloads = data.get("payloads")
    return payloads


def _is_test_cell(cell) -> bool:
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("grade"))


def _interrupted(outputs: list) -> bool:
    """The evaluation was stopped by the cell timeout (or never answered)."""
    return not outputs or any(o.get("ename") == "KeyboardInterrupt" for o in outputs)


def _verdict_output(result: CellResult):
    """The judge's verdict, shown under the test cell in the feedback."""
    ok = result.status == proto.PASSED
    text = (f"Correcteur : {result.points:g}/{result.max_points:g} point(s) — {result.status}"
            + ("" if ok else f" : {result.message}"))
    color = "#2e7d32" if ok else "#c62828"
    return nbformat.v4.new_output("display_data", data={
        "text/plain": text,
        "text/html": f'<div style="border-left:4px solid {color};padding:4px 8px;'
                     f'font-weight:bold">{html.escape(text)}</div>'})


def _warm_up(modules: tuple[str, ...], feedback: bool) -> None:
    """Import what the verdicts need and load the feedback exporter ahead of time (best
    effort: whatever fails here is simply done later, on the critical path)."""
    try:
        for name in modules:
            importlib.import_module(name)
        if feedback:
            from .gradebook import GradebookSession

            GradebookSession.warm_up_feedback()
    except Exception:
        pass


def grade_tp(tp: TP, submission: Path, master: Path, reference_dir: Path, limits: Limits, *,
             hidden: bool = True, seed: int | None = None, feedback: bool = True,
             student: str = "etudiant",
             protect: tuple[Path, ...] = ()) -> TPResult:
    """Grade `submission` (a student's notebook) against `master` (with its hidden tests).

    The kernel runs in a throwaway copy of `reference_dir` (the TP folder). `protect` lists
    more paths the kernel must not see (reports, other submissions).
    """
    forbid_inspection()
    start = time.monotonic()
    seed = secrets.randbits(63) if seed is None else seed
    result = TPResult(tp=tp, notebook=str(submission), seed=seed)
    master_nb = nbformat.read(master, as_version=4)
    reference = load_reference(tp, reference_dir)
    result.cells = [CellResult(gid, pts) for gid, pts in grade_cells(master_nb)]
    missing = [c.grade_id for c in result.cells if c.grade_id not in reference.CHECKS]
    if missing:
        raise RuntimeError(f"{master.name}: test cells without a check: {missing}")
    try:
        submitted = load_submission(submission)
    except Unusable as exc:
        result.problem = str(exc)
        for c in result.cells:
            c.status, c.message = "inutilisable", result.problem
        result.seconds = time.monotonic() - start
        return result

    private = Path(tempfile.mkdtemp())  # gradebook, inputs in waiting: hidden from the kernel
    box = Path(tempfile.mkdtemp())  # what the kernel sees
    execution = None
    try:
        work = box / "work"
        shutil.copytree(reference_dir, work, ignore=shutil.ignore_patterns(
            "*.ipynb", "__pycache__", ".ipynb_checkpoints", "test_*.py"))
        sandbox = Sandbox(box, limits, hidden=[private, master.parent.resolve(), *protect],
                          readonly=[ROOT])
        sandbox.prepare()
        run_dir = box / "run"  # connection file and Unix sockets: the kernel must reach them
        run_dir.mkdir()
        execution = Execution(sandbox, run_dir)
        execution.start_kernel()  # it boots while nbgrader restores the test cells
        from .gradebook import GradebookSession  # nbgrader: ~1.5 s of imports, overlapped too

        book = GradebookSession(f"sqlite:///{private}/gradebook.db", tp.name, student)
        book.save_master(master_nb)
        nb = book.restore(submitted)
        nbformat.write(nb, work / tp.notebook_name)
        static = numpy_only_violations(
            nb, [reference.CHECKS[c.grade_id] for c in result.cells
                 if reference.CHECKS[c.grade_id].numpy_only])
        by_id = {c.grade_id: c for c in result.cells}
        judge = Judge(reference, tp.reference_module, by_id, sandbox.tmp, seed, hidden, static)
        warm = threading.Thread(target=_warm_up, daemon=True,
                                args=(reference.CHECKS.judge_imports, feedback))
        warm.start()  # the kernel mostly uses one core; the grader mostly waits for it
        # Test cells only repeat in the kernel what the judge does (their result never counts):
        # they are not run; the judge's verdict is shown under each of them instead.
        execution.run(nb, after_cell=judge, skip=_is_test_cell)
        warm.join()

        book.record_submission({c.grade_id: c.points for c in result.cells})
        result.graded_nb = nb
        if feedback:
            result.feedback_html = book.feedback_html(nb)
    finally:
        if execution is not None:
            execution.close()
        shutil.rmtree(private, ignore_errors=True)
        shutil.rmtree(box, ignore_errors=True)
    result.seconds = time.monotonic() - start
    return result
