"""Hostile submissions: whatever student code does in its kernel, the grade does not rise.

Each case is a wrong notebook (or a right one) plus one attack; it must score exactly what the
same notebook scores without the attack. New attack ideas become new cases here.
"""

import os
import re
import socket
import threading
import time

import nbformat
import pytest

from conftest import TOY_MASTER, dump, master, points, prepend, with_answer, wrong

WRONG_SCORE = {"carre": 0.0, "moyenne": 0.0}

ATTACKS = {
    "numpy_comparisons_always_true": """
import numpy as np, numpy.testing
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.isclose = lambda *a, **k: np.ones(np.shape(a[0]), bool)
np.testing.assert_allclose = lambda *a, **k: None
""",
    "builtins_patched": """
import builtins
builtins.isinstance = lambda *a: True
builtins.len = lambda x: 0
""",
    "kernel_checks_turned_into_no_ops": """
import toy
toy.check = lambda *a, **k: print("✔ correct")
toy.EXERCISES.check = lambda *a, **k: print("✔ correct")
for name, ex in list(toy.EXERCISES.items()):
    object.__setattr__(ex, "selfcheck", lambda case, answer: None)
""",
    "respond_forges_answers": """
import toy, numpy as np
from IPython.display import display
from grader import protocol as _c
def fake_respond(self, name, path):
    payloads = [{"answer": _c.encode_answer({"y": np.zeros(3), "mu": np.zeros(3)})}]
    display({_c.ANSWER_MIME: {"check": name, "payloads": payloads * 5}}, raw=True)
_c.Exercises.respond = fake_respond
""",
    "import_hook_replaces_kernel_package": """
import sys, types, importlib.abc, importlib.machinery
class Fake(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name == "toy":
            return importlib.machinery.ModuleSpec(name, self)
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        class C(dict):
            def check(self, *a, **k): print("✔")
            def respond(self, *a, **k): print("✔")
        module.EXERCISES = C(); module.check = module.EXERCISES.check
sys.modules.pop("toy", None)
sys.meta_path.insert(0, Fake())
""",
    "input_transformer_swallows_code": """
ip = get_ipython()
ip.input_transformers_cleanup.append(lambda lines: ["print('✔ correct')\\n"])
""",
    "ast_transformer_rewrites_calls": """
import ast
class Drop(ast.NodeTransformer):
    def visit_Call(self, node):
        return ast.copy_location(ast.Constant(None), node)
get_ipython().ast_transformers.append(Drop())
""",
    "prints_fake_grades_everywhere": """
import os, sys
line = "Note : 20.00/20 (100.00 %)\\n"
print(line); print(line, file=sys.stderr)
os.write(1, line.encode()); os.write(2, line.encode())
""",
    "background_thread_floods_fake_answers": """
import threading, time
from IPython.display import display
from grader import protocol as _c
def flood():
    while True:
        display({_c.ANSWER_MIME: {"check": "carre", "payloads": [{"answer": {}}]}}, raw=True)
        time.sleep(0.01)
threading.Thread(target=flood, daemon=True).start()
""",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_does_not_raise_a_wrong_notebook(grade, attack):
    r = grade(prepend(wrong(), ATTACKS[attack]))
    assert points(r) == WRONG_SCORE, dump(r)


LYING_ANSWERS = {
    "eq_always_true": "class Yes:\n    def __eq__(self, o): return True\n    def __ne__(self, o): return False\n"
                      "def carre(x):\n    return Yes()",
    "array_interface_garbage": "class A:\n    def __array__(self, *a, **k): raise ValueError\n"
                               "def carre(x):\n    return A()",
    "float_lies": "class F(float):\n    def __eq__(self, o): return True\n"
                  "def carre(x):\n    return [F(0.0)] * len(x)",
    "strings": "def carre(x):\n    return ['x**2'] * len(x)",
    "nan": "def carre(x):\n    return np.full(len(x), np.nan)",
    "hard_coded_public_case": None,  # filled below: memorises the public inputs' answer
}


def _hard_coded():
    import numpy as np

    from toy import EXERCISES

    x = EXERCISES.public["carre"].cases[0]["x"]
    return ("import numpy as np\n"
            f"_PUBLIC = np.array({np.asarray(x).tolist()!r})\n"
            "def carre(x):\n    return _PUBLIC ** 2  # the same whatever x\n")


@pytest.mark.parametrize("kind", sorted(LYING_ANSWERS))
def test_lying_or_memorised_answers_earn_nothing(grade, kind):
    src = LYING_ANSWERS[kind] or _hard_coded()
    r = grade(with_answer(master(), "carre_sol", src))
    assert points(r) == {"carre": 0.0, "moyenne": 3.0}, dump(r)


def test_grading_leaves_no_trace_of_ci_secrets_in_the_kernel(grade, monkeypatch):
    monkeypatch.setenv("CI_JOB_TOKEN", "glcbt-secret")
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-secret")
    monkeypatch.setenv("GRADER_SECRET", "s3cr3t")
    src = ("import os\n"
           "def carre(x):\n"
           "    leaked = any('secret' in v or 's3cr3t' in v for v in os.environ.values())\n"
           "    ci = any(k.startswith(('CI', 'GITLAB')) for k in os.environ)\n"
           "    return np.asarray(x) ** 2 if (leaked or ci) else 2 * np.asarray(x)")
    r = grade(with_answer(master(), "carre_sol", src))
    assert points(r)["carre"] == 0.0, dump(r)


def test_kernel_cannot_read_masters_or_write_the_repository(grade):
    marker = TOY_MASTER.parent.parent / "pwned.txt"
    src = (f"import pathlib\n"
           f"try:\n    MASTER = pathlib.Path({str(TOY_MASTER)!r}).read_text()\n"
           f"except OSError:\n    MASTER = ''\n"
           f"try:\n    pathlib.Path({str(marker)!r}).write_text('x')\n"
           f"except OSError:\n    pass\n"
           "def carre(x):\n"
           "    return np.asarray(x) ** 2 if 'BEGIN SOLUTION' in MASTER else 2 * np.asarray(x)")
    r = grade(with_answer(master(), "carre_sol", src))
    assert not marker.exists()
    assert points(r)["carre"] == 0.0, dump(r)


def test_kernel_has_no_network(grade):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    got = []

    def accept():
        try:
            got.append(server.accept())
        except OSError:  # closed at the end of the test
            pass

    threading.Thread(target=accept, daemon=True).start()
    src = ("import socket\n"
           f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2); NET = True\n"
           "except OSError:\n    NET = False\n"
           "def carre(x):\n    return np.asarray(x) ** 2 if NET else 2 * np.asarray(x)")
    r = grade(with_answer(master(), "carre_sol", src))
    server.close()
    assert not got
    assert points(r)["carre"] == 0.0, dump(r)


def test_processes_left_behind_are_killed(grade, tmp_path):
    marker = tmp_path / "late.txt"
    src = ("import subprocess\n"
           f"subprocess.Popen(['sh', '-c', 'sleep 3; echo late > {marker}'], start_new_session=True)")
    r = grade(prepend(master(), src))
    assert points(r) == {"carre": 2.0, "moyenne": 3.0}
    time.sleep(4)
    assert not marker.exists()


def test_fake_grade_lines_never_reach_the_console(grade, capfd):
    r = grade(prepend(master(), ATTACKS["prints_fake_grades_everywhere"]))
    out, err = capfd.readouterr()
    assert "Note : 20.00/20" not in out + err
    assert points(r) == {"carre": 2.0, "moyenne": 3.0}


def test_kernel_cannot_signal_the_grader(grade):
    src = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)"
    r = grade(prepend(master(), src))
    assert os.getpid() > 0  # still alive
    assert points(r) == {"carre": 2.0, "moyenne": 3.0}


def test_hidden_cases_catch_what_public_cases_miss(grade):
    # right on the public 4x3 case only (hard-codes 4 rows), wrong on other shapes
    src = "def moyenne_colonnes(m):\n    return np.asarray(m).sum(axis=0) / 4"
    assert points(grade(with_answer(master(), "moyenne_sol", src)))["moyenne"] == 0.0
    assert points(grade(with_answer(master(), "moyenne_sol", src), hidden=False))["moyenne"] == 3.0


def test_judge_only_fields_never_reach_the_kernel(tmp_path):
    import numpy as np

    from grader.protocol import load_cases, roundtrip, save_cases

    cases = [{"x": np.arange(3.0), "_labels": np.array([1.0, 2.0]), "n": 4}]
    save_cases(cases, tmp_path / "c.npz")
    seen = load_cases(tmp_path / "c.npz")
    assert set(seen[0]) == {"x", "n"} and seen[0]["n"] == 4
    assert set(roundtrip(cases)[0]) == {"x", "n"}


def test_scalar_answers_keep_their_shape():
    from grader.judging import as_float
    from grader.protocol import decode_answer, encode_answer

    assert as_float(decode_answer(encode_answer({"x": 3.5})), "x") == 3.5


FEEDBACK_ATTACKS = {
    "style_hides_the_verdict": ("markdown", "<style>div[style*='c62828']{display:none}</style>"
                                "<div style='border-left:4px solid #2e7d32'>Correcteur : 2/2 "
                                "point(s) — réussi</div>"),
    "img_onerror_in_markdown": ("markdown", "<img src=x onerror=\"alert('xss')\">"),
    "script_in_output": ("code", "from IPython.display import HTML, display\n"
                                 "display(HTML(\"<script>alert('xss')</script>"
                                 "<style>body{display:none}</style>\"))"),
    "javascript_link": ("markdown", "[clic](javascript:alert('xss'))"),
}


@pytest.mark.parametrize("attack", sorted(FEEDBACK_ATTACKS))
def test_student_html_never_runs_in_feedback(grade, attack):
    """Feedback pages are opened by students and instructors: a student's HTML, CSS or
    JavaScript shows as text or disappears, and cannot hide or imitate the judge's verdict."""
    kind, source = FEEDBACK_ATTACKS[attack]
    nb = wrong()
    cell = (nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell)(
        source)
    nb.cells.insert(2, cell)
    html = grade(nb, feedback=True).feedback_html
    body = html.split("<body", 1)[1]
    for live in ("<script>alert", "<style>div", "<style>body", "href=\"javascript:",
                 "style='border-left:4px solid #2e7d32'"):
        assert live not in body, live
    assert not re.search(r"<[a-z]+[^>]*\bonerror\s*=", body)
    assert body.count("#c62828") >= 2  # both wrong answers show their red verdict


def test_control_characters_in_messages_keep_junit_well_formed(grade, tmp_path):
    import xml.etree.ElementTree as ET

    from grader.report import write_all

    src = "def carre(x):\n    raise ValueError('\\x00\\x1b[31m\\x07 <b>&</b>\\x0c')"
    r = grade(with_answer(master(), "carre_sol", src))
    r.cells[1].message = "\ud800\x00\x1f\ufffe"  # whatever a message may hold
    write_all([r], tmp_path)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    failure = next(root.iter("failure"))
    assert "ValueError" in failure.get("message")
