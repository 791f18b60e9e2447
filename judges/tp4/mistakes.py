"""TP4's known mistakes in the functions and classes students write: each is refused by its
check with the diagnostic in `words`, on the public and hidden cases unless `where` says
otherwise. Loaded on first use (they import torch)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from grader.judging import Mistake


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


def _autoencodeur_conv(kind):
    class AutoencodeurConv(nn.Module):
        def __init__(self, d):
            super().__init__()
            pool = nn.AvgPool2d if kind == "moyenne" else nn.MaxPool2d
            pad = 0 if kind == "sans_padding" else 1
            self.encodeur = nn.Sequential(
                nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 8, 3, padding=pad),
                nn.Identity() if kind == "sans_relu" else nn.ReLU(), pool(2),
                nn.Conv2d(8, 16, 3, padding=pad), nn.ReLU(), pool(2), nn.Flatten(),
                nn.Linear(64, d))
            if kind == "transposee":
                agrandir = [nn.Identity(), nn.ConvTranspose2d(16, 8, 2, stride=2)]
            else:
                mode = "bilinear" if kind == "bilineaire" else "nearest"
                agrandir = [nn.Upsample(scale_factor=2, mode=mode), nn.Conv2d(16, 8, 3, padding=1)]
            self.decodeur = nn.Sequential(
                nn.Linear(d, 64), nn.ReLU(), nn.Unflatten(1, (16, 2, 2)), *agrandir, nn.ReLU(),
                nn.Upsample(scale_factor=2, mode="bilinear" if kind == "bilineaire" else "nearest"),
                nn.Conv2d(8, 1, 3, padding=1),
                nn.Identity() if kind == "sans_sigmoide" else nn.Sigmoid(),
                nn.Identity() if kind == "sans_flatten" else nn.Flatten())

        def forward(self, x):
            return self.decodeur(self.encodeur(x))
    return AutoencodeurConv


def _entrainer(kind):
    def entrainer_autoencodeur(modele, X, n_epochs, lr=2e-3, taille_batch=32, bruit=0.0,
                               graine=0):
        if kind == "pas_entraine":
            return [0.1] * n_epochs
        g = torch.Generator().manual_seed(graine)
        params = modele.parameters()
        opt = (torch.optim.SGD(params, lr=lr) if kind == "sgd" else
               torch.optim.Adam(params) if kind == "lr_defaut" else
               torch.optim.Adam(params, lr=1e-5 if kind == "lr_ignore" else lr))
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
                if kind != "sans_zero_grad":
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
        return {"somme": lambda: (e ** 2).sum(dim=1), "racine": lambda: (e ** 2).mean(1).sqrt(),
                "globale": lambda: (e ** 2).mean(), "absolue": lambda: e.abs().mean(dim=1),
                "par_pixel": lambda: e ** 2}[kind]()
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
        s = np.r_[a.ravel(), b.ravel()]  # "mediane": accuracy of a threshold at the median
        t = np.median(s)
        return float(np.mean(np.r_[a.ravel() <= t, b.ravel() > t]))
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
        return {"signe": lambda: -0.5 * t.sum(dim=1), "sans_demi": lambda: t.sum(dim=1),
                "log_std": lambda: 0.5 * (mu ** 2 + torch.exp(2 * logvar) - 1
                                          - 2 * logvar).sum(dim=1),
                "moyenne_dims": lambda: 0.5 * t.mean(dim=1),
                "scalaire": lambda: 0.5 * t.sum(dim=1).mean(),
                "signe_log": lambda: 0.5 * (mu ** 2 + logvar.exp() - 1 + logvar).sum(dim=1)}[kind]()
    return kl_gaussienne


def _perte_vae(kind):
    def perte_vae(x, x_rec, mu, logvar):
        rec = F.binary_cross_entropy(x_rec, x, reduction="none").sum(dim=1)
        kl = 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(dim=1)
        return {"kl_signe": lambda: (rec - kl).mean(), "sans_kl": lambda: rec.mean(),
                "bce_moyenne": lambda: F.binary_cross_entropy(x_rec, x) + kl.mean(),
                "somme_lot": lambda: (rec + kl).sum(),
                "mse": lambda: (((x_rec - x) ** 2).sum(dim=1) + kl).mean(),
                "item": lambda: float((rec + kl).mean())}[kind]()
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


def _m(label, target, value, words, where="both"):
    return Mistake(label, value if target is None else {target: value}, words, where)


MISTAKES = {
    "autoencodeur": [
        _m("sans sigmoïde finale", "Autoencodeur", _autoencodeur("sans_sigmoide"), "sigmoïde"),
        _m("tanh dans l'encodeur", "Autoencodeur", _autoencodeur("tanh"), "activations"),
        _m("dimension latente ignorée", "Autoencodeur", _autoencodeur("latent_fixe"),
           "dimension latente"),
        _m("ReLU sur le code z", "Autoencodeur", _autoencodeur("relu_latent"),
           "pas passer par une activation"),
        _m("forward renvoie z", "Autoencodeur", _autoencodeur("forward_z"), "pas le code z"),
        _m("couche en trop", "Autoencodeur", _autoencodeur("couche_en_plus"), "architecture"),
    ],
    "autoencodeur_conv": [
        _m("AvgPool2d au lieu de MaxPool2d", "AutoencodeurConv", _autoencodeur_conv("moyenne"),
           "MaxPool2d"),
        _m("sans padding", "AutoencodeurConv", _autoencodeur_conv("sans_padding"), "padding=1"),
        _m("ReLU oubliée après la première convolution", "AutoencodeurConv",
           _autoencodeur_conv("sans_relu"), "ReLU"),
        _m("sans sigmoïde finale", "AutoencodeurConv", _autoencodeur_conv("sans_sigmoide"),
           "sigmoïde"),
        _m("sortie non aplatie", "AutoencodeurConv", _autoencodeur_conv("sans_flatten"),
           "aplaties"),
        _m("agrandissement bilinéaire", "AutoencodeurConv", _autoencodeur_conv("bilineaire"),
           "plus proche voisin"),
        _m("convolution transposée", "AutoencodeurConv", _autoencodeur_conv("transposee"),
           "decodeur.4.weight de forme"),
    ],
    "entrainer_autoencodeur": [
        _m("pas d'entraînement", "entrainer_autoencodeur", _entrainer("pas_entraine"),
           "ne diminue pas"),
        _m("une seule époque", "entrainer_autoencodeur", _entrainer("une_epoque"),
           "une perte moyenne par époque"),
        _m("une époque, pertes recopiées", "entrainer_autoencodeur",
           _entrainer("une_epoque_repetee"), None),
        _m("optimizer.step() oublié", "entrainer_autoencodeur", _entrainer("sans_step"),
           "ne diminue pas"),
        _m("somme des pertes des lots", "entrainer_autoencodeur", _entrainer("somme_pertes"),
           "ne correspond pas"),
        _m("taux d'apprentissage ignoré", "entrainer_autoencodeur", _entrainer("lr_ignore"),
           "mieux que l'ACP"),
        _m("optimizer.zero_grad() oublié", "entrainer_autoencodeur",
           _entrainer("sans_zero_grad"), "mieux que l'ACP"),
        _m("SGD au lieu d'Adam", "entrainer_autoencodeur", _entrainer("sgd"), "ne diminue pas"),
        # Only the judge's replay of the loop sees these: the trained network is fine.
        _m("taux d'apprentissage par défaut d'Adam", "entrainer_autoencodeur",
           _entrainer("lr_defaut"), "taux d'apprentissage est celui par défaut", "hidden"),
    ],
    "erreur_acp": [
        _m("somme sur les pixels", "erreur_reconstruction_acp", _acp("somme_pixels"), "sommée"),
        _m("sans centrage", "erreur_reconstruction_acp", _acp("sans_centrage"), "centrées"),
        _m("ACP apprise sur le test", "erreur_reconstruction_acp", _acp("sur_test"),
           "apprise sur X_train"),
        _m("d + 1 composantes", "erreur_reconstruction_acp", _acp("d_plus_1"),
           "nombre de composantes"),
    ],
    "debruitage": [
        _m("pas d'entraînement", "entrainer_autoencodeur", _entrainer("pas_entraine"),
           "débruitage insuffisant"),
        _m("une époque, pertes recopiées", "entrainer_autoencodeur",
           _entrainer("une_epoque_repetee"), "débruitage insuffisant"),
        _m("bruit ignoré", "entrainer_autoencodeur", _entrainer("bruit_ignore"),
           "débruitage insuffisant"),
        _m("cible bruitée", "entrainer_autoencodeur", _entrainer("cible_bruitee"),
           "débruitage insuffisant"),
    ],
    "score_anomalie": [
        _m("somme sur les pixels", "score_anomalie", _score("somme"), "sommée"),
        _m("racine carrée", "score_anomalie", _score("racine"), "racine"),
        _m("moyenne sur le lot", "score_anomalie", _score("globale"), "un score par image"),
        _m("erreur absolue", "score_anomalie", _score("absolue"), "absolue"),
        _m("erreur par pixel", "score_anomalie", _score("par_pixel"), "un score par image"),
    ],
    "auc_roc": [
        _m("AUC inversée", "auc_roc", _auc("inversee"), "inversée"),
        _m("ex æquo comptés 0", "auc_roc", _auc("ex_aequo_0"), "ex æquo"),
        _m("ex æquo comptés 1", "auc_roc", _auc("ex_aequo_1"), "ex æquo"),
        _m("exactitude au seuil médian", "auc_roc", _auc("mediane"), "AUC incorrecte"),
    ],
    "reparametrer": [
        _m("sans bruit", "reparametrer", _reparam("sans_bruit"), "pas de bruit"),
        _m("σ = exp(logvar)", "reparametrer", _reparam("std_exp_logvar"), "exp(logvar)"),
        _m("logvar pris pour log σ", "reparametrer", _reparam("logvar_log_std"), "LOGARITHME"),
        _m("même ε pour tout le lot", "reparametrer", _reparam("meme_eps"),
           "pas une seule fois"),
        _m("bruit uniforme", "reparametrer", _reparam("uniforme"), "randn_like"),
        _m("calcul en NumPy", "reparametrer", _reparam("numpy"), "pas de NumPy"),
        _m("logvar détaché", "reparametrer", _reparam("detache"), "∂z/∂logvar"),
    ],
    "kl_gaussienne": [
        _m("signe", "kl_gaussienne", _kl("signe"), "signe opposé"),
        _m("½ oublié", "kl_gaussienne", _kl("sans_demi"), "facteur ½"),
        _m("logvar pris pour log σ", "kl_gaussienne", _kl("log_std"), "log σ²"),
        _m("moyenne sur les dimensions", "kl_gaussienne", _kl("moyenne_dims"), "SOMME"),
        _m("moyenne du lot", "kl_gaussienne", _kl("scalaire"), "par exemple"),
        _m("signe du log", "kl_gaussienne", _kl("signe_log"), "signe du terme"),
    ],
    "perte_vae": [
        _m("KL soustraite", "perte_vae", _perte_vae("kl_signe"), "signe de la KL"),
        _m("KL oubliée", "perte_vae", _perte_vae("sans_kl"), "KL est oubliée"),
        _m("entropie croisée moyennée sur les pixels", "perte_vae", _perte_vae("bce_moyenne"),
           "SOMME sur les 64 pixels"),
        _m("somme sur le lot", "perte_vae", _perte_vae("somme_lot"), "MOYENNE"),
        _m("erreur quadratique", "perte_vae", _perte_vae("mse"), "entropie croisée"),
        _m("un float (non différentiable)", "perte_vae", _perte_vae("item"), "différentiable"),
    ],
    "distance_frechet": [
        _m("terme des moyennes oublié", "distance_frechet", _frechet("sans_moyenne"),
           "moyennes oublié"),
        _m("facteur 2 oublié", "distance_frechet", _frechet("sans_2"), "facteur 2"),
        _m("racine de la distance", "distance_frechet", _frechet("racine"), "racine"),
        _m("racine élément par élément", "distance_frechet", _frechet("elementaire"),
           "MATRICIELLE"),
        _m("√S1 √S2 au lieu de √(S1 S2)", "distance_frechet", _frechet("produit_racines"), None),
    ],
}
