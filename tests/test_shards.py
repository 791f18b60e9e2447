"""Official grading beyond one machine: `autograde --shard i/N` on several runners into one
PostgreSQL gradebook, and the instructors' pipeline that runs the shards as parallel jobs.

Concurrent shards must lose and duplicate nothing: the same gradebook, records and exports as
one process grading the whole class.
"""

import shutil
import subprocess

import pytest

from classroom import (EXPECTED_TOY, GCL, PG, classroom, fresh_database, grader,  # noqa: F401
                       read_csv, run_at_once, run_grader)
from grader.collect import Submission
from grader.config import ROOT
from grader.official import shard_of

needs_pg = pytest.mark.skipif(not PG, reason="no PostgreSQL server (.ci/run starts one and "
                                             "sets GRADER_TEST_DB_URL)")


def gradebook_rows(url: str) -> list[tuple]:
    """Every grade in the gradebook: (student, cell, auto score), and each student's count of
    submissions (a duplicate would show)."""
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        assignment = gb.find_assignment("toy")
        rows = sorted((g.student.id, g.name, g.auto_score)
                      for sub in assignment.submissions for nb in sub.notebooks
                      for g in nb.grades)
        rows += sorted((s.id, "submissions", len(s.submissions)) for s in gb.students)
    return rows


def test_shards_cover_the_class_once_in_a_stable_order():
    subs = [Submission(student=s, name=s) for s in ("zoe", "alice", "bob", "eve", "chloe")]
    parts = [[s.student for s in shard_of(subs, (i, 3))] for i in (1, 2, 3)]
    assert parts == [["alice", "eve"], ["bob", "zoe"], ["chloe"]]
    assert [s.student for s in shard_of(list(reversed(subs)), (1, 3))] == parts[0]
    assert len(shard_of(subs, (5, 5))) == 1 and shard_of(subs, (6, 6)) == []


@pytest.mark.parametrize("shard", ["0/4", "5/4", "2", "a/b", "1/0", "1/-2"])
def test_a_wrong_shard_is_one_french_line(classroom, shard):
    proc = run_grader(classroom["root"], "autograde", "--tp", "toy", "--shard", shard)
    assert proc.returncode == 3 and "attendu I/N avec 1 ≤ I ≤ N" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_shards_without_a_shared_secret_are_refused(classroom, monkeypatch):
    """Each runner would draw its own hidden cases: the class would not be graded alike."""
    monkeypatch.delenv("GRADER_SECRET", raising=False)
    c = classroom
    work = c["tmp"] / "var-sans-secret"
    grader(c, "collect", "--tp", "toy", "--roster", str(c["roster"]), "--work", str(work))
    proc = run_grader(c["root"], "autograde", "--tp", "toy", "--work", str(work),
                      "--shard", "1/2")
    assert proc.returncode == 3 and "même variable GRADER_SECRET" in proc.stderr
    assert not (work / "gradebook.db").exists()


@needs_pg
def test_four_shards_at_once_grade_like_one_process(classroom, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "le-secret-du-cours")  # every run draws the same cases
    c = classroom
    one, shards = fresh_database("une_passe"), fresh_database("quatre_parts")
    work_one, work_shards = c["tmp"] / "var-une-passe", c["tmp"] / "var-parts"
    for work in (work_one, work_shards):
        grader(c, "collect", "--tp", "toy", "--roster", str(c["roster"]), "--work", str(work))
    grader(c, "autograde", "--tp", "toy", "--work", str(work_one), "--db-url", one)

    runs = run_at_once(c["root"], *[  # they race to create the tables and the master
        ("autograde", "--tp", "toy", "--work", str(work_shards), "--db-url", shards,
         "--shard", f"{i}/4") for i in (1, 2, 3, 4)])
    logs = [log for _, log in runs]
    assert [code for code, _ in runs] == [0, 0, 0, 0], "\n".join(logs)
    # alice eve | bob | chloe | david: each graded by exactly one shard
    assert "part 1/4 : 2 étudiant·e·s" in logs[0] and "part 4/4 : 1 étudiant·e·s" in logs[3]
    assert sum(log.count("/20  (") for log in logs) == 4  # four notebooks, eve has none

    assert gradebook_rows(shards) == gradebook_rows(one)
    for work, url in ((work_one, one), (work_shards, shards)):
        grader(c, "export", "--work", str(work), "--db-url", url, "--out", str(work / "n.csv"))
    exported = [read_csv(work / "n.csv") for work in (work_one, work_shards)]
    assert exported[0] == exported[1]
    assert {s: r["toy"] for s, r in exported[1].items()} == EXPECTED_TOY
    assert sorted(p.name for p in (work_shards / "results" / "toy").iterdir()) == \
        [f"{s}.json" for s in sorted(EXPECTED_TOY)]


@needs_pg
@pytest.mark.skipif(not GCL.exists() or not shutil.which("rsync"),
                    reason="gitlab-ci-local 4.73.0 (make tools) and rsync needed")
def test_instructors_pipeline_with_two_shards(classroom, tmp_path):
    """ci/instructors.gitlab-ci.yml as it is, run by gitlab-ci-local in an instructors'
    project holding the test course: collect, two shards in parallel, export and report."""
    c = classroom
    project = tmp_path / "enseignants"
    shutil.copytree(c["root"], project)
    for name in ("Makefile", "pyproject.toml", "requirements.lock"):
        shutil.copy(ROOT / name, project / name)
    shutil.copy(ROOT / "ci" / "instructors.gitlab-ci.yml", project / ".gitlab-ci.yml")
    shutil.copy(c["roster"], project / "roster.csv")
    subprocess.run("git init -q -b main && git add -A && git -c user.name=E -c "
                   "user.email=e@example.org commit -qm cours", shell=True, cwd=project,
                   check=True)
    url = fresh_database("pipeline")
    variables = {"TP": "toy", "ROSTER": "roster.csv", "GRADEBOOK_URL": url,
                 "GRADER_SECRET": "secret-de-test", "VENV": str(ROOT / ".venv")}
    proc = subprocess.run(
        [str(GCL), "--force-shell-executor", "--no-color",
         *[a for k, v in variables.items() for a in ("--variable", f"{k}={v}")]],
        cwd=project, capture_output=True, text=True, timeout=1200)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert "part 1/2 : 3 étudiant·e·s" in log and "part 2/2 : 2 étudiant·e·s" in log
    artifacts = project / ".gitlab-ci-local" / "artifacts"
    published = next(artifacts.rglob("notes_tp.csv"))
    assert {s: r["toy"] for s, r in read_csv(published).items()} == EXPECTED_TOY
    report = next(artifacts.rglob("reports/toy.html")).read_text()
    assert "3 copie(s) corrigée(s), moyenne 14.67/20" in report
    # feedback and graded notebooks of the four copies graded, but david's (unusable)
    assert len(list(artifacts.rglob("publish/var/feedback/toy/*.html"))) == 3
    assert len(list(artifacts.rglob("publish/var/autograded/*/toy/toy.ipynb"))) == 3
