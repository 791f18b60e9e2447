"""TP4, part 5.5: mode collapse on the eight Gaussians. The minibatch standard deviation layer
(`ecart_type_lot`) and the 2-D generator trained with it (`generateur_8g`).

Oracles: the layer computed group by group with NumPy in float64, its gradient by central finite
differences of that computation (not by autograd); the generator rebuilt with NumPy from its
weights, its samples drawn from the judge's own noise and scored by the coverage of the modes
(`tp4.modes.modes_couverts`, the instructors' copy).
"""

from __future__ import annotations

import numpy as np

from grader.judging import Check, as_array, close
from tp4.data import DIM_Z_2D, SEUILS, forme_generateur_2d
from tp4.modes import verifier_modes

from .networks import linear, rebuilt, relu
from .scale import scale

EPS = 1e-8  # under the square root: a group of identical points (a collapsed generator!)


# -- the layer -----------------------------------------------------------------------------------
def _column(x, m, groups=None, ddof=0, root=True, eps=EPS, pooled=False):
    """The appended column: for each group of rows, the mean over the coordinates of the
    standard deviation over the group. `groups` (row -> group index) defaults to m consecutive
    rows; the other arguments give the known variants."""
    n = len(x)
    groups = np.arange(n) // m if groups is None else groups
    col = np.empty(n)
    for g in np.unique(groups):
        rows = groups == g
        block = x[rows]
        if pooled:
            spread = np.sqrt(np.var(block) + eps)
        else:
            var = np.sum((block - block.mean(0)) ** 2, axis=0) / max(len(block) - ddof, 1)
            spread = np.mean(np.sqrt(var + eps) if root else var + eps)
        col[rows] = spread
    return col


def ecart_type_lot_oracle(x, m):
    x = np.asarray(x, dtype=float)
    return np.c_[x, _column(x, m)]


def _gradient_oracle(x, m, w, h=1e-6):
    """d/dx of Σ w ⊙ layer(x), by central differences of the float64 layer."""
    grad = np.empty_like(x)
    for idx in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[idx] += h
        down[idx] -= h
        grad[idx] = np.sum(w * (ecart_type_lot_oracle(up, m) - ecart_type_lot_oracle(down, m)))
        grad[idx] /= 2 * h
    return grad


def _cases_layer(rng, hidden):
    specs = [(24, 2, 8), (6, 5, 3), (8, 2, 8), (5, 3, 1), (16, 2, 8)] if hidden \
        else [(16, 2, 8), (12, 3, 4)]
    cases = []
    for i, (n, d, m) in enumerate(specs):
        scales = np.repeat(rng.uniform(0.2, 3.0, size=n // m), m)[:, None]  # groups differ
        x = rng.normal(size=(n, d)) * scales + rng.normal(size=d)
        if i == len(specs) - 1:  # a collapsed group: every point the same
            x[m:2 * m] = x[m]
        cases.append({"x": x, "m": m, "w": rng.normal(size=(n, d + 1))})
    return cases


def _diagnose_column(x, m, got):
    n = len(x)
    variants = [
        (dict(groups=np.zeros(n, int)), "écart-type calculé sur tout le lot : il faut un "
         "écart-type par groupe de m exemples CONSÉCUTIFS (entrainer_gan passe à D la "
         "concaténation [vraies ; fausses] : sur tout le lot, les deux se mélangent)"),
        (dict(groups=np.arange(n) % (n // m)), "groupes formés en sautant de n/m en n/m "
         "(x.reshape(m, n // m, d)) : un groupe est fait de m exemples CONSÉCUTIFS "
         "(x.reshape(n // m, m, d))"),
        (dict(ddof=1), "écart-type corrigé (diviser par m − 1) : prenez l'écart-type biaisé, "
         "divisé par m (unbiased=False / correction=0)"),
        (dict(eps=0.0), "ε oublié : l'écart-type est sqrt(variance + 1e-8)"),
        (dict(root=False), "variance au lieu de l'écart-type : il manque la racine carrée"),
        (dict(pooled=True), "écart-type de tous les nombres du groupe mélangés : calculez "
         "l'écart-type de CHAQUE coordonnée sur le groupe, puis leur moyenne"),
    ]
    for kwargs, words in variants:  # (with m = 1, ddof=1 divides by 1: the right column)
        if close(got, _column(x, m, **kwargs), 1e-4, 1e-6):
            return words
    return None


def _verdict_layer(case, answer):
    x, m, w = case["x"], int(case["m"]), case["w"]
    n, d = x.shape
    out = as_array(answer, "sortie", what=f"EcartTypeLot({m})(x)")
    if out.shape == (n, 2 * d):
        raise AssertionError(f"EcartTypeLot({m})(x) de forme {out.shape} : une seule colonne "
                             "s'ajoute, la MOYENNE sur les coordonnées des écarts-types")
    if out.shape != (n, d + 1):
        raise AssertionError(f"EcartTypeLot({m})(x) de forme {out.shape} au lieu de "
                             f"{(n, d + 1)} : x inchangé, suivi d'une colonne")
    expected = ecart_type_lot_oracle(x, m)
    if not close(out[:, :d], x, 1e-5, 1e-6):
        if close(out[:, 1:], x, 1e-5, 1e-6):
            raise AssertionError("la colonne de l'écart-type doit venir APRÈS les coordonnées "
                                 "de x (torch.cat([x, s], dim=1))")
        raise AssertionError("les d premières colonnes de la sortie doivent être x inchangé")
    if not close(out[:, d], expected[:, d], 1e-4, 1e-6):
        raise AssertionError(_diagnose_column(x, m, out[:, d]) or
                             f"colonne de l'écart-type incorrecte (n = {n}, d = {d}, m = {m}) : "
                             f"attendu {np.round(expected[::m, d], 4)} par groupe, obtenu "
                             f"{np.round(out[::m, d], 4)}")
    if "gradient" not in answer or isinstance(answer["gradient"], str):
        raise AssertionError(f"EcartTypeLot({m})(x) : aucun gradient par rapport à x")
    grad = np.asarray(answer["gradient"], dtype=float)
    if grad.shape != x.shape:
        raise AssertionError(f"gradient de forme {grad.shape} au lieu de {x.shape}")
    if not np.all(np.isfinite(grad)):
        raise AssertionError("gradient NaN ou infini sur un groupe de points identiques : la "
                             "dérivée de la racine est infinie en 0, d'où ε = 1e-8 SOUS la "
                             "racine, sqrt(variance + ε) — un générateur effondré donne "
                             "justement de tels groupes")
    if not np.any(grad):
        raise AssertionError("la sortie ne dépend pas de x de façon dérivable (NumPy, detach ?) "
                             ": le gradient doit traverser la couche")
    expected_grad = _gradient_oracle(x, m, w)
    if not close(grad, expected_grad, 2e-3, 1e-3):
        if close(grad, w[:, :d], 1e-4, 1e-5):
            raise AssertionError("le gradient ne traverse pas la colonne de l'écart-type "
                                 "(detach, .item(), NumPy ?) : le discriminateur ne pourrait "
                                 "pas renvoyer au générateur le signal « pas assez divers »")
        raise AssertionError("gradient de la sortie par rapport à x incorrect (comparé à des "
                             "différences finies)")


# -- the trained generator -----------------------------------------------------------------------
def generate_2d(W, z):
    h = relu(linear(W, "reseau.2", relu(linear(W, "reseau.0", z))))
    return linear(W, "reseau.4", h)


def _cases_generator(rng, hidden):
    return [{"z": rng.normal(size=(1000, DIM_Z_2D)), "_z": rng.normal(size=(2000, DIM_Z_2D))}]


def _verdict_generator(case, answer):
    W = rebuilt(answer, "generateur_8g", "Generateur2D", "generateur_8g(z)",
                forme_generateur_2d(),
                {"reseau.0.weight": f"bruit z de dimension DIM_Z_2D = {DIM_Z_2D}"}, generate_2d,
                case["z"], f"l'architecture imposée : Linear({DIM_Z_2D}, 128) → ReLU → "
                           "Linear(128, 128) → ReLU → Linear(128, 2)")
    s = SEUILS[scale()]
    verifier_modes(generate_2d(W, case["_z"]), "generateur_8g", s["modes_8g"],
                   s["sur_les_modes_8g"])


CHECKS = [
    Check("ecart_type_lot", _cases_layer, _verdict_layer,
          doc="Couche de l'écart-type du lot : valeur comparée à un calcul groupe par groupe "
              "en float64, gradient comparé à des différences finies ; cas cachés : un seul "
              "groupe, des groupes d'un exemple, un groupe de points identiques (ε)."),
    Check("generateur_8g", _cases_generator, _verdict_generator,
          doc="Générateur 2-D entraîné avec l'écart-type du lot : poids reconstruits par le "
              "correcteur, 2000 points tirés de son propre bruit ; modes couverts (au moins 4 % "
              "des points à moins de 0.3 du centre), part des points sur un mode, et leur dispersion "
              "autour du centre (des points empilés ne sont pas une loi)."),
]
