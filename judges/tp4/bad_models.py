"""TP4's known bad trained networks, for the checks on the notebook's VAE and generator:
untrained, collapsed, of the wrong architecture. Built here with the imposed architectures (the
good ones come from the master's own training cells in the tests). Loaded on first use."""

from __future__ import annotations

import torch
import torch.nn as nn

from grader.judging import Mistake
from judges.common.digits_quality import digits
from tp4.data import DIM_Z, LATENT_VAE


class _VAE(nn.Module):
    def __init__(self, d=LATENT_VAE, sigmoide=True):
        super().__init__()
        self.encodeur = nn.Sequential(nn.Linear(64, 128), nn.ReLU())
        self.mu, self.logvar = nn.Linear(128, d), nn.Linear(128, d)
        couches = [nn.Linear(d, 128), nn.ReLU(), nn.Linear(128, 64)]
        self.decodeur = nn.Sequential(*couches, *([nn.Sigmoid()] if sigmoide else []))


class _Generateur(nn.Module):
    def __init__(self, activation=None):
        super().__init__()
        act = activation or (lambda: nn.LeakyReLU(0.2))
        self.reseau = nn.Sequential(nn.Linear(DIM_Z, 128), act(), nn.Linear(128, 128), act(),
                                    nn.Linear(128, 64), nn.Sigmoid())

    def forward(self, z):
        return self.reseau(z)


def seeded(build):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return build()


def _logit(p):
    p = torch.as_tensor(p).clamp(1e-3, 1 - 1e-3)
    return torch.log(p / (1 - p))


def _constant_decoder():
    """Posterior collapse: every z decodes to the mean training image."""
    vae = seeded(_VAE)
    with torch.no_grad():
        for p in vae.parameters():
            p.zero_()
        vae.decodeur[2].bias.copy_(_logit(digits()[0].mean(0)))
    return vae


def _collapsed(n_digits: int):
    """A generator that draws one "3" (n_digits = 1), or a "3" when z_0 > 0 and a "7"
    otherwise (n_digits = 2)."""
    X_train, _, y_train, _ = digits()
    logits = [_logit(torch.tensor(X_train[y_train == k][0]).clamp(0.02, 0.98)) for k in (3, 7)]
    G = seeded(_Generateur)
    with torch.no_grad():
        for p in G.parameters():
            p.zero_()
        if n_digits == 1:
            G.reseau[4].bias.copy_(logits[0])
        else:
            G.reseau[0].weight[0, 0], G.reseau[0].weight[1, 0] = 50.0, -50.0
            G.reseau[2].weight[0, 0], G.reseau[2].weight[1, 1] = 1.0, 1.0
            G.reseau[4].weight[:, 0], G.reseau[4].weight[:, 1] = logits[0] / 5, logits[1] / 5
    return G


def _noisy_generator():
    G = seeded(_Generateur)
    with torch.no_grad():
        for p in G.parameters():
            p.mul_(8.0)
    return G


MISTAKES = {
    "vae_entraine": [
        Mistake("VAE non entraîné", {"vae": seeded(_VAE)}, "−ELBO"),
        Mistake("décodeur constant (effondrement du postérieur)", {"vae": _constant_decoder()},
                "−ELBO"),
        Mistake("dimension latente 2", {"vae": seeded(lambda: _VAE(2))}, "dimension latente"),
        Mistake("pas un nn.Module", {"vae": {"poids": 1}}, "nn.Module"),
        Mistake("décodeur sans sigmoïde", {"vae": seeded(lambda: _VAE(sigmoide=False))},
                "ne correspond pas"),
    ],
    "generateur_gan": [
        Mistake("générateur non entraîné", {"generateur": seeded(_Generateur)}),
        Mistake("toujours le même chiffre", {"generateur": _collapsed(1)},
                "couvrent que 1 classes"),
        Mistake("deux chiffres seulement", {"generateur": _collapsed(2)},
                "effondrement de modes"),
        Mistake("bruit", {"generateur": _noisy_generator()}),
        Mistake("ReLU au lieu de LeakyReLU", {"generateur": seeded(lambda: _Generateur(nn.ReLU))},
                "architecture imposée"),
    ],
}
