"""The judge's half of the check protocol: inputs, hidden cases, verdicts.

A TP's judge package (`judges/<package>/`, never shipped to students and never in a kernel's
view) builds a `Checks` registry over the TP's kernel-side `Exercises`. For each exercise, a
`Check` makes the inputs (`cases(rng, hidden)`: public cases from a fixed seed, hidden ones from
a seed the kernel never sees) and decides on the kernel's plain-data answer (`verdict(case,
answer)`, which raises `AssertionError` with a French diagnostic). Verdicts use oracles (finite
differences, autograd, closed forms, scikit-learn...), never a copy of the answer.

A verdict that fails for any other reason than the answer is a *grader fault*: the cell gets
no points, and the fault is recorded and counted so that an instructor looks at it; it is never
reported to the student as a problem with their answer.

The known mistakes of each exercise (`Mistake`, plausible wrong implementations) serve twice:
the mutation tests assert that each is refused with its diagnostic, and `grader release` stores
their public answers with those diagnostics in the public table, so that the notebook's own
`check()` names a known mistake without any oracle.
"""

from __future__ import annotations

import importlib
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numpy as np

from .protocol import (PUBLIC_SEED, Answer, Case, Exercise, Exercises, close, decode_answer,
                       encode_answer, fmt, payload, quiet, roundtrip)
from .public_table import PublicEntry, self_verdict
from .results import GRADER_FAULT_MESSAGE, Status

__all__ = ["Check", "Checks", "Mistake", "Decision", "mistakes_from", "JudgeFault", "as_array", "as_float",
           "as_number", "close", "fmt", "quiet", "relative_error", "run_verdict", "judge",
           "judge_public", "public_entry", "same_answers", "encode_answer", "decode_answer"]


@dataclass(frozen=True)
class Check:
    name: str  # = the exercise's name and the grade_id of its test cell
    cases: Callable[[np.random.Generator, bool], list[Case]]
    verdict: Callable[[Case, Answer], None]
    # From-scratch exercises: torch/keras/tensorflow refused in the cells defining the targets.
    numpy_only: bool = False
    doc: str = field(default="", compare=False)  # what is checked, in French (feedback)


@dataclass(frozen=True)
class Mistake:
    """A plausible wrong implementation: `overrides` replace names of the master's namespace.
    `words` must appear in the diagnostic; `where` says which cases reveal it ("both",
    "public" or "hidden")."""

    label: str
    overrides: dict[str, Any]
    words: str | None = None
    where: str = "both"


class Decision(NamedTuple):
    status: Status
    message: str
    fault: str | None = None  # the judge's own error, for the instructors' log


class JudgeFault(Exception):
    """A verdict failed for another reason than the answer (a bug or a limit of the judge)."""


class Checks(dict):
    """The checks of one TP, by name, over the TP's exercises.

    `judge_imports`: heavy modules the verdicts use (torch, keras, scikit-learn...), imported
    by the judge process while the student's notebook runs, before the first verdict.
    `mistakes`: the known mistakes by check, or a function giving them, called on first use
    (mistakes that build networks import heavy modules: grading itself never needs them).
    """

    def __init__(self, exercises: Exercises, judge_imports: tuple[str, ...] = (),
                 mistakes: dict | Callable[[], dict] | None = None):
        super().__init__()
        self.exercises = exercises
        self.judge_imports = judge_imports
        self._mistakes = mistakes or {}

    @property
    def mistakes(self) -> dict[str, list[Mistake]]:
        if callable(self._mistakes):
            self._mistakes = self._mistakes()
        return self._mistakes

    @mistakes.setter
    def mistakes(self, value: dict[str, list[Mistake]]) -> None:
        self._mistakes = value

    def add(self, check: Check) -> Check:
        if check.name in self:
            raise ValueError(f"duplicate check {check.name!r}")
        if check.name not in self.exercises:
            raise ValueError(f"check {check.name!r} has no exercise in {self.exercises.package}")
        self[check.name] = check
        return check

    def exercise(self, name: str) -> Exercise:
        return self.exercises[name]

    def cases(self, name: str, seed: int | None, hidden: bool = True) -> list[Case]:
        """The public cases, then (hidden=True) the hidden cases drawn from `seed`."""
        chk = self[name]
        cases = chk.cases(np.random.default_rng(PUBLIC_SEED), False)
        if hidden:
            cases += chk.cases(np.random.default_rng([seed, *name.encode()]), True)
        return cases

    def decide(self, name: str, cases: list[Case], payloads: Any) -> Decision:
        return judge(self[name], cases, payloads)

    def run_in_process(self, name: str, namespace: dict, hidden: bool = False,
                       seed: int | None = None) -> tuple[Status, str]:
        """Evaluate and judge `name` on the objects of `namespace`, in this process (tests,
        instructors' notebooks): the grading path (cases -> evaluate -> plain data -> verdict)
        without a kernel. hidden=False: the public cases; True: hidden cases from `seed`."""
        chk = self[name]
        rng = np.random.default_rng(PUBLIC_SEED if seed is None else seed)
        cases = chk.cases(rng, hidden)
        payloads = [payload(self.exercise(name), case, namespace) for case in roundtrip(cases)]
        status, message, fault = judge(chk, cases, payloads)
        if fault:
            raise JudgeFault(fault)
        return status, message


def mistakes_from(package: str, *modules: str) -> Callable[[], dict[str, list[Mistake]]]:
    """A loader merging the MISTAKES dictionaries of `package`'s `modules` (on first use)."""

    def load() -> dict[str, list[Mistake]]:
        merged: dict[str, list[Mistake]] = {}
        for name in modules:
            for check, mistakes in importlib.import_module(f"{package}.{name}").MISTAKES.items():
                merged.setdefault(check, []).extend(mistakes)
        return merged

    return load


# -- helpers for verdicts: coerce plain data, fail with French messages -----------------------
def as_array(answer: Answer, key: str, shape: tuple | None = None,
             what: str | None = None) -> np.ndarray:
    """The answer's entry `key` as a finite float array of the expected shape."""
    what = what or key
    if key not in answer:
        raise AssertionError(f"{what} : aucune valeur renvoyée")
    value = answer[key]
    if isinstance(value, str):
        raise AssertionError(f"{what} : un nombre ou un tableau est attendu, pas du texte")
    arr = np.asarray(value, dtype=float)
    if shape is not None and arr.shape != tuple(shape):
        hint = " — matrice transposée ?" if arr.ndim == 2 and arr.shape == tuple(shape)[::-1] \
            else ""
        raise AssertionError(f"{what} : forme {tuple(arr.shape)} au lieu de {tuple(shape)} "
                             f"attendue{hint}")
    if not np.all(np.isfinite(arr)):
        raise AssertionError(f"{what} contient des NaN ou des valeurs infinies")
    return arr


def as_float(answer: Answer, key: str, what: str | None = None) -> float:
    return float(as_array(answer, key, shape=(), what=what))


def as_number(answer: Answer, key: str, what: str | None = None) -> float:
    """Like `as_float`, but a one-element array (`np.array([3])`) is accepted too."""
    arr = as_array(answer, key, what=what)
    if arr.size != 1:
        raise AssertionError(f"{what or key} : un nombre est attendu, pas un tableau de forme "
                             f"{arr.shape}")
    return float(arr.reshape(()))


def relative_error(a, b) -> float:
    """CS231n relative error max|a-b| / max(|a|+|b|), 0 when both are 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    denom = np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(np.max(np.abs(a - b) / denom)) if a.size else 0.0


# -- the judge ------------------------------------------------------------------------------
def run_verdict(chk: Check, case: Case, answer: Answer) -> None:
    """`chk.verdict` with NumPy and Python warnings silenced. AssertionError is the diagnostic;
    anything else is the judge's fault (`JudgeFault`), never blamed on the answer."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            chk.verdict(case, answer)
    except AssertionError:
        raise
    except Exception as exc:
        raise JudgeFault(f"{chk.name}: {type(exc).__name__}: {exc}\n"
                         + "".join(traceback.format_exc(limit=-6))) from exc


def _payload_problem(payload_: Any) -> tuple[Status, str] | None:
    """The decision for a payload that carries no answer, if so."""
    if not isinstance(payload_, dict):
        return Status.ERROR, "réponse illisible"
    if "incomplete" in payload_:
        return Status.INCOMPLETE, str(payload_["incomplete"])[:200]
    if "invalid" in payload_:
        return Status.FAILED, str(payload_["invalid"])[:500]
    if "error" in payload_:
        return Status.ERROR, "votre code lève une erreur : " + str(payload_["error"])[:300]
    return None


def decode_payloads(cases: list, payloads: Any) -> list[Answer] | Decision:
    """The decoded answers, one per case, or the decision when there is nothing to judge."""
    if not isinstance(payloads, list) or len(payloads) != len(cases):
        return Decision(Status.ERROR, "la vérification n'a pas renvoyé de réponse exploitable")
    answers = []
    for item in payloads:
        problem = _payload_problem(item)
        if problem:
            return Decision(*problem)
        try:
            answers.append(decode_answer(item.get("answer")))
        except (ValueError, TypeError):
            return Decision(Status.ERROR, "réponse illisible (valeurs non numériques ?)")
    return answers


def judge(chk: Check, cases: list[Case], payloads: Any) -> Decision:
    """Decide one check from the kernel's raw payloads (untrusted data) on the judge's cases."""
    answers = decode_payloads(cases, payloads)
    if isinstance(answers, Decision):
        return answers
    for case, answer in zip(cases, answers):
        try:
            run_verdict(chk, case, answer)
        except AssertionError as exc:
            return Decision(Status.FAILED, str(exc) or "réponse incorrecte")
        except JudgeFault as exc:
            return Decision(Status.GRADER_FAULT, GRADER_FAULT_MESSAGE, str(exc))
    return Decision(Status.PASSED, "")


def judge_public(exercise: Exercise, entry: PublicEntry, payloads: Any) -> Decision:
    """Decide on the public cases alone, as the notebook's check() does (no judge at hand: a
    student's own repository). Never a grade of record."""
    answers = decode_payloads(entry.cases, payloads)
    if isinstance(answers, Decision):
        return answers
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self_verdict(exercise, entry, answers)
    except AssertionError as exc:
        return Decision(Status.FAILED, str(exc) or "réponse incorrecte")
    except Exception as exc:
        return Decision(Status.GRADER_FAULT, GRADER_FAULT_MESSAGE,
                        f"{exercise.name}: {type(exc).__name__}: {exc}")
    return Decision(Status.PASSED, "")


# -- the public table, built from the judge and the master (`grader release`) ----------------
def public_entry(checks: Checks, name: str, master_ns: Callable[..., dict]) -> PublicEntry:
    """What the notebook's check() needs for `name`: the public cases and, unless the exercise
    checks properties, the master's answers and the known mistakes' answers with the judge's
    diagnostics. `master_ns(**overrides)` gives a namespace with the master's definitions."""
    exercise, chk = checks.exercise(name), checks[name]
    cases = chk.cases(np.random.default_rng(PUBLIC_SEED), False)
    entry = PublicEntry(roundtrip(cases))
    if exercise.selfcheck is not None:
        return entry

    def answers(ns: dict) -> tuple[Decision, list[Answer] | None]:
        payloads = [payload(exercise, case, ns) for case in entry.cases]
        decided = judge(chk, cases, payloads)
        if not all("answer" in p for p in payloads):
            return decided, None
        return decided, [decode_answer(p["answer"]) for p in payloads]

    decided, entry.expected = answers(master_ns())
    if decided.status != Status.PASSED or entry.expected is None:
        raise ValueError(f"{name}: the master fails its own public check: {decided}")
    for mistake in checks.mistakes.get(name, []):
        decided, got = answers(master_ns(**mistake.overrides))
        if decided.status == Status.FAILED and got is not None and not any(
                same_answers(got, known) for known, _ in entry.mistakes):
            entry.mistakes.append((got, decided.message))
    return entry


def same_answers(a: list[Answer], b: list[Answer]) -> bool:
    """Two lists of answers hold the same values (public tables in sync)."""
    return len(a) == len(b) and all(
        set(x) == set(y) and all(
            x[k] == y[k] if isinstance(y[k], str) or isinstance(x[k], str)
            else close(x[k], y[k], 1e-9, 1e-12) for k in y)
        for x, y in zip(a, b))

