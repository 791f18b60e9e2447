"""The public table of a TP: what the notebook's `check()` knows, instead of an oracle.

For each exercise: the public cases; where the right answer is unique, the master's answers on
them and the answers of the known mistakes with the judge's diagnostic for each (written by
`grader release`, `public.npz` beside the TP's kernel package). `self_verdict` decides from it,
and `diagnose` names what a wrong number usually means when no known mistake matches.
Kernel side: the sandbox gives it to kernels with `protocol.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .protocol import (Answer, Case, Exercise, _case_arrays, _read_cases, close, decode_answer,
                       encode_answer, fmt)


@dataclass
class PublicEntry:
    """What the notebook knows of one exercise: public inputs, and where the right answer is
    unique, the expected answers and the known mistakes' answers with their diagnostics."""

    cases: list[Case]
    expected: list[Answer] | None = None
    mistakes: list[tuple[list[Answer], str]] = field(default_factory=list)


def _answer_arrays(answers: list[Answer], prefix: str) -> dict[str, np.ndarray]:
    return _case_arrays([decode_answer(encode_answer(a)) for a in answers], prefix)


def _read_answers(data, prefix: str) -> list[Answer]:
    return [{k: (str(v) if isinstance(v, str) else np.asarray(v, dtype=float))
             for k, v in a.items()} for a in _read_cases(data, prefix)]


def save_public_table(path: Path, entries: dict[str, PublicEntry]) -> None:
    arrays = {}
    for name, entry in entries.items():
        arrays.update(_case_arrays(entry.cases, f"{name}/case/"))
        if entry.expected is not None:
            arrays.update(_answer_arrays(entry.expected, f"{name}/expected/"))
        arrays[f"{name}/mistakes"] = np.asarray(len(entry.mistakes))
        for m, (answers, message) in enumerate(entry.mistakes):
            arrays.update(_answer_arrays(answers, f"{name}/mistake{m}/"))
            arrays[f"{name}/message{m}"] = np.asarray(message)
    with open(path, "wb") as f:  # deterministic bytes for the same content
        np.savez_compressed(f, **dict(sorted(arrays.items())))


def load_public_table(path: Path) -> dict[str, PublicEntry]:
    with np.load(path, allow_pickle=False) as data:
        names = sorted({k.split("/", 1)[0] for k in data.files})
        out = {}
        for name in names:
            expected = (_read_answers(data, f"{name}/expected/")
                        if f"{name}/expected/count" in data.files else None)
            mistakes = [(_read_answers(data, f"{name}/mistake{m}/"),
                         str(data[f"{name}/message{m}"]))
                        for m in range(int(data[f"{name}/mistakes"]))]
            out[name] = PublicEntry(_read_cases(data, f"{name}/case/"), expected, mistakes)
    return out


def _matches(answers: list[Answer], reference: list[Answer], tolerance,
             same_non_finite: bool = False) -> bool:
    return all(set(ref) <= set(got) and all(
        got[k] == v if isinstance(v, str) else (not isinstance(got[k], str) and close(
            got[k], v, *tolerance, same_non_finite=same_non_finite)) for k, v in ref.items())
        for got, ref in zip(answers, reference))


def self_verdict(exercise: Exercise, entry: PublicEntry, answers: list[Answer]) -> None:
    """Decide on the public cases without any oracle; AssertionError with a French diagnostic."""
    if exercise.selfcheck is not None:
        for i, (case, answer) in enumerate(zip(entry.cases, answers)):
            try:
                exercise.selfcheck(case, answer)
            except AssertionError as exc:
                raise AssertionError(_where(i, entry) + str(exc)) from None
        return
    if _matches(answers, entry.expected, exercise.tolerance):
        return
    for mistake, message in entry.mistakes:  # a known mistake may produce NaN: the same NaN
        if _matches(answers, mistake, exercise.tolerance, same_non_finite=True):
            raise AssertionError(message)
    for i, (answer, expected) in enumerate(zip(answers, entry.expected)):
        problem = diagnose(expected, answer, exercise.tolerance)
        if problem:
            raise AssertionError(_where(i, entry) + problem)


def _where(i: int, entry: PublicEntry) -> str:
    return f"exemple public {i + 1} : " if len(entry.cases) > 1 else ""


# -- generic diagnostics: what a wrong number usually means ------------------------------------
_RATIOS = ((-1.0, "signe opposé"), (2.0, "deux fois trop grand (facteur 2 en trop ?)"),
           (0.5, "deux fois trop petit (facteur 2 oublié ?)"))


def diagnose(expected: Answer, got: Answer, tolerance=(1e-6, 1e-9)) -> str | None:
    """None when `got` matches `expected` (plain data), else a French diagnostic naming the
    first wrong entry and, where the numbers say it, the likely mistake."""
    for key, exp in expected.items():
        if key not in got:
            return f"« {key} » : aucune valeur renvoyée"
        value = got[key]
        if isinstance(exp, str) or isinstance(value, str):
            if isinstance(exp, str) and value == exp:
                continue
            return f"« {key} » : {fmt(value)} au lieu de {fmt(exp)}"
        problem = _diagnose_array(key, np.asarray(exp, dtype=float),
                                  np.asarray(value, dtype=float), tolerance)
        if problem:
            return problem
    return None


def _diagnose_array(key: str, exp: np.ndarray, got: np.ndarray, tolerance) -> str | None:
    if got.shape != exp.shape:
        hint = ""
        if got.ndim == 2 and got.shape == exp.shape[::-1]:
            hint = " : matrice transposée ?"
        elif got.size == exp.size:
            hint = " : mêmes valeurs mais mauvaise forme (reshape, vecteur colonne ?)"
        elif got.ndim == exp.ndim == 1 and abs(got.size - exp.size) == 1:
            hint = " : une valeur " + ("de trop" if got.size > exp.size else "en moins") + \
                   " (décalage de 1 dans une boucle ?)"
        return f"« {key} » : forme {got.shape} au lieu de {exp.shape}{hint}"
    if not np.all(np.isfinite(got)):
        return f"« {key} » contient des NaN ou des valeurs infinies"
    if close(got, exp, *tolerance):
        return None
    flat_e, flat_g = exp.ravel(), got.ravel()
    norm = float(flat_e @ flat_e)
    if norm > 0:
        r = float(flat_g @ flat_e) / norm
        if np.allclose(flat_g, r * flat_e, rtol=1e-6, atol=1e-12):
            for target, words in _RATIOS:
                if abs(r - target) <= 1e-6 * abs(target):
                    return f"« {key} » : {words} par rapport à la valeur attendue"
            return f"« {key} » : proportionnel à la valeur attendue, mais {r:.4g} fois trop grand"
    if exp.ndim == 1 and exp.size > 2 and (close(got[1:], exp[:-1], *tolerance)
                                            or close(got[:-1], exp[1:], *tolerance)):
        return f"« {key} » : valeurs décalées d'un rang (décalage de 1 dans une boucle ?)"
    if exp.ndim == 0:
        return f"« {key} » vaut {fmt(got)} au lieu de {fmt(exp)}"
    worst = np.unravel_index(int(np.argmax(np.abs(got - exp))), exp.shape)
    return (f"« {key} » diffère de la valeur attendue (écart maximal à l'indice "
            f"{tuple(int(i) for i in worst)} : {fmt(got[worst])} au lieu de {fmt(exp[worst])})")
