"""The class report of a TP: grade histogram and success rate per exercise (PNG in HTML)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from nbgrader.api import MissingEntry

from .config import GRADE_SCALE, TP, Course, CourseError
from .exports import default_db_url, gradebook, tp_grades


def class_report(course: Course, tp: TP, work: Path, db_url: str | None) -> Path:
    """HTML page with the grade histogram and the success rate of each exercise (PNG plots)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    db_url = db_url or default_db_url(work)
    grades = tp_grades(course, tp, db_url)
    success: dict[str, list[float]] = {}
    with gradebook(db_url) as gb:
        try:
            cells = gb.find_assignment(tp.name).notebooks[0].grade_cells
        except MissingEntry:
            raise CourseError(f"{tp.name} n'a pas encore été corrigé : lancez d'abord "
                              f"`grader autograde --tp {tp.name}`") from None
        for cell in cells:
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
