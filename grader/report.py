"""Reports of a grading run: console table, grades.json, junit.xml, feedback HTML."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .config import GRADE_SCALE
from .results import CellResult, Status, TPResult, clean_text

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
NOT_ATTEMPTED = (Status.INCOMPLETE, Status.NOT_RUN)
# Characters XML 1.0 cannot hold at all (junit.xml must stay well-formed whatever a message says).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def one_line(text: str, width: int = 160) -> str:
    """Untrusted text (it may quote a student's error) as one harmless line: no newline can
    start a fake `Note : ...` line in the CI log."""
    text = _CONTROL.sub(" ", clean_text(text, 100_000)).strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", str(text))


def started(r: TPResult) -> bool:
    """Some exercise of the TP was attempted, or its notebook is there but unusable (a broken
    notebook counts: hiding it would hide the problem); a stub or no notebook is not."""
    if r.problem:
        return Path(r.notebook).is_file()
    return any(c.status not in NOT_ATTEMPTED for c in r.cells)


def counted(results: list[TPResult], now) -> list[TPResult]:
    """The TPs a running mean counts: those started, and those past their deadline (a student
    in week 2 is not averaged with the TPs of week 8). All of them if none qualifies."""
    chosen = [r for r in results if started(r) or r.tp.deadline <= now]
    return chosen or results


def mean_line(results: list[TPResult], counted: list[TPResult]) -> str:
    """The TPs left out of the mean (if any), then the grade line (always the last line)."""
    left_out = [r.tp for r in results if r not in counted]
    note = ("TP hors de la moyenne (ni commencés ni échus) : " + ", ".join(
        f"{tp.name} (échéance {tp.deadline:%d/%m/%Y})" for tp in left_out) + "\n"
            if left_out else "")
    return note + grade_line(mean_grade(counted))


def mean_grade(results: list[TPResult]) -> float:
    total = sum(r.tp.weight for r in results)
    return sum(r.tp.weight * r.grade for r in results) / total if total else 0.0


def grade_line(grade: float) -> str:
    """The one line GitLab's `coverage:` regex reads."""
    return f"Note : {grade:.2f}/{GRADE_SCALE:.0f} ({100 * grade / GRADE_SCALE:.2f} %)"


def console(results: list[TPResult]) -> str:
    """Each TP's table, then the (weighted mean) grade line."""
    lines = [tp_block(r) for r in results]
    lines.append("")
    if len(results) > 1:
        lines.append("Moyenne pondérée des TP corrigés (coefficients de course.toml)")
    lines.append(grade_line(mean_grade(results)))
    return "\n".join(lines)


def tp_block(r: TPResult) -> str:
    """One TP's table: an exercise per line, its points and status (messages on one line)."""
    lines = ["", f"== {r.tp.title} ({r.tp.name})"]
    if r.problem:
        lines.append(f"   Copie inutilisable : {one_line(r.problem)}")
    width = max([len(c.grade_id) for c in r.cells] + [10])
    lines.append(f"   {'Exercice':<{width}}  {'Points':>11}  Statut")
    for c in r.cells:
        pts = f"{c.points:g}/{c.max_points:g}"
        msg = "" if c.status == Status.PASSED or r.problem else \
            f" — {one_line(c.message, 110)}"
        lines.append(f"   {c.grade_id:<{width}}  {pts:>11}  {c.status}{msg}")
    lines.append(f"   Total {r.tp.name} : {r.score:g}/{r.max_score:g} points, "
                 f"{r.grade:.2f}/{GRADE_SCALE:.0f}  ({r.seconds:.1f} s)")
    if r.written:
        lines.append(f"   Réponses écrites : {r.written:g} point(s) en attente de la correction "
                     "de l'équipe pédagogique (comptés 0 d'ici là).")
    if not r.hidden and not r.problem:
        lines.append("   Tests publics seulement : la note officielle vérifie aussi vos "
                     "fonctions sur des cas cachés.")
    if r.faults:
        lines.append(f"   {len(r.faults)} erreur(s) du correcteur : 0 point en attendant "
                     "une vérification par l'équipe pédagogique.")
    return "\n".join(lines)


def tp_json(r: TPResult) -> dict:
    return {
        "title": r.tp.title,
        "notebook": r.notebook,
        "grade": round(r.grade, 4),
        "score": r.score,
        "max_score": r.max_score,
        "weight": r.tp.weight,
        "problem": r.problem and clean_text(r.problem),
        "seed": r.seed,
        "hidden": r.hidden,
        "seconds": round(r.seconds, 2),
        "grader_faults": len(r.faults),
        "written_pending": r.written,
        "cells": [
            {"grade_id": c.grade_id, "points": c.points, "max": c.max_points,
             "status": str(c.status), "message": clean_text(c.message),
             "fault": c.fault and clean_text(c.fault)}
            for c in r.cells
        ],
    }


def tp_from_json(tp, data: dict, feedback_html: str | None = None) -> TPResult:
    """A TPResult back from `tp_json` (cached results, summaries of several jobs)."""
    return TPResult(
        tp=tp, notebook=data["notebook"], problem=data["problem"], seed=data["seed"],
        hidden=data.get("hidden", True), seconds=data["seconds"], feedback_html=feedback_html,
        written=data.get("written_pending", 0.0),
        cells=[CellResult(c["grade_id"], c["max"], c["points"], Status(c["status"]),
                          c["message"], c.get("fault"))
               for c in data["cells"]])


def as_json(results: list[TPResult]) -> dict:
    return {
        "grade": round(mean_grade(results), 4),
        "scale": GRADE_SCALE,
        "tps": {r.tp.name: tp_json(r) for r in results},
    }


def junit(results: list[TPResult]) -> ET.ElementTree:
    """One testcase per test cell, named after the exercise alone (GitLab follows a test
    across pipelines by its name), its points as properties; an exercise not attempted yet is
    skipped, not failed."""
    suites = ET.Element("testsuites", name="notes")
    for r in results:
        skipped = [c for c in r.cells if c.status in NOT_ATTEMPTED]
        failed = [c for c in r.cells if c.status != Status.PASSED and c not in skipped]
        suite = ET.SubElement(suites, "testsuite", name=r.tp.name, tests=str(len(r.cells)),
                              failures=str(len(failed)), skipped=str(len(skipped)),
                              time=f"{r.seconds:.2f}")
        for c in r.cells:
            case = ET.SubElement(suite, "testcase", classname=r.tp.name, name=c.grade_id)
            props = ET.SubElement(case, "properties")
            ET.SubElement(props, "property", name="points", value=f"{c.points:g}")
            ET.SubElement(props, "property", name="max_points", value=f"{c.max_points:g}")
            if c.status == Status.PASSED:
                continue
            text = f"{c.points:g}/{c.max_points:g} pt — {c.status} : {c.message}"
            ET.SubElement(case, "skipped" if c in skipped else "failure",
                          message=xml_text(one_line(text, 500)),
                          type=str(c.status)).text = xml_text(c.message)
    ET.indent(suites)
    return ET.ElementTree(suites)


def write_all(results: list[TPResult], out: Path) -> list[Path]:
    """Write the reports into `out`; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "grades.json", out / "junit.xml"]
    written[0].write_text(
        json.dumps(as_json(results), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    junit(results).write(written[1], encoding="utf-8", xml_declaration=True)
    for r in results:
        if r.feedback_html:
            written.append(out / f"feedback_{r.tp.name}.html")
            written[-1].write_text(r.feedback_html, encoding="utf-8")
    return written
