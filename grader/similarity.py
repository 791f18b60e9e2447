"""Similar answers across a class, for one TP: a report for instructors, never a grade.

Each collected notebook's answers (the code of the master's solution cells, matched by nbgrader
grade_id, and every code cell the student added) are compared pairwise with copydetect:
MOSS-style winnowing over Pygments tokens, where names, comments and layout are ignored, so
renaming variables or reordering functions does not hide a copy. The starter's code (given
lines, docstrings, stubs, test cells) is boilerplate: what every student received never counts.
Output: a French HTML page of the pairs above the threshold, their matching passages side by
side per exercise, and a CSV of every pair. Nothing here reads or writes the gradebook.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from .collect import Submission, load_manifest
from .config import TP, Course, CourseError
from .notebooks import Unusable, grade_id, load_submission, release
from .report import one_line
from .results import clean_text

# Score of a pair: the mean of the two shares (JPlag's "average"), so that a notebook with
# almost no code of its own cannot reach 100 % with everyone. Measured on 16 synthetic classes
# of 20 to 100 notebooks (tests/similarity_class.py): independent pairs at most 0.66 (0.77 for
# one sharing 67 tokens), disguised whole copies at least 0.795. `[course]
# similarity_threshold` overrides it.
DEFAULT_THRESHOLD = 0.75
NOISE_T = 25  # copydetect's default k: shortest shared run of filtered code that counts
# Every k-gram kept: exact at class sizes, and independent of Python's per-process string
# hash seed (winnowing with a wider window picks minimal hashes, which depend on it).
WINDOW = 1
MIN_TOKENS = 3 * NOISE_T  # fewer shared tokens: a line or two, never enough to flag a pair
# A passage in more notebooks than max(COMMON_MIN, COMMON_SHARE × class) is an idiom of the
# class, not a copy (MOSS's -m option, 10 by default, i.e. 10 % of a class of 100).
COMMON_SHARE, COMMON_MIN = 0.10, 4
MAX_CELL_CHARS = 20_000  # a master's longest answer is ~2,000 characters
MAX_ANSWERS_CHARS = 200_000  # all of a notebook's answers (masters: ~20,000)
MAX_DETAILED = 50  # pairs shown with their passages; the CSV has all of them
ADDED = "cellules ajoutées"  # the exercise label of the cells a student added
TEMPLATE = "similarite.html.j2"


@dataclass
class Answers:
    """One student's answers as one document: exercises in the master's order, then the
    cells they added; `parts` gives each exercise's (label, start, end) in `text`."""

    student: str
    submission: Submission
    text: str
    parts: list[tuple[str, int, int]]
    fingerprint: object = field(repr=False, default=None)


@dataclass
class Pair:
    a: str
    b: str
    score: float  # (share_a + share_b) / 2
    share_a: float  # part of a's own (non-starter) code found in b's
    share_b: float
    tokens: int  # shared tokens (filtered code characters)
    flagged: bool
    slices: tuple = field(repr=False, default=())  # copydetect's passages in a's, b's text


def threshold_for(course: Course, value=None) -> float:
    """`value`, else the course's `similarity_threshold` (validated when course.toml is read)."""
    return float(course.similarity_threshold if value is None else value)


def answers(nb, student: str, sub: Submission, solutions: list[str], given: set[str]) -> Answers:
    """The student's answer cells: code cells with a solution grade_id of the master, and
    code cells the master does not have (no grade_id, or one it does not know). Cells holding
    a given or test grade_id are the starter's (test cells are restored when grading)."""
    groups: dict[str, list[str]] = {gid: [] for gid in [*solutions, ADDED]}
    room = MAX_ANSWERS_CHARS  # a hostile notebook's megabytes would stall the tokenizer
    for cell in nb.cells:
        gid = grade_id(cell)
        if cell.cell_type != "code" or gid in given or room <= 0:
            continue
        limit = min(MAX_CELL_CHARS, room)
        source = clean_text(cell.source[:limit], limit)
        room -= len(source)
        groups[gid if gid in groups else ADDED].append(source)
    text, parts = "", []
    for label, sources in groups.items():
        if sources:
            start = len(text)
            text += "\n\n".join(sources) + "\n\n"
            parts.append((label, start, len(text)))
    return Answers(student, sub, text, parts)


def _fingerprint(text: str, boilerplate: np.ndarray):
    from copydetect import CodeFingerprint

    return CodeFingerprint("reponses.py", NOISE_T, WINDOW, boilerplate, language="python",
                           fp=io.StringIO(text))


def _refingerprint(fp, boilerplate: np.ndarray):
    """`fp` again with another boilerplate, without tokenizing again."""
    from copydetect import CodeFingerprint

    new = CodeFingerprint("reponses.py", NOISE_T, WINDOW, boilerplate, filter=False,
                          fp=io.StringIO(fp.filtered_code))
    new.raw_code, new.offsets = fp.raw_code, fp.offsets  # passages map back to the answers
    return new


def _code(nb) -> str:
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "code")


def common_max(count: int) -> int:
    """A passage in more notebooks than this is common to the class."""
    return max(COMMON_MIN, int(COMMON_SHARE * count))


def compare(docs: list[Answers], starter_code: str, threshold: float) -> list[Pair]:
    """Every pair of `docs`, most similar first. Boilerplate: the starter's passages, and
    those found in many notebooks (COMMON_SHARE: what many students write alike is no copy)."""
    from copydetect import compare_files

    boilerplate = np.array(sorted(_fingerprint(starter_code, np.array([])).hashes), dtype=np.int64)
    for d in docs:
        d.fingerprint = _fingerprint(d.text, boilerplate)
    counts = Counter(h for d in docs for h in d.fingerprint.hashes)
    common = np.array([h for h, n in counts.items() if n > common_max(len(docs))],
                      dtype=np.int64)
    if len(common):
        boilerplate = np.union1d(boilerplate, common)
        for d in docs:  # from the filtered code: Pygments once (most of the time)
            d.fingerprint = _refingerprint(d.fingerprint, boilerplate)
    pairs = []
    for i, da in enumerate(docs):
        for db in docs[i + 1:]:
            tokens, (sa, sb), slices = compare_files(da.fingerprint, db.fingerprint)
            score, tokens = (float(sa) + float(sb)) / 2, int(tokens)
            pairs.append(Pair(da.student, db.student, score, float(sa), float(sb), tokens,
                              score >= threshold and tokens >= MIN_TOKENS, slices))
    pairs.sort(key=lambda p: (-p.score, -p.tokens, p.a, p.b))
    return pairs


def _segments(text: str, start: int, end: int, slices) -> list[tuple[str, bool]]:
    """text[start:end] cut into (piece, shared?) by copydetect's slices (starts, ends)."""
    out, pos = [], start
    for s, e in sorted(zip(*(np.asarray(x, dtype=int) for x in slices))):
        s, e = max(s, pos), min(e, end)
        if s < e:
            out += [(text[pos:s], False), (text[s:e], True)]
            pos = e
    return [seg for seg in out + [(text[pos:end], False)] if seg[0]]


def passages(da: Answers, db: Answers, pair: Pair) -> list[dict]:
    """Per exercise where either side shares code: both sides' code, cut into segments."""
    rows = []
    for label in dict.fromkeys(p[0] for p in da.parts + db.parts):
        sides = []
        for doc, slices in ((da, pair.slices[0]), (db, pair.slices[1])):
            part = next((p for p in doc.parts if p[0] == label), None)
            sides.append(_segments(doc.text, part[1], part[2], slices) if part else [])
        if any(hit for side in sides for _, hit in side):
            rows.append({"label": label, "a": sides[0], "b": sides[1]})
    return rows


def _when(sub: Submission) -> str:
    if not sub.committed_at:
        return "date inconnue"
    return datetime.fromisoformat(sub.committed_at).strftime("%d/%m/%Y %H:%M (%z)")


def _render(course: Course, tp: TP, docs: list[Answers], pairs: list[Pair], threshold: float,
            unreadable: list[tuple[str, str]], missing: list[tuple[str, str]]) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=True, undefined=StrictUndefined)
    by_id = {d.student: d for d in docs}
    flagged = [p for p in pairs if p.flagged]
    shown = []
    for p in flagged[:MAX_DETAILED]:
        da, db = by_id[p.a], by_id[p.b]
        shown.append({"pair": p, "a": da.submission, "b": db.submission, "when_a": _when(
            da.submission), "when_b": _when(db.submission), "rows": passages(da, db, p)})
    return env.get_template(TEMPLATE).render(
        tp=tp, course=course.name, count=len(docs), n_pairs=len(pairs), flagged=flagged,
        shown=shown, threshold=threshold, unreadable=unreadable, missing=missing,
        common=common_max(len(docs)),
        generated=datetime.now().astimezone().strftime("%d/%m/%Y %H:%M"))


def similarity_report(course: Course, tp: TP, work: Path, threshold: float | None = None):
    """Compare the collected notebooks of `tp` pairwise; write the HTML report and the CSV of
    all pairs under `work/reports/`. Returns (html_path, csv_path, pairs), pairs ranked."""
    import nbformat

    threshold = threshold_for(course, threshold)
    if not course.master(tp).exists():
        raise CourseError(f"{tp.name} : pas de notebook maître ({course.master(tp)})")
    master = nbformat.read(course.master(tp), as_version=4)
    ids = [grade_id(c) for c in master.cells if c.cell_type == "code"]
    solutions = [grade_id(c) for c in master.cells if c.cell_type == "code"
                 and c.metadata.get("nbgrader", {}).get("solution")]
    given = {gid for gid in ids if gid and gid not in solutions}
    docs, unreadable, missing = [], [], []
    for sub in load_manifest(work, tp):
        if not sub.notebook:
            missing.append((sub.student, one_line(sub.problem or "pas de notebook", 120)))
            continue
        try:
            nb = load_submission(Path(sub.notebook))
        except Unusable as exc:
            unreadable.append((sub.student, one_line(str(exc), 120)))
            continue
        docs.append(answers(nb, sub.student, sub, solutions, given))
    # The starter as it is, and as an answers document: the seams between untouched stubs
    # are then boilerplate too.
    starter = release(master)
    starter_code = _code(starter) + "\n\n" + answers(starter, "", None, solutions, given).text
    pairs = compare(docs, starter_code, threshold)
    out = work / "reports"
    out.mkdir(parents=True, exist_ok=True)
    html_path, csv_path = out / f"{tp.name}_similarite.html", out / f"{tp.name}_similarite.csv"
    html_path.write_text(_render(course, tp, docs, pairs, threshold, unreadable, missing),
                         encoding="utf-8")
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["etudiant_a", "etudiant_b", "similarite", "part_a", "part_b",
                    "jetons_communs", "au_dessus_du_seuil"])
        for p in pairs:
            w.writerow([p.a, p.b, f"{p.score:.4f}", f"{p.share_a:.4f}", f"{p.share_b:.4f}",
                        p.tokens, "oui" if p.flagged else "non"])
    return html_path, csv_path, pairs


def summary(html_path: Path, csv_path: Path, pairs: list[Pair], threshold: float) -> str:
    """What `grader similarite` prints (French): the flagged pairs, then where the files are."""
    flagged = [p for p in pairs if p.flagged]
    lines = [f"  {100 * p.score:5.1f} %  {p.a} ↔ {p.b}  ({100 * p.share_a:.0f} % de {p.a}, "
             f"{100 * p.share_b:.0f} % de {p.b})" for p in flagged]
    lines.append(f"{len(flagged)} paire(s) sur {len(pairs)} au-dessus du seuil de "
                 f"{100 * threshold:.0f} % (ressemblance, pas une preuve) : {html_path}")
    lines.append(f"Toutes les paires : {csv_path}")
    return "\n".join(lines)
