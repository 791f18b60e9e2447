"""Mutation tests of TP1's checks (tp1_reference.CHECKS).

The instructors' implementation comes from the master notebook itself: its imports cell and its
solution cells that only define functions are executed into a namespace (the solution cells of
top-level studies need the notebook's data and are left out). Every check must accept it on public
and hidden cases, and reject plausible wrong implementations (written below, one line naming each
mistake) with the specific French diagnostic where the verdict has one.
"""

from __future__ import annotations

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

import tp1_reference as ref  # noqa: E402
from master_code import Master  # noqa: E402
from grader.checks import ERROR, FAILED, INCOMPLETE, PASSED, run_in_process  # noqa: E402

MASTER = Master(ROOT / "solutions" / "tp1_gradient.ipynb")
master_ns = MASTER.ns  # the master's definitions, with overrides


def judge(name, ns, hidden=False, seed=None):
    return run_in_process(ref.CHECKS[name], ns, hidden=hidden, seed=seed)


# -- helpers for the mutants --------------------------------------------------------------------
def _xt(X):
    return np.column_stack([np.ones(len(X)), X])


def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


# ===============================================================================================
# Wrong implementations. Each entry: (label, overrides, expected words in the message or None,
# where: "both" = rejected on public and hidden cases, "hidden" = only hidden cases can see it).
# ===============================================================================================
def _etape(sign=1, bias=True, strict=True, always=False, use_alpha=True):
    def etape_perceptron(w, b, x, y, alpha):
        z = np.dot(w, x) + b
        f = (1 if z > 0 else 0) if strict else (1 if z >= 0 else 0)
        a = alpha if use_alpha else 1.0
        c = a * (2 * y - 1) if always else sign * a * (y - f)
        return w + c * x, (b + c if bias else b)
    return etape_perceptron


def _entrainer(update_sign=1, bias=True, one_epoch=False, stop=True, epochs_offset=0):
    def entrainer_perceptron(X, y, alpha=1.0, n_epochs_max=100):
        w, b, erreurs = np.zeros(X.shape[1]), 0.0, []
        for _ in range(1 if one_epoch else n_epochs_max + epochs_offset):
            k = 0
            for xi, yi in zip(X, y):
                f = 1 if xi @ w + b > 0 else 0
                if f != yi:
                    k += 1
                    w = w + update_sign * alpha * (yi - f) * xi
                    b = b + (update_sign * alpha * (yi - f) if bias else 0.0)
            erreurs.append(k)
            if stop and k == 0:
                break
        return w, b, erreurs
    return entrainer_perceptron


def _cout(kind):
    def cout_mse(X, y, theta):
        r = theta[0] + X @ theta[1:] - y
        if kind == "somme":  # no division by n
            return float(np.sum(r ** 2))
        if kind == "demi":  # 1/(2n) convention
            return float(np.mean(r ** 2) / 2)
        if kind == "sans_biais":  # forgot w0 in h
            return float(np.mean((X @ theta[1:] - y) ** 2))
        if kind == "rmse":  # square root
            return float(np.sqrt(np.mean(r ** 2)))
        if kind == "biais_dernier":  # theta = [w1..wp, w0]
            return float(np.mean((X @ theta[:-1] + theta[-1] - y) ** 2))
        raise ValueError(kind)
    return cout_mse


def _gradient(kind):
    def gradient_mse(X, y, theta):
        r = theta[0] + X @ theta[1:] - y
        g = 2.0 / len(y) * _xt(X).T @ r
        if kind == "sans_2":  # forgot the 2 of the derivative of the square
            return g / 2
        if kind == "sans_n":  # forgot 1/n
            return g * len(y)
        if kind == "signe":  # (y - h) instead of (h - y)
            return -g
        if kind == "sans_composante_biais":  # p components only
            return g[1:]
        if kind == "sans_biais_h":  # forgot w0 in h
            return 2.0 / len(y) * _xt(X).T @ (X @ theta[1:] - y)
        if kind == "biais_zero":  # bias component left at 0
            return np.concatenate([[0.0], g[1:]])
        if kind == "colonne":  # column vector (p + 1, 1)
            return g[:, None]
        if kind == "nan":  # NaN values
            return np.full_like(g, np.nan)
        raise ValueError(kind)
    return gradient_mse


def _descente(kind):
    def descente_gradient(X, y, pas, n_iter):
        ns_cost = _cout_ok
        theta = np.ones(X.shape[1] + 1) if kind == "depart_un" else np.zeros(X.shape[1] + 1)
        hist = [] if kind == "sans_initial" else [ns_cost(X, y, theta)]
        for _ in range(n_iter - 1 if kind == "une_de_moins" else n_iter):
            g = 2.0 / len(y) * _xt(X).T @ (_xt(X) @ theta - y)
            if kind == "montee":  # + instead of -
                theta = theta + pas * g
            elif kind == "sans_pas":  # forgot the step size
                theta = theta - g
            else:
                theta = theta - pas * g
            hist.append(ns_cost(X, y, theta))
        return theta, np.array(hist)
    return descente_gradient


def _cout_ok(X, y, theta):
    return float(np.mean((_xt(X) @ theta - y) ** 2))


def _pas(kind):
    def pas_diverge(X, y, pas):
        H = 2.0 / len(y) * _xt(X).T @ _xt(X)
        L = np.linalg.eigvalsh(H).max()
        if kind == "toujours_faux":
            return False
        if kind == "seuil_1_sur_L":  # oscillation taken for divergence
            return bool(pas > 1.0 / L)
        if kind == "hessienne_sans_2":  # L of X~'X~/n instead of 2/n X~'X~
            return bool(pas > 2.0 / (L / 2))
        if kind == "inverse":
            return bool(pas <= 2.0 / L)
        if kind == "texte":  # a string instead of a boolean
            return "diverge"
        raise ValueError(kind)
    return pas_diverge


def _mc(kind):
    def moindres_carres(X, y):
        if kind == "sans_colonne_1":
            return np.linalg.solve(X.T @ X, X.T @ y)
        A = _xt(X)
        if kind == "biais_dernier":
            A = np.column_stack([X, np.ones(len(X))])
        if kind == "ridge":  # regularised
            return np.linalg.solve(A.T @ A + np.eye(A.shape[1]), A.T @ y)
        return np.linalg.solve(A.T @ A, A.T @ y)
    return moindres_carres


def _gradnum(kind):
    def gradient_numerique(f, theta, eps=1e-5):
        g = np.zeros_like(theta, dtype=float)
        for i in range(theta.size):
            e = np.zeros_like(theta, dtype=float)
            e[i] = eps
            if kind == "avant":  # forward difference
                g[i] = (f(theta + e) - f(theta)) / eps
            elif kind == "divise_par_eps":  # / eps instead of / 2 eps
                g[i] = (f(theta + e) - f(theta - e)) / eps
            elif kind == "tout_perturber":  # all coordinates at once
                g[i] = (f(theta + eps) - f(theta - eps)) / (2 * eps)
            elif kind == "signe":
                g[i] = (f(theta - e) - f(theta + e)) / (2 * eps)
            elif kind == "eps_fixe":  # ignores the eps argument
                h = np.zeros_like(theta, dtype=float)
                h[i] = 1e-6
                g[i] = (f(theta + h) - f(theta - h)) / 2e-6
            elif kind == "en_place":  # modifies theta in place and never restores it
                theta[i] += eps
                fp = f(theta)
                theta[i] -= 2 * eps
                g[i] = (fp - f(theta)) / (2 * eps)
        return g
    return gradient_numerique


def _backprop(kind):
    def backprop(X, y, params, activation="sigmoide"):
        n = X.shape[0]
        W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
        Z1 = X @ W1.T + b1
        sig = activation == "sigmoide" or kind == "toujours_sigmoide"
        A1 = _sig(Z1) if sig else np.maximum(Z1, 0)
        A2 = A1 @ W2.T + b2
        dA2 = 2.0 * (A2 - y) / n
        if kind == "sans_2":  # forgot the 2 of 2(a - y)
            dA2 = dA2 / 2
        elif kind == "sans_n":  # forgot 1/n
            dA2 = dA2 * n
        elif kind == "signe":  # 2(y - a)
            dA2 = -dA2
        if sig:
            d = A1 * (1 - A1)
            if kind == "derivee_en_a":  # sigma'(a1) instead of sigma'(z1)
                d = _sig(A1) * (1 - _sig(A1))
        else:
            d = (Z1 > 0).astype(float)
        if kind == "sans_derivee":  # forgot sigma'
            d = np.ones_like(Z1)
        dZ1 = (dA2 @ W2) * d
        dW1, db1 = dZ1.T @ X, dZ1.sum(axis=0)
        dW2, db2 = dA2.T @ A1, dA2.sum(axis=0)
        if kind == "transposee":  # dW1 transposed
            dW1 = dW1.T
        if kind == "biais_2d":  # db2 with keepdims
            db2 = dA2.sum(axis=0, keepdims=True)
        return dW1, db1, dW2, db2
    return backprop


def _sgd(kind):
    def sgd(X, y, taille_batch, pas, n_epochs, rng_seed=0):
        rng = np.random.default_rng(None if kind == "sans_graine" else rng_seed)
        n = len(y)
        theta = np.zeros(X.shape[1] + 1)
        hist = [] if kind == "sans_initial" else [_cout_ok(X, y, theta)]
        for _ in range(n_epochs):
            ordre = rng.permutation(n)
            if kind == "batch_complet":  # ignores taille_batch: one full-batch step per epoch
                theta = theta - pas * 2.0 / n * _xt(X).T @ (_xt(X) @ theta - y)
            else:
                for debut in range(0, n, taille_batch):
                    idx = ordre[debut:debut + taille_batch]
                    g = 2.0 * _xt(X[idx]).T @ (_xt(X[idx]) @ theta - y[idx])
                    g = g if kind == "somme" else g / len(idx)  # "somme": no mean over the batch
                    theta = theta + pas * g if kind == "montee" else theta - pas * g
                    if kind == "premier_batch":  # only the first mini-batch of each epoch
                        break
            hist.append(_cout_ok(X, y, theta))
        return theta, np.array(hist)
    return sgd


def _d2(kind):
    def descente_2d(grad_f, x0, pas, n_iter):
        x = np.array(x0, dtype=float)
        traj = [] if kind == "sans_x0" else [x.copy()]
        for _ in range(n_iter // 10 if kind == "trop_court" else n_iter):
            g = np.asarray(grad_f(x))
            if kind == "montee":
                x = x + pas * g
            elif kind == "sans_pas":
                x = x - g
            else:
                x = x - pas * g
            traj.append(x.copy())
        if kind == "point_final":
            return x
        return np.array(traj)
    return descente_2d


def _poly(kind):
    def caracteristiques_polynomiales(x, degre):
        x = np.asarray(x, dtype=float)
        if kind == "sans_biais":  # no column of ones
            return np.column_stack([x ** k for k in range(1, degre + 1)] or [np.empty((len(x), 0))])
        if kind == "decalage":  # range(degre): misses x^degre
            return np.column_stack([x ** k for k in range(degre)] or [np.empty((len(x), 0))])
        if kind == "vander":  # decreasing powers
            return np.vander(x, degre + 1)
        if kind == "transposee":
            return np.array([x ** k for k in range(degre + 1)])
        raise ValueError(kind)
    return caracteristiques_polynomiales


def _cv(kind):
    def validation_croisee(X, y, k, ajuster, erreur):
        n = len(y)
        idx = np.arange(n)
        if kind == "melange":  # shuffled folds
            idx = np.random.default_rng(0).permutation(n)
        if kind in ("reste_dernier", "chevauchement"):
            m = n // k
            extra = 1 if kind == "chevauchement" else 0  # off by one: folds overlap
            plis = [idx[i * m:(i + 1) * m + extra] for i in range(k - 1)]
            plis.append(idx[(k - 1) * m:])  # the remainder in the last fold
        else:
            plis = np.array_split(idx, k)
        scores = []
        for pli in plis:
            app = idx if kind == "tout_apprendre" else np.setdiff1d(idx, pli)
            modele = ajuster(X[app], y[app])
            scores.append(erreur(modele, X[pli], y[pli]))
        scores = np.array(scores)
        return scores, scores.mean(), scores.std(ddof=1 if kind == "ddof1" else 0)
    return validation_croisee


MUTANTS = {
    "etape_perceptron": [
        ("signe opposé", {"etape_perceptron": _etape(sign=-1)}, "signe opposé", "both"),
        ("biais oublié", {"etape_perceptron": _etape(bias=False)}, "biais", "both"),
        ("inégalité large", {"etape_perceptron": _etape(strict=False)}, "inégalité stricte",
         "both"),
        ("mise à jour même si bien classé", {"etape_perceptron": _etape(always=True)},
         "bien classé", "both"),
        ("α oublié", {"etape_perceptron": _etape(use_alpha=False)}, "taux d'apprentissage", "both"),
    ],
    "entrainer_perceptron": [
        ("signe de la mise à jour", {"entrainer_perceptron": _entrainer(update_sign=-1)},
         "classent mal", "both"),
        ("biais oublié", {"entrainer_perceptron": _entrainer(bias=False)}, "classent mal", "both"),
        ("une seule époque", {"entrainer_perceptron": _entrainer(one_epoch=True)}, None, "both"),
        ("pas d'arrêt à 0 erreur", {"entrainer_perceptron": _entrainer(stop=False)},
         "première époque sans erreur", "both"),
        ("n_epochs_max − 1 époques", {"entrainer_perceptron": _entrainer(epochs_offset=-1)},
         "non séparables", "hidden"),
    ],
    "cout_mse": [
        ("somme au lieu de moyenne", {"cout_mse": _cout("somme")}, "division par n", "both"),
        ("1/(2n)", {"cout_mse": _cout("demi")}, "1/2", "both"),
        ("biais oublié", {"cout_mse": _cout("sans_biais")}, "biais w0", "both"),
        ("racine", {"cout_mse": _cout("rmse")}, "racine", "both"),
        ("biais en dernier", {"cout_mse": _cout("biais_dernier")}, "PREMIÈRE", "both"),
    ],
    "gradient_mse": [
        ("facteur 2 oublié", {"gradient_mse": _gradient("sans_2")}, "facteur 2", "both"),
        ("1/n oublié", {"gradient_mse": _gradient("sans_n")}, "division par n", "both"),
        ("signe opposé", {"gradient_mse": _gradient("signe")}, "signe opposé", "both"),
        ("composante du biais absente", {"gradient_mse": _gradient("sans_composante_biais")},
         "p + 1 composantes", "both"),
        ("biais oublié dans h", {"gradient_mse": _gradient("sans_biais_h")}, "oublié le biais",
         "both"),
        ("composante du biais nulle", {"gradient_mse": _gradient("biais_zero")},
         "composante du biais", "both"),
        ("vecteur colonne", {"gradient_mse": _gradient("colonne")}, "forme", "both"),
        ("NaN", {"gradient_mse": _gradient("nan")}, "NaN", "both"),
    ],
    "descente_gradient": [
        ("montée", {"descente_gradient": _descente("montee")}, "le coût augmente", "both"),
        ("facteur 2 oublié dans le gradient", {"gradient_mse": _gradient("sans_2")},
         "facteur 2", "both"),
        ("1/n oublié dans le gradient", {"gradient_mse": _gradient("sans_n")}, None, "both"),
        ("une mise à jour de moins", {"descente_gradient": _descente("une_de_moins")},
         "une mise à jour de moins", "both"),
        ("coût initial absent", {"descente_gradient": _descente("sans_initial")},
         "il manque le coût initial", "both"),
        ("pas oublié", {"descente_gradient": _descente("sans_pas")}, "pas de 1", "both"),
        ("départ en 1", {"descente_gradient": _descente("depart_un")}, "historique[0]", "both"),
    ],
    "pas_diverge": [
        ("toujours False", {"pas_diverge": _pas("toujours_faux")}, "réponse attendue", "both"),
        ("seuil 1/L", {"pas_diverge": _pas("seuil_1_sur_L")}, "oscille", "both"),
        ("hessienne sans le 2", {"pas_diverge": _pas("hessienne_sans_2")}, "facteur 2", "both"),
        ("réponse inversée", {"pas_diverge": _pas("inverse")}, None, "both"),
        ("texte", {"pas_diverge": _pas("texte")}, "texte", "both"),
    ],
    "moindres_carres": [
        ("colonne de 1 oubliée", {"moindres_carres": _mc("sans_colonne_1")}, "colonne de 1",
         "both"),
        ("biais en dernier", {"moindres_carres": _mc("biais_dernier")}, "PREMIÈRE", "both"),
        ("régularisé", {"moindres_carres": _mc("ridge")}, None, "both"),
    ],
    "gradient_numerique": [
        ("différence avant", {"gradient_numerique": _gradnum("avant")}, "décentrée", "both"),
        ("/ε au lieu de /2ε", {"gradient_numerique": _gradnum("divise_par_eps")}, "2ε", "both"),
        ("toutes les coordonnées à la fois", {"gradient_numerique": _gradnum("tout_perturber")},
         "une seule", "both"),
        ("signe opposé", {"gradient_numerique": _gradnum("signe")}, "signe opposé", "both"),
        ("ε ignoré", {"gradient_numerique": _gradnum("eps_fixe")}, None, "both"),
        ("theta modifié en place", {"gradient_numerique": _gradnum("en_place")}, "modifie theta",
         "both"),
    ],
    "backprop_sigmoide": [
        ("facteur 2 oublié", {"backprop": _backprop("sans_2")}, "facteur 2", "both"),
        ("1/n oublié", {"backprop": _backprop("sans_n")}, "division par n", "both"),
        ("σ′ oubliée", {"backprop": _backprop("sans_derivee")}, "oubli de σ′", "both"),
        ("σ′ évaluée en a1", {"backprop": _backprop("derivee_en_a")}, "évaluée en a1", "both"),
        ("dW1 transposée", {"backprop": _backprop("transposee")}, "transposée", "both"),
        ("signe opposé", {"backprop": _backprop("signe")}, "signe opposé", "both"),
        ("db2 de forme (1, q)", {"backprop": _backprop("biais_2d")}, "forme", "both"),
    ],
    "backprop_relu": [
        ("facteur 2 oublié", {"backprop": _backprop("sans_2")}, "facteur 2", "both"),
        ("1/n oublié", {"backprop": _backprop("sans_n")}, "division par n", "both"),
        ("relu′ oubliée", {"backprop": _backprop("sans_derivee")}, "oubli de relu′", "both"),
        ("dW1 transposée", {"backprop": _backprop("transposee")}, "transposée", "both"),
        ("activation ignorée (toujours sigmoïde)", {"backprop": _backprop("toujours_sigmoide")},
         None, "both"),
    ],
    "sgd": [
        ("un pas complet par époque", {"sgd": _sgd("batch_complet")}, None, "both"),
        ("gradient sommé sur le batch", {"sgd": _sgd("somme")}, "sommé", "both"),
        ("graine ignorée", {"sgd": _sgd("sans_graine")}, "même graine", "both"),
        ("coût initial absent", {"sgd": _sgd("sans_initial")}, "valeurs attendues", "both"),
        ("premier batch seulement", {"sgd": _sgd("premier_batch")}, "trop loin", "both"),
        ("montée", {"sgd": _sgd("montee")}, "le coût augmente", "both"),
    ],
    "descente_2d": [
        ("montée", {"descente_2d": _d2("montee")}, "signe opposé", "both"),
        ("x0 absent", {"descente_2d": _d2("sans_x0")}, "points attendus", "both"),
        ("pas oublié", {"descente_2d": _d2("sans_pas")}, None, "both"),
        ("trop peu d'itérations", {"descente_2d": _d2("trop_court")}, "forme", "both"),
        ("point final seulement", {"descente_2d": _d2("point_final")}, "forme", "both"),
    ],
    "caracteristiques_polynomiales": [
        ("colonne de 1 oubliée", {"caracteristiques_polynomiales": _poly("sans_biais")},
         "colonne de 1", "both"),
        ("range(degre)", {"caracteristiques_polynomiales": _poly("decalage")}, "manque", "both"),
        ("np.vander (ordre décroissant)", {"caracteristiques_polynomiales": _poly("vander")},
         "ordre inverse", "both"),
        ("transposée", {"caracteristiques_polynomiales": _poly("transposee")}, "transposée",
         "both"),
    ],
    "validation_croisee": [
        ("apprend aussi sur le pli de validation", {"validation_croisee": _cv("tout_apprendre")},
         "servent aussi", "both"),
        ("reste dans le dernier pli", {"validation_croisee": _cv("reste_dernier")},
         "plis de validation incorrects", "both"),
        ("plis qui se chevauchent", {"validation_croisee": _cv("chevauchement")}, None, "both"),
        ("plis mélangés", {"validation_croisee": _cv("melange")}, "plis de validation", "both"),
        ("écart-type ddof = 1", {"validation_croisee": _cv("ddof1")}, "ddof", "both"),
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




def test_master_metadata():
    nb = MASTER.notebook
    assert nb.nbformat == 4 and nb.metadata.kernelspec.name == "python3"
    ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids))
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "%matplotlib inline" in first.source and "from tp1_reference import" in first.source
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        assert meta["schema_version"] == 3 and {"grade", "solution", "locked"} <= set(meta)
        if meta["solution"]:
            assert cell.cell_type == "code"
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        if cell.cell_type == "markdown":
            assert not meta["grade"] and not meta["solution"]


def test_targets_defined_by_master_solution_cells():
    ns = master_ns()
    for chk in ref.CHECKS.values():
        for target in chk.targets:
            assert callable(ns.get(target)), target


def test_master_respects_numpy_only():
    from grader.notebooks import numpy_only_violations

    assert all(chk.numpy_only for chk in ref.CHECKS.values())
    assert numpy_only_violations(MASTER.notebook, list(ref.CHECKS.values())) == {}


def test_reference_module_import_is_cheap():
    code = ("import sys, tp1_reference; heavy = [m for m in ('torch', 'sklearn', 'scipy', "
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
    status, message = judge(name, master_ns(), hidden=hidden)
    assert status == PASSED, message


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_master_passes_other_hidden_seeds(seed):
    ns = master_ns()
    for name in ref.CHECKS:
        status, message = judge(name, ns, hidden=True, seed=seed)
        assert status == PASSED, (name, message)


@pytest.mark.parametrize("name,label,overrides,words,hidden", MUTANT_CASES)
def test_mutant_rejected(name, label, overrides, words, hidden):
    status, message = judge(name, master_ns(**overrides), hidden=hidden)
    assert status == FAILED, (status, message)
    if words:
        assert words in message, message


def test_every_check_rejects_at_least_three_mutants_on_both_case_sets():
    for name in ref.CHECKS:
        both = [m for m in MUTANTS[name] if m[3] == "both"]
        assert len(both) >= 3, name


# ===============================================================================================
# Protocol robustness: stubs, missing names, objects that cheat, errors
# ===============================================================================================
def _stub(*args, **kwargs):
    raise NotImplementedError()


class AlwaysEqual:
    """An answer that claims to equal anything."""

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__

    def __array__(self, *args, **kwargs):
        raise TypeError("not an array")


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_stub_is_incomplete(name):
    ns = master_ns(**{t: _stub for t in ref.CHECKS[name].targets})
    status, message = judge(name, ns)
    assert status == INCOMPLETE and "NotImplementedError" in message


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_missing_target_is_incomplete(name):
    ns = master_ns()
    for target in ref.CHECKS[name].targets:
        del ns[target]
    status, message = judge(name, ns)
    assert status == INCOMPLETE and "n'est pas défini" in message


@pytest.mark.parametrize("answer", [
    AlwaysEqual(), ["a", "b"], "texte", float("nan"), None, (AlwaysEqual(),) * 4,
    (np.nan, np.nan), (["x"], ["y"], ["z"])], ids=["always-equal", "list-of-str", "str", "nan",
                                                  "none", "tuple-always-equal", "tuple-nan",
                                                  "tuple-of-str-lists"])
@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_cheating_answers_get_nothing(name, answer):
    ns = master_ns(**{t: (lambda *a, **k: answer) for t in ref.CHECKS[name].targets})
    for hidden in (False, True):
        status, _ = judge(name, ns, hidden=hidden)
        assert status in (FAILED, ERROR)


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_student_exception_is_an_error(name):
    def boom(*args, **kwargs):
        raise ValueError("oups")

    status, message = judge(name, master_ns(**{t: boom for t in ref.CHECKS[name].targets}))
    assert status == ERROR and "oups" in message


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_grading_path_through_npz(name, tmp_path):
    """Cases as the kernel gets them when grading (npz without pickle), answers as JSON."""
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


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_verdicts_never_crash_on_strange_answers(name):
    """Whatever the kernel sends, a verdict either accepts or raises AssertionError."""
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
            chk.verdict(case, answer)
        except AssertionError:
            pass


def test_check_in_kernel_prints_and_raises():
    ns = master_ns()
    exec("check('cout_mse')", ns)  # passes silently apart from its print
    ns["cout_mse"] = _cout("somme")
    with pytest.raises(AssertionError, match="division par n"):
        exec("check('cout_mse')", ns)
    ns["cout_mse"] = _stub
    with pytest.raises(NotImplementedError, match="à compléter"):
        exec("check('cout_mse')", ns)


# ===============================================================================================
# The oracles themselves
# ===============================================================================================
def test_torch_oracle_matches_finite_differences():
    rng = np.random.default_rng(0)
    for activation in (0, 1):
        case = ref._cases_backprop(ref.ACTIVATIONS[activation])(rng, True)[0]
        grads = ref._torch_gradients(case)

        def loss(**params):
            p = {k: params.get(k, case[k]) for k in ("W1", "b1", "W2", "b2")}
            z1 = case["X"] @ p["W1"].T + p["b1"]
            a1 = _sig(z1) if activation == 0 else np.maximum(z1, 0)
            a2 = a1 @ p["W2"].T + p["b2"]
            return np.sum((a2 - case["y"]) ** 2) / len(case["X"])

        for k in ("W1", "b1", "W2", "b2"):
            shape = case[k].shape
            fd = ref._fd_gradient(lambda v: loss(**{k: v.reshape(shape)}), case[k].ravel(), 1e-6)
            assert ref.erreur_relative(fd.reshape(shape), grads[k]) < 1e-6


def test_gd_closed_form_matches_iterations():
    rng = np.random.default_rng(1)
    X, y = ref._regression_problem(rng, 17, 3)
    pas = 1.3 / ref._hessian_top(X)
    theta, costs = np.zeros(4), [_cout_ok(X, y, np.zeros(4))]
    for _ in range(30):
        theta = theta - pas * 2 / len(y) * _xt(X).T @ (_xt(X) @ theta - y)
        costs.append(_cout_ok(X, y, theta))
    exp_theta, exp_costs = ref._gd_closed_form(X, y, pas, 30)
    assert np.allclose(theta, exp_theta, rtol=1e-10) and np.allclose(costs, exp_costs, rtol=1e-10)


def test_analytic_finite_differences():
    rng = np.random.default_rng(2)
    for case in ref._cases_gradnum(rng, True) + ref._cases_gradnum(rng, False):
        f, t, eps = ref._test_function(case), case["theta"], case["eps"]
        centred, forward, _ = ref._analytic_differences(case, eps)
        basis = np.eye(len(t)) * eps
        assert np.allclose([(f(t + e) - f(t - e)) / (2 * eps) for e in basis], centred, rtol=1e-5)
        assert np.allclose([(f(t + e) - f(t)) / eps for e in basis], forward, rtol=1e-5)


def test_grad_peaks_and_minima():
    for point in ([0.3, -0.7], [-1.2, 0.4], [1.1, 1.3]):
        fd = ref._fd_gradient(lambda q: ref.peaks(q[0], q[1]), np.array(point), 1e-6)
        assert np.allclose(fd, ref.grad_peaks(point), atol=1e-7)
    assert ref.peaks(0.2283, -1.6255) == pytest.approx(-6.5511, abs=1e-3)


def test_data_generators():
    X, y = ref.arbres_malades(40, separable=True, rng=0)
    assert X.shape == (40, 2) and set(np.unique(y)) == {0, 1}
    assert np.all(X[:, 0] == np.round(X[:, 0])) and ref._linearly_separable(X, y)
    X2, y2 = ref.arbres_malades(40, separable=False, rng=1)
    assert not ref._linearly_separable(X2, y2)
    assert np.array_equal(ref.arbres_malades(30, rng=5)[0], ref.arbres_malades(30, rng=5)[0])
    Xg, yg = ref._separable_generic(np.random.default_rng(3), 30, 3)
    assert ref._linearly_separable(Xg, yg) and not ref._linearly_separable(Xg, yg, False)
