"""The project's known mistakes: wrong functions, wrong samplers, bad trained networks. Each is
refused by its check with the diagnostic in `words`, on the public and hidden cases unless
`where` says otherwise. Loaded on first use (they import torch)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from grader.judging import Mistake
from projet.network import ReseauScore

from .scale import digits_diffusion


def _normes(kind):
    def norme_carree_bruit_blanc(n, d, sigma, graine):
        rng = np.random.default_rng(None if kind == "sans_graine" else graine)
        ecart = {"variance_sigma2": sigma, "ecart_sur_d": sigma / d}.get(kind, sigma / np.sqrt(d))
        if kind == "uniforme":
            x = rng.uniform(-1, 1, size=(n, d)) * sigma * np.sqrt(3 / d)
        else:
            x = rng.normal(0, ecart, size=(n, d))
        return np.linalg.norm(x, axis=1) if kind == "norme" else np.sum(x ** 2, axis=1)
    return norme_carree_bruit_blanc


def _ppv(kind):
    def distance_plus_proche(A, B):
        D = np.linalg.norm(A[:, None] - B[None], axis=2)
        return {"carre": lambda: D.min(axis=1) ** 2, "indice": lambda: D.argmin(axis=1),
                "axe": lambda: D.min(axis=0),
                "manhattan": lambda: np.abs(A[:, None] - B[None]).sum(-1).min(axis=1)}[kind]()
    return distance_plus_proche


def _monge(kind):
    def monge_force_brute(X, Z):
        from itertools import permutations

        n = len(X)
        C = np.linalg.norm(X[:, None] - Z[None], axis=2)
        if kind == "carre":
            C = C ** 2
        choix = max if kind == "maximum" else min
        s = np.array(choix(permutations(range(n)), key=lambda p: C[np.arange(n), p].sum()))
        if kind == "identite":
            s = np.arange(n)
        cout = C[np.arange(n), s].sum()
        if kind == "inverse":
            s = np.argsort(s)
            cout = C[np.arange(n), np.argsort(s)].sum()
        return (s + 1 if kind == "base_1" else s), float(cout)
    return monge_force_brute


def _w2(kind):
    def wasserstein_exact(X, Y):
        import ot

        a, b = np.full(len(X), 1 / len(X)), np.full(len(Y), 1 / len(Y))
        if kind == "w1":
            return float(ot.emd2(a, b, ot.dist(X, Y, metric="euclidean")))
        if kind == "sinkhorn":
            return float(np.sqrt(ot.sinkhorn2(a, b, ot.dist(X, Y), 0.5)))
        if kind == "plus_proche":
            return float(np.sqrt(np.mean(np.min(ot.dist(X, Y), axis=1))))
        w = float(ot.emd2(a, b, ot.dist(X, Y)))
        return w if kind == "sans_racine" else float(np.sqrt(w))
    return wasserstein_exact


def _sw(kind):
    def wasserstein_tranche(X, Y, directions):
        PX, PY = X @ directions.T, Y @ directions.T
        if kind != "sans_tri":
            PX, PY = np.sort(PX, axis=0), np.sort(PY, axis=0)
        if kind == "w1":
            return float(np.mean(np.abs(PX - PY)))
        if kind == "moyenne_des_w":
            return float(np.mean(np.sqrt(np.mean((PX - PY) ** 2, axis=0))))
        v = float(np.mean((PX - PY) ** 2))
        return v if kind == "sans_racine" else float(np.sqrt(v))
    return wasserstein_tranche


def _em(kind):
    def euler_maruyama_ou(x0, t_final, n_pas, bruits):
        h = t_final if kind == "pas_total" else t_final / n_pas
        x = np.array(x0, dtype=float)
        traj = [] if kind == "sans_x0" else [x.copy()]
        for k in range(n_pas):
            bruit = {"racine_h": np.sqrt(h), "sans_racine_h": np.sqrt(2)}.get(kind, np.sqrt(2 * h))
            derive = x * h if kind == "derive_positive" else -x * h
            x = x + derive + bruit * bruits[k]
            traj.append(x.copy())
        return x if kind == "final" else np.array(traj)
    return euler_maruyama_ou


def _marginale(kind):
    def marginale_ou(x0, t, z):
        t = {"t_colonnes": lambda: t[None, :], "premier_t": lambda: t[:1, None]}.get(
            kind, lambda: t[:, None])()
        if kind == "ecart_1_moins_e_t":
            return torch.exp(-t) * x0 + torch.sqrt(1 - torch.exp(-t)) * z
        if kind == "moyenne_e_2t":
            return torch.exp(-2 * t) * x0 + torch.sqrt(1 - torch.exp(-2 * t)) * z
        if kind == "variance":
            return torch.exp(-t) * x0 + (1 - torch.exp(-2 * t)) * z
        return torch.exp(-t) * x0 + torch.sqrt(1 - torch.exp(-2 * t)) * z
    return marginale_ou


def _score(kind):
    def score_melange(x, t, centres, sigma0):
        a = np.exp(-t)
        s0 = sigma0 ** 2 if kind == "sans_contraction" else a ** 2 * sigma0 ** 2
        v = s0 + 1 - np.exp(-2 * t)
        m = centres if kind == "centres_fixes" else a * centres
        logits = -np.sum((x[:, None] - m[None]) ** 2, axis=2) / (2 * v)
        r = np.exp(logits) if kind == "naif" else np.exp(logits - logits.max(1, keepdims=True))
        if kind == "poids_uniformes":
            r = np.ones_like(r)
        if kind == "argmax":
            r = np.eye(len(centres))[np.argmax(logits, axis=1)]
        r = r / r.sum(axis=1, keepdims=True)
        s = (r @ m - x) / v
        return -s if kind == "signe" else s
    return score_melange


def _tweedie(kind):
    def debruiteur_tweedie(x_t, t, score):
        s2 = 1 - np.exp(-2 * t)
        return {"sigma": lambda: (x_t + np.sqrt(s2) * score(x_t, t)) / np.exp(-t),
                "sans_division": lambda: x_t + s2 * score(x_t, t),
                "signe": lambda: (x_t - s2 * score(x_t, t)) / np.exp(-t),
                "multiplie": lambda: (x_t + s2 * score(x_t, t)) * np.exp(-t)}[kind]()
    return debruiteur_tweedie


def _perte(kind):
    def perte_debruitage(modele, x0, t, z):
        tt = t[:, None]
        var = 1 - torch.exp(-tt) if kind == "variance_fausse" else 1 - torch.exp(-2 * tt)
        x_t = torch.exp(-tt) * x0 + torch.sqrt(var) * z
        pred = modele(x0 if kind == "entree_x0" else x_t,
                      torch.zeros_like(t) if kind == "sans_t" else t)
        cible = x0 if kind == "cible_x0" else z
        if kind == "somme_dims":
            return ((pred - cible) ** 2).sum(dim=1).mean()
        perte = F.mse_loss(pred, cible)
        return perte.item() if kind == "item" else perte
    return perte_debruitage


def _ode(kind):
    def echantillonner_ode(score, x_T, temps):
        if kind == "grille_inversee":
            temps = temps[::-1]
        x = np.array(x_T, dtype=float)
        facteur = {"facteur_2": 2.0, "signe": -1.0}.get(kind, 1.0)
        for k in range(len(temps) - 1):
            x = x + (temps[k] - temps[k + 1]) * (x + facteur * score(x, temps[k]))
        if kind == "sans_tweedie":
            return x
        t = temps[-1]
        return (x + (1 - np.exp(-2 * t)) * score(x, t)) / np.exp(-t)
    return echantillonner_ode


def _langevin(kind):
    def echantillonner_langevin(score, x_T, temps, graine=0):
        rng = np.random.default_rng(None if kind == "sans_graine" else graine)
        x = np.array(x_T, dtype=float)
        for k in range(len(temps) - 1):
            h = temps[k] - temps[k + 1]
            facteur = {"derive_1": 1.0, "signe": -2.0}.get(kind, 2.0)
            bruit = {"sans_bruit": 0.0, "racine_h": np.sqrt(h)}.get(kind, np.sqrt(2 * h))
            x = x + h * (x + facteur * score(x, temps[k])) + bruit * rng.standard_normal(x.shape)
        t = temps[-1]
        return (x + (1 - np.exp(-2 * t)) * score(x, t)) / np.exp(-t)
    return echantillonner_langevin


def _empirique(kind):
    def score_empirique(x, t, X_train):
        a, s2 = np.exp(-t), 1 - np.exp(-2 * t)
        m = X_train if kind == "non_transportes" else a * X_train
        logits = -np.sum((x[:, None] - m[None]) ** 2, axis=2) / (2 * s2)
        r = np.exp(logits) if kind == "naif" else np.exp(logits - logits.max(1, keepdims=True))
        r = r / r.sum(1, keepdims=True)
        s = (r @ m - x) / (np.sqrt(s2) if kind == "sigma" else s2)
        return -s if kind == "signe" else s
    return score_empirique


def _score_du_modele(kind):
    def score_du_modele(modele):
        def score(x, t):
            with torch.no_grad():
                eps = modele(torch.tensor(x, dtype=torch.float32),
                             torch.full((len(x),), float(t))).double().numpy()
            s2 = 1 - np.exp(-2 * t)
            return -eps / s2 if kind == "variance" else eps / np.sqrt(s2)
        return score
    return score_du_modele


def _entrainement(kind):
    """entrainer_score with one mistake (T_MIN, T_MAX, perte_debruitage: the notebook's)."""
    def entrainer_score(modele, X, n_iter, lr=5e-3, taille_batch=256, graine=0):
        from projet.data import T_MAX, T_MIN

        g = torch.Generator().manual_seed(graine)
        optimiseur = torch.optim.Adam(modele.parameters(), lr=lr)
        pertes, total = [], 0.0
        for _ in range(n_iter):
            if kind == "graine_ignoree":
                i, u = torch.randint(len(X), (taille_batch,)), torch.rand(taille_batch)
                z = torch.randn(taille_batch, X.shape[1])
            else:
                i = torch.randint(len(X), (taille_batch,), generator=g)
                u = torch.rand(1 if kind == "un_temps" else taille_batch, generator=g)
                z = torch.randn(taille_batch, X.shape[1], generator=g)
            x0 = X if kind == "tout_x" else X[i]
            if kind == "tout_x":
                z = torch.randn(x0.shape, generator=g)
                u = torch.rand(len(X), generator=g)
            t = T_MIN + (T_MAX - T_MIN) * u if kind == "uniforme" else T_MIN * (T_MAX / T_MIN) ** u
            if kind == "un_temps":
                t = t.expand(taille_batch)
                x_t = torch.exp(-t[:, None]) * x0 + torch.sqrt(1 - torch.exp(-2 * t[:, None])) * z
                perte = F.mse_loss(modele(x_t, t[:1]), z)
            else:
                x_t = torch.exp(-t[:, None]) * x0 + torch.sqrt(1 - torch.exp(-2 * t[:, None])) * z
                perte = F.mse_loss(modele(x_t, t), z)
            optimiseur.zero_grad()
            perte.backward()
            if kind != "sans_step":
                optimiseur.step()
            total += perte.item()
            pertes.append(total if kind == "cumul" else perte.item())
        return pertes
    return entrainer_score


def _copieur(bruit):
    """A 'sampler' that returns training digits (plus a little noise): memorisation."""
    def echantillonner_langevin(score, x, temps, graine):
        rng = np.random.default_rng(graine)
        X_train = digits_diffusion()[0]
        copies = X_train[rng.choice(len(X_train), size=len(x))]
        return np.clip(copies + bruit * rng.normal(size=copies.shape), -1.0, 1.0)
    return echantillonner_langevin


def _untrained(dim, largeur=128):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        return ReseauScore(dim, largeur, 3)


def _m(label, target, value, words, where="both"):
    return Mistake(label, {target: value}, words, where)


MISTAKES = {
    "norme_carree_bruit_blanc": [
        _m("variance σ² au lieu de σ²/d", "norme_carree_bruit_blanc", _normes("variance_sigma2"),
           "variance σ²/d"),
        _m("écart-type σ/d", "norme_carree_bruit_blanc", _normes("ecart_sur_d"), "σ/d"),
        _m("norme non élevée au carré", "norme_carree_bruit_blanc", _normes("norme"), "carré"),
        _m("bruit uniforme", "norme_carree_bruit_blanc", _normes("uniforme"), "χ²"),
        _m("graine ignorée", "norme_carree_bruit_blanc", _normes("sans_graine"), "même graine"),
    ],
    "distance_plus_proche": [
        _m("distance au carré", "distance_plus_proche", _ppv("carre"), "carré"),
        _m("indice au lieu de la distance", "distance_plus_proche", _ppv("indice"), "indice"),
        _m("minimum sur le mauvais axe", "distance_plus_proche", _ppv("axe"), "point de A"),
        _m("distance de Manhattan", "distance_plus_proche", _ppv("manhattan"), "Manhattan"),
    ],
    "monge_force_brute": [
        _m("coût au carré", "monge_force_brute", _monge("carre"), "carré"),
        _m("permutation inversée", "monge_force_brute", _monge("inverse"), "inversée"),
        _m("indices à partir de 1", "monge_force_brute", _monge("base_1"), "de 1 à n"),
        _m("maximum au lieu du minimum", "monge_force_brute", _monge("maximum"), "non optimale"),
        _m("identité", "monge_force_brute", _monge("identite"), None),
    ],
    "wasserstein_exact": [
        _m("racine oubliée", "wasserstein_exact", _w2("sans_racine"), "racine"),
        _m("coût euclidien (W₁)", "wasserstein_exact", _w2("w1"), "W₁"),
        _m("Sinkhorn régularisé", "wasserstein_exact", _w2("sinkhorn"), "W₂ incorrecte"),
        _m("plus proches voisins", "wasserstein_exact", _w2("plus_proche"), "W₂ incorrecte"),
    ],
    "wasserstein_tranche": [
        _m("racine oubliée", "wasserstein_tranche", _sw("sans_racine"), "racine"),
        _m("moyenne des W₂", "wasserstein_tranche", _sw("moyenne_des_w"), "moyenne des W₂"),
        _m("version W₁", "wasserstein_tranche", _sw("w1"), "W₁"),
        _m("projections non triées", "wasserstein_tranche", _sw("sans_tri"), "TRIÉES"),
    ],
    "euler_maruyama_ou": [
        _m("bruit √h", "euler_maruyama_ou", _em("racine_h"), "√(2h)"),
        _m("bruit sans √h", "euler_maruyama_ou", _em("sans_racine_h"), "facteur √h"),
        _m("dérive +x", "euler_maruyama_ou", _em("derive_positive"), "signe de la dérive"),
        _m("h = t_final", "euler_maruyama_ou", _em("pas_total"), "pas de temps"),
        _m("point final seulement", "euler_maruyama_ou", _em("final"), "toute la trajectoire"),
        _m("sans x0", "euler_maruyama_ou", _em("sans_x0"), "positions attendues"),
    ],
    "marginale_ou": [
        _m("√(1 − e^(−t))", "marginale_ou", _marginale("ecart_1_moins_e_t"), "√(1 − e^(−t))"),
        _m("moyenne e^(−2t) x0", "marginale_ou", _marginale("moyenne_e_2t"), "e^(−2t) x0"),
        _m("variance au lieu de l'écart-type", "marginale_ou", _marginale("variance"),
           "pas par la variance"),
        _m("t diffusé sur les colonnes", "marginale_ou", _marginale("t_colonnes"), "t[:, None]"),
        _m("un seul temps pour tous", "marginale_ou", _marginale("premier_t"), "incorrect"),
    ],
    "score_melange": [
        _m("signe", "score_melange", _score("signe"), "signe opposé"),
        _m("σ0² non contracté", "score_melange", _score("sans_contraction"), "contractée"),
        _m("centres non transportés", "score_melange", _score("centres_fixes"), "transportés"),
        _m("poids uniformes", "score_melange", _score("poids_uniformes"), "responsabilités"),
        _m("argmax au lieu du softmax", "score_melange", _score("argmax"), "argmax"),
        _m("exponentielle naïve", "score_melange", _score("naif"), "non finies", "hidden"),
    ],
    "debruiteur_tweedie": [
        _m("σ au lieu de σ²", "debruiteur_tweedie", _tweedie("sigma"), "pas σ_t"),
        _m("division par e^(−t) oubliée", "debruiteur_tweedie", _tweedie("sans_division"),
           "divisez par e^(−t)"),
        _m("signe", "debruiteur_tweedie", _tweedie("signe"), "signe"),
        _m("multiplié par e^(−t)", "debruiteur_tweedie", _tweedie("multiplie"), "pas l'inverse"),
    ],
    "perte_debruitage": [
        _m("cible x0", "perte_debruitage", _perte("cible_x0"), "cible x0"),
        _m("somme sur les dimensions", "perte_debruitage", _perte("somme_dims"), "somme"),
        _m("variance de x_t fausse", "perte_debruitage", _perte("variance_fausse"), "x_t faux"),
        _m("t non transmis", "perte_debruitage", _perte("sans_t"), "recevoir t"),
        _m("x0 en entrée", "perte_debruitage", _perte("entree_x0"), "BRUITÉE"),
        _m("un float", "perte_debruitage", _perte("item"), "différentiable"),
    ],
    "entrainer_score": [
        _m("temps uniformes", "entrainer_score", _entrainement("uniforme"), "log-uniformes"),
        _m("sans optimiseur.step()", "entrainer_score", _entrainement("sans_step"),
           "ne décroît pas"),
        _m("graine ignorée", "entrainer_score", _entrainement("graine_ignoree"), "même graine"),
        _m("tout X à chaque itération", "entrainer_score", _entrainement("tout_x"),
           "pas tout X"),
        _m("un temps par lot", "entrainer_score", _entrainement("un_temps"), "un temps par exemple"),
        _m("pertes cumulées", "entrainer_score", _entrainement("cumul"), "somme cumulée"),
    ],
    "echantillonner_ode": [
        _m("sans pas de Tweedie", "echantillonner_ode", _ode("sans_tweedie"), "Tweedie"),
        _m("dérive x + 2 score", "echantillonner_ode", _ode("facteur_2"), "x + score"),
        _m("signe du score", "echantillonner_ode", _ode("signe"), "signe du score"),
        _m("grille à l'envers", "echantillonner_ode", _ode("grille_inversee"), "à l'envers"),
    ],
    "echantillonner_langevin": [
        _m("sans bruit", "echantillonner_langevin", _langevin("sans_bruit"), "trop concentrés"),
        _m("bruit √h", "echantillonner_langevin", _langevin("racine_h"), "variance"),
        _m("dérive x + score (avec bruit)", "echantillonner_langevin", _langevin("derive_1"),
           "x + 2 score"),
        _m("signe du score", "echantillonner_langevin", _langevin("signe"), "signe du score"),
        _m("graine ignorée", "echantillonner_langevin", _langevin("sans_graine"), "même graine"),
    ],
    "score_empirique": [
        _m("σ au lieu de σ²", "score_empirique", _empirique("sigma"), "pas par σ_t"),
        _m("signe", "score_empirique", _empirique("signe"), "signe opposé"),
        _m("points non transportés", "score_empirique", _empirique("non_transportes"),
           "transportés"),
        _m("exponentielle naïve", "score_empirique", _empirique("naif"), "non finies", "hidden"),
    ],
    "modele_8g": [
        _m("réseau non entraîné", "modele_8g", _untrained(2), "loin du score exact"),
        _m("pas un réseau", "modele_8g", "modèle", "ReseauScore"),
        _m("score sans √ (divisé par σ²)", "score_du_modele", _score_du_modele("variance"),
           "écart-type"),
        _m("échantillonneur sans bruit", "echantillonner_langevin", _langevin("sans_bruit"),
           None),
    ],
    "modele_chiffres": [
        _m("réseau non entraîné", "modele_chiffres", _untrained(64, 256), "débruite mal"),
        _m("réseau des 8 gaussiennes", "modele_chiffres", _untrained(2), "architecture"),
        _m("pas un réseau", "modele_chiffres", None, "ReseauScore"),
        _m("signe du score", "score_du_modele", _score_du_modele("signe"), "signe"),
        _m("score sans √ (divisé par σ²)", "score_du_modele", _score_du_modele("variance"),
           "écart-type"),
        _m("images d'apprentissage recopiées", "echantillonner_langevin", _copieur(0.0),
           "copies"),
        _m("images d'apprentissage légèrement bruitées", "echantillonner_langevin",
           _copieur(0.1), "copies"),
    ],
}
