"""The judge, in a process of its own.

The grader's main process runs the student's kernel and records scores; everything that decides
(the TP's judge package, its oracles, the heavy libraries they import) lives in this worker:

- it is spawned fresh (no state shared with another grading, no half-imported module: it
  imports its judge package, then the verdicts' heavy modules, before it answers the first
  verdict, so a verdict never races an import);
- it runs under memory limits, and the main process gives each request a deadline: a verdict
  that crashes (a segfault in a rebuilt model), loops or exhausts memory costs that cell its
  points as a recorded grader fault, and a fresh worker serves the next cell;
- its code and the masters are loaded from the course repository before the kernel starts,
  from places no kernel can see or write.

Where the course has no judge for the TP (a student's own repository), or for a quick
`grader check`, the worker judges the public cases with the TP's public table, exactly as the
notebook's `check()` does.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .process import Child, child_env, serve
from .protocol import save_cases

START_TIMEOUT_S = 120  # importing a judge package (and its kernel package)


@dataclass(frozen=True)
class CheckInfo:
    """What the main process needs to know of a check before the kernel runs."""

    targets: tuple[str, ...]
    numpy_only: bool
    doc: str


def _keep(pending: dict, name: str, cases: list, folder: str) -> tuple[str, str]:
    """Write `cases` for the kernel into `folder` and keep them (hidden keys included) by a
    token: (token, path)."""
    token = secrets.token_hex(8)
    path = str(Path(folder) / f"{token}.npz")
    save_cases(cases, path)
    os.chmod(path, 0o644)  # the kernel runs as another user
    pending[token] = [name, cases]
    return token, path


class _FullJudge:
    """The course's judge package for one TP: hidden cases and verdicts with oracles."""

    def __init__(self, package: str):
        self.checks = importlib.import_module(f"judges.{package}").CHECKS
        self.pending: dict[str, list] = {}
        self.warmed_at = self.first_verdict_at = None  # monotonic clock, shared by processes

    def describe(self) -> tuple[bool, dict[str, CheckInfo]]:
        return True, {name: CheckInfo(self.checks.exercise(name).targets, chk.numpy_only,
                                      chk.doc) for name, chk in self.checks.items()}

    def warm_up(self) -> None:
        for name in self.checks.judge_imports:
            try:
                importlib.import_module(name)
            except ImportError:  # a verdict that needs it will say so (a grader fault)
                pass
        self.warmed_at = time.monotonic()

    def timeline(self) -> tuple[float | None, float | None]:
        """When the warm-up ended and when the first verdict ran (tests show the order)."""
        return self.warmed_at, self.first_verdict_at

    def prepare(self, hidden: bool, seed: int, folder: str) -> dict[str, tuple[str, str]]:
        """Every check's inputs for one notebook, written into `folder` for the kernel:
        {name: (token, path)}; the judge keeps its cases (with their hidden keys) by token."""
        self.pending = {}
        return {name: _keep(self.pending, name, self.checks.cases(name, seed, hidden=hidden),
                            folder) for name in self.checks}

    def decide(self, token: str, payloads):
        name, cases = self.pending.pop(token)
        self.first_verdict_at = self.first_verdict_at or time.monotonic()
        return tuple(self.checks.decide(name, cases, payloads))

    def public_table(self, master_path: str) -> dict:
        """The TP's public table, built from this judge and the master's code (release)."""
        from .judging import public_entry
        from .masters import Master

        master = Master(Path(master_path))
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # master's prints
            return {name: public_entry(self.checks, name, master.ns) for name in self.checks}


class _PublicJudge:
    """No judge at hand: the public cases, decided with the public table (no oracle)."""

    def __init__(self, package: str):
        self.exercises = importlib.import_module(package).EXERCISES
        self.pending: dict[str, list] = {}

    def describe(self) -> tuple[bool, dict[str, CheckInfo]]:
        return False, {name: CheckInfo(ex.targets, False, "")
                       for name, ex in self.exercises.items()}

    def warm_up(self) -> None:
        self.exercises.public  # noqa: B018 (loads the table)

    def prepare(self, hidden: bool, seed: int, folder: str) -> dict[str, tuple[str, str]]:
        self.pending = {}
        return {name: _keep(self.pending, name, entry.cases, folder)
                for name, entry in self.exercises.public.items() if name in self.exercises}

    def decide(self, token: str, payloads):
        from .judging import judge_public

        name, _ = self.pending.pop(token)
        return tuple(judge_public(self.exercises[name], self.exercises.public[name], payloads))


def _make_judge(course_root: str, tp_folder: str, package: str, public_only: bool,
                memory_bytes: int):
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
    sys.path[:0] = [tp_folder, course_root]
    full = not public_only and (Path(course_root) / "judges" / package).is_dir()
    return _FullJudge(package) if full else _PublicJudge(package)


class JudgeWorker(Child):
    """The judge process of one TP of a course; replaced after a crash or a timeout.
    `hidden` says whether it has the course's judge (else: the public table); `checks` what the
    grader must know of each check before the kernel runs."""

    def __init__(self, course_root: Path, tp_folder: Path, package: str, *,
                 public_only: bool = False, memory_bytes: int = 0, timeout_s: float = 120):
        super().__init__("grader.judge_worker",
                         (str(course_root), str(tp_folder), package, public_only, memory_bytes),
                         start_timeout_s=START_TIMEOUT_S, timeout_s=timeout_s, env=child_env())

    @property
    def hidden(self) -> bool:
        return self.ready[0]

    @property
    def checks(self) -> dict[str, CheckInfo]:
        return self.ready[1]


if __name__ == "__main__":  # python -m grader.judge_worker FD ARGS (started by JudgeWorker)
    from grader.judge_worker import _make_judge as make  # classes pickled by their module name

    serve(int(sys.argv[1]), lambda: make(*json.loads(sys.argv[2])))
