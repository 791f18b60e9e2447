"""Official feedback returned to the students' repositories (`grader retours`), with real git:
what each student receives, that their own work is never touched, and that delivering again
changes nothing."""

import subprocess

from classroom import classroom, git, grader, run_grader  # noqa: F401


def retours(c, work, tp="toy"):
    return run_grader(c["root"], "retours", "--tp", tp, "--roster", str(c["roster"]),
                      "--work", str(work))


def remote(c, sid):
    return c["tmp"] / "remotes" / f"{sid}.git"


def show(c, sid, path):
    return git("--git-dir", str(remote(c, sid)), "show", f"retours:{path}", cwd=c["tmp"])


def test_feedback_lands_on_a_branch_of_its_own_and_only_once(classroom):
    from nbgrader.api import Gradebook

    c = classroom
    work = c["tmp"] / "var-retours"
    grader(c, "collect", "--tp", "toy", "--roster", str(c["roster"]), "--work", str(work))
    grader(c, "autograde", "--tp", "toy", "--work", str(work))
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gb:  # a comment, as formgrader's
        comment = gb.find_submission_notebook("toy", "toy", "bob").comments[0]
        comment.manual_comment = "Relisez la définition de axis dans NumPy."
        gb.db.commit()
    mains = {sid: git("--git-dir", str(remote(c, sid)), "rev-parse", "main", cwd=c["tmp"])
             for sid in ("alice", "bob", "chloe", "david")}

    first = retours(c, work)
    assert first.returncode == 3, first.stdout + first.stderr  # eve has no repository
    assert "4 envoyé(s), 0 inchangé(s), 1 non remis" in first.stdout
    assert "eve" in first.stderr and "Traceback" not in first.stderr

    bob = show(c, "bob", "retours/toy/LISEZMOI.md")
    assert "**Note : 8.00/20**" in bob and "Relisez la définition de axis dans NumPy." in bob
    assert "la moyenne par colonne est fausse" in bob  # the judge's diagnostic
    assert "<html" in show(c, "bob", "retours/toy/retour.html").lower()
    chloe = show(c, "chloe", "retours/toy/LISEZMOI.md")
    assert "**Note : 16.00/20**" in chloe and "rendu en retard de 2 jour(s) : −4" in chloe
    assert "**Note : 0.00/20**" in show(c, "david", "retours/toy/LISEZMOI.md")
    for sid, head in mains.items():  # the students' work is untouched
        assert git("--git-dir", str(remote(c, sid)), "rev-parse", "main", cwd=c["tmp"]) == head
        tree = git("--git-dir", str(remote(c, sid)), "ls-tree", "-r", "--name-only", "retours",
                   cwd=c["tmp"]).split()
        assert tree == ["retours/toy/LISEZMOI.md", "retours/toy/retour.html"] or \
            (sid == "david" and tree == ["retours/toy/LISEZMOI.md"])
        assert subprocess.run(["git", "--git-dir", str(remote(c, sid)), "merge-base", "main",
                               "retours"]).returncode == 1  # a history of its own

    early = retours(c, work, tp="toy2")
    assert early.returncode == 3 and "toy2 n'a pas encore été corrigé" in early.stderr
    assert "Traceback" not in early.stderr

    tips = {sid: git("--git-dir", str(remote(c, sid)), "rev-parse", "retours", cwd=c["tmp"])
            for sid in mains}
    again = retours(c, work)
    assert "0 envoyé(s), 4 inchangé(s), 1 non remis" in again.stdout
    assert tips == {sid: git("--git-dir", str(remote(c, sid)), "rev-parse", "retours",
                             cwd=c["tmp"]) for sid in mains}


def test_a_changed_grade_is_sent_on_top_of_the_branch_never_forced(classroom, tmp_path):
    """bob adds a file of his own to his branch `retours`; then manual scores change his grade
    and alice's: his new feedback lands on top, his file kept; alice's remote refuses every
    push: her line says so, and bob's is still delivered."""
    from nbgrader.api import Gradebook

    c = classroom
    work = c["tmp"] / "var-retours-2"
    grader(c, "collect", "--tp", "toy", "--roster", str(c["roster"]), "--work", str(work))
    grader(c, "autograde", "--tp", "toy", "--work", str(work))
    assert retours(c, work).returncode == 3
    clone = tmp_path / "bob"
    git("clone", "-q", "-b", "retours", str(remote(c, "bob")), str(clone), cwd=tmp_path)
    (clone / "mes-notes.md").write_text("à revoir\n")
    git("add", "mes-notes.md", cwd=clone)
    git("commit", "-qm", "mes notes", cwd=clone)
    git("push", "-q", "origin", "retours", cwd=clone)
    hook = remote(c, "alice") / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'refusé par la forge'\nexit 1\n")
    hook.chmod(0o755)
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gb:  # both grades change
        for student, score in (("bob", 3.0), ("alice", 2.0)):
            grade = next(g for g in gb.find_submission_notebook("toy", "toy", student).grades
                         if g.name == "moyenne")
            grade.manual_score = score
        gb.db.commit()
    try:
        out = retours(c, work)
    finally:
        hook.unlink()
    assert "alice" in out.stderr and "refusé par la forge" in out.stdout
    assert "  bob              envoyé" in out.stdout
    assert "mes-notes.md" in git("--git-dir", str(remote(c, "bob")), "ls-tree", "-r",
                                 "--name-only", "retours", cwd=c["tmp"])
    assert "**Note : 20.00/20**" in show(c, "bob", "retours/toy/LISEZMOI.md")  # was 8
