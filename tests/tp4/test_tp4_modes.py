"""TP4, part 5.5 (mode collapse on the eight Gaussians) beyond the course suite: the judge's
oracles against other computations, the coverage tool, and the claim the section teaches,
trained with the master's own code: the plain GAN collapses, the minibatch standard deviation
in groups of consecutive examples covers the modes, the same statistic over the whole
concatenated batch does not."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grader.results import Status
from judges.tp4 import CHECKS
from judges.tp4.modes import _gradient_oracle, ecart_type_lot_oracle, generate_2d
from test_tp4_protocol import MASTER, good_namespace, trained_generator_8g
from tp4.data import DIM_Z_2D
from tp4.modes import centres_8g, huit_gaussiennes, modes_couverts


def test_layer_oracle_matches_torch_std_and_autograd():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(12, 3)), rng.normal(size=(12, 4))
    t = torch.tensor(x, requires_grad=True)
    s = torch.sqrt(t.reshape(3, 4, 3).var(dim=1, correction=0) + 1e-8).mean(dim=1)
    out = torch.cat([t, s.repeat_interleave(4)[:, None]], dim=1)
    assert np.allclose(ecart_type_lot_oracle(x, 4), out.detach().numpy(), rtol=1e-12)
    (out * torch.tensor(w)).sum().backward()
    assert np.allclose(_gradient_oracle(x, 4, w), t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_coverage_tool():
    assert modes_couverts(huit_gaussiennes(4000, graine=3))["modes"] == 8
    assert modes_couverts(huit_gaussiennes(4000, graine=3))["sur_les_modes"] > 0.99
    one = np.repeat(centres_8g()[:1], 100, axis=0)
    assert modes_couverts(one)["modes"] == 1
    a = np.radians(22.5 + 45 * np.arange(8))
    between = np.repeat(2 * np.c_[np.cos(a), np.sin(a)], 50, axis=0)
    m = modes_couverts(between)
    assert m["modes"] == 0 and m["sur_les_modes"] == 0 and not m["repartition"].any()


def test_numpy_rebuild_matches_the_generator():
    G = trained_generator_8g()
    z = np.random.default_rng(1).normal(size=(50, DIM_Z_2D))
    W = {k: v.double().numpy() for k, v in G.state_dict().items()}
    with torch.no_grad():
        expected = G(torch.tensor(z, dtype=torch.float32)).numpy()
    assert np.allclose(generate_2d(W, z), expected, atol=1e-5)


def _trained(ecart_type: bool, lot_entier: bool = False):
    """A 2-D GAN trained by the master's own loop and networks (seed 0, the quick budget);
    lot_entier: the statistic over the whole batch D receives (the concatenation)."""
    ns = MASTER.ns()
    MASTER.run(ns, "sol_reseaux_2d")
    if lot_entier:
        class LotEntier(torch.nn.Module):
            def forward(self, x):
                s = torch.sqrt(x.var(dim=0, correction=0) + 1e-8).mean()
                return torch.cat([x, s.expand(len(x), 1)], dim=1)

        ns["EcartTypeLot"] = lambda m=8: LotEntier()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        G, D = ns["Generateur2D"](), ns["Discriminateur2D"](ecart_type)
        n = ns["BUDGET"]["iter_gan_2d"]
        ns["entrainer_gan"](G, D, ns["X8"], n, lr=3e-4, taille_batch=256, graine=0,
                            suivi=n + 1)
    return G.eval()


@pytest.mark.parametrize("ecart_type,lot_entier,passes", [
    (True, False, True),  # the remedy: the master's own cell
    (False, False, False),  # the plain GAN collapses
    (True, True, False),  # the whole concatenated batch: real and fake mixed, no signal
])
def test_the_remedy_is_what_covers_the_modes(ecart_type, lot_entier, passes):
    G = trained_generator_8g() if passes else _trained(ecart_type, lot_entier)
    ns = good_namespace("generateur_8g", generateur_8g=G)
    for hidden in (False, True):
        status, message = CHECKS.run_in_process("generateur_8g", ns, hidden=hidden, seed=1)
        assert (status == Status.PASSED) == passes, message
        if not passes:
            assert "effondrement de modes" in message or "entre les modes" in message, message
