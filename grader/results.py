"""What grading produces: a status and points per test cell, a result per TP.

Used by the grading run, the reports, the cache and the class tools alike.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from .config import GRADE_SCALE, TP


class Status(StrEnum):
    """A test cell's outcome; the values are what students read and what grades.json stores."""

    PASSED = "réussi"
    FAILED = "échoué"
    INCOMPLETE = "à compléter"
    ERROR = "erreur"  # the student's code raised, or gave no usable answer
    NOT_RUN = "non exécutée"
    UNUSABLE = "inutilisable"  # the whole notebook could not be graded
    GRADER_FAULT = "erreur du correcteur"  # the judge failed: never the student's fault


def clean_text(text: str, limit: int = 2000) -> str:
    """Text from a kernel as something every report can hold: no lone surrogate, no control
    character but newlines and tabs, bounded length."""
    text = str(text).encode("utf-8", "replace").decode("utf-8")
    text = "".join("\ufffd" if unicodedata.category(ch) == "Cc" and ch not in "\n\t" else ch
                   for ch in text)
    return text if len(text) <= limit else text[:limit - 1] + "…"


GRADER_FAULT_MESSAGE = ("le correcteur a rencontré une erreur interne en vérifiant cette réponse "
                        "(ce n'est pas votre copie) : 0 point en attendant que l'équipe "
                        "pédagogique la vérifie")


@dataclass
class CellResult:
    grade_id: str
    max_points: float
    points: float = 0.0
    status: Status = Status.NOT_RUN
    message: str = "la cellule de test n'a pas été atteinte"
    fault: str | None = None  # what went wrong in the judge (for the instructors' log)


@dataclass
class TPResult:
    tp: TP
    notebook: str
    cells: list[CellResult] = field(default_factory=list)
    problem: str | None = None  # the submission was unusable: why (French)
    seed: int | None = None
    hidden: bool = True  # judged with the hidden cases (False: public cases only)
    seconds: float = 0.0
    feedback_html: str | None = None
    graded_nb: dict | None = None  # the executed notebook with the judge's verdicts
    written: float = 0.0  # points of the written answers: instructors grade them (0 till then)

    @property
    def score(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.cells) + self.written

    @property
    def grade(self) -> float:
        """The grade on the course's scale (/20)."""
        return GRADE_SCALE * self.score / self.max_score if self.max_score else 0.0

    @property
    def faults(self) -> list[CellResult]:
        """Cells the judge could not decide: 0 points, to be looked at by an instructor."""
        return [c for c in self.cells if c.status == Status.GRADER_FAULT]
