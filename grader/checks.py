"""The check protocol, shared by the notebook kernel and the judge.

A `Check` is one graded exercise, named like the nbgrader test cell (`grade_id`) that calls it.
Its three parts run in different places so that student code can never decide a verdict:

- `cases(rng, hidden)` runs in the judge (the grader's own process): it makes the inputs,
  from a seed the kernel never sees when grading;
- `evaluate(case, *targets)` runs in the student's kernel: it only applies the student's
  functions/objects (looked up by name) to the inputs and returns plain data;
- `verdict(case, answer)` runs in the judge on that plain data (decoded without pickle) and
  raises `AssertionError` with a French diagnostic when the answer is wrong.

Case keys starting with "_" stay in the judge (held-out labels, expected values): the kernel
never receives them when grading.

In a notebook, `CHECKS.check("name")` runs all three in the kernel for immediate feedback; that
result is for the student only. When grading, the judge sends the inputs, the kernel answers
through `CHECKS.respond` (a display output the grader captures), and the judge decides.
"""

from __future__ import annotations

import base64
import inspect
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

ANSWER_MIME = "application/vnd.apprentissage-profond.answer+json"
PUBLIC_SEED = 2024
MAX_ANSWER_BYTES = 32 * 1024 * 1024
MAX_STRING_CHARS = 1_000_000  # e.g. a Keras model's JSON config

Case = dict[str, Any]
Answer = dict[str, Any]


class Incomplete(Exception):
    """The student has not written this part yet (stub still raising NotImplementedError)."""


@dataclass(frozen=True)
class Check:
    name: str
    targets: tuple[str, ...]
    cases: Callable[[np.random.Generator, bool], list[Case]]
    evaluate: Callable[..., Answer]
    verdict: Callable[[Case, Answer], None]
    # From-scratch exercises: the judge rejects torch/keras/tensorflow in the answer cells.
    numpy_only: bool = False
    doc: str = field(default="", compare=False)


class Checks(dict):
    """The checks of one TP, by name. A reference module builds one and exports `check`.

    `judge_imports`: heavy modules the verdicts import (torch, scikit-learn...); the grader
    imports them in the background while the student's notebook runs.
    """

    def __init__(self, judge_imports: tuple[str, ...] = ()):
        super().__init__()
        self.judge_imports = judge_imports

    def add(self, check: Check) -> Check:
        if check.name in self:
            raise ValueError(f"duplicate check {check.name!r}")
        self[check.name] = check
        return check

    # -- in the kernel, for the student ------------------------------------------------------
    def check(self, name: str, hidden: bool = False) -> None:
        """Evaluate and judge `name` right here, printing a French verdict.

        Public cases use a fixed seed; `hidden=True` draws other cases (other seeds and shapes).
        """
        chk = self[name]
        namespace = inspect.currentframe().f_back.f_globals
        rng = np.random.default_rng(None if hidden else PUBLIC_SEED)
        for case in chk.cases(rng, hidden):
            try:
                seen = roundtrip([case])[0]  # what the kernel gets when grading
                answer = decode_answer(encode_answer(_evaluate(chk, seen, namespace)))
            except Incomplete as exc:
                raise NotImplementedError(f"{name} : à compléter ({exc})") from None
            run_verdict(chk, case, answer)
        print(f"✔ {name} : correct")

    def respond(self, name: str, cases_path: str) -> None:
        """Kernel side of grading: evaluate the student's objects on the judge's inputs."""
        from IPython.display import display

        chk = self[name]
        namespace = inspect.currentframe().f_back.f_globals
        payloads = []
        for case in load_cases(cases_path):
            try:
                payloads.append({"answer": encode_answer(_evaluate(chk, case, namespace))})
            except Incomplete as exc:
                payloads.append({"incomplete": str(exc)[:200]})
            except Exception as exc:  # the student's error is data for the judge
                payloads.append({"error": f"{type(exc).__name__}: {exc}"[:500]})
        display({ANSWER_MIME: {"check": name, "payloads": payloads}}, raw=True)


def _evaluate(chk: Check, case: Case, namespace: dict) -> Answer:
    missing = [t for t in chk.targets if t not in namespace]
    if missing:
        raise Incomplete(f"« {', '.join(missing)} » n'est pas défini")
    try:
        answer = chk.evaluate(case, *(namespace[t] for t in chk.targets))
    except NotImplementedError:
        raise Incomplete("la fonction lève encore NotImplementedError") from None
    if not isinstance(answer, dict):
        raise TypeError("evaluate must return a dict")
    return answer


# -- plain-data encoding (JSON + raw little-endian float64, never pickle) --------------------
def encode_answer(answer: Answer) -> dict:
    out = {}
    for key, value in answer.items():
        if isinstance(value, str):
            out[key] = {"str": value[:MAX_STRING_CHARS]}
        else:
            arr = np.asarray(value, dtype="<f8").copy(order="C")  # keeps 0-d shapes
            out[key] = {"shape": list(arr.shape), "f8": base64.b64encode(arr.tobytes()).decode()}
    return out


def decode_answer(encoded: Any) -> Answer:
    """Decode what a kernel sent. Anything malformed raises ValueError."""
    if not isinstance(encoded, dict):
        raise ValueError("answer is not an object")
    out: Answer = {}
    for key, item in encoded.items():
        if not isinstance(key, str) or not isinstance(item, dict):
            raise ValueError("malformed answer entry")
        if "str" in item:
            if not isinstance(item["str"], str):
                raise ValueError("malformed string")
            out[key] = item["str"]
            continue
        shape = item.get("shape")
        data = item.get("f8")
        if not (isinstance(shape, list) and all(isinstance(s, int) and s >= 0 for s in shape)):
            raise ValueError("malformed shape")
        if not isinstance(data, str) or len(data) > MAX_ANSWER_BYTES:
            raise ValueError("malformed or oversized data")
        raw = base64.b64decode(data, validate=True)
        if len(raw) != 8 * math.prod(shape):
            raise ValueError("data does not match shape")
        out[key] = np.frombuffer(raw, dtype="<f8").reshape(shape).copy()
    return out


def save_cases(cases: list[Case], path) -> None:
    """Write the judge's inputs for the kernel (npz, loaded without pickle)."""
    arrays = {}
    for i, case in enumerate(roundtrip(cases)):
        for key, value in case.items():
            arrays[f"{i}/{key}"] = np.asarray(value)
    arrays["__count__"] = np.asarray(len(cases))
    np.savez(path, **arrays)


def load_cases(path) -> list[Case]:
    with np.load(path, allow_pickle=False) as data:
        cases: list[Case] = [{} for _ in range(int(data["__count__"]))]
        for name in data.files:
            if name == "__count__":
                continue
            i, key = name.split("/", 1)
            value = data[name]
            cases[int(i)][key] = value.item() if value.ndim == 0 else value
    return cases


def roundtrip(cases: list[Case]) -> list[Case]:
    """The cases exactly as the kernel sees them: judge-only "_" keys dropped, same types as
    after save/load."""
    return [
        {k: (np.asarray(v).item() if np.ndim(v) == 0 else np.asarray(v))
         for k, v in c.items() if not k.startswith("_")}
        for c in cases
    ]


# -- helpers for verdicts: coerce plain data, fail with French messages -----------------------
def as_array(answer: Answer, key: str, shape: tuple | None = None, what: str | None = None) -> np.ndarray:
    """The answer's entry `key` as a finite float array of the expected shape."""
    what = what or key
    if key not in answer:
        raise AssertionError(f"{what} : aucune valeur renvoyée")
    value = answer[key]
    if isinstance(value, str):
        raise AssertionError(f"{what} : un nombre ou un tableau est attendu, pas du texte")
    arr = np.asarray(value, dtype=float)
    if shape is not None and arr.shape != tuple(shape):
        raise AssertionError(
            f"{what} : forme {tuple(arr.shape)} au lieu de {tuple(shape)} attendue"
        )
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
PASSED, FAILED, INCOMPLETE, ERROR = "réussi", "échoué", "à compléter", "erreur"


def run_verdict(chk: Check, case: Case, answer: Answer) -> None:
    """`chk.verdict`, which never crashes on strange data: NumPy warnings silenced, and any
    error other than the diagnostic itself turned into a failure with a French message (an
    answer is untrusted data: absurd shapes or overflows must cost points, not the grader)."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            chk.verdict(case, answer)
    except AssertionError:
        raise
    except Exception as exc:
        raise AssertionError(f"réponse inexploitable ({type(exc).__name__}) : vérifiez les "
                             "formes et les valeurs renvoyées") from None


def judge(chk: Check, cases: list[Case], payloads: Any) -> tuple[str, str]:
    """Decide one check from the kernel's raw payloads: (status, French message).

    `cases` are the judge's own inputs; `payloads` is untrusted data from the kernel.
    """
    if not isinstance(payloads, list) or len(payloads) != len(cases):
        return ERROR, "la vérification n'a pas renvoyé de réponse exploitable"
    for case, payload in zip(cases, payloads):
        if not isinstance(payload, dict):
            return ERROR, "réponse illisible"
        if "incomplete" in payload:
            return INCOMPLETE, str(payload["incomplete"])[:200]
        if "error" in payload:
            return ERROR, "votre code lève une erreur : " + str(payload["error"])[:300]
        try:
            answer = decode_answer(payload.get("answer"))
        except (ValueError, TypeError):
            return ERROR, "réponse illisible (valeurs non numériques ?)"
        try:
            run_verdict(chk, case, answer)
        except AssertionError as exc:
            return FAILED, str(exc) or "réponse incorrecte"
    return PASSED, ""


def run_in_process(chk: Check, namespace: dict, hidden: bool = False, seed: int | None = None):
    """Evaluate and judge `chk` on the objects of `namespace` in this process (tests, tools).

    Same path as grading (cases -> evaluate -> plain data -> verdict), without a kernel.
    """
    rng = np.random.default_rng(PUBLIC_SEED if seed is None else seed)
    cases = chk.cases(rng, hidden)
    payloads = []
    for case in roundtrip(cases):
        try:
            payloads.append({"answer": encode_answer(_evaluate(chk, case, namespace))})
        except Incomplete as exc:
            payloads.append({"incomplete": str(exc)})
        except Exception as exc:
            payloads.append({"error": f"{type(exc).__name__}: {exc}"})
    return judge(chk, cases, payloads)
