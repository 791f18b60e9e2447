"""Mutation tests of TP4's checks (tp4_reference.CHECKS).

The instructors' implementation comes from the master notebook itself: its imports cell and its
solution cells that only define functions and classes are executed into a namespace. Every check
must accept it on public and hidden cases, and reject plausible wrong implementations (written
below, one line naming each mistake) with the specific French diagnostic where the verdict has one.

Checks on trained networks (`vae_entraine`, `generateur_gan`) are fed models built here: a VAE
trained by the master's own training cell (a few seconds at the quick scale), a generator
distilled from it, and deliberately bad models (untrained, constant, collapsed onto one or two
digits, wrong activations) rather than retrained ones. The whole master notebook is graded at
both scales elsewhere (tests/test_course.py at quick scale, the `gpu` tests below at full scale).
"""

from __future__ import annotations

import copy
import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

os.environ.setdefault("COURSE_SCALE", "quick")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import tp4_reference as ref  # noqa: E402
from master_code import Master  # noqa: E402
from grader.checks import ERROR, FAILED, INCOMPLETE, PASSED, run_in_process  # noqa: E402

torch.set_num_threads(1)
MASTER = Master(ROOT / "solutions" / "tp4_autoencoders.ipynb")
master_ns = MASTER.ns  # the master's definitions, with overrides
OBJECT_TARGETS = {"device", "vae", "generateur"}  # made by the notebook, not by definitions
TRAINING_CHECKS = {"entrainer_autoencodeur", "debruitage"}  # train a network in `evaluate`


def judge(name, ns, hidden=False, seed=None):
    return run_in_process(ref.CHECKS[name], ns, hidden=hidden, seed=seed)


# -- trained models for the checks on the notebook's networks ------------------------------------
@functools.lru_cache(maxsize=1)
def trained_vae():
    """The master's VAE, trained by the master's own training cell at the quick scale."""
    ns = master_ns()
    X_train, X_test, y_train, y_test = ref.charger_chiffres()
    ns.update(X_train=X_train, X_test=X_test, y_train=y_train, y_test=y_test,
              Xtr=torch.tensor(X_train), Xte=torch.tensor(X_test))
    MASTER.run(ns, "sol_entrainer_vae")
    return ns["vae"]


@functools.lru_cache(maxsize=1)
def distilled_generator():
    """A Generateur (imposed architecture) trained to imitate the VAE's decoder: z[:8] -> image.
    A stand-in for the master's GAN, whose 2500 iterations are too slow for a unit test."""
    vae = trained_vae()
    G = master_ns()["Generateur"]()
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    opt = torch.optim.Adam(G.parameters(), lr=2e-3)
    for _ in range(800):
        z = torch.randn(256, ref.DIM_Z, generator=g)
        with torch.no_grad():
            cible = vae.decodeur(z[:, :ref.LATENT_VAE])
        perte = F.mse_loss(G(z), cible)
        opt.zero_grad()
        perte.backward()
        opt.step()
    return G.eval()


def _object_ns(**objects):
    ns = master_ns()
    ns.update(objects)
    return ns


def _good_ns(name):
    """A namespace where the check `name` should pass."""
    if name == "vae_entraine":
        return _object_ns(vae=trained_vae())
    if name == "generateur_gan":
        return _object_ns(generateur=distilled_generator())
    return master_ns()


# ===============================================================================================
# Wrong implementations
# ===============================================================================================
def _autoencodeur(kind):
    class Autoencodeur(nn.Module):
        def __init__(self, d):
            super().__init__()
            act = nn.Tanh() if kind == "tanh" else nn.ReLU()
            d_z = 8 if kind == "latent_fixe" else d
            enc = [nn.Linear(64, 128), act, nn.Linear(128, d_z)]
            if kind == "relu_latent":
                enc.append(nn.ReLU())
            if kind == "couche_en_plus":
                enc += [nn.ReLU(), nn.Linear(d_z, d_z)]
            self.encodeur = nn.Sequential(*enc)
            dec = [nn.Linear(d_z, 128), nn.ReLU(), nn.Linear(128, 64)]
            if kind != "sans_sigmoide":
                dec.append(nn.Sigmoid())
            self.decodeur = nn.Sequential(*dec)

        def forward(self, x):
            z = self.encodeur(x)
            return z if kind == "forward_z" else self.decodeur(z)
    return Autoencodeur


def _entrainer(kind):
    def entrainer_autoencodeur(modele, X, n_epochs, lr=2e-3, taille_batch=32, bruit=0.0,
                               graine=0):
        if kind == "pas_entraine":
            return [0.1] * n_epochs
        g = torch.Generator().manual_seed(graine)
        opt = torch.optim.Adam(modele.parameters(), lr=1e-5 if kind == "lr_ignore" else lr)
        pertes = []
        epochs = 1 if kind in ("une_epoque", "une_epoque_repetee") else n_epochs
        for _ in range(epochs):
            ordre = torch.randperm(len(X), generator=g)
            total, n = 0.0, 0
            for debut in range(0, len(X), taille_batch):
                x = X[ordre[debut:debut + taille_batch]]
                entree = x
                if bruit > 0 and kind != "bruit_ignore":
                    entree = x + bruit * torch.randn(x.shape, generator=g)
                cible = entree if kind == "cible_bruitee" else x
                perte = F.mse_loss(modele(entree), cible)
                opt.zero_grad()
                perte.backward()
                if kind != "sans_step":
                    opt.step()
                total += perte.item()
                n += 1
            pertes.append(total if kind == "somme_pertes" else total / n)
        if kind == "une_epoque_repetee":
            pertes = pertes * n_epochs
        return pertes
    return entrainer_autoencodeur


def _acp(kind):
    def erreur_reconstruction_acp(X_train, X_test, d):
        from sklearn.decomposition import PCA

        if kind == "sans_centrage":
            Vt = np.linalg.svd(X_train, full_matrices=False)[2][:d]
            return float(np.mean((X_test @ Vt.T @ Vt - X_test) ** 2))
        fit = X_test if kind == "sur_test" else X_train
        acp = PCA(n_components=d + 1 if kind == "d_plus_1" else d).fit(fit)
        err = (acp.inverse_transform(acp.transform(X_test)) - X_test) ** 2
        return float(err.sum(axis=1).mean() if kind == "somme_pixels" else err.mean())
    return erreur_reconstruction_acp


def _score(kind):
    def score_anomalie(modele, X):
        with torch.no_grad():
            e = modele(X) - X
        if kind == "somme":
            return (e ** 2).sum(dim=1)
        if kind == "racine":
            return (e ** 2).mean(dim=1).sqrt()
        if kind == "globale":
            return (e ** 2).mean()
        if kind == "absolue":
            return e.abs().mean(dim=1)
        if kind == "par_pixel":
            return e ** 2
        raise ValueError(kind)
    return score_anomalie


def _auc(kind):
    def auc_roc(scores_normaux, scores_anomalies):
        a = np.asarray(scores_normaux)[None, :]
        b = np.asarray(scores_anomalies)[:, None]
        if kind == "inversee":
            return float(np.mean((a > b) + 0.5 * (a == b)))
        if kind == "ex_aequo_0":
            return float(np.mean(b > a))
        if kind == "ex_aequo_1":
            return float(np.mean(b >= a))
        if kind == "mediane":  # accuracy of a threshold at the median
            s = np.r_[a.ravel(), b.ravel()]
            t = np.median(s)
            return float(np.mean(np.r_[a.ravel() <= t, b.ravel() > t]))
        raise ValueError(kind)
    return auc_roc


def _reparam(kind):
    def reparametrer(mu, logvar):
        if kind == "sans_bruit":
            return mu + 0 * logvar
        if kind == "numpy":
            return torch.tensor(mu.detach().numpy() + np.exp(0.5 * logvar.detach().numpy())
                                * np.random.default_rng(0).normal(size=tuple(mu.shape)))
        eps = torch.randn_like(mu)
        if kind == "meme_eps":
            eps = torch.randn(mu.shape[-1]).expand_as(mu)
        if kind == "uniforme":
            eps = torch.rand_like(mu)
        if kind == "std_exp_logvar":
            return mu + torch.exp(logvar) * eps
        if kind == "logvar_log_std":
            return mu + torch.exp(2 * logvar) * eps
        if kind == "detache":
            return mu + torch.exp(0.5 * logvar.detach()) * eps
        return mu + torch.exp(0.5 * logvar) * eps
    return reparametrer


def _kl(kind):
    def kl_gaussienne(mu, logvar):
        t = mu ** 2 + logvar.exp() - 1 - logvar
        if kind == "signe":
            return -0.5 * t.sum(dim=1)
        if kind == "sans_demi":
            return t.sum(dim=1)
        if kind == "log_std":
            return 0.5 * (mu ** 2 + torch.exp(2 * logvar) - 1 - 2 * logvar).sum(dim=1)
        if kind == "moyenne_dims":
            return 0.5 * t.mean(dim=1)
        if kind == "scalaire":
            return 0.5 * t.sum(dim=1).mean()
        if kind == "signe_log":
            return 0.5 * (mu ** 2 + logvar.exp() - 1 + logvar).sum(dim=1)
        raise ValueError(kind)
    return kl_gaussienne


def _perte_vae(kind):
    def perte_vae(x, x_rec, mu, logvar):
        rec = F.binary_cross_entropy(x_rec, x, reduction="none").sum(dim=1)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(dim=1)
        if kind == "kl_signe":
            return (rec - kl).mean()
        if kind == "sans_kl":
            return rec.mean()
        if kind == "bce_moyenne":
            return F.binary_cross_entropy(x_rec, x) + kl.mean()
        if kind == "somme_lot":
            return (rec + kl).sum()
        if kind == "mse":
            return (((x_rec - x) ** 2).sum(dim=1) + kl).mean()
        if kind == "item":
            return float((rec + kl).mean())
        raise ValueError(kind)
    return perte_vae


def _frechet(kind):
    def distance_frechet(mu1, S1, mu2, S2):
        from scipy.linalg import sqrtm

        m = float(np.sum((mu1 - mu2) ** 2))
        if kind == "produit_racines":
            c = np.trace(np.real(sqrtm(S1)) @ np.real(sqrtm(S2)))
        elif kind == "elementaire":
            c = np.sum(np.sqrt(np.clip(S1 * S2, 0, None)))
        else:
            c = np.trace(np.real(sqrtm(S1 @ S2)))
        d2 = m + np.trace(S1) + np.trace(S2) - (1 if kind == "sans_2" else 2) * c
        if kind == "sans_moyenne":
            d2 -= m
        return float(np.sqrt(d2) if kind == "racine" else d2)
    return distance_frechet


def _pertes_gan(kind):
    bce = F.binary_cross_entropy_with_logits

    def perte_discriminateur(logits_reels, logits_faux, lissage=1.0):
        c = 1.0 if kind == "lissage_ignore" else lissage
        if kind == "etiquettes_inversees":
            return bce(logits_reels, torch.zeros_like(logits_reels)) + bce(
                logits_faux, torch.ones_like(logits_faux))
        reels = bce(logits_reels, torch.full_like(logits_reels, c))
        faux = bce(logits_faux, torch.full_like(logits_faux, 1 - c if kind == "lissage_bilateral"
                                                else 0.0))
        if kind == "moyenne":
            return (reels + faux) / 2
        if kind == "signe":
            return -(reels + faux)
        if kind == "item":
            return float(reels + faux)
        return reels + faux

    def perte_generateur(logits_faux, saturante=False):
        if kind == "saturante_inversee":
            saturante = not saturante
        if kind == "generateur_etiquette_0" and not saturante:
            return bce(logits_faux, torch.zeros_like(logits_faux))
        if saturante:
            return -bce(logits_faux, torch.zeros_like(logits_faux))
        return bce(logits_faux, torch.ones_like(logits_faux))

    return {"perte_discriminateur": perte_discriminateur, "perte_generateur": perte_generateur}


class _VAEsansSigmoide(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.encodeur, self.mu, self.logvar = vae.encodeur, vae.mu, vae.logvar
        self.decodeur = nn.Sequential(*list(vae.decodeur)[:-1])


def _vae_mutant(kind):
    ns = master_ns()
    if kind == "non_entraine":
        torch.manual_seed(0)
        return ns["VAE"]()
    if kind == "latent_2":
        return ns["VAE"](2)
    if kind == "pas_un_module":
        return {"poids": 1}
    if kind == "sans_sigmoide":
        return _VAEsansSigmoide(copy.deepcopy(trained_vae()))
    if kind == "decodeur_constant":  # posterior collapse: the decoder ignores z
        vae = ns["VAE"]()
        moyenne = torch.tensor(ref.charger_chiffres()[0].mean(0)).clamp(1e-3, 1 - 1e-3)
        with torch.no_grad():
            for p in vae.parameters():
                p.zero_()
            vae.decodeur[2].bias.copy_(torch.log(moyenne / (1 - moyenne)))
        return vae
    raise ValueError(kind)


class _GenerateurReLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.reseau = nn.Sequential(nn.Linear(ref.DIM_Z, 128), nn.ReLU(), nn.Linear(128, 128),
                                    nn.ReLU(), nn.Linear(128, 64), nn.Sigmoid())

    def forward(self, z):
        return self.reseau(z)


def _generateur_mutant(kind):
    ns = master_ns()
    X_train, _, y_train, _ = ref.charger_chiffres()
    if kind == "relu":
        G = _GenerateurReLU()
        G.load_state_dict(distilled_generator().state_dict())
        return G
    torch.manual_seed(0)
    G = ns["Generateur"]()
    if kind == "non_entraine":
        return G
    if kind == "bruit":
        with torch.no_grad():
            for p in G.parameters():
                p.mul_(8.0)
        return G
    proto = [torch.tensor(X_train[y_train == k][0]).clamp(0.02, 0.98) for k in (3, 7)]
    logit = [torch.log(p / (1 - p)) for p in proto]
    with torch.no_grad():
        for p in G.parameters():
            p.zero_()
        if kind == "un_chiffre":  # always the same "3"
            G.reseau[4].bias.copy_(logit[0])
        elif kind == "deux_chiffres":  # a "3" when z_0 > 0, a "7" otherwise
            G.reseau[0].weight[0, 0], G.reseau[0].weight[1, 0] = 50.0, -50.0
            G.reseau[2].weight[0, 0], G.reseau[2].weight[1, 1] = 1.0, 1.0
            G.reseau[4].weight[:, 0], G.reseau[4].weight[:, 1] = logit[0] / 5, logit[1] / 5
        else:
            raise ValueError(kind)
    return G


MUTANTS = {
    "autoencodeur": [
        ("sans sigmoïde finale", {"Autoencodeur": _autoencodeur("sans_sigmoide")}, "sigmoïde",
         "both"),
        ("tanh dans l'encodeur", {"Autoencodeur": _autoencodeur("tanh")}, "activations", "both"),
        ("dimension latente ignorée", {"Autoencodeur": _autoencodeur("latent_fixe")},
         "dimension latente", "both"),
        ("ReLU sur le code z", {"Autoencodeur": _autoencodeur("relu_latent")},
         "pas passer par une activation", "both"),
        ("forward renvoie z", {"Autoencodeur": _autoencodeur("forward_z")}, "pas le code z",
         "both"),
        ("couche en trop", {"Autoencodeur": _autoencodeur("couche_en_plus")}, "architecture",
         "both"),
    ],
    "entrainer_autoencodeur": [
        ("pas d'entraînement", {"entrainer_autoencodeur": _entrainer("pas_entraine")},
         "ne diminue pas", "both"),
        ("une seule époque", {"entrainer_autoencodeur": _entrainer("une_epoque")},
         "une perte moyenne par époque", "both"),
        ("une époque, pertes recopiées",
         {"entrainer_autoencodeur": _entrainer("une_epoque_repetee")}, None, "both"),
        ("optimizer.step() oublié", {"entrainer_autoencodeur": _entrainer("sans_step")},
         "ne diminue pas", "public"),
        ("somme des pertes des lots", {"entrainer_autoencodeur": _entrainer("somme_pertes")},
         "ne correspond pas", "public"),
        ("taux d'apprentissage ignoré", {"entrainer_autoencodeur": _entrainer("lr_ignore")},
         "mieux que l'ACP", "public"),
    ],
    "erreur_acp": [
        ("somme sur les pixels", {"erreur_reconstruction_acp": _acp("somme_pixels")}, "sommée",
         "both"),
        ("sans centrage", {"erreur_reconstruction_acp": _acp("sans_centrage")}, "centrées",
         "both"),
        ("ACP apprise sur le test", {"erreur_reconstruction_acp": _acp("sur_test")},
         "apprise sur X_train", "both"),
        ("d + 1 composantes", {"erreur_reconstruction_acp": _acp("d_plus_1")},
         "nombre de composantes", "both"),
    ],
    "debruitage": [
        ("pas d'entraînement", {"entrainer_autoencodeur": _entrainer("pas_entraine")},
         "débruitage insuffisant", "both"),
        ("une époque, pertes recopiées",
         {"entrainer_autoencodeur": _entrainer("une_epoque_repetee")}, "débruitage insuffisant",
         "both"),
        ("bruit ignoré", {"entrainer_autoencodeur": _entrainer("bruit_ignore")},
         "débruitage insuffisant", "both"),
        ("cible bruitée", {"entrainer_autoencodeur": _entrainer("cible_bruitee")},
         "débruitage insuffisant", "public"),
    ],
    "score_anomalie": [
        ("somme sur les pixels", {"score_anomalie": _score("somme")}, "sommée", "both"),
        ("racine carrée", {"score_anomalie": _score("racine")}, "racine", "both"),
        ("moyenne sur le lot", {"score_anomalie": _score("globale")}, "un score par image",
         "both"),
        ("erreur absolue", {"score_anomalie": _score("absolue")}, "absolue", "both"),
        ("erreur par pixel", {"score_anomalie": _score("par_pixel")}, "un score par image",
         "both"),
    ],
    "auc_roc": [
        ("AUC inversée", {"auc_roc": _auc("inversee")}, "inversée", "both"),
        ("ex æquo comptés 0", {"auc_roc": _auc("ex_aequo_0")}, "ex æquo", "both"),
        ("ex æquo comptés 1", {"auc_roc": _auc("ex_aequo_1")}, "ex æquo", "both"),
        ("exactitude au seuil médian", {"auc_roc": _auc("mediane")}, "AUC incorrecte", "both"),
    ],
    "reparametrer": [
        ("sans bruit", {"reparametrer": _reparam("sans_bruit")}, "pas de bruit", "both"),
        ("σ = exp(logvar)", {"reparametrer": _reparam("std_exp_logvar")}, "exp(logvar)", "both"),
        ("logvar pris pour log σ", {"reparametrer": _reparam("logvar_log_std")}, "LOGARITHME",
         "both"),
        ("même ε pour tout le lot", {"reparametrer": _reparam("meme_eps")}, "pas une seule fois",
         "both"),
        ("bruit uniforme", {"reparametrer": _reparam("uniforme")}, "randn_like", "both"),
        ("calcul en NumPy", {"reparametrer": _reparam("numpy")}, "pas de NumPy", "both"),
        ("logvar détaché", {"reparametrer": _reparam("detache")}, "∂z/∂logvar", "both"),
    ],
    "kl_gaussienne": [
        ("signe", {"kl_gaussienne": _kl("signe")}, "signe opposé", "both"),
        ("½ oublié", {"kl_gaussienne": _kl("sans_demi")}, "facteur ½", "both"),
        ("logvar pris pour log σ", {"kl_gaussienne": _kl("log_std")}, "log σ²", "both"),
        ("moyenne sur les dimensions", {"kl_gaussienne": _kl("moyenne_dims")}, "SOMME", "both"),
        ("moyenne du lot", {"kl_gaussienne": _kl("scalaire")}, "par exemple", "both"),
        ("signe du log", {"kl_gaussienne": _kl("signe_log")}, "signe du terme", "both"),
    ],
    "perte_vae": [
        ("KL soustraite", {"perte_vae": _perte_vae("kl_signe")}, "signe de la KL", "both"),
        ("KL oubliée", {"perte_vae": _perte_vae("sans_kl")}, "KL est oubliée", "both"),
        ("entropie croisée moyennée sur les pixels", {"perte_vae": _perte_vae("bce_moyenne")},
         "SOMME sur les 64 pixels", "both"),
        ("somme sur le lot", {"perte_vae": _perte_vae("somme_lot")}, "MOYENNE", "both"),
        ("erreur quadratique", {"perte_vae": _perte_vae("mse")}, "entropie croisée", "both"),
        ("un float (non différentiable)", {"perte_vae": _perte_vae("item")}, "différentiable",
         "both"),
    ],
    "distance_frechet": [
        ("terme des moyennes oublié", {"distance_frechet": _frechet("sans_moyenne")},
         "moyennes oublié", "both"),
        ("facteur 2 oublié", {"distance_frechet": _frechet("sans_2")}, "facteur 2", "both"),
        ("racine de la distance", {"distance_frechet": _frechet("racine")}, "racine", "both"),
        ("racine élément par élément", {"distance_frechet": _frechet("elementaire")},
         "MATRICIELLE", "both"),
        ("√S1 √S2 au lieu de √(S1 S2)", {"distance_frechet": _frechet("produit_racines")},
         None, "both"),
    ],
    "pertes_gan": [
        ("étiquettes inversées", _pertes_gan("etiquettes_inversees"), "étiquettes inversées",
         "both"),
        ("signe opposé", _pertes_gan("signe"), "signe opposé", "both"),
        ("moyenne des deux termes", _pertes_gan("moyenne"), "SOMME", "both"),
        ("lissage ignoré", _pertes_gan("lissage_ignore"), "lissage", "both"),
        ("lissage bilatéral", _pertes_gan("lissage_bilateral"), "unilatéral", "both"),
        ("saturante et non saturante inversées", _pertes_gan("saturante_inversee"), "saturante",
         "both"),
        ("générateur avec l'étiquette 0", _pertes_gan("generateur_etiquette_0"), "étiquette",
         "both"),
        ("un float (non différentiable)", _pertes_gan("item"), "différentiable", "both"),
    ],
}

OBJECT_MUTANTS = {
    "vae_entraine": [
        ("VAE non entraîné", "non_entraine", "−ELBO"),
        ("décodeur constant (effondrement du postérieur)", "decodeur_constant", "−ELBO"),
        ("dimension latente 2", "latent_2", "dimension latente"),
        ("pas un nn.Module", "pas_un_module", "nn.Module"),
        ("décodeur sans sigmoïde", "sans_sigmoide", "ne correspond pas"),
    ],
    "generateur_gan": [
        ("générateur non entraîné", "non_entraine", None),
        ("toujours le même chiffre", "un_chiffre", "couvrent que 1 classes"),
        ("deux chiffres seulement", "deux_chiffres", "effondrement de modes"),
        ("bruit", "bruit", None),
        ("ReLU au lieu de LeakyReLU", "relu", "architecture imposée"),
    ],
}

MUTANT_CASES = [
    pytest.param(name, label, overrides, words, hidden,
                 id=f"{name}-{label}-{'cache' if hidden else 'public'}")
    for name, mutants in MUTANTS.items()
    for label, overrides, words, where in mutants
    for hidden in ((False, True) if where == "both" else (where == "hidden",))
]


# ===============================================================================================
# The checks and the master notebook agree
# ===============================================================================================
def test_points_total_20_and_grade_ids_are_the_checks():
    MASTER.assert_graded_cells_are_the_checks(ref.CHECKS)




def test_master_metadata_and_scale():
    nb = MASTER.notebook
    assert nb.nbformat == 4 and nb.metadata.kernelspec.name == "python3"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "%matplotlib inline" in first.source and "from tp4_reference import" in first.source
    assert 'os.environ.get("COURSE_SCALE", "quick")' in first.source
    assert "torch.set_num_threads(1)" in first.source and "device = " in first.source
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        assert not cell.get("outputs")
        if meta is None:
            continue
        assert meta["schema_version"] == 3 and {"grade", "solution", "locked"} <= set(meta)
        if meta["solution"]:
            assert cell.cell_type == "code"
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source


def test_notebook_scale_matches_reference(monkeypatch):
    for value, expected in (("quick", "quick"), ("full", "full"), (" FULL ", "full"),
                            ("autre", "quick"), (None, "quick")):
        if value is None:
            monkeypatch.delenv("COURSE_SCALE", raising=False)
        else:
            monkeypatch.setenv("COURSE_SCALE", value)
        ns = master_ns()
        assert ns["ECHELLE"] == ref.echelle() == expected
        assert ns["device"].type == "cpu" or torch.cuda.is_available()


def test_targets_defined_by_master_solution_cells():
    ns = master_ns()
    for chk in ref.CHECKS.values():
        for target in chk.targets:
            if target not in OBJECT_TARGETS:
                assert callable(ns.get(target)), target


def test_reference_module_import_is_cheap():
    code = ("import sys, tp4_reference; heavy = [m for m in ('torch', 'sklearn', 'scipy', "
            "'matplotlib') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=HERE, env={"PYTHONPATH": f"{ROOT}:{HERE}", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]" and out.stderr == ""


# ===============================================================================================
# The master passes; the mutants fail
# ===============================================================================================
@pytest.mark.parametrize("hidden", [False, True], ids=["public", "cache"])
@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_master_passes(name, hidden):
    status, message = judge(name, _good_ns(name), hidden=hidden)
    assert status == PASSED, message


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_master_passes_other_hidden_seeds(seed):
    for name in ref.CHECKS:
        if name in TRAINING_CHECKS:
            continue  # a training per case: their hidden cases are covered by test_master_passes
        status, message = judge(name, _good_ns(name), hidden=True, seed=seed)
        assert status == PASSED, (name, message)


@pytest.mark.parametrize("name,label,overrides,words,hidden", MUTANT_CASES)
def test_mutant_rejected(name, label, overrides, words, hidden):
    status, message = judge(name, master_ns(**overrides), hidden=hidden)
    assert status == FAILED, (status, message)
    if words:
        assert words in message, message


@pytest.mark.parametrize("name,label,kind,words", [
    pytest.param(name, label, kind, words, id=f"{name}-{label}")
    for name, mutants in OBJECT_MUTANTS.items() for label, kind, words in mutants])
def test_bad_trained_model_rejected(name, label, kind, words):
    objet = _vae_mutant(kind) if name == "vae_entraine" else _generateur_mutant(kind)
    target = ref.CHECKS[name].targets[0]
    for hidden in (False, True):
        status, message = judge(name, _object_ns(**{target: objet}), hidden=hidden)
        assert status == FAILED, (status, message)
        if words:
            assert words in message, message


def test_every_check_rejects_at_least_three_mutants_on_both_case_sets():
    for name in ref.CHECKS:
        both = ([m for m in MUTANTS[name] if m[3] == "both"] if name in MUTANTS
                else OBJECT_MUTANTS[name])
        assert len(both) >= 3, name


def test_training_check_sees_the_model_of_the_student():
    """The judge measures the weights it receives, not what the kernel claims."""
    ns = master_ns()
    vrai = ns["entrainer_autoencodeur"]

    def menteur(modele, X, n_epochs, **kwargs):  # trains, then resets the weights
        pertes = vrai(modele, X, n_epochs, **kwargs)
        for couche in modele.modules():
            if isinstance(couche, nn.Linear):
                couche.reset_parameters()
        return pertes

    status, message = judge("entrainer_autoencodeur", master_ns(entrainer_autoencodeur=menteur))
    assert status == FAILED and "ne correspond pas" in message, message


# ===============================================================================================
# Protocol robustness: stubs, missing names, objects that cheat, errors
# ===============================================================================================
def _stub(*args, **kwargs):
    raise NotImplementedError()


class _StubModule(nn.Module):
    def __init__(self, *args, **kwargs):
        super().__init__()
        raise NotImplementedError()


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__

    def __array__(self, *args, **kwargs):
        raise TypeError("not an array")


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_stub_is_incomplete(name):
    """The starter: every solution replaced by `raise NotImplementedError()` (so the notebook's
    trained objects are never defined)."""
    ns = master_ns()
    for target in ref.CHECKS[name].targets:
        if target in OBJECT_TARGETS - {"device"}:
            ns.pop(target, None)
        elif target != "device":
            ns[target] = _StubModule if isinstance(ns[target], type) else _stub
    status, message = judge(name, ns)
    assert status == INCOMPLETE, message


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_missing_target_is_incomplete(name):
    ns = _good_ns(name)
    for target in ref.CHECKS[name].targets:
        ns.pop(target, None)
    status, message = judge(name, ns)
    assert status == INCOMPLETE and "n'est pas défini" in message


@pytest.mark.parametrize("answer", [
    AlwaysEqual(), ["a", "b"], "texte", float("nan"), None, torch.tensor(float("nan")),
    torch.zeros(3, 2)], ids=["always-equal", "list-of-str", "str", "nan", "none", "tensor-nan",
                             "wrong-shape"])
@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_cheating_answers_get_nothing(name, answer):
    ns = _good_ns(name)
    for target in ref.CHECKS[name].targets:
        if target == "device":
            continue
        ns[target] = answer if target in OBJECT_TARGETS else (lambda *a, **k: answer)
        if name == "pertes_gan" and target == "perte_discriminateur":
            continue  # one wrong loss is enough
        break
    for hidden in (False, True):
        status, _ = judge(name, ns, hidden=hidden)
        assert status in (FAILED, ERROR)


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_student_exception_is_an_error(name):
    def boom(*args, **kwargs):
        raise ValueError("oups")

    ns = _good_ns(name)
    target = next(t for t in ref.CHECKS[name].targets if t != "device")
    if target in OBJECT_TARGETS:
        class Boom(nn.Module):
            def state_dict(self, *a, **k):
                raise ValueError("oups")

            def forward(self, *a, **k):
                raise ValueError("oups")

        ns[target] = Boom()
        ns[target].decodeur = Boom()
    else:
        ns[target] = boom
    status, message = judge(name, ns)
    assert status == ERROR and "oups" in message


@pytest.mark.parametrize("name", sorted(set(ref.CHECKS) - TRAINING_CHECKS))
def test_grading_path_through_npz(name, tmp_path):
    """Cases as the kernel gets them when grading (npz without pickle), answers as JSON."""
    import json

    from grader import checks as proto

    chk = ref.CHECKS[name]
    cases = chk.cases(np.random.default_rng(7), False) + chk.cases(np.random.default_rng(8), True)
    proto.save_cases(cases, tmp_path / "cases.npz")
    ns = _good_ns(name)
    payloads = [{"answer": proto.encode_answer(proto._evaluate(chk, case, ns))}
                for case in proto.load_cases(tmp_path / "cases.npz")]
    payloads = json.loads(json.dumps(payloads))
    assert proto.judge(chk, cases, payloads) == (PASSED, "")


@pytest.mark.parametrize("name", sorted(set(ref.CHECKS) - TRAINING_CHECKS))
def test_verdicts_never_crash_on_strange_answers(name):
    from grader import checks as proto

    chk = ref.CHECKS[name]
    case = chk.cases(np.random.default_rng(0), False)[0]
    good = proto.decode_answer(proto.encode_answer(
        proto._evaluate(chk, proto.roundtrip([case])[0], _good_ns(name))))
    strange = [{}, {k: "texte" for k in good}]
    for key in list(good)[:12]:
        for value in (np.full(np.shape(good[key]), 1e300), np.full(np.shape(good[key]), -1e-300),
                      np.reshape(good[key], (1, -1)), np.zeros((3, 0)), np.arange(7.0),
                      np.full((2, 2, 2), 1e200), np.inf):
            strange.append({**good, key: value})
    for answer in strange:
        try:
            proto.run_verdict(chk, case, answer)  # the judge's path
        except AssertionError:
            pass


def test_check_in_kernel_prints_and_raises():
    ns = master_ns()
    exec("check('kl_gaussienne')", ns)
    ns["kl_gaussienne"] = _kl("sans_demi")
    with pytest.raises(AssertionError, match="facteur ½"):
        exec("check('kl_gaussienne')", ns)
    ns["kl_gaussienne"] = _stub
    with pytest.raises(NotImplementedError, match="à compléter"):
        exec("check('kl_gaussienne')", ns)


def test_evaluate_leaves_the_notebook_random_state_alone():
    ns = master_ns()
    torch.manual_seed(123)
    attendu = torch.rand(3)
    torch.manual_seed(123)
    judge("reparametrer", ns)
    judge("autoencodeur", ns)
    assert torch.equal(torch.rand(3), attendu)


# ===============================================================================================
# The oracles and the judge's classifier
# ===============================================================================================
def test_kl_oracle_matches_closed_form():
    rng = np.random.default_rng(0)
    mu, lv = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    closed = 0.5 * np.sum(mu ** 2 + np.exp(lv) - 1 - lv, axis=1)
    assert np.allclose(ref._kl_oracle(mu, lv), closed, rtol=1e-12)


def test_bce_oracle_matches_torch():
    rng = np.random.default_rng(1)
    x, p = rng.uniform(size=(4, 64)), ref._sigmoid(rng.normal(size=(4, 64)))
    attendu = F.binary_cross_entropy(torch.tensor(p), torch.tensor(x), reduction="none").sum(1)
    assert np.allclose(ref._bce_oracle(x, p), attendu.numpy(), rtol=1e-10)


def test_frechet_oracle_matches_sqrtm():
    from scipy.linalg import sqrtm

    rng = np.random.default_rng(2)
    A, B = rng.normal(size=(6, 9)), rng.normal(size=(6, 8))
    S1, S2, m1, m2 = A @ A.T, B @ B.T, rng.normal(size=6), rng.normal(size=6)
    attendu = np.sum((m1 - m2) ** 2) + np.trace(S1 + S2 - 2 * np.real(sqrtm(S1 @ S2)))
    assert ref._frechet_gaussiennes(m1, S1, m2, S2) == pytest.approx(attendu, rel=1e-8)


def test_numpy_rebuilds_match_torch_modules():
    ns = master_ns()
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(5, 64))
    torch.manual_seed(0)
    ae, G = ns["Autoencodeur"](6), ns["Generateur"]()
    W = {k: v.double().numpy() for k, v in ae.state_dict().items()}
    with torch.no_grad():
        assert np.allclose(ref._ae_forward(W, x), ae(torch.tensor(x, dtype=torch.float32)).numpy(),
                           atol=1e-5)
        z = rng.normal(size=(5, ref.DIM_Z))
        WG = {k: v.double().numpy() for k, v in G.state_dict().items()}
        assert np.allclose(ref._generer(WG, z), G(torch.tensor(z, dtype=torch.float32)).numpy(),
                           atol=1e-5)


def test_judge_classifier_and_metrics():
    _, X_test, _, y_test = ref.charger_chiffres()
    P = ref.probabilites_classes(X_test)
    assert np.mean(P.argmax(1) == y_test) >= 0.96
    m = ref.evaluer_echantillons(X_test)
    assert m["couverture"] == 10 and abs(m["frechet"]) < 1e-6 and m["confiance"] > 0.95
    rng = np.random.default_rng(0)
    assert ref.evaluer_echantillons(rng.uniform(size=(450, 64)))["frechet"] > 15
    assert ref.evaluer_echantillons(np.repeat(X_test[:1], 450, 0))["couverture"] == 1


def test_stand_in_models_are_good():
    """The good models of these tests pass the quick thresholds with a margin."""
    W = {k: v.double().numpy() for k, v in trained_vae().state_dict().items()}
    elbo, _ = ref._vae_elbo(W, ref.charger_chiffres()[1].astype(float),
                            np.random.default_rng(0).normal(size=(2, 450, ref.LATENT_VAE)))
    assert elbo < ref.SEUILS["quick"]["elbo_vae"] - 1
    z = np.random.default_rng(1).normal(size=(450, ref.DIM_Z))
    WG = {k: v.double().numpy() for k, v in distilled_generator().state_dict().items()}
    m = ref.evaluer_echantillons(ref._generer(WG, z))
    assert m["couverture"] == 10 and m["frechet"] < ref.SEUILS["quick"]["frechet_gan"] - 1


# ===============================================================================================
# Full scale on a GPU: the master graded with COURSE_SCALE=full on CUDA (`pytest -m gpu`)
# ===============================================================================================
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA absent : tests GPU sautés")
def test_master_full_scale_on_gpu(monkeypatch):
    from grader.config import load_course
    from grader.grading import grade_tp

    monkeypatch.setenv("COURSE_SCALE", "full")
    course = load_course()
    tp = course.tp("tp4_autoencoders")
    r = grade_tp(tp, course.master(tp), course.master(tp), course.folder(tp), course.limits,
                 seed=5, feedback=False)
    echecs = {c.grade_id: (c.status, c.message) for c in r.cells if c.status != "réussi"}
    assert not echecs and r.grade == 20
    sorties = "".join(o.get("text", "") for c in r.graded_nb.cells
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "échelle full, calcul sur cuda" in sorties
    assert "GPU utilisé" in sorties and "mémoire maximale allouée 0.0 Mio" not in sorties
