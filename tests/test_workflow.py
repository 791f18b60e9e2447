"""A whole small course with real git repositories, from release to module grades.

release -> students clone, answer, commit (good, partial, late, broken, and one without a
repository) -> student pipeline (gitlab-ci-local) -> collect at the deadline -> autograde in
parallel into SQLite and PostgreSQL gradebooks -> export -> final grades, compared with values
computed by hand. Uses the small test course (tests/toy), so it runs in about a minute.
"""

import json
import os
import shutil
import subprocess

import pytest

from classroom import EXPECTED_MODULE, EXPECTED_TOY, GCL, classroom, git, grader, read_csv  # noqa: F401
from grader.config import ROOT


def test_collect_autograde_export_final_sqlite(classroom):
    c = classroom
    work = c["tmp"] / "var"
    out = grader(c, "collect", "--tp", "toy", "--roster", str(c["roster"]), "--work", str(work))
    assert "4/5 notebooks collectés" in out
    manifest = {s["student"]: s for s in
                json.loads((work / "collected" / "toy" / "manifest.json").read_text())}
    assert manifest["chloe"]["late_days"] == 2 and manifest["chloe"]["penalty"] == 4.0
    assert manifest["eve"]["problem"].startswith("dépôt inaccessible")
    assert manifest["alice"]["commit"] == git("rev-parse", "HEAD", cwd=c["clones"]["alice"]).strip()

    grader(c, "autograde", "--tp", "toy", "--jobs", "2", "--work", str(work))
    grader(c, "export", "--work", str(work), "--out", str(work / "notes.csv"))
    rows = read_csv(work / "notes.csv")
    assert {s: r["toy"] for s, r in rows.items()} == EXPECTED_TOY
    assert "JSON valide" in rows["david"]["remarques"]
    assert "retard" in rows["chloe"]["remarques"]
    assert "toy2" not in rows["alice"]  # graded for nobody yet

    out = grader(c, "final", "--exam", str(c["exam"]), "--work", str(work),
                 "--out", str(work / "module.csv"))
    assert "toy2 pas encore corrigé" in out and "eve : note d'examen manquante" in out
    module = read_csv(work / "module.csv")
    assert {s: r["note_module"] for s, r in module.items()} == EXPECTED_MODULE

    feedback = work / "feedback" / "toy"
    assert sorted(p.stem for p in feedback.glob("*.html")) == ["alice", "bob", "chloe"]
    assert "HIDDEN" not in (feedback / "bob.html").read_text()

    grader(c, "report", "--tp", "toy", "--work", str(work))
    html = (work / "reports" / "toy.html").read_text()
    # the copies graded (alice 20, bob 8, chloe 16 late), apart from david (unusable) and eve
    assert html.count("data:image/png;base64") == 2 and "3 copie(s) corrigée(s), moyenne 14.67/20" in html
    assert "2 étudiant·e(s) sans copie utilisable" in html
    # what to re-explain: bob's mistake, as the judge named it, and its share of the copies
    assert "<b>33 %</b> : la moyenne par colonne est fausse" in html
    for student in ("alice", "bob", "chloe", "david", "eve"):
        assert f"<td>{student}</td>" in html
    assert "2 j (−4)" in html and "JSON valide" in html


def test_regrading_is_idempotent_and_keeps_manual_scores(classroom):
    from nbgrader.api import Gradebook

    c = classroom
    work = c["tmp"] / "var"
    url = f"sqlite:///{work / 'gradebook.db'}"
    with Gradebook(url) as gb:
        grade = gb.find_grade("moyenne", "toy", "toy", "bob")
        grade.manual_score = 3.0  # an instructor gives bob the points by hand
        gb.db.commit()
    grader(c, "autograde", "--tp", "toy", "--work", str(work))
    grader(c, "export", "--work", str(work), "--out", str(work / "notes2.csv"))
    rows = read_csv(work / "notes2.csv")
    assert rows["bob"]["toy"] == "20.00"
    assert {s: r["toy"] for s, r in rows.items() if s != "bob"} == \
        {s: v for s, v in EXPECTED_TOY.items() if s != "bob"}
    with Gradebook(url) as gb:
        assert len(gb.find_assignment("toy").submissions) == 5


@pytest.mark.skipif(not os.environ.get("GRADER_TEST_DB_URL"),
                    reason="no PostgreSQL server (.ci/run starts one and sets GRADER_TEST_DB_URL)")
def test_autograde_into_postgresql(classroom):
    import sqlalchemy

    c = classroom
    url = os.environ["GRADER_TEST_DB_URL"]
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as conn:  # a clean database for this run
        conn.execute(sqlalchemy.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
    engine.dispose()
    work = c["tmp"] / "var-pg"
    grader(c, "collect", "--tp", "toy", "--roster", str(c["roster"]), "--work", str(work))
    grader(c, "autograde", "--tp", "toy", "--jobs", "2", "--work", str(work), "--db-url", url)
    grader(c, "export", "--work", str(work), "--db-url", url, "--out", str(work / "n.csv"))
    assert {s: r["toy"] for s, r in read_csv(work / "n.csv").items()} == EXPECTED_TOY


def _venv_is_current() -> bool:
    """The shared .venv was set up for the current pins (else the job's `make setup` would
    reinstall it, editable, from the temporary clone)."""
    pins = subprocess.run("{ sed -n '/^dependencies = \\[/,/^\\]/p' pyproject.toml; "
                          "cat requirements.lock; } | sha256sum | cut -c1-16", shell=True,
                          cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return (ROOT / ".venv" / f".installed-{pins}").exists()


@pytest.mark.skipif(not GCL.exists() or not shutil.which("rsync"),
                    reason="gitlab-ci-local 4.73.0 (make tools) and rsync needed")
def test_student_pipeline_with_gitlab_ci_local(classroom):
    if not _venv_is_current():
        pytest.fail("run `make setup` first: the pins changed since .venv was set up")
    c = classroom
    repo = c["clones"]["alice"]

    def pipeline():
        proc = subprocess.run(
            [str(GCL), "--force-shell-executor", "--variable", f"VENV={ROOT / '.venv'}",
             "--no-color"], cwd=repo, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc.stdout

    log = pipeline()
    # one job; its coverage is the weighted mean of the TPs started or past their deadline
    # (toy2 is neither: a student is not shown 5/20)
    assert "grade 100.00% coverage" in " ".join(log.split())
    assert "hors de la moyenne (ni commencés ni échus) : toy2" in log
    artifacts = repo / ".gitlab-ci-local" / "artifacts"
    assert list(artifacts.rglob("junit.xml")) and list(artifacts.rglob("feedback_toy.html"))
    again = pipeline()  # nothing changed: both grades come from the cache
    assert again.count("note réutilisée") == 2 and "Correction de" not in again
