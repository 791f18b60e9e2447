"""The project under the course suite (tests/course_suite.py): the master and the judge agree,
every known mistake is refused, the protocol holds, check() agrees with the judge.

The checks on trained networks get networks trained by the master's own `entrainer_score` (and
the flow by its `entrainer_flot`) at the quick scale (seconds each); the bad networks and samplers are the judge's known mistakes.
"""

from __future__ import annotations

import functools
import os

os.environ.setdefault("COURSE_SCALE", "quick")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from course_suite import CourseSuite  # noqa: E402
from grader.config import load_course  # noqa: E402
from grader.masters import Master  # noqa: E402

torch.set_num_threads(1)
MASTER = Master(load_course().master(load_course().tp("projet_generatif")))


def _trained(data, dim, width, budget_key, **kwargs):
    ns = MASTER.ns()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = ns["ReseauScore"](dim, width, 3)
        ns["entrainer_score"](model, torch.tensor(data, dtype=torch.float32),
                              ns["BUDGET"][budget_key], graine=0, **kwargs)
    return model


@functools.lru_cache(maxsize=1)
def model_8g():
    ns = MASTER.ns()
    return _trained(ns["huit_gaussiennes"](20_000, np.random.default_rng(3)), 2, 128, "iter_2d")


@functools.lru_cache(maxsize=1)
def model_digits():
    ns = MASTER.ns()
    return _trained(ns["vers_diffusion"](ns["charger_chiffres"]()[0]), 64,
                    ns["BUDGET"]["largeur_chiffres"], "iter_chiffres", lr=2e-3, taille_batch=128)


@functools.lru_cache(maxsize=1)
def flow_8g():
    ns = MASTER.ns()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        flow = ns["FlotCouplage"]()
        data = ns["huit_gaussiennes"](20_000, np.random.default_rng(3))
        ns["entrainer_flot"](flow, torch.tensor(data, dtype=torch.float32),
                             ns["BUDGET"]["iter_flot"], graine=0)
    return flow


def good_namespace(name: str, **overrides) -> dict:
    ns = MASTER.ns()
    if name == "flot_8g":
        ns["flot_8g"] = flow_8g()
    if name == "modele_8g":
        ns["modele_8g"] = model_8g()
    if name == "modele_chiffres":
        ns["modele_chiffres"] = model_digits()
    ns.update(overrides)
    return ns


class TestProjet(CourseSuite):
    TP = "projet_generatif"

    def namespace(self, name: str, **overrides) -> dict:
        return good_namespace(name, **overrides)

