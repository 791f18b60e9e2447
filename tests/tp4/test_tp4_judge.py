"""TP4's judge and kernel package beyond the course suite: the oracles checked against other
computations, the networks rebuilt by the judge, the replay of the training loop, the classifiers
(the judge's and the notebook's), the stand-in trained models, import costs."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course.sample_quality import evaluer_echantillons
from grader.config import ROOT
from grader.results import Status
from judges.common import digits_quality as dq
from judges.tp4 import CHECKS
from judges.tp4.autoencoders import replay_full_batch
from judges.tp4.networks import ae_forward, generate, init_autoencoder, sigmoid
from judges.tp4.vae import bce_oracle, kl_oracle, vae_elbo
from test_tp4_protocol import MASTER, distilled_generator, good_namespace, trained_vae
from tp4.data import DIM_Z, LATENT_VAE, SEUILS, charger_chiffres


def test_kl_oracle_matches_closed_form():
    rng = np.random.default_rng(0)
    mu, lv = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    closed = 0.5 * np.sum(mu ** 2 + np.exp(lv) - 1 - lv, axis=1)
    assert np.allclose(kl_oracle(mu, lv), closed, rtol=1e-12)


def test_bce_oracle_matches_torch():
    rng = np.random.default_rng(1)
    x, p = rng.uniform(size=(4, 64)), sigmoid(rng.normal(size=(4, 64)))
    expected = F.binary_cross_entropy(torch.tensor(p), torch.tensor(x), reduction="none").sum(1)
    assert np.allclose(bce_oracle(x, p), expected.numpy(), rtol=1e-10)


def test_frechet_oracle_matches_sqrtm():
    from scipy.linalg import sqrtm

    rng = np.random.default_rng(2)
    A, B = rng.normal(size=(6, 9)), rng.normal(size=(6, 8))
    S1, S2, m1, m2 = A @ A.T, B @ B.T, rng.normal(size=6), rng.normal(size=6)
    expected = np.sum((m1 - m2) ** 2) + np.trace(S1 + S2 - 2 * np.real(sqrtm(S1 @ S2)))
    assert dq.frechet_gaussians(m1, S1, m2, S2) == pytest.approx(expected, rel=1e-8)


def test_numpy_rebuilds_match_torch_modules():
    ns = MASTER.ns()
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(5, 64))
    torch.manual_seed(0)
    ae, G = ns["Autoencodeur"](6), ns["Generateur"]()
    W = {k: v.double().numpy() for k, v in ae.state_dict().items()}
    WG = {k: v.double().numpy() for k, v in G.state_dict().items()}
    z = rng.normal(size=(5, DIM_Z))
    with torch.no_grad():
        assert np.allclose(ae_forward(W, x), ae(torch.tensor(x, dtype=torch.float32)).numpy(),
                           atol=1e-5)
        assert np.allclose(generate(WG, z), G(torch.tensor(z, dtype=torch.float32)).numpy(),
                           atol=1e-5)


def test_replay_is_torch_adam_on_the_full_batch():
    """The judge's replay of the training loop (its own Adam, float64) is torch's Adam."""
    rng = np.random.default_rng(4)
    W0 = init_autoencoder(rng, 3)
    X = charger_chiffres()[0][:20].astype(float)
    losses, W = replay_full_batch(W0, X, 4, 0.01)
    model = MASTER.ns()["Autoencodeur"](3).double()
    model.load_state_dict({k: torch.tensor(v) for k, v in W0.items()})
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    Xt, expected = torch.tensor(X), []
    for _ in range(4):
        loss = F.mse_loss(model(Xt), Xt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        expected.append(loss.item())
    assert np.allclose(losses, expected, rtol=1e-10)
    for k, v in model.state_dict().items():
        assert np.allclose(W[k], v.numpy(), rtol=1e-8, atol=1e-10), k


def test_judge_classifier_and_metrics():
    _, X_test, _, y_test = charger_chiffres()
    assert np.mean(dq.probabilities(X_test).argmax(1) == y_test) >= 0.96
    m = dq.metrics(X_test)
    assert m["couverture"] == 10 and m["frechet"] < 1e-6 and m["confiance"] > 0.95
    rng = np.random.default_rng(0)
    assert dq.metrics(rng.uniform(size=(450, 64)))["frechet"] > 15
    assert dq.metrics(np.repeat(X_test[:1], 450, 0))["couverture"] == 1


def test_notebook_tool_is_another_classifier_and_uses_the_students_frechet():
    """evaluer_echantillons (kernel side) agrees with the judge on what matters, but its
    classifier is not the judge's, and its Fréchet distance is the student's function's."""
    from course.sample_quality import probabilites_classes

    _, X_test, _, y_test = charger_chiffres()
    assert np.mean(probabilites_classes(X_test).argmax(1) == y_test) >= 0.96
    assert not np.allclose(probabilites_classes(X_test[:20]), dq.probabilities(X_test[:20]),
                           atol=1e-3)
    calls = []
    m = evaluer_echantillons(X_test, lambda *stats: calls.append(stats) or 1.5)
    assert m["frechet"] == 1.5 and len(calls) == 1 and calls[0][1].shape == (64, 64)
    assert "frechet" not in evaluer_echantillons(X_test)
    assert np.isnan(evaluer_echantillons(X_test, _stub)["frechet"])  # not written yet


def _stub(*args):
    raise NotImplementedError()


def test_stand_in_models_are_good():
    """The good models of these tests pass the quick thresholds with a margin."""
    W = {k: v.double().numpy() for k, v in trained_vae().state_dict().items()}
    elbo, _ = vae_elbo(W, charger_chiffres()[1].astype(float),
                       np.random.default_rng(0).normal(size=(2, 450, LATENT_VAE)))
    assert elbo < SEUILS["quick"]["elbo_vae"] - 1
    z = np.random.default_rng(1).normal(size=(450, DIM_Z))
    WG = {k: v.double().numpy() for k, v in distilled_generator().state_dict().items()}
    m = dq.metrics(generate(WG, z))
    assert m["couverture"] == 10 and m["frechet"] < SEUILS["quick"]["frechet_gan"] - 1


def test_training_check_sees_the_model_of_the_student():
    """The judge measures the weights it receives, not what the kernel claims."""
    real = MASTER.ns()["entrainer_autoencodeur"]

    def liar(modele, X, n_epochs, **kwargs):  # trains, then resets the weights
        losses = real(modele, X, n_epochs, **kwargs)
        for layer in modele.modules():
            if isinstance(layer, torch.nn.Linear):
                layer.reset_parameters()
        return losses

    ns = good_namespace("entrainer_autoencodeur", entrainer_autoencodeur=liar)
    status, message = CHECKS.run_in_process("entrainer_autoencodeur", ns)
    assert status == Status.FAILED and "ne correspond pas" in message, message


def test_evaluate_leaves_the_notebook_random_state_alone():
    ns = MASTER.ns()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    CHECKS.run_in_process("reparametrer", ns)
    CHECKS.run_in_process("entrainer_autoencodeur", ns, hidden=True, seed=1)
    assert torch.equal(torch.rand(3), expected)


def test_notebook_scale_is_the_course_scale(monkeypatch):
    for value, expected in (("quick", "quick"), ("full", "full"), (" FULL ", "full"),
                            ("autre", "quick"), (None, "quick")):
        if value is None:
            monkeypatch.delenv("COURSE_SCALE", raising=False)
        else:
            monkeypatch.setenv("COURSE_SCALE", value)
        ns = MASTER.ns()
        assert ns["ECHELLE"] == expected
        assert ns["device"].type == "cpu" or torch.cuda.is_available()


@pytest.mark.parametrize("module,heavy", [
    ("tp4", ("torch", "sklearn", "scipy", "matplotlib")),  # the notebook's first import
    ("judges.tp4", ("torch", "sklearn", "scipy", "matplotlib")),  # the grading worker's start
])
def test_imports_are_cheap(module, heavy):
    code = (f"import sys, {module}; print([m for m in {heavy!r} if m in sys.modules])")
    env = {"PYTHONPATH": f"{ROOT}:{ROOT / 'tp4_autoencoders'}", "PATH": os.environ["PATH"]}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT, env=env)
    assert out.stdout.strip() == "[]" and out.stderr == ""


def test_closed_form_gradient_descent_matches_a_loop():
    from judges.tp4.bases import descente

    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, size=30)
    y = 1.3 * x - 0.4 + 0.1 * rng.normal(size=30)
    w = b = 0.0
    for _ in range(17):
        r = w * x + b - y
        w, b = w - 0.2 * 2 * np.mean(r * x), b - 0.2 * 2 * np.mean(r)
    assert np.allclose(descente(x, y, 17, 0.2), [w, b], rtol=1e-12)


def test_gan_replay_matches_torch_adam_in_float64():
    """The judge's first iteration (closed-form Adam step, fake image G(0)) against the master's
    loop run by torch.optim.Adam in float64 from the same weights."""
    from judges.tp4.gan import _cases_loop, replay_first_iteration

    case = _cases_loop(np.random.default_rng(5), hidden=False)[0]
    ns = MASTER.ns()
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # the loop's noise too
    try:
        G, D = ns["Generateur"](), ns["Discriminateur"](0.0)
        for net, prefix in ((G, "g:"), (D, "d:")):
            net.load_state_dict({k[2:]: torch.tensor(v) for k, v in case.items()
                                 if k.startswith(prefix)})
        h = ns["entrainer_gan"](G, D, torch.tensor(case["X"]), 1, lissage=case["lissage"],
                                lr=case["lr"], taille_batch=case["taille_batch"], graine=0,
                                suivi=10)
    finally:
        torch.set_default_dtype(default)
    loss_d, loss_g, WD1, WG1, _, _ = replay_first_iteration(case)
    assert h["perte_D"][0] == pytest.approx(loss_d, rel=1e-10)
    assert h["perte_G"][0] == pytest.approx(loss_g, rel=1e-10)
    for k, v in D.state_dict().items():
        assert np.allclose(v.numpy(), WD1[k], rtol=0, atol=1e-9), k
    for k, v in G.state_dict().items():
        if k != "reseau.0.weight":
            assert np.allclose(v.numpy(), WG1[k], rtol=0, atol=1e-9), k
