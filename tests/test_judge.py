"""The judge process: verdicts never race an import, and a judge that fails is a recorded grader
fault for that cell alone, never blamed on the student's answer."""

import json
import textwrap
import time

import nbformat
import pytest

from conftest import make_toy_course, master, points
from grader.__main__ import main
from grader.config import load_course
from grader.grading import grade_tp
from grader.results import GRADER_FAULT_MESSAGE, Status


def _course_with_judge_code(tmp_path, code: str, imports: str = "()"):
    """The two-TP test course, the judge of `toy` extended with `code` (run after its checks
    are defined) and warming up `imports`."""
    root = make_toy_course(tmp_path / "cours")
    judge = root / "judges" / "toy" / "__init__.py"
    text = judge.read_text().replace("CHECKS = Checks(EXERCISES)",
                                      f"CHECKS = Checks(EXERCISES, judge_imports={imports})")
    judge.write_text(text + "\n" + textwrap.dedent(code))
    return load_course(root / "course.toml")


def _grade(course, tmp_path, nb=None):
    path = tmp_path / "toy.ipynb"
    nbformat.write(nb or master(), path)
    return grade_tp(course, course.tp("toy"), path, seed=3, feedback=False)


def test_first_verdict_waits_for_a_slow_warm_up(tmp_path):
    """The judge imports its heavy modules before it answers: a verdict that needs a module
    still being imported (here for 4 s, longer than the notebook takes to reach its first test
    cell) waits for it and sees it whole."""
    course = _course_with_judge_code(tmp_path, """
        from dataclasses import replace as _replace
        _plain = CHECKS["carre"].verdict

        def _needs_slow_module(case, answer):
            import lent
            assert lent.READY  # AttributeError if seen half-imported
            _plain(case, answer)

        CHECKS["carre"] = _replace(CHECKS["carre"], verdict=_needs_slow_module)
    """, imports='("lent",)')
    (course.root / "lent.py").write_text("import time\ntime.sleep(4)\nREADY = True\n")
    start = time.monotonic()
    r = _grade(course, tmp_path)
    assert points(r) == {"carre": 2.0, "moyenne": 3.0}, [c.message for c in r.cells]
    assert time.monotonic() - start >= 4


def test_a_judge_exception_is_a_counted_grader_fault(tmp_path, capsys):
    course = _course_with_judge_code(tmp_path, """
        from dataclasses import replace as _replace

        def _buggy(case, answer):
            raise KeyError("oracle cassé")

        CHECKS["carre"] = _replace(CHECKS["carre"], verdict=_buggy)
    """)
    r = _grade(course, tmp_path)
    carre = r.cells[0]
    assert carre.status == Status.GRADER_FAULT and carre.points == 0
    assert carre.message == GRADER_FAULT_MESSAGE and "votre copie" in carre.message
    assert "KeyError" in carre.fault and "oracle cassé" in carre.fault
    assert points(r)["moyenne"] == 3.0 and len(r.faults) == 1
    # the command line says so, records it, and exits with the grader-fault code
    nb_dir = tmp_path / "copie"
    (nb_dir / "toy").mkdir(parents=True)
    nbformat.write(master(), nb_dir / "toy" / "toy.ipynb")
    code = main(["--course", str(course.root / "course.toml"), "grade", "toy", "--from",
                 str(nb_dir), "--out", str(tmp_path / "grades")])
    out = capsys.readouterr()
    assert code == 1 and "erreur(s) du correcteur" in out.out
    data = json.loads((tmp_path / "grades" / "grades.json").read_text())
    assert data["tps"]["toy"]["grader_faults"] == 1


@pytest.mark.parametrize("how", ["segfault", "hang", "memory"])
def test_a_judge_that_dies_costs_that_cell_only(tmp_path, how):
    action = {"segfault": "import ctypes; ctypes.string_at(0)",
              "hang": "import time; time.sleep(60)",
              "memory": "x = bytearray(64 * 2**30)"}[how]
    course = _course_with_judge_code(tmp_path, f"""
        from dataclasses import replace as _replace

        def _dies(case, answer):
            {action}

        CHECKS["carre"] = _replace(CHECKS["carre"], verdict=_dies)
    """)
    r = _grade(course, tmp_path)
    assert r.cells[0].status == Status.GRADER_FAULT and r.cells[0].points == 0
    assert r.cells[1].status == Status.PASSED  # a fresh judge took over


COURSE = load_course()
HEAVY = [tp for tp in COURSE.tps.values() if COURSE.judge_package(tp).is_dir()
         and COURSE.master(tp).exists() and (COURSE.kernel_package(tp) / "public.npz").exists()]


@pytest.mark.parametrize("tp", HEAVY, ids=lambda tp: tp.name)
def test_verdicts_asked_during_the_warm_up_wait_for_it(tp, tmp_path):
    """The race of the old warm-up thread, made deterministic: every verdict is asked for the
    moment the judge process has started, while it still imports torch/Keras/scikit-learn; each
    runs after those imports and decides right on the master's answers."""
    from grader.judge_worker import JudgeWorker
    from grader.masters import Master
    from grader.protocol import load_cases, payload

    master_ns = Master(COURSE.master(tp)).ns()
    worker = JudgeWorker(COURSE.root, COURSE.folder(tp), tp.package, timeout_s=600)
    try:
        asked = time.monotonic()
        decided = 0
        inputs = worker.call("prepare", False, 0, str(tmp_path))
        for name, info in worker.checks.items():
            if not all(t in master_ns for t in info.targets):
                continue  # needs the master's data or training: covered by the course tests
            token, path = inputs[name]
            exercise = __import__(tp.package).EXERCISES[name]
            payloads = [payload(exercise, case, master_ns) for case in load_cases(path)]
            status, message, fault = worker.call("decide", token, payloads)
            assert (status, fault) == (Status.PASSED, None), (name, message, fault)
            decided += 1
        warmed, first = worker.call("timeline")
        assert decided and asked < warmed <= first
    finally:
        worker.close()
