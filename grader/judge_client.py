"""The grader's side of judging: after each test cell, ask the kernel for its answers on the
judge's inputs and hand them to the judge process; collect the verdicts as they come.

The judge decides while the notebook goes on (it has a core of its own, the kernel the other):
a verdict that takes seconds (an optimal-transport distance, a rebuilt network's predictions)
costs no wall time unless it is the last. Verdicts arrive in order; each sets its cell's status,
points and feedback when it arrives, and `finish` waits for the last ones. A judge process that
dies or hangs costs the verdict it was working on (a recorded grader fault); a fresh one makes
the same inputs again (same seed) and decides the verdicts still pending.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from nbclient.exceptions import DeadKernelError

from .judge_worker import JudgeWorker
from .notebooks import is_test
from .process import ChildFailed
from .protocol import ANSWER_MIME
from .results import GRADER_FAULT_MESSAGE, CellResult, Status, clean_text

Decision = tuple[Status, str, str | None]


@dataclass
class _Asked:
    """A test cell whose answers went to the judge, waiting for its verdict."""

    result: CellResult
    cell: object
    index: int
    payloads: object
    interrupted: bool


class Judge:
    """The `after_cell` hook of the execution; `finish()` once the notebook has run."""

    def __init__(self, worker: JudgeWorker, package: str, results: dict[str, CellResult],
                 inbox: Path, seed: int, hidden: bool, static_failures: dict[str, str], nb):
        self.worker, self.package, self.results = worker, package, results
        self.inbox, self.seed, self.hidden = inbox, seed, hidden
        self.static_failures, self.nb = static_failures, nb
        self.inputs: dict[str, tuple[str, str]] | None = None  # name -> (token, path)
        self.asked: deque[_Asked] = deque()
        self.progress: Callable[[CellResult], None] = lambda result: None

    def __call__(self, cell, index: int, run_code) -> None:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not is_test(cell) or grade_id not in self.results:
            return
        result = self.results[grade_id]
        if result.status != Status.NOT_RUN or any(a.result is result for a in self.asked):
            return  # a duplicated test cell is judged once
        if grade_id in self.static_failures:
            return self._apply(result, cell, (Status.FAILED, self.static_failures[grade_id], None))
        if run_code is None:
            return self._apply(result, cell, (
                Status.ERROR, "le noyau s'est arrêté pendant cette cellule de test (votre code "
                              "appelle sys.exit/os._exit, plante ou dépasse une limite)", None))
        try:
            if self.inputs is None:
                self.inputs = self.worker.call("prepare", self.hidden, self.seed, str(self.inbox))
            outputs = run_code(f"__import__({self.package!r}).EXERCISES.respond("
                               f"{grade_id!r}, {self.inputs[grade_id][1]!r})")
        except ChildFailed as exc:
            return self._apply(result, cell, (Status.GRADER_FAULT, GRADER_FAULT_MESSAGE, str(exc)))
        except DeadKernelError:  # the execution restarts a kernel for the rest
            self._apply(result, cell, (Status.ERROR, "le noyau s'est arrêté pendant la "
                                                     "vérification de votre code", None))
            raise
        asked = _Asked(result, cell, index, _answer(outputs, grade_id), _interrupted(outputs))
        self.asked.append(asked)
        self._send(asked)
        self._collect(wait=False)

    def finish(self) -> None:
        """Wait for the verdicts still pending."""
        self._collect(wait=True)

    def _send(self, asked: _Asked) -> None:
        try:
            self.worker.send("decide", self.inputs[asked.result.grade_id][0], asked.payloads)
        except ChildFailed:
            pass  # noticed when collecting

    def _collect(self, wait: bool) -> None:
        while self.asked and (wait or self.worker.has_result()):
            asked = self.asked.popleft()
            try:
                decision = self.worker.receive()
            except ChildFailed as exc:
                self._conclude(asked, (Status.GRADER_FAULT, GRADER_FAULT_MESSAGE, str(exc)))
                self._ask_again()
                continue
            self._conclude(asked, decision)

    def _ask_again(self) -> None:
        """A fresh judge process for the verdicts still pending (same seed: same inputs)."""
        if not self.asked:
            return
        try:
            self.inputs = self.worker.call("prepare", self.hidden, self.seed, str(self.inbox))
        except ChildFailed as exc:
            while self.asked:
                self._conclude(self.asked.popleft(),
                               (Status.GRADER_FAULT, GRADER_FAULT_MESSAGE, str(exc)))
            return
        for asked in self.asked:
            self._send(asked)

    def _conclude(self, asked: _Asked, decision: Decision) -> None:
        status, message, fault = decision
        status = Status(status)
        if status == Status.ERROR and asked.interrupted:
            message = "pas de réponse dans le temps imparti (boucle infinie ?)"
        if status == Status.INCOMPLETE and "n'est pas défini" in message:
            broken = _syntax_error_before(self.nb, asked.index)
            if broken:
                status, message = Status.ERROR, f"{message} : {broken}"
        self._apply(asked.result, asked.cell, (status, message, fault))

    def _apply(self, result: CellResult, cell, decision: Decision) -> None:
        result.status, message, result.fault = decision
        result.message = clean_text(message)
        result.points = result.max_points if result.status == Status.PASSED else 0.0
        cell.metadata["grader"] = {"status": str(result.status), "points": result.points,
                                   "max_points": result.max_points, "message": result.message}
        self.progress(result)


def _answer(outputs: list, grade_id: str):
    """The payloads of the kernel's answer for `grade_id` (last one wins), or None."""
    payloads = None
    for out in outputs:
        data = out.get("data", {}).get(ANSWER_MIME) if isinstance(out, dict) else None
        if isinstance(data, dict) and data.get("check") == grade_id:
            payloads = data.get("payloads")
    return payloads


def _interrupted(outputs: list) -> bool:
    """The evaluation was stopped by the cell timeout (or never answered)."""
    return not outputs or any(o.get("ename") == "KeyboardInterrupt" for o in outputs)


SYNTAX_ERRORS = ("SyntaxError", "IndentationError", "TabError")
PYTHON_TO_FRENCH = {  # the messages students meet most
    "invalid syntax": "syntaxe invalide", "unexpected indent": "indentation inattendue",
    "unindent does not match any outer indentation level": "indentation incohérente",
    "expected an indented block": "bloc indenté attendu", "expected ':'": "« : » attendu",
    "unterminated string literal": "chaîne de caractères non terminée",
    "'(' was never closed": "parenthèse « ( » jamais fermée",
    "'[' was never closed": "crochet « [ » jamais fermé",
    "invalid character": "caractère invalide",
}


def _syntax_error_before(nb, index: int) -> str | None:
    """The syntax error of the last code cell before `index` that could not run, in French."""
    for number in range(index - 1, -1, -1):
        cell = nb.cells[number]
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error" and out.get("ename") in SYNTAX_ERRORS:
                text = str(out.get("evalue", ""))
                line = re.search(r"line (\d+)", text)
                reason = text.split(" (")[0]
                reason = next((fr for en, fr in PYTHON_TO_FRENCH.items()
                               if reason.startswith(en)), reason)
                where = f" ligne {line.group(1)}" if line else ""
                return (f"la cellule {number + 1} ne s'exécute pas, erreur de syntaxe{where} : "
                        f"{reason}")
    return None
