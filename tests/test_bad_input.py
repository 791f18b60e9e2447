"""Bad submissions are graded with a clear message, never crash the grader or lose a grade."""

import json

import nbformat
import pytest

from conftest import FAST_LIMITS, dump, master, points, prepend, starter, with_answer

FULL = {"carre": 2.0, "moyenne": 3.0}
ZERO = {"carre": 0.0, "moyenne": 0.0}


def test_master_scores_full_marks(grade):
    r = grade(master(), feedback=True)
    assert points(r) == FULL, dump(r)
    assert r.grade == 20.0
    assert "BEGIN HIDDEN TESTS" not in r.feedback_html
    assert 'hidden=True' not in r.feedback_html  # hidden tests never reach the student
    assert "Correcteur : 2/2" in r.feedback_html


def test_failing_hidden_test_does_not_show_in_feedback(grade):
    # right on the public 4x3 case only: the hidden check fails in the kernel, with a traceback
    src = "def moyenne_colonnes(m):\n    return np.asarray(m).sum(axis=0) / 4"
    r = grade(with_answer(master(), "moyenne_sol", src), feedback=True)
    assert points(r) == {"carre": 2.0, "moyenne": 0.0}
    assert "HIDDEN" not in r.feedback_html and "hidden=" not in r.feedback_html
    assert "la moyenne par colonne est fausse" in r.feedback_html


def test_starter_scores_zero_marked_to_complete(grade):
    r = grade(starter())
    assert points(r) == ZERO
    assert {c.status for c in r.cells} == {"à compléter"}, dump(r)


def test_one_wrong_answer_costs_its_points_only(grade):
    r = grade(with_answer(master(), "carre_sol", "def carre(x):\n    return 2 * x"))
    assert points(r) == {"carre": 0.0, "moyenne": 3.0}
    assert "2x au lieu de x²" in r.cells[0].message


def test_missing_notebook_is_unusable(grade):
    r = grade(None)
    assert r.problem and "introuvable" in r.problem
    assert r.grade == 0


def test_invalid_json_is_unusable(grade):
    text = json.dumps(master())[:-40] + "<<<<<<< HEAD"
    r = grade(text)
    assert r.problem and "JSON valide" in r.problem
    assert points(r) == ZERO


def test_wrong_nbformat_is_unusable(grade):
    nb = json.loads(json.dumps(master()))
    nb["nbformat"] = 3
    r = grade(json.dumps(nb))
    assert r.problem and "nbformat 4" in r.problem


def test_not_a_notebook_is_unusable(grade):
    assert grade(b"\x89PNG\r\n\x1a\n\x00\x00").problem
    assert grade("[1, 2, 3]").problem
    assert grade(json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": 3}]})).problem


def test_deleted_test_cells_are_restored(grade):
    nb = master()
    nb.cells = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    assert points(grade(nb)) == FULL


def test_a_deleted_answer_cell_comes_back_empty_where_it_was(grade):
    """Its master predecessor is a locked question (nbgrader's own add_missing_cells stops
    there with a KeyError): the answer cell comes back after it, empty, with a note."""
    nb = master()
    nb.cells = [c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") != "reponse_moyenne"]
    r = grade(nb)
    assert points(r) == FULL and r.problem is None
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in r.graded_nb["cells"]]
    assert ids[ids.index("md_question") + 1] == "reponse_moyenne"
    assert "Cellule de réponse supprimée" in r.graded_nb["cells"][-1]["source"]


def test_edited_test_cells_are_restored(grade):
    nb = master()
    for c in nb.cells:
        meta = c.metadata.get("nbgrader", {})
        if meta.get("grade"):
            c.source = "print('✔ tout est correct')"
            meta["points"] = 100
    r = grade(nb)
    assert points(r) == FULL and r.max_score == 5


def test_edited_test_cells_cannot_rescue_wrong_answers(grade):
    nb = with_answer(master(), "carre_sol", "def carre(x):\n    return x")
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade"):
            c.source = "pass"
            c.metadata["nbgrader"]["grade"] = False  # no longer a test cell
    assert points(grade(nb)) == {"carre": 0.0, "moyenne": 3.0}


def test_infinite_loop_is_interrupted_and_the_rest_graded(grade):
    r = grade(prepend(master(), "while True:\n    pass"))
    assert points(r) == FULL, dump(r)


def test_loop_ignoring_interrupts_is_killed_and_the_rest_graded(grade):
    src = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    assert points(grade(prepend(master(), src))) == FULL


def test_infinite_loop_inside_an_answer_gets_zero_for_it(grade):
    src = "def carre(x):\n    while True:\n        pass"
    r = grade(with_answer(master(), "carre_sol", src))
    assert points(r) == {"carre": 0.0, "moyenne": 3.0}, dump(r)
    assert "boucle infinie" in r.cells[0].message


def test_sys_exit_does_not_stop_grading(grade):
    assert points(grade(prepend(master(), "import sys\nsys.exit(3)"))) == FULL


def test_os_exit_kills_the_kernel_which_is_restarted(grade):
    assert points(grade(prepend(master(), "import os\nos._exit(0)"))) == FULL


def test_segfault_kills_the_kernel_which_is_restarted(grade):
    assert points(grade(prepend(master(), "import ctypes\nctypes.string_at(0)"))) == FULL


def test_kernel_death_inside_an_answer_gets_zero_for_it(grade):
    src = "def carre(x):\n    import os\n    os._exit(1)"
    r = grade(with_answer(master(), "carre_sol", src))
    # the restarted kernel has lost `np` (imported before): moyenne fails too, as in Jupyter
    assert points(r) == {"carre": 0.0, "moyenne": 0.0}, dump(r)
    assert r.cells[0].status == "erreur" and "noyau" in r.cells[0].message


def test_huge_output_is_truncated(grade, tmp_path):
    r = grade(prepend(master(), "print('x' * 50_000_000)"), feedback=True)
    assert points(r) == FULL
    assert len(r.feedback_html) < 5_000_000
    assert "sortie tronquée" in r.feedback_html


def test_stderr_noise_in_student_code_costs_nothing(grade):
    src = ("import sys, warnings\n"
           "def carre(x):\n"
           "    warnings.warn('attention')\n"
           "    print('bruit', file=sys.stderr)\n"
           "    return np.asarray(x) ** 2")
    assert points(grade(with_answer(master(), "carre_sol", src))) == FULL


def test_memory_hog_hits_the_limit_not_the_machine(grade):
    r = grade(prepend(master(), "import numpy as np\nbig = np.ones(40 * 2**30 // 8)"), feedback=True)
    assert points(r) == FULL
    assert "Limite de mémoire" in r.feedback_html


def test_reserved_address_space_is_not_memory(grade):
    """CUDA reserves tens of GB of inaccessible address space when it starts: allowed (the
    limit is on writable memory). The answer only counts if the reservation succeeded."""
    src = ("import mmap\nMAP_NORESERVE = 0x4000  # Linux; mmap.MAP_NORESERVE is Python 3.13+\n"
           "reserve = mmap.mmap(-1, 64 * 2**30, prot=0,\n"
           "                    flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | MAP_NORESERVE)\n"
           "def carre(x):\n    return x ** 2")
    assert points(grade(with_answer(master(), "carre_sol", src))) == FULL


def test_huge_file_hits_the_size_limit(grade):
    src = "with open('gros.bin', 'wb') as f:\n    f.write(b'0' * (300 * 2**20))"
    r = grade(prepend(master(), src), feedback=True)
    assert points(r) == FULL
    assert "Limite de taille de fichier" in r.feedback_html


def test_infinite_loop_note_in_feedback(grade):
    r = grade(prepend(master(), "while True:\n    pass"), feedback=True)
    assert "interrompue après 4 s" in r.feedback_html


def test_total_time_budget_stops_the_notebook(grade):
    from dataclasses import replace

    limits = replace(FAST_LIMITS, cell_timeout_s=30, notebook_timeout_s=3)
    nb = prepend(master(), "import time\ntime.sleep(5)")
    r = grade(nb, limits=limits)
    assert points(r) == ZERO
    assert {c.status for c in r.cells} == {"non exécutée"}


def test_numpy_only_rule(grade):
    # torch imported inside the function: the rule is static, nothing needs to run (and a slow
    # import would only cost time)
    src = "def carre(x):\n    import torch\n    return (torch.tensor(x) ** 2).numpy()"
    r = grade(with_answer(master(), "carre_sol", src))
    assert points(r) == {"carre": 0.0, "moyenne": 3.0}
    assert "NumPy uniquement" in r.cells[0].message


def test_numpy_only_rule_follows_helpers(grade):
    nb = master()
    nb.cells.insert(1, nbformat.v4.new_code_cell(
        "def aide(x):\n    import tensorflow as tf\n    return tf.square(x).numpy()"))
    with_answer(nb, "carre_sol", "def carre(x):\n    return aide(x)")
    r = grade(nb)
    assert r.cells[0].points == 0 and "tensorflow" in r.cells[0].message


def test_grading_writes_nothing_on_stderr(grade, capfd):
    grade(master(), feedback=True)
    out, err = capfd.readouterr()
    assert err == ""


STATIC_ESCAPES = {  # ways to reach a framework in a from-scratch answer; each must be refused
    "import_module": "import importlib\ndef carre(x):\n"
                     "    t = importlib.import_module('to' + 'rch')\n    return x ** 2",
    "dunder_import": "def carre(x):\n    __import__('torch')\n    return x ** 2",
    "exec": "def carre(x):\n    exec('import torch')\n    return x ** 2",
    "eval": "def carre(x):\n    return eval('x ** 2')",
    "sys_modules": "import sys\ndef carre(x):\n    sys.modules['numpy']\n    return x ** 2",
    "magic": "%run -i aide.py\ndef carre(x):\n    return x ** 2",
    "alias_in_another_cell": None,  # below: `t = tf` elsewhere, used here
    "import_alias": "def carre(x):\n    import tensorflow as np2\n    return np2.square(x)",
}


@pytest.mark.parametrize("escape", sorted(STATIC_ESCAPES))
def test_numpy_only_rule_catches_indirect_frameworks(grade, escape):
    nb = master()
    src = STATIC_ESCAPES[escape]
    if src is None:
        nb.cells.insert(1, nbformat.v4.new_code_cell(  # never called: the rule is static
            "def _charger():\n    import tensorflow\n    return tensorflow\noutil = _charger"))
        src = "def carre(x):\n    return outil().square(x).numpy()"
    r = grade(with_answer(nb, "carre_sol", src))
    assert points(r) == {"carre": 0.0, "moyenne": 3.0}, dump(r)
    assert "NumPy uniquement" in r.cells[0].message


def test_numpy_only_rule_ignores_a_local_name_shared_with_a_framework_cell(grade):
    """A local variable named like a notebook variable defined with a framework is not that
    variable (no false positive)."""
    nb = master()
    nb.cells.insert(1, nbformat.v4.new_code_cell(  # never called: the rule is static
        "def _construire():\n    import keras\n    return keras.Sequential()\n"
        "modele = _construire"))
    r = grade(with_answer(nb, "carre_sol", "def carre(x):\n    modele = np.asarray(x)\n"
                                           "    return modele ** 2"))
    assert points(r) == FULL, dump(r)


def test_git_conflict_is_explained_with_commands_that_work(grade, tmp_path):
    """A real merge conflict in the notebook: the message names it, and its commands, run as
    written, give back a notebook that grades."""
    import re
    import subprocess

    repo = tmp_path / "depot"
    (repo / "toy").mkdir(parents=True)
    nb_path = repo / "toy" / "toy.ipynb"

    def git(*args):
        subprocess.run(["git", "-c", "user.name=É", "-c", "user.email=e@x", *args], cwd=repo,
                       check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    nbformat.write(master(), nb_path)
    git("add", ".")
    git("commit", "-qm", "base")
    git("checkout", "-qb", "autre")
    nbformat.write(with_answer(master(), "carre_sol", "def carre(x):\n    return x * x"), nb_path)
    git("commit", "-qam", "autre")
    git("checkout", "-q", "main")
    nbformat.write(with_answer(master(), "carre_sol", "def carre(x):\n    return x ** 2"), nb_path)
    git("commit", "-qam", "moi")
    subprocess.run(["git", "merge", "autre"], cwd=repo, capture_output=True)
    r = grade(nb_path.read_text())
    assert r.problem and "conflit git" in r.problem, r.problem
    command = re.search(r"git checkout --ours -- (\S+)", r.problem)
    subprocess.run(["git", "checkout", "--ours", "--", "toy/toy.ipynb"], cwd=repo, check=True)
    assert command.group(1) == "toy/toy.ipynb"
    assert points(grade(nb_path.read_text())) == FULL


def test_syntax_error_is_named_with_its_line(grade):
    src = "def carre(x):\n    y = x **\n    return y"
    r = grade(with_answer(master(), "carre_sol", src))
    carre = r.cells[0]
    assert carre.status == "erreur" and "erreur de syntaxe ligne 2" in carre.message, dump(r)
    assert "syntaxe invalide" in carre.message and "n'est pas défini" in carre.message
