"""Grading a whole class: a few grading processes that prepare once and grade many notebooks.

Each grading process imports the grader and nbgrader once and keeps one judge process for the
TP, then grades the notebooks it is given one after the other, each in its own fresh sandbox
and kernel. The parent hands out the notebooks (`jobs` processes in parallel) and receives each
result as soon as it is decided. Whatever happens to one notebook — a kernel that crashes, a
grading process that segfaults or is killed for memory, a notebook that takes longer than the
course allows — becomes that student's recorded result with a French reason, and the other
students are graded as usual.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from pathlib import Path
from typing import Callable, Iterable

from .config import TP, Course, load_course
from .process import Child, ChildFailed, child_env, serve
from .results import CellResult, Status, TPResult

# Importing nbgrader and starting a judge: generous, the machine may be loaded.
START_TIMEOUT_S = 300
SETUP_MARGIN_S = 300  # beyond the notebook's own budget: restore, judge, gradebook


class _Grader:
    """The server of one grading process (in the child)."""

    def __init__(self, course_toml: str, tp_name: str):
        from . import gradebook  # noqa: F401 (nbgrader's imports, once per process)
        from .judge_worker import JudgeWorker

        self.course = load_course(Path(course_toml))
        self.tp = self.course.tp(tp_name)
        self.judge = JudgeWorker(self.course.root, self.course.folder(self.tp), self.tp.package,
                                 memory_bytes=self.course.limits.memory_bytes,
                                 timeout_s=self.course.limits.cell_timeout_s)

    def describe(self) -> bool:
        return self.judge.hidden

    def grade(self, student: str, notebook: str, seed: int) -> TPResult:
        from .grading import grade_tp

        return grade_tp(self.course, self.tp, Path(notebook), seed=seed, feedback=False,
                        student=student, worker=self.judge)


def failed_result(tp: TP, notebook: str, seed: int, reason: str,
                  cells: list[tuple[str, float]]) -> TPResult:
    """A notebook whose grading stopped: 0 everywhere, as grader faults (not the student's)."""
    message = (f"la correction s'est arrêtée sur cette copie ({reason[:200]}) : ce n'est pas "
               "votre copie, elle sera corrigée à nouveau")
    return TPResult(tp=tp, notebook=notebook, seed=seed, cells=[
        CellResult(gid, pts, 0.0, Status.GRADER_FAULT, message, reason) for gid, pts in cells])


def grade_class(course: Course, tp: TP, todo: Iterable[tuple[str, str, int]], jobs: int,
                cells: list[tuple[str, float]],
                on_result: Callable[[str, TPResult], None]) -> None:
    """Grade every (student, notebook, seed) of `todo` with `jobs` grading processes; call
    `on_result(student, result)` in this thread as each one is decided."""
    tasks: queue.Queue = queue.Queue()
    for item in todo:
        tasks.put(item)
    done: queue.Queue = queue.Queue()
    budget = course.limits.notebook_timeout_s + SETUP_MARGIN_S
    args = (str(course.root / "course.toml"), tp.name)

    def work() -> None:
        child = None
        try:
            while True:
                try:
                    student, notebook, seed = tasks.get_nowait()
                except queue.Empty:
                    return
                try:
                    if child is None:
                        child = Child("grader.class_grading", args, env=child_env(),
                                      start_timeout_s=START_TIMEOUT_S, timeout_s=budget)
                    done.put((student, child.call("grade", student, notebook, seed)))
                except ChildFailed as exc:
                    done.put((student, failed_result(tp, notebook, seed, str(exc), cells)))
                except BaseException as exc:  # never lose a student
                    done.put((student, failed_result(tp, notebook, seed, repr(exc), cells)))
        finally:
            if child is not None:
                child.close()
            done.put(None)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(max(1, jobs))]
    for t in threads:
        t.start()
    running = len(threads)
    while running:
        item = done.get()
        if item is None:
            running -= 1
        else:
            on_result(*item)


if __name__ == "__main__":  # python -m grader.class_grading FD ARGS (started by grade_class)
    from grader.class_grading import _Grader as Grader

    serve(int(sys.argv[1]), lambda: Grader(*json.loads(sys.argv[2])))
