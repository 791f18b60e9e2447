"""Reading an answer in a notebook's own check (`selfcheck`), where the judge's helpers
(`grader.judging`) are absent: the same refusals, in French."""

from __future__ import annotations

import numpy as np


def tableau(answer: dict, cle: str, quoi: str, forme=None) -> np.ndarray:
    """The answer's entry `cle` as a finite float array (of shape `forme` when given), else
    AssertionError naming `quoi`."""
    valeur = answer.get(cle)
    if valeur is None or isinstance(valeur, str):
        raise AssertionError(f"{quoi} : aucune valeur numérique renvoyée")
    arr = np.asarray(valeur, dtype=float)
    if forme is not None and arr.shape != tuple(forme):
        raise AssertionError(f"{quoi} : forme {arr.shape} au lieu de {tuple(forme)}")
    if not np.all(np.isfinite(arr)):
        raise AssertionError(f"{quoi} contient des NaN ou des valeurs infinies")
    return arr
