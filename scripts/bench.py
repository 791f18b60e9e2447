"""Grading time beside plain execution, measured side by side in one run (`make bench`).

1. For each TP with a master (Keras TPs under each of their backends): (a) plain nbclient
   execution of the master notebook in a fresh process (its test cells run the notebook's
   check() and, with the judges at hand, the hidden checks), (b) `python -m grader grade TP
   --from solutions` in a fresh process (restore, sandbox, judge process with hidden cases,
   gradebook, reports). Runs alternate, `--repeat` times; the best of each and their ratio are
   printed, with the time until the grade line.
2. Official grading of `--submissions` copies of the first TP (half master, half starter) with
   `autograde --jobs 1`, `--jobs 2` and two `--shard`s at once (copies per minute; a shard's
   efficiency is the one-process time over twice the two shards' time): the fixed cost per
   notebook is the autograde time minus the plain execution of the same notebooks, divided by
   their number. Then the re-grade of an unchanged notebook from the cache.
Wall times on a shared 2-core machine are noisy: compare ratios taken in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,  # starters raise
               resources={"metadata": {"path": sys.argv[2]}}).execute()
"""


def timed(cmd: list[str], env: dict, until: str | None = None) -> tuple[float, float]:
    """Wall time of `cmd`, and until its stdout printed a line starting with `until`."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    seen = None
    for line in proc.stdout:
        if until and seen is None and line.startswith(until):
            seen = time.perf_counter() - start
    if proc.wait():
        raise SystemExit(f"échec : {' '.join(cmd)}")
    total = time.perf_counter() - start
    return total, seen or total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("tp", nargs="*")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--submissions", type=int, default=20,
                        help="copies pour la mesure d'autograde (0 : sauter)")
    args = parser.parse_args()
    course = load_course()
    tps = [course.tp(n) for n in args.tp] or [
        tp for tp in course.tps.values() if course.master(tp).exists()]
    env = dict(os.environ, PYTHONPATH=":".join(str(course.folder(tp)) for tp in tps))
    print(f"{'TP':<28} {'exécution seule':>16} {'correction':>11} {'ratio':>6} "
          f"{'note affichée':>14} {'ratio':>6}   (meilleur de {args.repeat} essais alternés)")
    for tp in tps:
        for backend in tp.keras_backends or (None,):  # Keras TPs: under each backend
            run_env = dict(env, KERAS_BACKEND=backend) if backend else env
            plain, graded = [], []
            with tempfile.TemporaryDirectory() as out:
                for _ in range(args.repeat):
                    plain.append(timed([sys.executable, "-c", PLAIN, str(course.master(tp)),
                                        str(course.folder(tp))], run_env)[0])
                    graded.append(timed([sys.executable, "-m", "grader", "grade", tp.name,
                                         "--from", "solutions", "--out", out], run_env,
                                        until="Note : "))
            p = min(plain)
            g, line = min(t for t, _ in graded), min(t for _, t in graded)
            name = f"{tp.name} ({backend})" if backend else tp.name
            print(f"{name:<28} {p:>15.1f}s {g:>10.1f}s {g / p:>6.2f} {line:>13.1f}s "
                  f"{line / p:>6.2f}", flush=True)
    sandbox_start(course, tps[0])
    if args.submissions:
        official(course, tps[0], env, args.submissions)


def sandbox_start(course, tp, runs: int = 5) -> None:
    """The sandbox's own start-up: a kernel's interpreter started in bubblewrap (with the TP's
    allow-list of mounts) against the same interpreter started plainly."""
    from grader.sandbox import Sandbox, isolation_problem

    if isolation_problem():
        print(f"bac à sable indisponible ici : {isolation_problem()}")
        return
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as box:
        sandbox = Sandbox(Path(box), course.limits, numpy_only=tp.numpy_only)
        sandbox.prepare(course.kernel_package(tp), course.library)
        boxed = sandbox.kernel_cmd("unused")[:-4] + ["-c", "import numpy"]
        plain = [sys.executable, "-c", "import numpy"]

        def best(cmd):
            return min(timed(cmd, sandbox.env())[0] for _ in range(runs))

        b, p = best(boxed), best(plain)
        print(f"démarrage d'un interpréteur (import numpy) : {p * 1000:.0f} ms seul, "
              f"{b * 1000:.0f} ms dans le bac à sable ({tp.name}) : +{(b - p) * 1000:.0f} ms")


def official(course, tp, env, count: int) -> None:
    """autograde of `count` submissions with 1 and 2 jobs (fixed cost per notebook); cached
    re-grade of one notebook."""
    from grader.collect import Submission

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        starter = course.folder(tp) / tp.notebook_name
        plain = {path: timed([sys.executable, "-c", PLAIN, str(path), str(course.folder(tp))],
                             env)[0] for path in (course.master(tp), starter)}
        subs = []
        for i in range(count):
            nb = tmp / "nb" / f"e{i:02d}" / tp.notebook_name
            nb.parent.mkdir(parents=True)
            shutil.copy(course.master(tp) if i % 2 == 0 else starter, nb)
            subs.append(Submission(student=f"e{i:02d}", name=f"Étudiant {i}", notebook=str(nb)))
        times = {}
        for run in ("1", "2", "shards"):
            work = tmp / f"work-{run}"
            (work / "collected" / tp.name).mkdir(parents=True)
            (work / "collected" / tp.name / "manifest.json").write_text(
                json.dumps([s.__dict__ for s in subs]))
            cmd = [sys.executable, "-m", "grader", "autograde", "--tp", tp.name, "--work",
                   str(work)]
            if run == "shards":  # two runners' shards at once, one gradebook
                start = time.perf_counter()
                procs = [subprocess.Popen([*cmd, "--shard", f"{i}/2"], cwd=ROOT,
                                          env=dict(env, GRADER_SECRET="banc d'essai"),
                                          stdout=subprocess.DEVNULL) for i in (1, 2)]
                if any(p.wait() for p in procs):
                    raise SystemExit("échec : autograde --shard")
                times[run] = time.perf_counter() - start
            else:
                times[run] = timed([*cmd, "--jobs", run], env)[0]
        executed = sum(plain[course.master(tp) if i % 2 == 0 else starter] for i in range(count))
        rate = {run: 60 * count / t for run, t in times.items()}
        print(f"autograde de {count} copies de {tp.name} : --jobs 1 {times['1']:.0f} s "
              f"({rate['1']:.1f} copies/min), --jobs 2 {times['2']:.0f} s ({rate['2']:.1f} "
              f"copies/min) ; exécution seule des mêmes notebooks {executed:.0f} s ; coût fixe "
              f"par copie (--jobs 1) {(times['1'] - executed) / count:.2f} s")
        print(f"2 parts (--shard 1/2 et 2/2 à la fois, un carnet) : {times['shards']:.0f} s "
              f"({rate['shards']:.1f} copies/min) ; efficacité de 2 parts contre 1 : "
              f"{times['1'] / (2 * times['shards']):.2f}")
        cache = tmp / "cache"
        grade = [sys.executable, "-m", "grader", "grade", tp.name, "--from", "solutions",
                 "--out", str(tmp / "out"), "--cache", str(cache)]
        first, again = timed(grade, env)[0], timed(grade, env)[0]
        print(f"re-correction d'un notebook inchangé ({tp.name}) : {again:.1f} s depuis le "
              f"cache, contre {first:.1f} s pour la correction ({first / again:.0f}× plus rapide)")


if __name__ == "__main__":
    main()
