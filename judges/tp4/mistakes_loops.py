"""TP4's known mistakes in the PyTorch training code: the basics' loop (`regression_sgd`), the
GAN's losses, discriminator and training loop. Beside `mistakes.py` (auto-encoders, VAE), merged
with it by `mistakes_from`. Loaded on first use (they import torch)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .mistakes import _m


def _pertes_gan(kind):
    bce = F.binary_cross_entropy_with_logits

    def perte_discriminateur(logits_reels, logits_faux, lissage=1.0):
        c = 1.0 if kind == "lissage_ignore" else lissage
        if kind == "etiquettes_inversees":
            return bce(logits_reels, torch.zeros_like(logits_reels)) + bce(
                logits_faux, torch.ones_like(logits_faux))
        reels = bce(logits_reels, torch.full_like(logits_reels, c))
        faux = bce(logits_faux, torch.full_like(logits_faux,
                                                1 - c if kind == "lissage_bilateral" else 0.0))
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


def _regression(kind):
    def regression_sgd(x, y, n_pas, lr):
        w = torch.zeros((), requires_grad=True)
        b = torch.zeros((), requires_grad=True)
        opt = torch.optim.SGD([w, b], lr=1e-3 if kind == "lr_ignore" else lr)
        pas = n_pas - 1 if kind == "un_pas_de_moins" else n_pas
        for _ in range(pas):
            erreur = (w * x + b - y) ** 2
            perte = erreur.sum() if kind == "somme" else erreur.mean()
            if kind == "signe":
                perte = -perte
            if kind == "step_avant_backward":
                opt.zero_grad()
                opt.step()
                perte.backward()
                continue
            if kind != "sans_zero_grad":
                opt.zero_grad()
            perte.backward()
            opt.step()
        return float(w), float(b)
    return regression_sgd


def _entrainer_gan(kind):
    """The master's loop with one known mistake."""
    def entrainer_gan(G, D, X, n_iter, lissage=1.0, lr=1e-3, taille_batch=128, graine=0,
                      suivi=500):
        g = torch.Generator().manual_seed(graine)
        opt_G = torch.optim.Adam((D if kind == "opt_G_sur_D" else G).parameters(),
                                 lr=lr, betas=(0.5, 0.999))
        opt_D = torch.optim.Adam(D.parameters(), lr=1e-3 if kind == "lr_ignore" else lr,
                                 betas=(0.5, 0.999))
        historique = {"perte_D": [], "perte_G": [], "iterations": [], "repartition": []}
        dim_z = G.reseau[0].in_features
        for it in range(1, n_iter + (0 if kind == "une_de_moins" else 1)):
            x = X[torch.randint(len(X), (taille_batch,), generator=g)]
            faux = G(torch.randn(taille_batch, dim_z, generator=g))
            if kind == "sans_detach":
                opt_D.zero_grad()
                opt_G.zero_grad()
                logits = D(torch.cat([x, faux]))
            else:
                logits = D(torch.cat([x, faux.detach()]))
            perte_D = F.binary_cross_entropy_with_logits(
                logits[:taille_batch],
                torch.full_like(logits[:taille_batch], 1.0 if kind == "lissage_ignore"
                                else lissage)) + F.binary_cross_entropy_with_logits(
                logits[taille_batch:], torch.zeros_like(logits[taille_batch:]))
            def pas_G():
                logits_faux = D(faux)
                perte = F.binary_cross_entropy_with_logits(logits_faux,
                                                           torch.ones_like(logits_faux))
                if kind != "sans_detach":
                    opt_G.zero_grad()
                perte.backward()
                opt_G.step()
                return perte

            if kind == "g_avant_d":  # the generator's step first, with D before its step
                perte_G = pas_G()
            if kind != "sans_detach":
                opt_D.zero_grad()
            # without detach, the graph of G(z) is needed twice: retain_graph (what PyTorch's
            # error message suggests) lets the gradient of perte_D reach G
            perte_D.backward(retain_graph=kind == "sans_detach")
            if kind != "sans_step_D":
                opt_D.step()
            if kind != "g_avant_d":
                perte_G = pas_G()
            historique["perte_D"].append(float(perte_D))
            historique["perte_G"].append(float(perte_G))
        return historique
    return entrainer_gan


def _discriminateur(kind):
    class Discriminateur(nn.Module):
        def __init__(self, dropout=0.0):
            super().__init__()
            p = 0.0 if kind == "dropout_ignore" else dropout
            couches = [nn.Linear(64, 128), nn.LeakyReLU(0.2), nn.Dropout(p),
                       nn.Linear(128, 128), nn.LeakyReLU(0.2), nn.Dropout(p), nn.Linear(128, 1)]
            if kind == "sigmoide":
                couches.append(nn.Sigmoid())
            if kind == "un_dropout":
                couches[2] = nn.Identity()
            self.reseau = nn.Sequential(*couches)

        def forward(self, x):
            return self.reseau(x)
    return Discriminateur


MISTAKES = {
    "regression_sgd": [
        _m("zero_grad oublié", "regression_sgd", _regression("sans_zero_grad"),
           "s'accumulent"),
        _m("signe opposé", "regression_sgd", _regression("signe"), "signe opposé"),
        _m("step avant backward", "regression_sgd", _regression("step_avant_backward"),
           "n'ont pas bougé"),
        _m("un pas de moins", "regression_sgd", _regression("un_pas_de_moins"), "décalage"),
        _m("perte sommée", "regression_sgd", _regression("somme"), "SOMMÉE"),
        _m("lr ignoré", "regression_sgd", _regression("lr_ignore"), "lr est ignoré"),
    ],
    "boucle_gan": [
        _m("opt_G construit sur D.parameters()", "entrainer_gan", _entrainer_gan("opt_G_sur_D"),
           "n'ont pas bougé"),
        _m("opt_D.step() oublié", "entrainer_gan", _entrainer_gan("sans_step_D"),
           "n'ont pas bougé"),
        _m("pas de G avant celui de D", "entrainer_gan", _entrainer_gan("g_avant_d"),
           "avant son pas"),
        _m("fausses images non détachées", "entrainer_gan", _entrainer_gan("sans_detach"),
           "détachez"),
        _m("lissage ignoré", "entrainer_gan", _entrainer_gan("lissage_ignore"), "lissage"),
        _m("lr ignoré (discriminateur)", "entrainer_gan", _entrainer_gan("lr_ignore"),
           "taux lr"),
        _m("une itération de moins", "entrainer_gan", _entrainer_gan("une_de_moins"),
           "à chaque itération"),
        _m("dropout ignoré", "Discriminateur", _discriminateur("dropout_ignore"), "Dropout"),
        _m("un seul dropout", "Discriminateur", _discriminateur("un_dropout"), "Dropout"),
        _m("sigmoïde en sortie du discriminateur", "Discriminateur",
           _discriminateur("sigmoide"), None),
    ],
    "pertes_gan": [
        _m("étiquettes inversées", None, _pertes_gan("etiquettes_inversees"),
           "étiquettes inversées"),
        _m("signe opposé", None, _pertes_gan("signe"), "signe opposé"),
        _m("moyenne des deux termes", None, _pertes_gan("moyenne"), "SOMME"),
        _m("lissage ignoré", None, _pertes_gan("lissage_ignore"), "lissage"),
        _m("lissage bilatéral", None, _pertes_gan("lissage_bilateral"), "unilatéral"),
        _m("saturante et non saturante inversées", None, _pertes_gan("saturante_inversee"),
           "saturante"),
        _m("générateur avec l'étiquette 0", None, _pertes_gan("generateur_etiquette_0"),
           "étiquette"),
        _m("un float (non différentiable)", None, _pertes_gan("item"), "différentiable"),
    ],
}
