"""TP4 under the course suite (tests/course_suite.py): the master and the judge agree, every
known mistake is refused, the protocol holds, check() agrees with the judge.

The checks on the notebook's trained networks get a VAE trained by the master's own training
cell (a few seconds at the quick scale) and a generator distilled from it (the master's GAN
takes minutes), and the 2-D generator of part 5.5 trained by the master's own cells; the bad
networks are the judge's known mistakes.
"""

from __future__ import annotations

import functools
import os

os.environ.setdefault("COURSE_SCALE", "quick")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from course_suite import CourseSuite  # noqa: E402
from grader.config import load_course  # noqa: E402
from grader.masters import Master  # noqa: E402

torch.set_num_threads(1)
MASTER = Master(load_course().master(load_course().tp("tp4_autoencoders")))


@functools.lru_cache(maxsize=1)
def trained_vae():
    """The master's VAE, trained by the master's own cells at the quick scale."""
    ns = MASTER.ns()
    MASTER.run(ns, "donnees", "sol_entrainer_vae")
    return ns["vae"]


@functools.lru_cache(maxsize=1)
def distilled_generator():
    """A Generateur (imposed architecture) trained to imitate the VAE's decoder: z[:8] -> image.
    A stand-in for the master's GAN, whose 2500 iterations are too slow for a unit test."""
    ns = MASTER.ns()
    vae = trained_vae()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        G = ns["Generateur"]()
        g = torch.Generator().manual_seed(0)
        opt = torch.optim.Adam(G.parameters(), lr=2e-3)
        for _ in range(800):
            z = torch.randn(256, ns["DIM_Z"], generator=g)
            with torch.no_grad():
                target = vae.decodeur(z[:, :ns["LATENT_VAE"]])
            loss = F.mse_loss(G(z), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return G.eval()


@functools.lru_cache(maxsize=1)
def trained_generator_8g():
    """The master's 2-D generator with the minibatch standard deviation, trained by the
    master's own cells (3000 iterations at the quick scale: a few seconds)."""
    ns = MASTER.ns()
    MASTER.run(ns, "sol_reseaux_2d", "sol_gan_8g")
    return ns["generateur_8g"]


def good_namespace(name: str, **overrides) -> dict:
    ns = MASTER.ns()
    if name == "vae_entraine":
        ns["vae"] = trained_vae()
    if name == "generateur_gan":
        ns["generateur"] = distilled_generator()
    if name == "generateur_8g":
        ns["generateur_8g"] = trained_generator_8g()
    ns.update(overrides)
    return ns


class TestTp4(CourseSuite):
    TP = "tp4_autoencoders"

    def namespace(self, name: str, **overrides) -> dict:
        return good_namespace(name, **overrides)

