"""Re-use the grade of a notebook that did not change (the student pipeline's cache).

The key covers everything a grade depends on: the submitted notebook, the master, the TP's
kernel package (with its public table), its judge package when there is one, the shared course
library and judge code, and the grader's own code. Hidden cases are drawn afresh on a miss only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from . import report
from .config import ROOT, TP, Course
from .results import TPResult


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:  # names relative to their tree: the key survives a moved checkout
        h.update("/".join(path.parts[-3:]).encode())
        h.update(path.read_bytes() if path.is_file() else b"<absent>")
    return h.hexdigest()


def grader_version() -> str:
    return _digest(sorted((ROOT / "grader").rglob("*.py")) + sorted(
        (ROOT / "grader" / "templates").rglob("*.j2")))[:16]


def _files(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.is_dir() for p in sorted(folder.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts]


def key(course: Course, tp: TP, submission: Path) -> str:
    code = _files(course.kernel_package(tp), course.judge_package(tp), course.library,
                  course.root / "judges" / "common")
    return f"{tp.name}-" + _digest([submission, course.master(tp), *code])[:24] + \
        f"-w{tp.written_points:g}-{grader_version()}"


def load(cache: Path, tp: TP, k: str) -> TPResult | None:
    entry = cache / k
    try:
        data = json.loads((entry / "result.json").read_text(encoding="utf-8"))
        feedback = entry / "feedback.html"
        return report.tp_from_json(tp, data, feedback.read_text(encoding="utf-8")
                                   if feedback.exists() else None)
    except (OSError, ValueError, KeyError):
        return None


def store(cache: Path, k: str, result: TPResult) -> None:
    entry = cache / k
    entry.mkdir(parents=True, exist_ok=True)
    (entry / "result.json").write_text(json.dumps(report.tp_json(result), ensure_ascii=False),
                                       encoding="utf-8")
    if result.feedback_html:
        (entry / "feedback.html").write_text(result.feedback_html, encoding="utf-8")
