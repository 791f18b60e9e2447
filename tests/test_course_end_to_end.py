"""A term of the course, as instructors run it, every figure computed by hand.

release -> students' repositories (real git) -> collect -> autograde in two shards at once
into a real PostgreSQL gradebook -> written answers graded in formgrader on a real Jupyter
server -> export and module grades -> class report -> feedback returned to each repository.

The test TP is worth 5 points of tests (carre 2, moyenne 3) plus one written answer of 1.5
points (written_points), so a TP counts /6.5, brought back to /20.
"""

import csv

import pytest

from classroom import (LATE, ON_TIME, PG, fresh_database, git, nb_text, read_csv,
                       run_at_once, run_grader, student_repo)
from conftest import make_toy_course, master, solution_cell, with_answer
from formgrader_client import Formgrader
from grader.config import load_course
from grader.release import build_template

ANSWER = "Parce que `axis=0` parcourt les lignes : on réduit chaque colonne."
# points by hand: (tests + written) / 6.5 x 20, then the late penalty (2 started days x 2)
EXPECTED_TP = {"alice": "16.92",   # 5 + 0.5 = 5.5 -> 16.923
               "bob": "8.00",      # 2 + 0.6 = 2.6 -> 8
               "chloe": "16.00",   # 5 + 1.5 = 6.5 -> 20, late by 2 days: -4
               "eve": "0.00"}      # no repository
EXAM = {"alice": 14, "bob": 10, "chloe": 12, "eve": 9}
# ½ exam + ½ the TP (toy2 is graded for nobody yet: left out of the mean)
EXPECTED_MODULE = {"alice": "15.46", "bob": "9.00", "chloe": "14.00", "eve": "4.50"}


def answered(nb):
    solution_cell(nb, "reponse_moyenne").source = ANSWER
    return nb


@pytest.mark.skipif(not PG,
                    reason="no PostgreSQL server (.ci/run starts one and sets GRADER_TEST_DB_URL)")
def test_a_term_from_release_to_feedback(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "le-secret-du-trimestre")  # shared by the shards
    root = make_toy_course(tmp_path / "cours")
    toml = root / "course.toml"
    toml.write_text(toml.read_text().replace('title = "TP de test"',
                                             'title = "TP de test"\nwritten_points = 1.5', 1))
    course = load_course(toml)
    template = tmp_path / "modele"
    build_template(course, template)
    good = nb_text(answered(master()))
    partial = nb_text(answered(with_answer(master(), "moyenne_sol",
                                           "def moyenne_colonnes(m):\n    return m.sum(axis=0)")))
    remotes = {"alice": student_repo(tmp_path, template, "alice", [(good, ON_TIME)])[0],
               "bob": student_repo(tmp_path, template, "bob", [(partial, ON_TIME)])[0],
               "chloe": student_repo(tmp_path, template, "chloe",
                                     [(partial, ON_TIME), (good, LATE)])[0]}
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "git_url"])
        writer.writerows([sid, f"{sid.capitalize()} Martin", str(url)]
                         for sid, url in remotes.items())
        writer.writerow(["eve", "Eve Durand", str(tmp_path / "remotes" / "absent.git")])
    exam = tmp_path / "examen.csv"
    exam.write_text("id;examen\n" + "".join(f"{s};{g}\n" for s, g in EXAM.items()),
                    encoding="utf-8")
    work, db = tmp_path / "var", fresh_database("trimestre")

    assert run_grader(root, "collect", "--tp", "toy", "--roster", str(roster), "--work",
               str(work)).returncode == 0
    shards = run_at_once(root, *[("autograde", "--tp", "toy", "--work", str(work), "--db-url", db,
                                  "--shard", f"{i}/2") for i in (1, 2)])
    logs = [log for _, log in shards]
    assert [code for code, _ in shards] == [0, 0], "\n".join(logs)
    assert "1.5 point(s) en attente" not in "".join(logs)  # the console shows grades only

    fg = Formgrader(course, work, db)
    try:
        subs = fg.submissions("toy")
        assert set(subs) == {"alice", "bob", "chloe"}  # eve has nothing to read
        page = fg.get(f"/formgrader/submissions/{subs['bob']['id']}/")
        assert "on réduit chaque colonne" in page and "la moyenne par colonne est fausse" in page
        for student, score in (("alice", 0.5), ("bob", 0.6), ("chloe", 1.5)):
            fg.give(subs[student]["id"], "reponse_moyenne", score)
        fg.give(subs["bob"]["id"], "reponse_moyenne",
                comment="L'idée est là ; votre code, lui, additionne sans diviser.")
    finally:
        fg.close()

    out = work / "notes.csv"
    assert run_grader(root, "export", "--work", str(work), "--db-url", db, "--out",
               str(out)).returncode == 0
    assert {s: r["toy"] for s, r in read_csv(out).items()} == EXPECTED_TP
    module = work / "module.csv"
    assert run_grader(root, "final", "--work", str(work), "--db-url", db, "--exam", str(exam),
               "--out", str(module)).returncode == 0
    assert {s: r["note_module"] for s, r in read_csv(module).items()} == EXPECTED_MODULE

    assert run_grader(root, "report", "--tp", "toy", "--work", str(work), "--db-url",
               db).returncode == 0
    report = (work / "reports" / "toy.html").read_text()
    # alice, bob, chloe graded: (16.92 + 8 + 16) / 3; eve apart
    assert "3 copie(s) corrigée(s), moyenne 13.64/20" in report
    assert "1 étudiant·e(s) sans copie utilisable" in report

    sent = run_grader(root, "retours", "--tp", "toy", "--roster", str(roster), "--work", str(work),
               "--db-url", db)
    assert sent.returncode == 3 and "3 envoyé(s), 0 inchangé(s), 1 non remis" in sent.stdout
    bob = git("--git-dir", str(remotes["bob"]), "show", "retours:retours/toy/LISEZMOI.md",
              cwd=tmp_path)
    assert "**Note : 8.00/20**" in bob and "additionne sans diviser" in bob
    page = git("--git-dir", str(remotes["bob"]), "show", "retours:retours/toy/retour.html",
               cwd=tmp_path)
    assert "additionne sans diviser" in page  # the comment, in the feedback page too
