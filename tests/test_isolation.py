"""The sandbox is an allow-list: whatever the kernel tries, it sees and reaches nothing else.

Each attack is a notebook whose answer to `carre` is right only if the attack worked: it must
score 0 there (and the rest of the notebook its usual points). New ways out become new cases.
"""

import os
import uuid
from dataclasses import replace

import pytest

from conftest import FAST_LIMITS, TOY, TOY_MASTER, dump, master, points, with_answer
from grader.config import ROOT
from grader.sandbox import isolation_problem

pytestmark = pytest.mark.skipif(isolation_problem() is not None,
                                reason=f"bubblewrap indisponible : {isolation_problem()}")

HOST_TMP_MARK = f"/tmp/grader-pwned-{uuid.uuid4().hex}"
REPO_MARK = ROOT / f"pwned-{uuid.uuid4().hex}.txt"

# Each snippet sets HIT = True when the attack succeeded.
ATTACKS = {
    "umount_the_filesystem": """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
HIT = any(libc.umount2(p.encode(), 2) == 0 for p in ("/usr", "/tmp", "/proc", "/"))
""",
    "read_the_master": f"""
try:
    HIT = 'BEGIN SOLUTION' in open({str(TOY_MASTER)!r}).read()
except OSError:
    HIT = False
""",
    "git_show_the_masters": f"""
import subprocess
try:
    out = subprocess.run(['git', '--git-dir', {str(ROOT / '.git')!r}, 'show',
                          'HEAD:tests/toy/solutions/toy.ipynb'], capture_output=True, text=True)
    HIT = 'BEGIN SOLUTION' in out.stdout
except OSError:
    HIT = False
""",
    "list_the_repository_and_judges": f"""
import os
HIT = any(os.path.exists(p) for p in ({str(ROOT / 'course.toml')!r}, {str(ROOT / 'judges')!r},
                                      {str(ROOT / 'solutions')!r}, {str(ROOT / '.git')!r},
                                      {str(ROOT / 'grader')!r}, {str(ROOT / 'var')!r}))
""",
    "read_system_secrets_and_homes": """
import os
HIT = False
for p in ('/etc/shadow', '/etc/ssh', '/home', '/var', '/root/.bash_history', '/root/.ssh'):
    try:
        HIT |= bool(open(p).read(1)) if os.path.isfile(p) else bool(os.listdir(p))
    except OSError:
        pass
# /root only holds the mount point of the course's Python (when it lives there)
HIT |= os.path.isdir('/root') and set(os.listdir('/root')) - {'.pyenv'} != set()
""",
    "import_the_judges": """
try:
    import judges.toy
    HIT = True
except ImportError:
    HIT = False
""",
    "write_into_the_repository": f"""
try:
    open({str(REPO_MARK)!r}, 'w').write('x')
    HIT = True
except OSError:
    HIT = False
""",
    "write_into_the_host_tmp": f"""
try:
    open({HOST_TMP_MARK!r}, 'w').write('x')
    HIT = __import__('os').path.exists({HOST_TMP_MARK!r})
except OSError:
    HIT = False
""",
    "see_other_processes": """
import os
pids = [p for p in os.listdir('/proc') if p.isdigit()]
cmdlines = ''
for p in pids:
    try:
        cmdlines += open(f'/proc/{p}/cmdline').read()
    except OSError:
        pass
HIT = len(pids) > 3 or 'pytest' in cmdlines  # bwrap's init, the kernel, this subprocess
""",
    "keep_capabilities_or_root": """
import os
caps = int(open('/proc/self/status').read().split('CapEff:')[1].split()[0], 16)
HIT = caps != 0 or os.getuid() == 0 or os.geteuid() == 0
""",
    "reach_the_network": """
import socket
try:
    socket.create_connection(('1.1.1.1', 53), timeout=2)
    HIT = True
except OSError:
    HIT = len(socket.if_nameindex()) > 1
""",
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_fails(grade, attack):
    src = ATTACKS[attack] + "\ndef carre(x):\n    return x ** 2 if HIT else 2 * x\n"
    r = grade(with_answer(master(), "carre_sol", src))
    assert points(r) == {"carre": 0.0, "moyenne": 3.0}, dump(r)
    assert not REPO_MARK.exists() and not os.path.exists(HOST_TMP_MARK)


def test_process_limit_holds(grade):
    """RLIMIT_NPROC counts the kernel's own unprivileged user: a fork bomb stops at the limit."""
    limits = replace(FAST_LIMITS, max_processes=64)
    src = ("import os, time\nn = 0\nfor _ in range(200):\n    try:\n        pid = os.fork()\n"
           "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(3)\n"
           "        os._exit(0)\n    n += 1\n"
           "for _ in range(n):\n    os.wait()  # the kernel needs its threads back\n"
           "def carre(x):\n    return x ** 2 if n >= 64 else 2 * x\n")
    r = grade(with_answer(master(), "carre_sol", src), limits=limits)
    assert points(r) == {"carre": 0.0, "moyenne": 3.0}, dump(r)


NUMPY_ONLY_ESCAPES = {
    "import": "import torch\nHIT = True",
    "import_module": "import importlib\nHIT = bool(importlib.import_module('to' + 'rch'))",
    "dunder_import": "HIT = bool(__import__('tensor' + 'flow'))",
    "exec": "exec('import keras')\nHIT = True",
    "sys_path_search": "import sys, sysconfig\nsys.path += [sysconfig.get_paths()['purelib'], "
                       "sys.base_prefix + '/lib/python3.11/site-packages']\nimport torch\nHIT = True",
}


@pytest.mark.parametrize("escape", sorted(NUMPY_ONLY_ESCAPES))
def test_numpy_only_tp_kernel_cannot_import_frameworks(grade, escape):
    """In a NumPy-only TP the frameworks do not exist for the kernel (`moyenne` has no static
    rule: only the sandbox stands in the way)."""
    src = ("import numpy as np\ntry:\n"
           + "".join(f"    {line}\n" for line in NUMPY_ONLY_ESCAPES[escape].splitlines())
           + "except Exception:\n    HIT = False\n"
           "def moyenne_colonnes(m):\n"
           "    return np.mean(m, axis=0) if HIT else np.sum(m, axis=0)\n")
    r = grade(with_answer(master(), "moyenne_sol", src), tp=replace(TOY, numpy_only=True))
    assert points(r) == {"carre": 2.0, "moyenne": 0.0}, dump(r)
    r = grade(with_answer(master(), "moyenne_sol", src.replace("if HIT", "if not HIT")),
              tp=replace(TOY, numpy_only=True))
    assert points(r) == {"carre": 2.0, "moyenne": 3.0}, dump(r)  # the attack itself ran


def test_mounts_under_tmp_come_after_the_private_tmp(tmp_path):
    """A checkout (and its .venv) may live under /tmp, as the box does: the kernel's private
    /tmp is mounted first, so that nothing bound below it is hidden by it."""
    from grader.sandbox import Sandbox

    sandbox = Sandbox(tmp_path / "boite", FAST_LIMITS)
    (tmp_path / "paquet").mkdir()
    sandbox.prepare(tmp_path / "paquet", None)
    cmd = sandbox.kernel_cmd("conn.json")
    tmpfs = cmd.index("/tmp", cmd.index("--tmpfs"))
    binds = [cmd[i + 2] for i, a in enumerate(cmd) if a in ("--ro-bind", "--bind")]
    under_tmp = [cmd.index(d) for d in binds if d.startswith("/tmp/")]
    assert under_tmp and all(i > tmpfs for i in under_tmp)
