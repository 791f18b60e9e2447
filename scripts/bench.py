"""Grading time beside plain execution, measured side by side in one run (`make bench`).

For each TP with a master: (a) plain nbclient execution of the master notebook in a fresh
process, (b) `python -m grader grade TP --from solutions` in a fresh process (restore, sandbox,
judge with hidden cases, gradebook, reports). Runs alternate, `--repeat` times; medians and
their ratio are printed. Wall times on a shared 2-core machine are noisy: compare ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.config import load_course  # noqa: E402

PLAIN = """
import sys
sys.modules.setdefault("rfc3987_syntax", None)
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tp", nargs="*")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    course = load_course()
    tps = [course.tp(n) for n in args.tp] or [
        tp for tp in course.tps.values() if course.master(tp).exists()]
    env = dict(os.environ, PYTHONPATH=":".join(str(course.folder(tp)) for tp in tps))
    print(f"{'TP':<18} {'exécution seule':>16} {'correction':>12} {'ratio':>7}   (médianes, "
          f"{args.repeat} essais alternés)")
    for tp in tps:
        plain, graded = [], []
        with tempfile.TemporaryDirectory() as out:
            for _ in range(args.repeat):
                plain.append(timed([sys.executable, "-c", PLAIN, str(course.master(tp)),
                                    str(course.folder(tp))], env))
                graded.append(timed([sys.executable, "-m", "grader", "grade", tp.name,
                                     "--from", "solutions", "--out", out], env))
        p, g = statistics.median(plain), statistics.median(graded)
        print(f"{tp.name:<18} {p:>15.1f}s {g:>11.1f}s {g / p:>7.2f}")


if __name__ == "__main__":
    main()
