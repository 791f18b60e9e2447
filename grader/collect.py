"""Collect the students' notebooks for one TP from their git repositories, at the deadline.

For each student of the roster (CSV: id,name,git_url) the repository is cloned, or fetched if
already there, with real git. The submission is the last commit that touched the TP's notebook:
at or before the deadline with late policy "none" (later commits ignored); the last one whatever
its date with "zero" (a late one is graded 0) or "penalty" (points per started day late).
Commit times are git committer dates: a trusted time needs the server's push events.
A student without a repository, a commit or a notebook is recorded with the reason (grade 0).
"""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from .config import GRADE_SCALE, TP, Course, CourseError, LatePolicy


@dataclass
class Submission:
    student: str
    name: str
    commit: str | None = None
    committed_at: str | None = None  # ISO 8601
    late_days: int = 0
    penalty: float = 0.0  # points out of 20
    problem: str | None = None  # why there is nothing to grade (French)
    notebook: str | None = None  # path of the collected notebook


# A student id names files and directories (var/repos/<id>.git, feedback/<tp>/<id>.html).
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def read_roster(path: Path) -> list[dict]:
    """The roster's rows (id, name, git_url), each id valid and unique (CourseError else)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise CourseError(f"liste des étudiant·e·s illisible : {path} ({exc.strerror})") from None
    seen = set()
    for line, row in enumerate(rows, start=2):
        if "id" not in row or "git_url" not in row:
            raise CourseError(f"{path.name} : colonnes attendues id,name,git_url")
        sid = (row.get("id") or "").strip()
        if not STUDENT_ID.fullmatch(sid) or ".." in sid:
            raise CourseError(f"{path.name}, ligne {line} : identifiant {sid!r} refusé (lettres, "
                              "chiffres, « . », « _ », « - » ; pas de « / » ni de « .. »)")
        if sid in seen:
            raise CourseError(f"{path.name}, ligne {line} : identifiant {sid!r} en double")
        seen.add(sid)
    return rows


def _git(*args, cwd: Path | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else
                           f"git {args[0]} a échoué")
    return proc.stdout


def sync_mirror(url: str, repo: Path) -> None:
    """`repo`: a mirror of the student's repository at `url`, cloned or brought up to date."""
    if (repo / "HEAD").exists():
        _git("--git-dir", str(repo), "fetch", "--quiet", "--prune", "origin",
             "+refs/heads/*:refs/heads/*")
    else:
        repo.parent.mkdir(parents=True, exist_ok=True)
        _git("clone", "--quiet", "--mirror", url, str(repo))


def late_penalty(policy: LatePolicy, late_days: int) -> float:
    if late_days <= 0 or policy.mode == "none":
        return 0.0
    if policy.mode == "zero":
        return GRADE_SCALE
    return min(GRADE_SCALE, policy.points_per_day * late_days)


def choose(commits: list[tuple[str, datetime]], deadline: datetime, policy: LatePolicy):
    """The submitted commit among the notebook's commits (newest first): (hash, time) or None."""
    if policy.mode == "none":
        commits = [c for c in commits if c[1] <= deadline]
    return commits[0] if commits else None


def collect_one(course: Course, tp: TP, row: dict, work: Path) -> Submission:
    sub = Submission(student=row["id"].strip(), name=row.get("name", "").strip())
    repo = work / "repos" / f"{sub.student}.git"
    path = f"{tp.name}/{tp.notebook_name}"
    try:
        sync_mirror(row["git_url"].strip(), repo)
        log = _git("--git-dir", str(repo), "log", "--format=%H %cI", "HEAD", "--", path)
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        sub.problem = f"dépôt inaccessible ou vide ({exc})"[:300]
        return sub
    commits = [(h, datetime.fromisoformat(t)) for h, t in
               (line.split() for line in log.splitlines() if line.strip())]
    chosen = choose(commits, tp.deadline, course.late_policy)
    if chosen is None:
        sub.problem = ("aucun commit du notebook avant l'échéance" if commits
                       else f"aucun commit de {path}")
        return sub
    sub.commit, when = chosen[0], chosen[1]
    sub.committed_at = when.isoformat()
    if when > tp.deadline:
        sub.late_days = math.ceil((when - tp.deadline).total_seconds() / 86400)
        sub.penalty = late_penalty(course.late_policy, sub.late_days)
    target = work / "collected" / tp.name / sub.student / tp.notebook_name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        blob = subprocess.run(["git", "--git-dir", str(repo), "show", f"{sub.commit}:{path}"],
                              capture_output=True, timeout=120, check=True).stdout
    except subprocess.CalledProcessError:
        sub.problem = f"{path} absent du commit {sub.commit[:8]}"
        return sub
    target.write_bytes(blob)
    sub.notebook = str(target)
    return sub


def manifest_path(work: Path, tp: TP) -> Path:
    return work / "collected" / tp.name / "manifest.json"


def collect(course: Course, tp: TP, roster: Path, work: Path,
            progress: Callable[[Submission, int], None] | None = None) -> list[Submission]:
    """Each student's submission of `tp` (`progress(sub, total)` as each is collected), and the
    manifest that autograde reads."""
    rows = read_roster(roster)
    subs = []
    for row in rows:
        subs.append(collect_one(course, tp, row, work))
        if progress:
            progress(subs[-1], len(rows))
    path = manifest_path(work, tp)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(s) for s in subs], ensure_ascii=False, indent=2) + "\n",
                    encoding="utf-8")
    return subs


def load_manifest(work: Path, tp: TP) -> list[Submission]:
    path = manifest_path(work, tp)
    if not path.exists():
        raise CourseError(f"{tp.name} : rien de collecté (lancez d'abord `grader collect`)")
    return [Submission(**d) for d in json.loads(path.read_text(encoding="utf-8"))]
