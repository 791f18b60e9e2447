"""Known mistakes loaded on first use, for judges whose mistakes need heavy imports.

The mistakes of the PyTorch TPs are networks and training loops: building them imports torch.
Grading never uses them (only the mutation tests and `grader release` do), so the judge package
stays as light to import as its verdicts allow: the grading worker answers sooner.
"""

from __future__ import annotations

import importlib
from typing import Callable

from grader.judging import Checks, Mistake


class LazyMistakesChecks(Checks):
    """`Checks` whose `mistakes` come from `load()` on first access."""

    def __init__(self, exercises, load: Callable[[], dict[str, list[Mistake]]], **kwargs):
        self._load = load
        self._mistakes: dict[str, list[Mistake]] | None = None
        super().__init__(exercises, **kwargs)

    @property
    def mistakes(self) -> dict[str, list[Mistake]]:
        if self._mistakes is None:
            self._mistakes = self._load()
        return self._mistakes

    @mistakes.setter
    def mistakes(self, value: dict[str, list[Mistake]]) -> None:
        self._mistakes = value or None  # Checks.__init__ sets {}: still to load


def from_modules(package: str, *modules: str) -> Callable[[], dict[str, list[Mistake]]]:
    """A loader merging the MISTAKES dictionaries of `package`'s `modules`."""

    def load() -> dict[str, list[Mistake]]:
        merged: dict[str, list[Mistake]] = {}
        for name in modules:
            for check, mistakes in importlib.import_module(f"{package}.{name}").MISTAKES.items():
                merged.setdefault(check, []).extend(mistakes)
        return merged

    return load
