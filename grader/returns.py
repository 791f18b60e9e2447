"""Official feedback returned to each student's repository (`grader retours`), with real git.

Each student gets a branch `retours` in their own repository, one folder per TP
(`retours/<tp>/`): the feedback page of the grade of record and a short French summary (grade
out of 20 with the late penalty and manual scores applied, each exercise's points and the
judge's diagnostic, the instructors' comments). The branch has its own history: the student's
branches and files are never touched. A commit is pushed only when the folder changed, on top of
the branch as it is on the remote (never forced), so delivering twice changes nothing and a
push the remote refuses is that student's line, not the class's end.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .collect import load_manifest, read_roster, sync_mirror
from .config import GRADE_SCALE, TP, Course
from .exports import default_db_url, gradebook, graded_assignment, records, tp_grades

BRANCH = "retours"
IDENTITY = {"GIT_AUTHOR_NAME": "Équipe pédagogique", "GIT_AUTHOR_EMAIL": "noreply@cours.invalid"}


@dataclass
class Delivery:
    student: str
    state: str  # "envoyé", "inchangé", or why nothing was sent (French)
    ok: bool = True


def _git(repo: Path, *args: str, env: dict | None = None, data: bytes | None = None) -> str:
    proc = subprocess.run(["git", "--git-dir", str(repo), *args], input=data,
                          capture_output=True, timeout=300,
                          env={**os.environ, **IDENTITY, **{k.replace("AUTHOR", "COMMITTER"): v
                                                              for k, v in IDENTITY.items()},
                               **(env or {})})
    if proc.returncode:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        remote = [line for line in lines if line.startswith("remote:")]  # the forge's reason
        raise RuntimeError(" ".join(remote) or (lines[-1] if lines else f"git {args[0]} a échoué"))
    return proc.stdout.decode().strip()


def comments(db_url: str, tp: TP) -> dict[str, list[tuple[str, str]]]:
    """The instructors' comments in the gradebook (formgrader), by student: (cell, text)."""
    out: dict[str, list[tuple[str, str]]] = {}
    with gradebook(db_url) as gb:
        for sub in graded_assignment(gb, tp).submissions:
            for c in sub.notebooks[0].comments:
                if c.manual_comment:
                    out.setdefault(sub.student.id, []).append((c.name, c.manual_comment))
    return out


def summary(tp: TP, grade: float | None, record: dict, notes: list[tuple[str, str]]) -> str:
    """The French summary of one student's official grade (Markdown, shown by GitLab)."""
    lines = [f"# {tp.title} : note officielle", ""]
    lines.append(f"**Note : {grade:.2f}/{GRADE_SCALE:g}**" if grade is not None else
                 "**Pas de note.**")
    if record.get("note"):
        lines += ["", f"Remarque : {record['note']}"]
    if record.get("commit"):
        lines += ["", f"Commit corrigé : `{record['commit'][:12]}`"]
    if record.get("cells"):
        lines += ["", "| exercice | points | diagnostic |", "|---|---|---|"]
        for c in record["cells"]:
            message = " ".join(c["message"].split()).replace("|", "\\|")
            lines.append(f"| `{c['grade_id']}` | {c['points']:g}/{c['max']:g} | {message} |")
    if notes:
        lines += ["", "## Commentaires de l'équipe pédagogique", ""]
        lines += [f"- `{cell}` : {' '.join(text.split())}" for cell, text in notes]
    lines += ["", "Le détail, cellule par cellule : `retour.html` (à ouvrir dans un navigateur)."]
    return "\n".join(lines) + "\n"


def _deliver(repo: Path, url: str, tp: TP, files: dict[str, bytes]) -> str:
    """Commit `files` as `retours/<tp>/` on the branch `retours` of the mirror `repo` (just
    fetched: the branch as the remote has it) and push it to `url`; 'envoyé' or 'inchangé'."""
    try:
        parent = _git(repo, "rev-parse", "--verify", "--quiet", f"refs/heads/{BRANCH}^{{commit}}")
    except RuntimeError:
        parent = None  # first delivery: the branch starts here, with no history of the student's
    index = repo / f"index-{BRANCH}-{os.getpid()}"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        _git(repo, "read-tree", *([parent] if parent else ["--empty"]), env=env)
        _git(repo, "rm", "-r", "--cached", "--quiet", "--ignore-unmatch",
             f"{BRANCH}/{tp.name}", env=env)
        for name, data in files.items():
            blob = _git(repo, "hash-object", "-w", "--stdin", data=data)
            _git(repo, "update-index", "--add", "--cacheinfo",
                 f"100644,{blob},{BRANCH}/{tp.name}/{name}", env=env)
        tree = _git(repo, "write-tree", env=env)
    finally:
        index.unlink(missing_ok=True)
    if parent and _git(repo, "rev-parse", f"{parent}^{{tree}}") == tree:
        return "inchangé"
    commit = _git(repo, "commit-tree", tree, *(["-p", parent] if parent else []),
                  "-m", f"Retour officiel : {tp.title}")
    _git(repo, "push", "--quiet", url, f"{commit}:refs/heads/{BRANCH}")  # never forced
    _git(repo, "update-ref", f"refs/heads/{BRANCH}", commit)
    return "envoyé"


def feedback_page(work: Path, db_url: str, tp: TP, student: str) -> str | None:
    """The feedback page as the gradebook has it now (manual scores and comments included),
    from the graded notebook that autograde kept."""
    from .gradebook import GradebookSession
    from .official import autograded_path

    graded = autograded_path(work, tp, student)
    if not graded.exists():
        return None
    return GradebookSession(db_url, tp.name, student).feedback_html(
        nbformat.read(graded, as_version=4))


def deliver(course: Course, tp: TP, roster: Path, work: Path,
            db_url: str | None = None) -> list[Delivery]:
    """Return each student's official feedback of `tp` to their repository."""
    db_url = db_url or default_db_url(work)
    grades, recs = tp_grades(course, tp, db_url), records(work, tp.name)
    notes = comments(db_url, tp)
    collected = {s.student for s in load_manifest(work, tp)}
    out = []
    for row in read_roster(roster):
        student, url = row["id"].strip(), row["git_url"].strip()
        if student not in collected or student not in recs:
            out.append(Delivery(student, "pas de copie corrigée : lancez collect et autograde",
                                ok=False))
            continue
        files = {"LISEZMOI.md": summary(tp, grades.get(student), recs[student],
                                        notes.get(student, [])).encode()}
        page = feedback_page(work, db_url, tp, student)
        if page:
            files["retour.html"] = page.encode()
        repo = work / "repos" / f"{student}.git"
        try:
            sync_mirror(url, repo)
            out.append(Delivery(student, _deliver(repo, url, tp, files)))
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            out.append(Delivery(student, f"dépôt inaccessible ou envoi refusé ({exc})"[:300],
                                ok=False))
    return out
