"""A synthetic regression TP (eight exercises, in TP1's spirit) and students who answer it, for
the similarity report's tests and measurements.

Each exercise has three styles (vectorised, loops, another decomposition); a student has habits
($slots: how they add the column of ones, square, predict) and rewrites (REWRITES) applied with
their own probability. A pessimistic class: independent students drawing the same style often
write the same tokens. A notebook is the starter (released from the master by nbgrader) with
each stub replaced by the student's code; nothing here is ever run. Self-contained on purpose:
the real masters change while the similarity tests must not.
"""

from __future__ import annotations

import random
import re
from string import Template

import nbformat

from grader.notebooks import CODE_STUB, release

SLOTS = {  # one student's habits, the same in every exercise
    "pred": ["theta[0] + X @ theta[1:]", "X @ theta[1:] + theta[0]",
             "X.dot(theta[1:]) + theta[0]"],
    "aug": ["np.column_stack([np.ones(len(X)), X])", "np.hstack([np.ones((X.shape[0], 1)), X])",
            "np.c_[np.ones(len(X)), X]", "np.insert(X, 0, 1.0, axis=1)"],
    "sq": ["residus ** 2", "residus * residus", "np.square(residus)"],
    "mean": ["np.mean($sq)", "($sq).mean()", "np.sum($sq) / len(y)"],
    "zeros": ["np.zeros(X.shape[1] + 1)", "np.zeros(1 + X.shape[1])",
              "np.zeros(X.shape[1] + 1, dtype=float)"],
    "n": ["len(y)", "X.shape[0]", "len(X)"],
}

# grade_id -> (signature and docstring of each function, or given lines; styles per stub)
EXERCISES = {
    "sol_cout_mse": (['def cout_mse(X, y, theta):\n    """Risque empirique 1/n Σ (h(x_i) − '
                      'y_i)², h(x) = w0 + Σ w_j x_j."""'], [[
        "residus = $pred - y\nreturn float($mean)",
        "n = len(y)\ntotal = 0.0\nfor i in range(n):\n    prediction = theta[0]\n"
        "    for j in range(X.shape[1]):\n        prediction += theta[j + 1] * X[i, j]\n"
        "    total += (prediction - y[i]) ** 2\nreturn total / n",
        "Xb = $aug\ne = Xb @ theta - y\nreturn float(e @ e / $n)"]]),
    "sol_gradient_mse": (['def gradient_mse(X, y, theta):\n    """Gradient de cout_mse par '
                          'rapport à theta, forme (p + 1,)."""'], [[
        "residus = $pred - y\nX_tilde = $aug\nreturn 2.0 / $n * (X_tilde.T @ residus)",
        "n, p = X.shape\ngrad = np.zeros(p + 1)\nfor i in range(n):\n"
        "    err = theta[0] + np.dot(theta[1:], X[i]) - y[i]\n    grad[0] += 2 * err / n\n"
        "    grad[1:] += 2 * err * X[i] / n\nreturn grad",
        "A = $aug\nreturn 2 * A.T.dot(A.dot(theta) - y) / $n"]]),
    "sol_descente_gradient": (['def descente_gradient(X, y, pas, n_iter):\n    """Descente à '
                               'pas fixe depuis theta = 0 : (theta, historique des coûts)."""'], [[
        "theta = $zeros\nhistorique = [cout_mse(X, y, theta)]\nfor _ in range(n_iter):\n"
        "    theta = theta - pas * gradient_mse(X, y, theta)\n"
        "    historique.append(cout_mse(X, y, theta))\nreturn theta, np.array(historique)",
        "p = X.shape[1]\ntheta = np.zeros(p + 1)\ncouts = np.empty(n_iter + 1)\n"
        "couts[0] = cout_mse(X, y, theta)\nfor t in range(1, n_iter + 1):\n"
        "    theta -= pas * gradient_mse(X, y, theta)\n    couts[t] = cout_mse(X, y, theta)\n"
        "return theta, couts",
        "theta = $zeros\nhist = []\nt = 0\nwhile True:\n    hist.append(cout_mse(X, y, theta))\n"
        "    if t == n_iter:\n        break\n    g = gradient_mse(X, y, theta)\n"
        "    theta = theta - pas * g\n    t += 1\nreturn theta, np.asarray(hist)"]]),
    "sol_moindres_carres": (['def moindres_carres(X, y):\n    """Solution exacte des moindres '
                             'carrés (équations normales)."""'], [[
        "X_tilde = $aug\nreturn np.linalg.solve(X_tilde.T @ X_tilde, X_tilde.T @ y)",
        "Xb = $aug\ntheta, *_ = np.linalg.lstsq(Xb, y, rcond=None)\nreturn theta",
        "A = $aug\nreturn np.linalg.inv(A.T.dot(A)).dot(A.T).dot(y)"]]),
    "sol_gradient_numerique": (['def gradient_numerique(f, theta, eps=1e-5):\n    """Gradient '
                                'de f en theta par différences finies centrées."""'], [[
        "theta = np.asarray(theta, dtype=float)\ngrad = np.zeros_like(theta)\n"
        "for i in np.ndindex(theta.shape):\n    e = np.zeros_like(theta)\n    e[i] = eps\n"
        "    grad[i] = (f(theta + e) - f(theta - e)) / (2 * eps)\nreturn grad",
        "g = np.zeros(len(theta))\nfor i in range(len(theta)):\n"
        "    plus = np.array(theta, dtype=float)\n    moins = np.array(theta, dtype=float)\n"
        "    plus[i] += eps\n    moins[i] -= eps\n    g[i] = (f(plus) - f(moins)) / (2 * eps)\n"
        "return g",
        "theta = np.asarray(theta, dtype=float)\nbase = np.eye(theta.size) * eps\n"
        "return np.array([(f(theta + d) - f(theta - d)) / (2 * eps) for d in base])"]]),
    "sol_reseau": ([
        'def propagation_avant(X, params):\n    """Réseau à deux couches, sigmoïde : '
        '(Z1, A1, A2)."""',
        'def backprop(X, y, params):\n    """Gradients (dW1, db1, dW2, db2) de '
        '1/n Σ ||a2_i − y_i||²."""'], [[
            'Z1 = X @ params["W1"].T + params["b1"]\nA1 = 1.0 / (1.0 + np.exp(-Z1))\n'
            'A2 = A1 @ params["W2"].T + params["b2"]\nreturn Z1, A1, A2',
            'W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]\n'
            "z = np.dot(X, W1.T) + b1\na = sigmoide(z)\nsortie = np.dot(a, W2.T) + b2\n"
            "return z, a, sortie",
            'pre = np.einsum("np,hp->nh", X, params["W1"]) + params["b1"]\n'
            "act = np.exp(-np.logaddexp(0, -pre))\n"
            'out = np.einsum("nh,qh->nq", act, params["W2"]) + params["b2"]\nreturn pre, act, out',
        ], [
            "n = X.shape[0]\nZ1, A1, A2 = propagation_avant(X, params)\n"
            "dA2 = 2.0 * (A2 - y) / n\ndW2 = dA2.T @ A1\ndb2 = dA2.sum(axis=0)\n"
            'dZ1 = (dA2 @ params["W2"]) * A1 * (1.0 - A1)\ndW1 = dZ1.T @ X\n'
            "db1 = dZ1.sum(axis=0)\nreturn dW1, db1, dW2, db2",
            'W2 = params["W2"]\nz, a, sortie = propagation_avant(X, params)\n'
            "delta2 = 2 * (sortie - y) / len(X)\ngrad_W2 = np.dot(delta2.T, a)\n"
            "grad_b2 = np.sum(delta2, axis=0)\n"
            "delta1 = np.dot(delta2, W2) * sigmoide(z) * (1 - sigmoide(z))\n"
            "grad_W1 = np.dot(delta1.T, X)\ngrad_b1 = np.sum(delta1, axis=0)\n"
            "return grad_W1, grad_b1, grad_W2, grad_b2",
            'W2 = params["W2"]\ngrads = [np.zeros_like(params[k]) for k in ("W1", "b1", "W2", '
            '"b2")]\n_, act, out = propagation_avant(X, params)\nn = len(X)\n'
            "for x_i, a_i, o_i, y_i in zip(X, act, out, y):\n    d_out = 2 * (o_i - y_i) / n\n"
            "    grads[2] += np.outer(d_out, a_i)\n    grads[3] += d_out\n"
            "    d_pre = (W2.T @ d_out) * a_i * (1 - a_i)\n    grads[0] += np.outer(d_pre, x_i)\n"
            "    grads[1] += d_pre\nreturn tuple(grads)"]]),
    "sol_validation_croisee": (['def validation_croisee(X, y, k, ajuster, erreur):\n    '
                                '"""Validation croisée à k plis : (scores, moyenne, '
                                'écart-type)."""'], [[
        "n = len(y)\nindices = np.arange(n)\nscores = []\n"
        "for pli in np.array_split(indices, k):\n    app = np.setdiff1d(indices, pli)\n"
        "    modele = ajuster(X[app], y[app])\n    scores.append(erreur(modele, X[pli], y[pli]))\n"
        "scores = np.array(scores, dtype=float)\n"
        "return scores, float(scores.mean()), float(scores.std())",
        "n = len(y)\ntailles = np.full(k, n // k)\ntailles[: n % k] += 1\n"
        "bornes = np.concatenate([[0], np.cumsum(tailles)])\nres = np.zeros(k)\n"
        "for i in range(k):\n    masque = np.zeros(n, dtype=bool)\n"
        "    masque[bornes[i]:bornes[i + 1]] = True\n    m = ajuster(X[~masque], y[~masque])\n"
        "    res[i] = erreur(m, X[masque], y[masque])\nreturn res, res.mean(), res.std()",
        "plis = np.array_split(np.arange(len(X)), k)\n\ndef un_pli(val):\n"
        "    app = np.concatenate([p for p in plis if p is not val])\n"
        "    return erreur(ajuster(X[app], y[app]), X[val], y[val])\n\n"
        "s = np.array([un_pli(v) for v in plis])\nreturn s, np.mean(s), np.std(s)"]]),
    "sol_etude_pas": (["X_reg, y_reg = donnees_regression(100, rng=0)"], [[
        'for pas in (0.005, 0.1, 0.3):\n    _, hist = descente_gradient(X_reg, y_reg, pas, 60)\n'
        '    plt.semilogy(hist, label=f"pas = {pas}")\nplt.xlabel("itération")\n'
        'plt.ylabel("coût")\nplt.legend()\nplt.show()',
        "fig, ax = plt.subplots()\npas_testes = [0.001, 0.01, 0.1, 0.25]\nfor p in pas_testes:\n"
        "    theta, couts = descente_gradient(X_reg, y_reg, p, 100)\n"
        "    ax.plot(couts, label=str(p))\nax.set_yscale(\"log\")\nax.legend(title=\"pas\")\n"
        "plt.show()",
        "resultats = {p: descente_gradient(X_reg, y_reg, p, 50)[1] for p in "
        "np.linspace(0.01, 0.3, 5)}\nfor p, h in resultats.items():\n"
        '    plt.plot(h, label="%.2f" % p)\nplt.yscale("log")\nplt.legend()\n'
        'plt.title("Influence du pas")\nplt.show()']]),
}
HELPER = "def sigmoide(z):\n    return 1 / (1 + np.exp(-z))"  # style 1 of sol_reseau needs it


def _meta(gid, **kw):
    return {"nbgrader": {"grade": False, "grade_id": gid, "locked": True, "schema_version": 3,
                         "solution": False, "task": False, **kw}}


def _indent(code: str, by: str) -> str:
    return "\n".join(by + line if line else line for line in code.split("\n"))


def fill(code: str, habits: dict) -> str:
    for _ in range(2):  # $mean holds $sq
        code = Template(code).substitute(habits)
    return code


def master_notebook() -> nbformat.NotebookNode:
    cells = [nbformat.v4.new_markdown_cell("# Régression (TP de test)", metadata=_meta("intro")),
             nbformat.v4.new_code_cell("import numpy as np\nimport matplotlib.pyplot as plt\n"
                                       "from regression import check, donnees_regression",
                                       metadata=_meta("imports"))]
    habits = {k: v[0] for k, v in SLOTS.items()}
    for gid, (heads, stubs) in EXERCISES.items():
        parts = []
        for head, styles in zip(heads, stubs):
            by = "    " if head.startswith("def ") else ""
            body = _indent(f"### BEGIN SOLUTION\n{fill(styles[0], habits)}\n### END SOLUTION", by)
            parts.append(f"{head}\n{body}")
        cells.append(nbformat.v4.new_code_cell("\n\n\n".join(parts),
                                               metadata=_meta(gid, locked=False, solution=True)))
        name = gid.removeprefix("sol_")
        cells.append(nbformat.v4.new_code_cell(
            f'check("{name}")\n### BEGIN HIDDEN TESTS\ncheck("{name}", hidden=True)\n'
            "### END HIDDEN TESTS", metadata=_meta(name, grade=True, points=2)))
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})


def starter(master: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return release(master)


def random_habits(rng: random.Random) -> dict:
    return {k: rng.choice(v) for k, v in SLOTS.items()}


# A student's own way of writing the same thing: each rewrite applies at each place it can
# with the student's probability, so two students of one style still differ here and there.
REWRITES = [
    (r"^(\s*)(\w+) = \2 - (.+)$", r"\1\2 -= \3"),
    (r"^(\s*)(\w+) -= (.+)$", r"\1\2 = \2 - (\3)"),
    (r"\b([A-Za-z_][\w.]*(?:\[[^\]]*\])?) @ ([A-Za-z_][\w.]*(?:\[[^\]]*\])?)", r"np.dot(\1, \2)"),
    (r"\b2\.0 \*", "2 *"), (r"\b2 \* ", "2.0 * "), (r"\b1\.0\b", "1"),
    (r"\b(\w+)\.sum\(axis=0\)", r"np.sum(\1, axis=0)"), (r"\b(\w+)\.mean\(\)", r"np.mean(\1)"),
    (r"\blen\(X\)", "X.shape[0]"), (r"\bX\.shape\[0\]", "len(X)"),
    (r"^(\s*)return float\((.+)\)$", r"\1return \2"),
    (r"^(\s*)return (.+)$", r"\1resultat = \2\n\1return resultat"),
    (r"\brange\((\w+)\)", r"range(0, \1)"),
    (r"^(\s*)(\w+) = np\.zeros(.*)$", r"\1\2 = np.zeros\3\n\1print(\2.shape)"),
]


def vary(code: str, rng: random.Random, p: float) -> str:
    lines = code.split("\n")
    for pattern, repl in REWRITES:
        lines = [re.sub(pattern, repl, line) if rng.random() < p else line for line in lines]
        lines = "\n".join(lines).split("\n")
    return "\n".join(lines)


def student(start, styles: dict, habits: dict, added=(), rng=None, p=0.0):
    """The starter with the stubs of each exercise in `styles` (grade_id -> style index, one
    per stub, or an int for all of them) replaced by that style's code, varied with `rng` and
    probability `p` (see REWRITES); `added`: new cells."""
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(start), as_version=4))
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid not in styles:
            continue
        choice = styles[gid]
        for i, variants in enumerate(EXERCISES[gid][1]):
            k = choice if isinstance(choice, int) else choice[i]
            code = vary(fill(variants[k], habits), rng, p) if rng else fill(variants[k], habits)
            pattern = re.compile(r"( *)" + r"\n *".join(map(re.escape, CODE_STUB.split("\n"))))
            cell.source = pattern.sub(lambda m: _indent(code, m.group(1)), cell.source, count=1)
    for code in added:
        nb.cells.append(nbformat.v4.new_code_cell(code))
    return nb


def disguise(nb, renames: dict[str, str], comment: str = "# ma version") -> nbformat.NotebookNode:
    """What a copier does: rename the variables, add comments and blank lines, and swap the
    two functions of every cell that defines several (order of definitions reversed)."""
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(nb), as_version=4))
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.metadata.get("nbgrader", {}).get("locked"):
            continue
        src = cell.source
        for old, new in renames.items():
            src = re.sub(rf"\b{re.escape(old)}\b", new, src)
        blocks = re.split(r"\n(?=def )", src)
        if len(blocks) > 1:
            src = "\n\n".join(b.strip("\n") for b in reversed(blocks))
        cell.source = f"{comment}\n" + src.replace("\n    return", "\n\n    return")
    return nb


EXTRAS = ["X_reg.shape", "print(cout_mse(X_reg, y_reg, np.zeros(2)))",
          "theta, hist = descente_gradient(X_reg, y_reg, 0.1, 100)\nprint(theta, hist[-1])",
          "print(moindres_carres(X_reg, y_reg))", "plt.plot(hist)\nplt.show()"]
RENAMES = {"residus": "r", "theta": "w", "historique": "couts", "grad": "gradient", "X_tilde": "M",
           "Z1": "z", "A1": "a", "dA2": "d_sortie", "scores": "resultats", "pli": "bloc"}


def random_student(start, rng: random.Random) -> nbformat.NotebookNode:
    """A student of a random class: habits, a share of the exercises done, each in a style
    (the vectorised one twice as likely), a few exploratory cells added."""
    done = rng.uniform(0.3, 1.0)
    styles = {gid: [rng.choices((0, 1, 2), (2, 1, 1))[0] for _ in heads]
              for gid, (heads, _) in EXERCISES.items() if rng.random() < done}
    added = rng.sample(EXTRAS, rng.randint(0, 3))
    if 1 in styles.get("sol_reseau", ()):
        added.append(HELPER)
    return student(start, styles, random_habits(rng), added, rng, rng.uniform(0.2, 0.6))


def random_class(start, n: int, seed: int = 0) -> tuple[dict, list, list]:
    """n notebooks: independent students, 3 of whom copied someone whole (disguised) and 3
    who copied two or three exercises. Returns (notebooks, whole copies, partial copies) with
    each copy as (copier, source)."""
    rng = random.Random(seed)
    nbs = {f"e{i:03d}": random_student(start, rng) for i in range(n)}
    ids = rng.sample(sorted(nbs), 12)
    whole = [(ids[i], ids[i + 1]) for i in (0, 2, 4)]
    partial = [(ids[i], ids[i + 1]) for i in (6, 8, 10)]
    for copier, source in whole:
        nbs[copier] = disguise(nbs[source], RENAMES)
    for copier, source in partial:
        taken = rng.sample([g for g in EXERCISES if g != "sol_etude_pas"], rng.randint(2, 3))
        copied = disguise(nbs[source], RENAMES)
        for cell, theirs in zip(nbs[copier].cells, copied.cells):
            if cell.metadata.get("nbgrader", {}).get("grade_id") in taken:
                cell.source = theirs.source
    return nbs, whole, partial
