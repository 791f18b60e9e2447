"""Mutation tests of the project's checks (projet_reference.CHECKS).

The instructors' implementation comes from the master notebook itself: its imports cell and its
solution cells that only define functions are executed into a namespace. Every check must accept
it on public and hidden cases, and reject plausible wrong implementations (written below, one line
naming each mistake) with the specific French diagnostic where the verdict has one.

The checks on trained networks (`modele_8g`, `modele_chiffres`) get networks trained here by the
master's own `entrainer_score` at the quick scale (a few seconds each), and deliberately bad ones
(untrained, wrong score conversion, samplers without noise, the wrong data's network). The whole
master notebook is graded elsewhere (tests/test_course.py at the quick scale, the `gpu` test below
at the full scale).
"""

from __future__ import annotations

import functools
import math
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
import torch.nn.functional as F  # noqa: E402

import projet_reference as ref  # noqa: E402
from master_code import Master  # noqa: E402
from grader.checks import ERROR, FAILED, INCOMPLETE, PASSED, run_in_process  # noqa: E402

torch.set_num_threads(1)
MASTER = Master(ROOT / "solutions" / "projet_generatif.ipynb")
master_ns = MASTER.ns  # the master's definitions, with overrides
OBJECT_TARGETS = {"modele_8g", "modele_chiffres"}
MODEL_CHECKS = {"modele_8g", "modele_chiffres"}


def judge(name, ns, hidden=False, seed=None):
    return run_in_process(ref.CHECKS[name], ns, hidden=hidden, seed=seed)


# -- networks trained by the master's code at the quick scale -----------------------------------
@functools.lru_cache(maxsize=1)
def modele_8g():
    ns = master_ns()
    X = torch.tensor(ref.huit_gaussiennes(20_000, np.random.default_rng(3)), dtype=torch.float32)
    torch.manual_seed(0)
    modele = ref.ReseauScore(2)
    ns["entrainer_score"](modele, X, ns["BUDGET"]["iter_2d"], graine=0)
    return modele


@functools.lru_cache(maxsize=1)
def modele_chiffres():
    ns = master_ns()
    X = torch.tensor(ref.vers_diffusion(ref.charger_chiffres()[0]))
    torch.manual_seed(0)
    modele = ref.ReseauScore(64, ns["BUDGET"]["largeur_chiffres"], 3)
    ns["entrainer_score"](modele, X, ns["BUDGET"]["iter_chiffres"], lr=2e-3, taille_batch=128,
                          graine=0)
    return modele


def _good_ns(name, **overrides):
    ns = master_ns()
    if name == "modele_8g":
        ns["modele_8g"] = modele_8g()
    if name == "modele_chiffres":
        ns["modele_chiffres"] = modele_chiffres()
    ns.update(overrides)
    return ns


# ===============================================================================================
# Wrong implementations
# ===============================================================================================
def _normes(kind):
    def norme_carree_bruit_blanc(n, d, sigma, graine):
        rng = np.random.default_rng(None if kind == "sans_graine" else graine)
        ecart = {"variance_sigma2": sigma, "ecart_sur_d": sigma / d}.get(kind, sigma / np.sqrt(d))
        if kind == "uniforme":
            x = rng.uniform(-1, 1, size=(n, d)) * sigma * np.sqrt(3 / d)
        else:
            x = rng.normal(0, ecart, size=(n, d))
        if kind == "norme":
            return np.linalg.norm(x, axis=1)
        if kind == "moyenne":
            return np.mean(x ** 2, axis=1)
        return np.sum(x ** 2, axis=1)
    return norme_carree_bruit_blanc


def _ppv(kind):
    def distance_plus_proche(A, B):
        D = np.linalg.norm(A[:, None] - B[None], axis=2)
        if kind == "carre":
            return D.min(axis=1) ** 2
        if kind == "indice":
            return D.argmin(axis=1)
        if kind == "axe":
            return D.min(axis=0)
        if kind == "manhattan":
            return np.abs(A[:, None] - B[None]).sum(-1).min(axis=1)
        raise ValueError(kind)
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
        if kind == "base_1":
            s = s + 1
        return s, float(cout)
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
        if kind == "t_colonnes":
            t = t[None, :]
        elif kind == "premier_t":
            t = t[:1, None]
        else:
            t = t[:, None]
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
        v = (sigma0 ** 2 if kind == "sans_contraction" else a ** 2 * sigma0 ** 2) + 1 - np.exp(-2 * t)
        m = centres if kind == "centres_fixes" else a * centres
        logits = -np.sum((x[:, None] - m[None]) ** 2, axis=2) / (2 * v)
        if kind == "naif":
            r = np.exp(logits)
        else:
            r = np.exp(logits - logits.max(axis=1, keepdims=True))
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
        if kind == "sigma":
            return (x_t + np.sqrt(s2) * score(x_t, t)) / np.exp(-t)
        if kind == "sans_division":
            return x_t + s2 * score(x_t, t)
        if kind == "signe":
            return (x_t - s2 * score(x_t, t)) / np.exp(-t)
        if kind == "multiplie":
            return (x_t + s2 * score(x_t, t)) * np.exp(-t)
        raise ValueError(kind)
    return debruiteur_tweedie


def _perte(kind):
    def perte_debruitage(modele, x0, t, z):
        tt = t[:, None]
        if kind == "variance_fausse":
            x_t = torch.exp(-tt) * x0 + torch.sqrt(1 - torch.exp(-tt)) * z
        else:
            x_t = torch.exp(-tt) * x0 + torch.sqrt(1 - torch.exp(-2 * tt)) * z
        entree = x0 if kind == "entree_x0" else x_t
        pred = modele(entree, torch.zeros_like(t) if kind == "sans_t" else t)
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
            h = temps[k] - temps[k + 1]
            x = x + h * (x + facteur * score(x, temps[k]))
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
            if kind == "variance":
                return -eps / s2
            if kind == "signe":
                return eps / np.sqrt(s2)
            raise ValueError(kind)
        return score
    return score_du_modele


MUTANTS = {
    "norme_carree_bruit_blanc": [
        ("variance σ² au lieu de σ²/d", {"norme_carree_bruit_blanc": _normes("variance_sigma2")},
         "variance σ²/d", "both"),
        ("écart-type σ/d", {"norme_carree_bruit_blanc": _normes("ecart_sur_d")}, "σ/d", "both"),
        ("norme non élevée au carré", {"norme_carree_bruit_blanc": _normes("norme")}, "carré",
         "both"),
        ("bruit uniforme", {"norme_carree_bruit_blanc": _normes("uniforme")}, "χ²", "both"),
        ("graine ignorée", {"norme_carree_bruit_blanc": _normes("sans_graine")}, "même graine",
         "both"),
    ],
    "distance_plus_proche": [
        ("distance au carré", {"distance_plus_proche": _ppv("carre")}, "carré", "both"),
        ("indice au lieu de la distance", {"distance_plus_proche": _ppv("indice")}, "indice",
         "both"),
        ("minimum sur le mauvais axe", {"distance_plus_proche": _ppv("axe")}, "point de A",
         "both"),
        ("distance de Manhattan", {"distance_plus_proche": _ppv("manhattan")}, "Manhattan",
         "both"),
    ],
    "monge_force_brute": [
        ("coût au carré", {"monge_force_brute": _monge("carre")}, "carré", "both"),
        ("permutation inversée", {"monge_force_brute": _monge("inverse")}, "inversée", "both"),
        ("indices à partir de 1", {"monge_force_brute": _monge("base_1")}, "de 1 à n", "both"),
        ("maximum au lieu du minimum", {"monge_force_brute": _monge("maximum")}, "non optimale",
         "both"),
        ("identité", {"monge_force_brute": _monge("identite")}, None, "both"),
    ],
    "wasserstein_exact": [
        ("racine oubliée", {"wasserstein_exact": _w2("sans_racine")}, "racine", "both"),
        ("coût euclidien (W₁)", {"wasserstein_exact": _w2("w1")}, "W₁", "both"),
        ("Sinkhorn régularisé", {"wasserstein_exact": _w2("sinkhorn")}, "W₂ incorrecte", "both"),
        ("plus proches voisins", {"wasserstein_exact": _w2("plus_proche")}, "W₂ incorrecte",
         "both"),
    ],
    "wasserstein_tranche": [
        ("racine oubliée", {"wasserstein_tranche": _sw("sans_racine")}, "racine", "both"),
        ("moyenne des W₂", {"wasserstein_tranche": _sw("moyenne_des_w")}, "moyenne des W₂",
         "both"),
        ("version W₁", {"wasserstein_tranche": _sw("w1")}, "W₁", "both"),
        ("projections non triées", {"wasserstein_tranche": _sw("sans_tri")}, "TRIÉES", "both"),
    ],
    "euler_maruyama_ou": [
        ("bruit √h", {"euler_maruyama_ou": _em("racine_h")}, "√(2h)", "both"),
        ("bruit sans √h", {"euler_maruyama_ou": _em("sans_racine_h")}, "facteur √h", "both"),
        ("dérive +x", {"euler_maruyama_ou": _em("derive_positive")}, "signe de la dérive",
         "both"),
        ("h = t_final", {"euler_maruyama_ou": _em("pas_total")}, "pas de temps", "both"),
        ("point final seulement", {"euler_maruyama_ou": _em("final")}, "toute la trajectoire",
         "both"),
        ("sans x0", {"euler_maruyama_ou": _em("sans_x0")}, "positions attendues", "both"),
    ],
    "marginale_ou": [
        ("√(1 − e^(−t))", {"marginale_ou": _marginale("ecart_1_moins_e_t")}, "√(1 − e^(−t))",
         "both"),
        ("moyenne e^(−2t) x0", {"marginale_ou": _marginale("moyenne_e_2t")}, "e^(−2t) x0",
         "both"),
        ("variance au lieu de l'écart-type", {"marginale_ou": _marginale("variance")},
         "pas par la variance", "both"),
        ("t diffusé sur les colonnes", {"marginale_ou": _marginale("t_colonnes")}, "t[:, None]",
         "hidden"),
        ("un seul temps pour tous", {"marginale_ou": _marginale("premier_t")}, "incorrect",
         "both"),
    ],
    "score_melange": [
        ("signe", {"score_melange": _score("signe")}, "signe opposé", "both"),
        ("σ0² non contracté", {"score_melange": _score("sans_contraction")}, "contractée",
         "both"),
        ("centres non transportés", {"score_melange": _score("centres_fixes")}, "transportés",
         "both"),
        ("poids uniformes", {"score_melange": _score("poids_uniformes")}, "responsabilités",
         "both"),
        ("argmax au lieu du softmax", {"score_melange": _score("argmax")}, "argmax", "both"),
        ("exponentielle naïve", {"score_melange": _score("naif")}, "non finies", "hidden"),
    ],
    "debruiteur_tweedie": [
        ("σ au lieu de σ²", {"debruiteur_tweedie": _tweedie("sigma")}, "pas σ_t", "both"),
        ("division par e^(−t) oubliée", {"debruiteur_tweedie": _tweedie("sans_division")},
         "divisez par e^(−t)", "both"),
        ("signe", {"debruiteur_tweedie": _tweedie("signe")}, "signe", "both"),
        ("multiplié par e^(−t)", {"debruiteur_tweedie": _tweedie("multiplie")}, "pas l'inverse",
         "both"),
    ],
    "perte_debruitage": [
        ("cible x0", {"perte_debruitage": _perte("cible_x0")}, "cible x0", "both"),
        ("somme sur les dimensions", {"perte_debruitage": _perte("somme_dims")}, "somme",
         "public"),
        ("variance de x_t fausse", {"perte_debruitage": _perte("variance_fausse")}, "x_t faux",
         "both"),
        ("t non transmis", {"perte_debruitage": _perte("sans_t")}, "recevoir t", "both"),
        ("x0 en entrée", {"perte_debruitage": _perte("entree_x0")}, "BRUITÉE", "both"),
        ("un float", {"perte_debruitage": _perte("item")}, "différentiable", "both"),
    ],
    "echantillonner_ode": [
        ("sans pas de Tweedie", {"echantillonner_ode": _ode("sans_tweedie")}, "Tweedie", "both"),
        ("dérive x + 2 score", {"echantillonner_ode": _ode("facteur_2")}, "x + score", "both"),
        ("signe du score", {"echantillonner_ode": _ode("signe")}, "signe du score", "both"),
        ("grille à l'envers", {"echantillonner_ode": _ode("grille_inversee")}, None, "both"),
    ],
    "echantillonner_langevin": [
        ("sans bruit", {"echantillonner_langevin": _langevin("sans_bruit")}, "trop concentrés",
         "both"),
        ("bruit √h", {"echantillonner_langevin": _langevin("racine_h")}, None, "both"),
        ("dérive x + score (avec bruit)", {"echantillonner_langevin": _langevin("derive_1")},
         None, "both"),
        ("signe du score", {"echantillonner_langevin": _langevin("signe")}, None, "public"),
        ("graine ignorée", {"echantillonner_langevin": _langevin("sans_graine")}, "même graine",
         "public"),
    ],
    "score_empirique": [
        ("σ au lieu de σ²", {"score_empirique": _empirique("sigma")}, "pas par σ_t", "both"),
        ("signe", {"score_empirique": _empirique("signe")}, "signe opposé", "both"),
        ("points non transportés", {"score_empirique": _empirique("non_transportes")},
         "transportés", "both"),
        ("exponentielle naïve", {"score_empirique": _empirique("naif")}, "non finies",
         "hidden"),
    ],
}

# Bad trained models: (label, overrides on top of the good namespace, words)
MODEL_MUTANTS = {
    "modele_8g": [
        ("réseau non entraîné", lambda: {"modele_8g": _non_entraine(2)}, "loin du score exact"),
        ("pas un réseau", lambda: {"modele_8g": "modèle"}, "ReseauScore"),
        ("score sans √ (divisé par σ²)",
         lambda: {"score_du_modele": _score_du_modele("variance")}, None),
        ("échantillonneur sans bruit",
         lambda: {"echantillonner_langevin": _langevin("sans_bruit")}, None),
    ],
    "modele_chiffres": [
        ("réseau non entraîné", lambda: {"modele_chiffres": _non_entraine(64, 256)},
         "débruite mal"),
        ("réseau des 8 gaussiennes", lambda: {"modele_chiffres": modele_8g()}, "architecture"),
        ("pas un réseau", lambda: {"modele_chiffres": None}, "ReseauScore"),
        ("signe du score", lambda: {"score_du_modele": _score_du_modele("signe")}, None),
        ("score sans √ (divisé par σ²)",
         lambda: {"score_du_modele": _score_du_modele("variance")}, None),
        ("images d'apprentissage recopiées", lambda: {"echantillonner_langevin": _copieur(0.0)},
         "copies"),
        ("images d'apprentissage légèrement bruitées",
         lambda: {"echantillonner_langevin": _copieur(0.1)}, "copies"),
    ],
}


def _copieur(bruit):
    """A 'sampler' that returns training digits (plus a little noise): memorisation."""
    def echantillonner_langevin(score, x, temps, graine):
        rng = np.random.default_rng(graine)
        X_train = ref.vers_diffusion(ref.charger_chiffres()[0])
        copies = X_train[rng.choice(len(X_train), size=len(x))]
        return np.clip(copies + bruit * rng.normal(size=copies.shape), -1.0, 1.0)
    return echantillonner_langevin


def _non_entraine(dim, largeur=128):
    torch.manual_seed(1)
    return ref.ReseauScore(dim, largeur, 3)


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
    assert "%matplotlib inline" in first.source and "from projet_reference import" in first.source
    assert 'os.environ.get("COURSE_SCALE", "quick")' in first.source
    assert "torch.set_num_threads(1)" in first.source and "device = " in first.source
    assert first.source.index("POT_BACKEND_DISABLE_PYTORCH") < first.source.index("import ot")
    for cell in nb.cells:
        assert not cell.get("outputs")
        meta = cell.metadata.get("nbgrader")
        if meta and meta["solution"]:
            assert cell.cell_type == "code"
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source


def test_notebook_scale_matches_reference(monkeypatch):
    for value, expected in (("quick", "quick"), ("full", "full"), ("Full", "full"),
                            ("lent", "quick"), (None, "quick")):
        if value is None:
            monkeypatch.delenv("COURSE_SCALE", raising=False)
        else:
            monkeypatch.setenv("COURSE_SCALE", value)
        assert master_ns()["ECHELLE"] == ref.echelle() == expected


def test_targets_defined_by_master_solution_cells():
    ns = master_ns()
    for chk in ref.CHECKS.values():
        for target in chk.targets:
            if target not in OBJECT_TARGETS:
                assert callable(ns.get(target)), target


def test_reference_module_import_is_cheap():
    code = ("import sys, projet_reference; heavy = [m for m in ('torch', 'sklearn', 'scipy', "
            "'matplotlib', 'ot') if m in sys.modules]; print(heavy)")
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
    ns = master_ns()
    for name in sorted(set(ref.CHECKS) - MODEL_CHECKS):
        status, message = judge(name, ns, hidden=True, seed=seed)
        assert status == PASSED, (name, message)


@pytest.mark.parametrize("name,label,overrides,words,hidden", MUTANT_CASES)
def test_mutant_rejected(name, label, overrides, words, hidden):
    status, message = judge(name, master_ns(**overrides), hidden=hidden)
    assert status == FAILED, (status, message)
    if words:
        assert words in message, message


@pytest.mark.parametrize("name,label,overrides,words,hidden", [
    pytest.param(name, label, overrides, words, hidden,
                 id=f"{name}-{label}-{'cache' if hidden else 'public'}")
    for name, mutants in MODEL_MUTANTS.items() for label, overrides, words in mutants
    for hidden in (False, True)])
def test_bad_trained_model_rejected(name, label, overrides, words, hidden):
    status, message = judge(name, _good_ns(name, **overrides()), hidden=hidden)
    assert status == FAILED, (status, message)
    if words:
        assert words in message, message


def test_every_check_rejects_at_least_three_mutants_on_both_case_sets():
    for name in ref.CHECKS:
        if name in MODEL_CHECKS:
            assert len(MODEL_MUTANTS[name]) >= 3, name
        else:
            assert len([m for m in MUTANTS[name] if m[3] == "both"]) >= 3, name


# ===============================================================================================
# Protocol robustness
# ===============================================================================================
def _stub(*args, **kwargs):
    raise NotImplementedError()


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__

    def __array__(self, *args, **kwargs):
        raise TypeError("not an array")


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_stub_is_incomplete(name):
    """The starter: solutions replaced by `raise NotImplementedError()`, so the trained networks
    of the notebook are never defined."""
    ns = master_ns()
    for target in ref.CHECKS[name].targets:
        if target in OBJECT_TARGETS:
            ns.pop(target, None)
        else:
            ns[target] = _stub
    status, message = judge(name, ns)
    assert status == INCOMPLETE, message


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_missing_target_is_incomplete(name):
    ns = master_ns()
    for target in ref.CHECKS[name].targets:
        ns.pop(target, None)
    status, message = judge(name, ns)
    assert status == INCOMPLETE and "n'est pas défini" in message


@pytest.mark.parametrize("answer", [
    AlwaysEqual(), ["a", "b"], "texte", float("nan"), None, (np.nan, np.nan),
    torch.tensor(float("nan")), np.zeros((3, 2))],
    ids=["always-equal", "list-of-str", "str", "nan", "none", "tuple-nan", "tensor-nan",
         "wrong-shape"])
@pytest.mark.parametrize("name", sorted(set(ref.CHECKS) - MODEL_CHECKS))
def test_cheating_answers_get_nothing(name, answer):
    ns = master_ns(**{t: (lambda *a, **k: answer) for t in ref.CHECKS[name].targets})
    for hidden in (False, True):
        status, _ = judge(name, ns, hidden=hidden)
        assert status in (FAILED, ERROR)


@pytest.mark.parametrize("answer", [AlwaysEqual(), np.zeros((2000, 2)), np.full((2000, 2), np.nan)],
                         ids=["always-equal", "zeros", "nan"])
def test_cheating_samplers_get_nothing(answer):
    ns = _good_ns("modele_8g", echantillonner_langevin=lambda *a, **k: answer)
    status, _ = judge("modele_8g", ns)
    assert status in (FAILED, ERROR)


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_student_exception_is_an_error(name):
    def boom(*args, **kwargs):
        raise ValueError("oups")

    target = next(t for t in ref.CHECKS[name].targets if t not in OBJECT_TARGETS)
    status, message = judge(name, _good_ns(name, **{target: boom}))
    assert status == ERROR and "oups" in message


@pytest.mark.parametrize("name", sorted(set(ref.CHECKS) - MODEL_CHECKS))
def test_grading_path_through_npz(name, tmp_path):
    import json

    from grader import checks as proto

    chk = ref.CHECKS[name]
    cases = chk.cases(np.random.default_rng(7), False) + chk.cases(np.random.default_rng(8), True)
    proto.save_cases(cases, tmp_path / "cases.npz")
    ns = master_ns()
    payloads = [{"answer": proto.encode_answer(proto._evaluate(chk, case, ns))}
                for case in proto.load_cases(tmp_path / "cases.npz")]
    payloads = json.loads(json.dumps(payloads))
    assert proto.judge(chk, cases, payloads) == (PASSED, "")


@pytest.mark.parametrize("name", sorted(set(ref.CHECKS) - MODEL_CHECKS))
def test_verdicts_never_crash_on_strange_answers(name):
    from grader import checks as proto

    chk = ref.CHECKS[name]
    case = chk.cases(np.random.default_rng(0), False)[0]
    good = proto.decode_answer(proto.encode_answer(
        proto._evaluate(chk, proto.roundtrip([case])[0], master_ns())))
    strange = [{}, {k: "texte" for k in good}]
    for key in good:
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
    exec("check('marginale_ou')", ns)
    ns["marginale_ou"] = _marginale("moyenne_e_2t")
    with pytest.raises(AssertionError, match="e\\^\\(−2t\\) x0"):
        exec("check('marginale_ou')", ns)
    ns["marginale_ou"] = _stub
    with pytest.raises(NotImplementedError, match="à compléter"):
        exec("check('marginale_ou')", ns)


# ===============================================================================================
# The oracles
# ===============================================================================================
def test_score_oracle_matches_closed_form_and_tweedie():
    rng = np.random.default_rng(0)
    x, t, C, s0 = rng.normal(size=(7, 2)) * 2, 0.3, ref.centres_8g(), ref.SIGMA_8G
    a, s2 = math.exp(-t), 1 - math.exp(-2 * t)
    v = a * a * s0 ** 2 + s2
    d2 = ((x[:, None] - a * C[None]) ** 2).sum(-1)
    r = np.exp(-d2 / (2 * v) + (d2 / (2 * v)).min(1, keepdims=True))
    r /= r.sum(1, keepdims=True)
    score = ref._score_oracle(x, t, C, s0)
    assert np.allclose(score, (r @ (a * C) - x) / v, rtol=1e-10)
    # Tweedie-Miyasawa: the Bayesian posterior mean equals the one-step gradient ascent
    assert np.allclose(a * ref._moyenne_a_posteriori(x, t, C, s0), x + s2 * score, atol=1e-12)


def test_yardstick_sampler_is_the_specified_langevin_with_the_exact_score():
    """The judge's noise floor of a draw samples the exact score with the ξ_k of the
    specification: it is the master's sampler, Tweedie's last step being the posterior mean."""
    rng = np.random.default_rng(6)
    x, temps = rng.normal(size=(40, 2)), ref.grille_temps(60)
    score = ref._score_melange_callable(ref.centres_8g(), ref.SIGMA_8G)
    attendu = master_ns()["echantillonner_langevin"](score, x, temps, 3)
    assert np.allclose(ref._langevin_exact_8g(x, temps, 3), attendu, rtol=1e-9, atol=1e-9)


def test_w2_is_judged_against_the_floor_of_the_draw():
    """Samples with the right spread and mode counts the chi-square test lets through, but 55
    points of mode 0 sent to the opposite mode: only the W2 to the held-out data sees it."""
    rng = np.random.default_rng(9)
    case = {"x": rng.normal(size=(2000, 2)), "temps": ref.grille_temps(100), "graine": 5}
    modes = np.repeat(np.arange(8), 250)
    bons = ref.centres_8g()[modes] + ref.SIGMA_8G * rng.normal(size=(2000, 2))
    ref._verdict_echantillons_8g(bons, case, "équilibrés")
    modes[:55] = 4
    mauvais = ref.centres_8g()[modes] + ref.SIGMA_8G * rng.normal(size=(2000, 2))
    with pytest.raises(AssertionError, match="plancher de bruit .* score EXACT tirés du même bruit"):
        ref._verdict_echantillons_8g(mauvais, case, "déplacés")


def test_em_oracle_matches_the_loop():
    rng = np.random.default_rng(1)
    x0, xi = rng.normal(size=(3, 2)), rng.normal(size=(9, 3, 2))
    h, x, traj = 0.1, x0.copy(), [x0.copy()]
    for k in range(9):
        x = x - x * h + math.sqrt(2 * h) * xi[k]
        traj.append(x.copy())
    assert np.allclose(ref._em_explicite(x0, h, xi), np.array(traj), rtol=1e-12)


def test_gaussian_flow_oracle_matches_ivp():
    rng = np.random.default_rng(2)
    m, s0, x, temps = np.array([1.0, -0.5]), 0.5, rng.normal(size=(4, 2)), ref.grille_temps(50)
    assert np.allclose(ref._flot_gaussien(x, temps, m, s0), ref._flot_ivp(x, temps, m[None], s0),
                       atol=1e-6)


def test_w2_oracles_agree():
    rng = np.random.default_rng(3)
    for n, m in ((20, 20), (15, 45)):
        X, Y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2)) + 1
        assert ref._w2_hongrois(X, Y) == pytest.approx(ref._w2_ot(X, Y), rel=1e-7)


def test_numpy_network_matches_torch():
    torch.manual_seed(0)
    net = ref.ReseauScore(3, 16, 2)
    W = {k: v.double().numpy() for k, v in net.state_dict().items()}
    x, t = np.random.default_rng(4).normal(size=(5, 3)), np.array([1e-3, 0.1, 1.0, 2.0, 5.0])
    with torch.no_grad():
        attendu = net(torch.tensor(x, dtype=torch.float32), torch.tensor(t, dtype=torch.float32))
    assert np.allclose(ref._reseau_numpy(W, x, t), attendu.numpy(), atol=1e-5)


def test_classifier_is_tp4s():
    """The project judges digits with the same classifier and metrics as TP4."""
    sys.path.insert(0, str(ROOT / "tp4_autoencoders"))
    import tp4_reference

    images = np.random.default_rng(5).uniform(size=(100, 64))
    a, b = ref.evaluer_chiffres(images), tp4_reference.evaluer_echantillons(images)
    assert a["couverture"] == b["couverture"] and a["frechet"] == pytest.approx(b["frechet"])


def test_pot_is_imported_without_its_heavy_backends():
    code = ("import sys, projet_reference as r; r._ot(); "
            "print('tensorflow' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=HERE, env={"PYTHONPATH": f"{ROOT}:{HERE}", "PATH": "/usr/bin:/bin"})
    assert out.stdout.split() == ["False", "False"]


# ===============================================================================================
# Full scale on a GPU (`pytest -m gpu`)
# ===============================================================================================
@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA absent : tests GPU sautés")
def test_master_full_scale_on_gpu(monkeypatch):
    from grader.config import load_course
    from grader.grading import grade_tp

    monkeypatch.setenv("COURSE_SCALE", "full")
    course = load_course()
    tp = course.tp("projet_generatif")
    r = grade_tp(tp, course.master(tp), course.master(tp), course.folder(tp), course.limits,
                 seed=5, feedback=False)
    echecs = {c.grade_id: (c.status, c.message) for c in r.cells if c.status != "réussi"}
    assert not echecs and r.grade == 20
    sorties = "".join(o.get("text", "") for c in r.graded_nb.cells
                      for o in c.get("outputs", []) if o.get("output_type") == "stream")
    assert "échelle full, calcul sur cuda" in sorties
    assert "GPU utilisé" in sorties and "mémoire maximale allouée 0.0 Mio" not in sorties
