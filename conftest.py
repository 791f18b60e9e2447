"""Test collection for the whole repository.

The masters (solutions/*.ipynb) run top to bottom under nbval; their kernels (cwd solutions/)
import the TPs' kernel packages, and run the judges for their hidden tests, so every TP folder
and the repository root go on PYTHONPATH, absolute, here once.
Starters are not run (they raise NotImplementedError by design), and the grader's test
notebooks are data.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TP_DIRS = sorted(str(p) for p in [*ROOT.glob("tp*_*"), *ROOT.glob("projet_*")] if p.is_dir())
TP_DIRS.append(str(ROOT))

sys.path[:0] = [d for d in TP_DIRS if d not in sys.path]
os.environ["PYTHONPATH"] = os.pathsep.join(
    TP_DIRS + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])

collect_ignore_glob = ["tp*/*.ipynb", "projet_*/*.ipynb", "tests/**/*.ipynb"]
