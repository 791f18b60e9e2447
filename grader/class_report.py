"""The class report of a TP: what the class did and what to re-explain in the next lecture.

One self-contained HTML page (Jinja2, PNG plots inline): the grades of the copies graded, apart
from the students with no usable copy; each exercise's success rate and, for the copies that
failed it, the most frequent diagnostics of the judge (numbers set aside, so that "attendu 3.2"
and "attendu 4.1" count as one mistake); and one row per student.
"""

from __future__ import annotations

import base64
import io
import re
from collections import Counter
from pathlib import Path

import jinja2

from .collect import load_manifest
from .config import GRADE_SCALE, TP, Course
from .exports import default_db_url, gradebook, graded_assignment, records, tp_grades
from .results import Status

TEMPLATE = Path(__file__).parent / "templates" / "rapport_classe.html.j2"
NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?(?:e[-+]?\d+)?")
TOP = 5  # diagnostics shown per exercise


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _plots(grades: list[float], success: dict[str, float], title: str) -> tuple[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(grades, bins=[x / 2 for x in range(0, int(2 * GRADE_SCALE) + 2)], color="#1565c0")
    ax.set_xticks(range(0, int(GRADE_SCALE) + 1, 2))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"note /{GRADE_SCALE:g}")
    ax.set_ylabel("copies")
    ax.set_title(f"{title} : distribution des notes")
    hist = _png(fig)
    fig, ax = plt.subplots(figsize=(6, 0.4 * len(success) + 1))
    ax.barh(list(success), [100 * v for v in success.values()], color="#2e7d32")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% des copies ayant tous les points")
    return hist, _png(fig)


def diagnostics(results: list[dict]) -> dict[str, list[tuple[str, int]]]:
    """For each exercise, its most frequent diagnostics among the copies that failed it
    (numbers replaced by « … »), with their counts."""
    counts: dict[str, Counter] = {}
    for result in results:
        for cell in result.get("cells", []):
            if cell["status"] in (Status.FAILED, Status.ERROR):
                text = NUMBER.sub("…", cell["message"]).strip()[:200]
                counts.setdefault(cell["grade_id"], Counter())[text] += 1
    return {gid: c.most_common(TOP) for gid, c in counts.items()}


def class_report(course: Course, tp: TP, work: Path, db_url: str | None) -> Path:
    db_url = db_url or default_db_url(work)
    grades = tp_grades(course, tp, db_url)
    with gradebook(db_url) as gb:
        cells = graded_assignment(gb, tp).notebooks[0].grade_cells
        points = {cell.name: cell.max_score for cell in cells}
        full = {cell.name: [g.score >= g.max_score for g in cell.grades if g.max_score]
                for cell in cells}
    subs = {s.student: s for s in load_manifest(work, tp)}
    results = records(work, tp.name)
    unusable = {s for s, r in results.items() if r.get("problem")}
    absent = {s for s, sub in subs.items() if not sub.notebook} | unusable
    graded = {s: g for s, g in grades.items() if s not in absent}
    success = {gid: sum(ok) / len(ok) if ok else 0.0 for gid, ok in full.items()}
    hist, bars = _plots(list(graded.values()), success, tp.title)
    frequent = diagnostics([r for s, r in results.items() if s in graded])
    students = [{"id": s, "nom": sub.name, "note": grades.get(s),
                 "retard": sub.late_days, "penalite": sub.penalty,
                 "remarque": results.get(s, {}).get("note", ""), "sans_copie": s in absent}
                for s, sub in sorted(subs.items())]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE.parent),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    html = env.get_template(TEMPLATE.name).render(
        tp=tp, scale=GRADE_SCALE, graded=len(graded), absent=len(absent),
        mean=sum(graded.values()) / len(graded) if graded else None, hist=hist, bars=bars,
        exercises=[{"id": gid, "points": points[gid], "reussite": success[gid],
                    "echecs": frequent.get(gid, []), "copies": len(graded)} for gid in points],
        students=students)
    out = work / "reports" / f"{tp.name}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
