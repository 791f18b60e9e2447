"""Grades out of the gradebook, exam grades in: the spreadsheets instructors use.

Exports come in two dialects: French spreadsheets (`;` between fields, decimal comma, a BOM so
that Excel reads UTF-8), and Moodle's gradebook import (`,`, decimal point, an identifier column
and one column per grade item). The exam file may come from either: its separator is sniffed,
a decimal comma is read, and a row that could mean two things (`bob,11,5` in a comma-separated
file) is refused with its line number, never read as 11.
"""

from __future__ import annotations

import csv
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import OperationalError

from .config import GRADE_SCALE, TP, Course, CourseError


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    decimal: str
    encoding: str
    suffix: str


FRENCH = Dialect(";", ",", "utf-8-sig", "")
MOODLE = Dialect(",", ".", "utf-8", "_moodle")
NUMBER = re.compile(r"^\s*(\d{1,2})(?:[.,](\d+))?\s*$")


def default_db_url(work: Path) -> str:
    return f"sqlite:///{work / 'gradebook.db'}"


def record_path(work: Path, tp_name: str, student: str) -> Path:
    """autograde's record of one copy (see `grader.official`)."""
    return work / "results" / tp_name / f"{student}.json"


def records(work: Path, tp_name: str) -> dict[str, dict]:
    """autograde's record of each copy of a TP, by student."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(record_path(work, tp_name, "*").parent.glob("*.json"))}


def notes(work: Path) -> dict:
    """Why students have no grade, how late they were, how they were graded, by TP and student."""
    return {folder.name: records(work, folder.name)
            for folder in sorted((work / "results").glob("*")) if folder.is_dir()}


@contextmanager
def gradebook(db_url: str):
    """The official gradebook, which must exist (CourseError naming the fix otherwise)."""
    if db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///"):]).is_file():
        raise CourseError(f"carnet de notes introuvable ({db_url[len('sqlite:///'):]}) : "
                          "lancez d'abord `grader autograde` (ou donnez --work / --db-url)")
    try:
        with Gradebook(db_url) as gb:
            yield gb
    except OperationalError as exc:
        raise CourseError(f"carnet de notes inaccessible ({db_url}) : "
                          f"{str(exc.orig or exc).splitlines()[0]}") from None


def graded_assignment(gb, tp: TP):
    """The TP in the gradebook, once autograde has recorded it (CourseError naming it else)."""
    try:
        return gb.find_assignment(tp.name)
    except MissingEntry:
        raise CourseError(f"{tp.name} n'a pas encore été corrigé : lancez d'abord "
                          f"`grader autograde --tp {tp.name}`") from None


def tp_grades(course: Course, tp: TP, db_url: str) -> dict[str, float]:
    """Grades /20 of the TP from the gradebook: manual scores win, late penalty applied."""
    out = {}
    with gradebook(db_url) as gb:
        try:
            assignment = gb.find_assignment(tp.name)
        except MissingEntry:
            return out
        for sub in assignment.submissions:
            nb = sub.notebooks[0]
            score = max(0.0, nb.score - (nb.late_submission_penalty or 0.0))
            out[sub.student.id] = round(GRADE_SCALE * score / nb.max_score, 2) \
                if nb.max_score else 0.0
    return out


def _number(value: float | None, dialect: Dialect) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", dialect.decimal)


def _write(path: Path, header: list[str], rows: list[list], dialect: Dialect) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding=dialect.encoding) as f:
        writer = csv.writer(f, delimiter=dialect.delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _both(path: Path, header: list[str], rows: list[list], numeric: set[int]) -> list[Path]:
    """`path` for French spreadsheets and `<stem>_moodle.csv` for Moodle's import."""
    written = []
    for dialect in (FRENCH, MOODLE):
        cells = [[_number(v, dialect) if i in numeric else v for i, v in enumerate(row)]
                 for row in rows]
        written.append(_write(path.with_name(f"{path.stem}{dialect.suffix}{path.suffix}"),
                              header, cells, dialect))
    return written


def export(course: Course, work: Path, db_url: str | None, out: Path) -> list[Path]:
    """Grades /20 per TP, one row per student, with the reasons of missing work."""
    db_url = db_url or default_db_url(work)
    remarks_by_tp = notes(work)
    grades = {tp.name: tp_grades(course, tp, db_url) for tp in course.tps.values()}
    graded = [name for name, g in grades.items() if g]
    students = sorted({s for g in grades.values() for s in g})
    names = {s: n["name"] for tp_notes in remarks_by_tp.values() for s, n in tp_notes.items()}
    rows = []
    for s in students:
        remarks = "; ".join(f"{tp}: {remarks_by_tp[tp][s]['note']}" for tp in graded
                            if remarks_by_tp.get(tp, {}).get(s, {}).get("note"))
        rows.append([s, names.get(s, ""), *(grades[tp].get(s, 0.0) for tp in graded), remarks])
    return _both(out, ["id", "nom", *graded, "remarques"], rows,
                 set(range(2, 2 + len(graded))))


def read_exam(path: Path) -> dict[str, float | None]:
    """Exam grades by student id (None: no grade). CourseError, naming the line, for a file or a
    row that cannot be read without guessing."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseError(f"fichier d'examen illisible : {path} ({exc})") from None
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else "\t" if "\t" in first else ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader, [])]
    column = next((header.index(h) for h in ("examen", "exam", "note") if h in header), None)
    if "id" not in header or column is None:
        raise CourseError(f"{path.name} : colonnes attendues id et examen (trouvé : "
                          f"{', '.join(header) or 'rien'})")
    grades: dict[str, float | None] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            hint = (" : une virgule décimale dans un fichier séparé par des virgules ? Mettez "
                    "la note entre guillemets ou séparez les colonnes par « ; »"
                    if delimiter == "," and len(row) == len(header) + 1 else "")
            raise CourseError(f"{path.name}, ligne {line} : {len(row)} champs au lieu de "
                              f"{len(header)}{hint}")
        sid, value = row[header.index("id")].strip(), row[column].strip()
        if not value:
            grades[sid] = None
            continue
        match = NUMBER.match(value)
        grade = float(f"{match.group(1)}.{match.group(2) or 0}") if match else None
        if grade is None or grade > GRADE_SCALE:
            raise CourseError(f"{path.name}, ligne {line} : note d'examen {value!r} illisible "
                              f"(un nombre entre 0 et {GRADE_SCALE:g}, virgule ou point)")
        if sid in grades:
            raise CourseError(f"{path.name}, ligne {line} : {sid!r} apparaît deux fois")
        grades[sid] = grade
    return grades


def final(course: Course, work: Path, db_url: str | None, exam_csv: Path, out: Path):
    """Module grades: ½ exam + ½ mean(TP grades + project), weights from course.toml.

    A TP graded for nobody yet is left out of the mean (and reported); a student without a
    submission for a graded TP has 0 for it; a student without an exam grade gets no module
    grade, only the reason. Returns (rows, warnings, files written)."""
    db_url = db_url or default_db_url(work)
    exam = read_exam(exam_csv)
    grades = {tp: tp_grades(course, tp, db_url) for tp in course.tps.values()}
    graded = [tp for tp, g in grades.items() if g]
    warnings = [f"{tp.name} pas encore corrigé : hors de la moyenne"
                for tp in course.tps.values() if tp not in graded]
    names = {s: n["name"] for tp_notes in notes(work).values() for s, n in tp_notes.items()}
    weight = sum(tp.weight for tp in graded)
    rows = []
    for s in sorted({s for g in grades.values() for s in g} | set(exam)):
        mean = (sum(tp.weight * grades[tp].get(s, 0.0) for tp in graded) / weight) if weight \
            else None
        missing = [tp.name for tp in graded if s not in grades[tp]]
        remark = [f"non rendu : {', '.join(missing)}"] if missing else []
        exam_grade = exam.get(s)
        if exam_grade is None:
            remark.append("note d'examen manquante")
            warnings.append(f"{s} : note d'examen manquante")
        module = None if exam_grade is None or mean is None else 0.5 * exam_grade + 0.5 * mean
        rows.append([s, names.get(s, ""), mean, exam_grade, module, "; ".join(remark)])
    header = ["id", "nom", "moyenne_tp", "examen", "note_module", "remarques"]
    files = _both(out, header, rows, {2, 3, 4})
    return [dict(zip(header, row)) for row in rows], warnings, files
