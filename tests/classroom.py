"""A small course of real git repositories for the instructors' tests: the toy course's
release, five students' remotes (good, partial, late, broken, and one without a repository),
a roster and an exam file, with the grades computed by hand."""

import csv
import os
import subprocess
import sys

import nbformat
import pytest

from conftest import make_toy_course, master, with_answer
from grader.config import ROOT, load_course
from grader.release import build_template

GCL = ROOT / ".tools" / "node_modules" / ".bin" / "gitlab-ci-local"
ON_TIME = "2029-12-30T10:00:00+01:00"
LATE = "2030-01-02T12:00:00+01:00"  # 1.5 days after the toy deadline: 2 started days


def git(*args, cwd, date=None):
    env = dict(os.environ, GIT_AUTHOR_NAME="Étudiant", GIT_AUTHOR_EMAIL="e@example.org",
               GIT_COMMITTER_NAME="Étudiant", GIT_COMMITTER_EMAIL="e@example.org")
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True,
                          text=True).stdout


def student_repo(tmp, template, sid, commits):
    """A student's remote (bare) repository after `commits`: [(notebook text, date)]."""
    remote = tmp / "remotes" / f"{sid}.git"
    remote.parent.mkdir(exist_ok=True)
    git("init", "-q", "--bare", "-b", "main", str(remote), cwd=tmp)
    work = tmp / "clones" / sid
    git("clone", "-q", str(template), str(work), cwd=tmp)
    git("remote", "set-url", "origin", str(remote), cwd=work)
    for text, date in commits:
        (work / "toy" / "toy.ipynb").write_text(text, encoding="utf-8")
        git("commit", "-q", "-am", "TP rendu", cwd=work, date=date)
    git("push", "-q", "origin", "main", cwd=work)
    return remote, work


def nb_text(nb):
    return nbformat.writes(nb)


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """Release of the test course and five students' remotes, plus a roster."""
    tmp = tmp_path_factory.mktemp("classe")
    root = make_toy_course(tmp / "cours")
    course = load_course(root / "course.toml")
    template = tmp / "modele"
    build_template(course, template)

    good = nb_text(master())
    partial = nb_text(with_answer(master(), "moyenne_sol",
                                  "def moyenne_colonnes(m):\n    return m.sum(axis=0)"))
    students = {
        "alice": [(partial, ON_TIME), (good, ON_TIME)],  # good (last commit counts)
        "bob": [(partial, ON_TIME)],  # partial: carre 2/5 -> 8/20
        "chloe": [(partial, ON_TIME), (good, LATE)],  # late by 2 days: 20 - 2x2 = 16
        "david": [('{"cells": [ pas du json', ON_TIME)],  # broken notebook
    }
    remotes = {sid: student_repo(tmp, template, sid, commits)
               for sid, commits in students.items()}
    roster = tmp / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "name", "git_url"])
        for sid, (remote, _) in remotes.items():
            w.writerow([sid, f"{sid.capitalize()} Martin", str(remote)])
        w.writerow(["eve", "Eve Durand", str(tmp / "remotes" / "absent.git")])  # no repository
    exam = tmp / "exam.csv"
    exam.write_text("id,examen\nalice,14\nbob,10\nchloe,12\ndavid,8\n", encoding="utf-8")
    return {"tmp": tmp, "root": root, "course": course, "roster": roster, "exam": exam,
            "clones": {sid: w for sid, (_, w) in remotes.items()}, "template": template}


def grader_cmd(root, *args) -> list[str]:
    """`python -m grader` on the course at `root`."""
    return [sys.executable, "-m", "grader", "--course", str(root / "course.toml"), *args]


def run_grader(root, *args) -> subprocess.CompletedProcess:
    return subprocess.run(grader_cmd(root, *args), cwd=ROOT, capture_output=True, text=True,
                          timeout=900)


def run_at_once(root, *commands) -> list[tuple[int, str]]:
    """Several `python -m grader` at once (shards racing): each one's (exit code, output)."""
    procs = [subprocess.Popen(grader_cmd(root, *args), cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
             for args in commands]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    return [(p.returncode, log) for p, log in zip(procs, logs)]


def grader(c, *args):
    proc = run_grader(c["root"], *args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def read_csv(path):
    """An export, as Moodle imports it (`,`, decimal point), checked against its French twin
    (`;`, decimal comma, BOM) that instructors open in a spreadsheet."""
    moodle = path.with_name(f"{path.stem}_moodle{path.suffix}")
    with open(moodle, newline="", encoding="utf-8") as f:
        rows = {r["id"]: r for r in csv.DictReader(f)}
    with open(path, newline="", encoding="utf-8-sig") as f:
        french = {r["id"]: r for r in csv.DictReader(f, delimiter=";")}
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert {s: {k: v.replace(",", ".") for k, v in r.items() if k != "remarques"}
            for s, r in french.items()} == \
        {s: {k: v for k, v in r.items() if k != "remarques"} for s, r in rows.items()}
    return rows


EXPECTED_TOY = {"alice": "20.00", "bob": "8.00", "chloe": "16.00", "david": "0.00", "eve": "0.00"}
# ½ exam + ½ mean(graded TPs): only toy is graded (toy2 is not yet: left out, reported)
EXPECTED_MODULE = {"alice": "17.00", "bob": "9.00", "chloe": "14.00", "david": "4.00", "eve": ""}


PG = os.environ.get("GRADER_TEST_DB_URL")  # the server .ci/run starts


def fresh_database(name: str) -> str:
    """An empty database `name` on the test server, and its URL."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(PG, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    base, _, query = PG.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}?{query}"
