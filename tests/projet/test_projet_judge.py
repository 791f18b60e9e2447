"""The project's judge and kernel package beyond the course suite: the oracles checked against
each other and against closed forms, the step-by-step analysis of the samplers, the noise floor
of the 8 Gaussians, the rebuilt network, import costs."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from grader.config import ROOT
from judges.projet.oracles import (em_explicit, flow_end, network, posterior_mean, score_oracle,
                                   w2_hungarian, w2_pot)
from judges.projet.sampling import judge_samples_8g, langevin_exact_8g
from projet.data import SIGMA_8G, centres_8g, grille_temps
from projet.network import ReseauScore
from projet.sampling import Enregistreur, champ, derive_du_score
from test_projet_protocol import MASTER


def test_score_oracle_matches_closed_form_and_tweedie():
    rng = np.random.default_rng(0)
    x, t, C, s0 = rng.normal(size=(7, 2)) * 2, 0.3, centres_8g(), SIGMA_8G
    a, s2 = math.exp(-t), 1 - math.exp(-2 * t)
    v = a * a * s0 ** 2 + s2
    d2 = ((x[:, None] - a * C[None]) ** 2).sum(-1)
    r = np.exp(-d2 / (2 * v) + (d2 / (2 * v)).min(1, keepdims=True))
    r /= r.sum(1, keepdims=True)
    score = score_oracle(x, t, C, s0)
    assert np.allclose(score, (r @ (a * C) - x) / v, rtol=1e-10)
    # Tweedie-Miyasawa: the Bayesian posterior mean equals the one-step gradient ascent
    assert np.allclose(a * posterior_mean(x, t, C, s0), x + s2 * score, atol=1e-12)


def test_yardstick_sampler_is_the_specified_langevin_with_the_exact_score():
    """The judge's noise floor of a draw samples the exact score with the ξ_k of the
    specification: it is the master's sampler, Tweedie's last step being the posterior mean."""
    rng = np.random.default_rng(6)
    x, temps = rng.normal(size=(40, 2)), grille_temps(60)
    expected = MASTER.ns()["echantillonner_langevin"](
        lambda y, t: score_oracle(y, t, centres_8g(), SIGMA_8G), x, temps, 3)
    assert np.allclose(langevin_exact_8g(x, temps, 3), expected, rtol=1e-9, atol=1e-9)


def test_w2_is_judged_against_the_floor_of_the_draw():
    """Samples with the right spread and mode counts the chi-square test lets through, but 55
    points of mode 0 sent to the opposite mode: only the W2 to the held-out data sees it."""
    rng = np.random.default_rng(9)
    case = {"x": rng.normal(size=(2000, 2)), "temps": grille_temps(100), "graine": 5}
    modes = np.repeat(np.arange(8), 250)
    good = centres_8g()[modes] + SIGMA_8G * rng.normal(size=(2000, 2))
    judge_samples_8g(good, case, "équilibrés")
    modes[:55] = 4
    moved = centres_8g()[modes] + SIGMA_8G * rng.normal(size=(2000, 2))
    with pytest.raises(AssertionError, match="plancher de bruit .* score EXACT tirés du même"):
        judge_samples_8g(moved, case, "déplacés")


def test_em_oracle_matches_the_loop():
    rng = np.random.default_rng(1)
    x0, xi = rng.normal(size=(3, 2)), rng.normal(size=(9, 3, 2))
    h, x, traj = 0.1, x0.copy(), [x0.copy()]
    for k in range(9):
        x = x - x * h + math.sqrt(2 * h) * xi[k]
        traj.append(x.copy())
    assert np.allclose(em_explicit(x0, h, xi), np.array(traj), rtol=1e-12)


def test_gaussian_flow_oracle_matches_ivp():
    """The exact (affine) flow of a Gaussian field is what solve_ivp integrates."""
    rng = np.random.default_rng(2)
    case = {"x": rng.normal(size=(4, 2)), "temps": grille_temps(50), "m": np.array([1.0, -0.5]),
            "s": np.array([0.5, 0.3]), "courbure": 0.0}
    exact = flow_end(case, champ(case))
    bent = {**case, "courbure": 1e-12}  # the same field, through solve_ivp
    assert np.allclose(exact, flow_end(bent, champ(bent)), atol=1e-6)


def test_w2_oracles_agree():
    rng = np.random.default_rng(3)
    for n, m in ((20, 20), (15, 45)):
        X, Y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2)) + 1
        assert w2_hungarian(X, Y) == pytest.approx(w2_pot(X, Y), rel=1e-7)


def test_numpy_network_matches_torch():
    torch.manual_seed(0)
    net = ReseauScore(3, 16, 2)
    W = {k: v.double().numpy() for k, v in net.state_dict().items()}
    x, t = np.random.default_rng(4).normal(size=(5, 3)), np.array([1e-3, 0.1, 1.0, 2.0, 5.0])
    with torch.no_grad():
        expected = net(torch.tensor(x, dtype=torch.float32), torch.tensor(t, dtype=torch.float32))
    assert np.allclose(network(W, x, t), expected.numpy(), atol=1e-5)


@pytest.mark.parametrize("factor,noise,c,variance", [(2.0, 2.0, 2.0, 1.0), (1.0, 2.0, 1.0, 1.0),
                                                      (2.0, 1.0, 2.0, 0.5), (-2.0, 2.0, -2.0, 1.0)])
def test_step_analysis_finds_the_drift_and_the_noise(factor, noise, c, variance):
    """The drift coefficient and the noise variance the checks estimate from the recorded steps
    of a Langevin sampler, for the specified one and three wrong ones."""
    rng = np.random.default_rng(5)
    case = {"m": np.array([1.0, -0.5]), "s": np.array([0.5, 0.5]), "courbure": 0.0}
    temps, score = grille_temps(200), Enregistreur(champ(case), 1000)
    x = rng.normal(size=(64, 2))
    for k in range(len(temps) - 1):
        h = temps[k] - temps[k + 1]
        x = x + h * (x + factor * score(x, temps[k])) + math.sqrt(noise * h) * rng.normal(
            size=x.shape)
    score(x, temps[-1])
    got_c, got_noise = derive_du_score(score.data()["appels_x"], temps, champ(case))
    assert got_c == pytest.approx(c, abs=0.1) and got_noise == pytest.approx(variance, abs=0.05)


def test_pot_is_imported_without_its_heavy_backends():
    code = ("import sys; from judges.projet.oracles import pot; pot(); "
            "print('tensorflow' in sys.modules, 'torch' in sys.modules)")
    env = {"PYTHONPATH": f"{ROOT}:{ROOT / 'projet_generatif'}", "PATH": os.environ["PATH"]}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("module", ["projet", "judges.projet"])
def test_imports_are_cheap(module):
    heavy = ("torch", "sklearn", "scipy", "matplotlib", "ot")
    code = f"import sys, {module}; print([m for m in {heavy!r} if m in sys.modules])"
    env = {"PYTHONPATH": f"{ROOT}:{ROOT / 'projet_generatif'}", "PATH": os.environ["PATH"]}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env)
    assert out.stdout.strip() == "[]" and out.stderr == ""
