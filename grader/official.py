"""The grade of record: official grading of collected notebooks into nbgrader's gradebook,
exports, module grades and class reports (instructors' side).

Each submission is graded in its own throwaway sandbox by a pool of grading processes
(`grader.class_grading`, `jobs` in parallel), from the notebook alone, with the masters' hidden
tests and hidden cases drawn from a secret seed. This process records the judge's points in the
gradebook as nbgrader auto-scores as each student is graded, so a manual score entered by an
instructor is never overwritten and re-running is idempotent. The grade of record fails closed:
no sandbox, no grades (unless explicitly allowed, and then every record says so).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import secrets
from pathlib import Path
from typing import Callable

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from .class_grading import grade_class
from .collect import Submission, load_manifest
from .config import GRADE_SCALE, TP, Course, CourseError
from .gradebook import GradebookSession
from .notebooks import grade_cells
from .results import TPResult
from .sandbox import isolation_problem


def default_db_url(work: Path) -> str:
    return f"sqlite:///{work / 'gradebook.db'}"


def course_secret(work: Path) -> bytes:
    """The seed of the hidden cases: GRADER_SECRET, else a random secret kept in the work dir
    (never in a student's reach), so that re-grading draws the same cases."""
    if os.environ.get("GRADER_SECRET"):
        return os.environ["GRADER_SECRET"].encode()
    path = work / "secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def _seed(secret: bytes, tp: TP, student: str) -> int:
    return int.from_bytes(hashlib.sha256(secret + f"/{tp.name}/{student}".encode()).digest()[:8],
                          "big") >> 1


def autograde(course: Course, tp: TP, work: Path, db_url: str | None = None, jobs: int = 1,
              allow_unsandboxed: bool = False,
              progress: Callable[[str, TPResult], None] | None = None) -> dict[str, TPResult]:
    """Grade every collected submission of `tp` and record it in the gradebook, each student as
    soon as graded (an interrupted run keeps what it recorded; re-running is idempotent).

    The grade of record fails closed: without the sandbox it refuses, unless `allow_unsandboxed`
    (then every record says so)."""
    problem = isolation_problem()
    if problem and not allow_unsandboxed:
        raise CourseError(
            f"correction officielle refusée : le bac à sable ne peut pas être construit ici "
            f"({problem}). Corrigez sur une machine où bubblewrap fonctionne (apt install "
            "bubblewrap ; espaces de noms utilisateur autorisés), ou relancez avec "
            "--allow-unsandboxed : ce sera noté pour chaque copie.")
    db_url = db_url or default_db_url(work)
    subs = load_manifest(work, tp)
    secret = course_secret(work)
    GradebookSession(db_url, tp.name).save_master_once(course.master(tp))
    cells = grade_cells(nbformat.read(course.master(tp), as_version=4))
    feedback_dir = work / "feedback" / tp.name
    feedback_dir.mkdir(parents=True, exist_ok=True)
    by_student = {s.student: s for s in subs}
    results: dict[str, TPResult] = {}
    unsandboxed = "corrigé SANS bac à sable (--allow-unsandboxed)" if problem else None

    def record(student: str, result: TPResult | None) -> None:
        sub = by_student[student]
        if result is not None:
            results[student] = result
        try:
            _record(course, tp, work, db_url, sub, result, feedback_dir, unsandboxed)
        except Exception as exc:  # one student's record never stops the class
            _save_note(work, tp, sub, f"enregistrement impossible ({type(exc).__name__}: "
                       f"{exc})"[:300], unsandboxed)
        if progress and result is not None:
            progress(student, result)

    for sub in subs:
        if not sub.notebook:
            record(sub.student, None)
    todo = [(s.student, s.notebook, _seed(secret, tp, s.student)) for s in subs if s.notebook]
    grade_class(course, tp, todo, jobs, cells, record)
    return results


def _record(course: Course, tp: TP, work: Path, db_url: str, sub: Submission,
            result: TPResult | None, feedback_dir: Path, unsandboxed: str | None) -> None:
    book = GradebookSession(db_url, tp.name, sub.student)
    problem = sub.problem or (result.problem if result else None)
    scores = {} if result is None or result.problem else {
        c.grade_id: c.points for c in result.cells}
    book.record_submission(scores, late_penalty=sub.penalty, student_name=sub.name)
    faults = len(result.faults) if result else 0
    if faults:
        problem = (f"{faults} erreur(s) du correcteur : à re-corriger ({result.faults[0].fault})"
                   [:300])
    _save_note(work, tp, sub, problem, unsandboxed)
    if result is not None and result.graded_nb is not None:
        (feedback_dir / f"{sub.student}.html").write_text(
            book.feedback_html(result.graded_nb), encoding="utf-8")


def _save_note(work: Path, tp: TP, sub: Submission, problem: str | None,
               unsandboxed: str | None = None) -> None:
    """Why a student has no grade, or how late, or how it was graded: kept beside the
    gradebook for the exports."""
    path = work / "notes.json"
    notes = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    text = "; ".join(t for t in (
        problem, f"rendu en retard de {sub.late_days} jour(s) : −{sub.penalty:g} point(s)"
        if sub.late_days and not problem else "", unsandboxed) if t)
    notes.setdefault(tp.name, {})[sub.student] = {"name": sub.name, "note": text,
                                                  "commit": sub.commit}
    path.write_text(json.dumps(notes, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _notes(work: Path) -> dict:
    path = work / "notes.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def tp_grades(course: Course, tp: TP, db_url: str) -> dict[str, float]:
    """Grades /20 of the TP from the gradebook: manual scores win, late penalty applied."""
    out = {}
    with Gradebook(db_url) as gb:
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


def export(course: Course, work: Path, db_url: str | None, out: Path) -> Path:
    """CSV of the grades /20 per TP (one row per student), with the reasons of missing work."""
    db_url = db_url or default_db_url(work)
    notes = _notes(work)
    grades = {tp.name: tp_grades(course, tp, db_url) for tp in course.tps.values()}
    graded = [name for name, g in grades.items() if g]
    students = sorted({s for g in grades.values() for s in g})
    names = {s: n["name"] for tp_notes in notes.values() for s, n in tp_notes.items()}
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "nom", *graded, "remarques"])
        for s in students:
            remarks = "; ".join(f"{tp}: {notes[tp][s]['note']}" for tp in graded
                                if notes.get(tp, {}).get(s, {}).get("note"))
            w.writerow([s, names.get(s, ""), *(f"{grades[tp].get(s, 0.0):.2f}" for tp in graded),
                        remarks])
    return out


def final(course: Course, work: Path, db_url: str | None, exam_csv: Path, out: Path):
    """Module grades: ½ exam + ½ mean(TP grades + project), weights from course.toml.

    A TP graded for nobody yet is left out of the mean (and reported); a student without a
    submission for a graded TP has 0 for it; a student without an exam grade gets no module
    grade, only the reason. Returns (rows, warnings)."""
    db_url = db_url or default_db_url(work)
    grades = {tp: tp_grades(course, tp, db_url) for tp in course.tps.values()}
    graded = [tp for tp, g in grades.items() if g]
    warnings = [f"{tp.name} pas encore corrigé : hors de la moyenne"
                for tp in course.tps.values() if tp not in graded]
    with open(exam_csv, newline="", encoding="utf-8") as f:
        exam = {r["id"].strip(): r.get("examen", r.get("exam", "")).strip()
                for r in csv.DictReader(f)}
    notes = _notes(work)
    names = {s: n["name"] for tp_notes in notes.values() for s, n in tp_notes.items()}
    students = sorted({s for g in grades.values() for s in g} | set(exam))
    rows = []
    weight = sum(tp.weight for tp in graded)
    for s in students:
        mean = (sum(tp.weight * grades[tp].get(s, 0.0) for tp in graded) / weight) if weight \
            else None
        missing = [tp.name for tp in graded if s not in grades[tp]]
        remark = [f"non rendu : {', '.join(missing)}"] if missing else []
        try:
            exam_grade = float(exam[s].replace(",", "."))
        except (KeyError, ValueError):
            exam_grade = None
            remark.append("note d'examen manquante" if not exam.get(s) else
                          f"note d'examen illisible ({exam[s]!r})")
        module = None if exam_grade is None or mean is None else 0.5 * exam_grade + 0.5 * mean
        rows.append({"id": s, "nom": names.get(s, ""),
                     "moyenne_tp": "" if mean is None else f"{mean:.2f}",
                     "examen": "" if exam_grade is None else f"{exam_grade:.2f}",
                     "note_module": "" if module is None else f"{module:.2f}",
                     "remarques": "; ".join(remark)})
        if exam_grade is None:
            warnings.append(f"{s} : {remark[-1]}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["id"])
        w.writeheader()
        w.writerows(rows)
    return rows, warnings


def class_report(course: Course, tp: TP, work: Path, db_url: str | None) -> Path:
    """HTML page with the grade histogram and the success rate of each exercise (PNG plots)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    db_url = db_url or default_db_url(work)
    grades = tp_grades(course, tp, db_url)
    success: dict[str, list[float]] = {}
    with Gradebook(db_url) as gb:
        for cell in gb.find_assignment(tp.name).notebooks[0].grade_cells:
            rates = [g.score >= g.max_score for g in cell.grades if g.max_score]
            success[cell.name] = [sum(rates) / len(rates) if rates else 0.0, cell.max_score]

    def png(fig) -> str:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
        plt.close(fig)
        return base64.b64encode(buf.getvalue()).decode()

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(list(grades.values()), bins=[x / 2 for x in range(0, int(2 * GRADE_SCALE) + 2)],
            color="#1565c0")
    ax.set_xlabel(f"note /{GRADE_SCALE:g}")
    ax.set_ylabel("étudiant·e·s")
    ax.set_title(f"{tp.title} : distribution des notes")
    hist = png(fig)
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(success) + 1))
    ids = list(success)
    ax.barh(ids, [100 * success[i][0] for i in ids], color="#2e7d32")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% d'étudiant·e·s ayant tous les points")
    bars = png(fig)
    mean = sum(grades.values()) / len(grades) if grades else 0.0
    rows = "".join(f"<tr><td>{i}</td><td>{success[i][1]:g}</td><td>{100 * success[i][0]:.0f} %"
                   f"</td></tr>" for i in ids)
    html = (f"<!DOCTYPE html><html lang='fr'><meta charset='utf-8'><title>{tp.name}</title>"
            f"<body style='font-family:sans-serif'><h1>{tp.title}</h1>"
            f"<p>{len(grades)} copies, moyenne {mean:.2f}/20</p>"
            f"<img alt='histogramme des notes' src='data:image/png;base64,{hist}'>"
            f"<h2>Réussite par exercice</h2><img alt='réussite par exercice' "
            f"src='data:image/png;base64,{bars}'><table border=1 cellpadding=4>"
            f"<tr><th>exercice</th><th>points</th><th>réussite</th></tr>{rows}</table>"
            f"</body></html>")
    out = work / "reports" / f"{tp.name}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
