"""Judge of the project (generation by score diffusion: S. Mallat's 2025 course, G. Peyré's
optimal transport): one module per part, each with its cases and verdicts; the known mistakes in
`mistakes.py` (the flow's and the transport loss's in `mistakes_flot.py`), loaded on first use.
Never shipped to students.

The normalizing flow and the minibatch optimal-transport loss: `flot.py`. Every oracle uses
another method than the one the students write (`oracles.py`); the samplers
are checked step by step on score fields of their own; trained networks are rebuilt from their
weights and measured by the judge, their samples drawn from the judge's noise and judged on
held-out data (thresholds per scale: `projet.data.SEUILS`).
"""

import os

from grader.judging import Checks, mistakes_from
from projet import EXERCISES

from . import diffusion, flot, sampling, transport

# POT without its TensorFlow/PyTorch probes (3-6 s at import), before the worker imports it.
os.environ.setdefault("POT_BACKEND_DISABLE_TENSORFLOW", "1")
os.environ.setdefault("POT_BACKEND_DISABLE_PYTORCH", "1")
CHECKS = Checks(
    EXERCISES, mistakes=mistakes_from(__name__, "mistakes", "mistakes_flot"),
    judge_imports=("torch", "scipy.stats", "scipy.optimize", "scipy.spatial", "scipy.integrate",
                   "sklearn.datasets", "sklearn.model_selection", "ot"))
for _part in (transport, flot, diffusion, sampling):
    for _check in _part.CHECKS:
        CHECKS.add(_check)
