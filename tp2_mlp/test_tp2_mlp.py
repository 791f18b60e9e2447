"""Mutation tests of TP2's checks (tp2_reference.CHECKS).

The instructors' implementation comes from the master notebook itself: its imports cell, its
solution cells that only define functions and, for the trained-model checks, the cells that load
the data and train the four graded models (executed once per test module, a few seconds). Every
check must accept it, on public and hidden cases, and reject plausible wrong answers: functions
written below (one line naming each mistake) and models built directly here, small and untrained
or deliberately wrong (no retraining of big models).

The masters and starters are graded end to end by tests/test_course.py, under each Keras backend
that course.toml declares for this TP (tensorflow and torch).
"""

from __future__ import annotations

import ast
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

import tp2_reference as ref  # noqa: E402
from master_code import Master, without_magics  # noqa: E402
from grader.checks import ERROR, FAILED, INCOMPLETE, PASSED, run_in_process  # noqa: E402

MASTER = Master(ROOT / "solutions" / "tp2_mlp.ipynb")
master_ns = MASTER.ns
MODEL_CHECKS = ("modele_diapo", "modele_cancer", "modele_diabete", "modele_chiffres")
TRAINING_CELLS = ("sol_standardiser", "donnees_cancer", "standardiser_cancer",
                  "sol_nombre_parametres_mlp", "donnees_friedman", "sol_modele_diapo",
                  "sol_construire_mlp", "sol_modele_cancer", "donnees_diabete",
                  "sol_modele_diabete", "donnees_chiffres", "sol_modele_chiffres")


# -- the master's implementation ----------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def trained_ns():
    """The master's data and trained models (its cells, run once)."""
    return MASTER.run(MASTER.ns(), *TRAINING_CELLS)


def judge(name, ns, hidden=False, seed=None):
    return run_in_process(ref.CHECKS[name], ns, hidden=hidden, seed=seed)


@pytest.fixture(scope="module")
def keras():
    return ref.preparer_keras()


# -- mutants: functions ---------------------------------------------------------------------------
def _standardiser(kind):
    def standardiser(X_train, X_test):
        X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
        mu, sd = X_train.mean(axis=0), X_train.std(axis=0)
        if kind == "tout":
            both = np.vstack([X_train, X_test])
            mu, sd = both.mean(axis=0), both.std(axis=0)
        if kind == "ddof1":
            sd = X_train.std(axis=0, ddof=1)
        if kind != "zero":
            sd = np.where(sd == 0, 1.0, sd)
        if kind == "centre":
            return X_train - mu, X_test - mu
        if kind == "propre":
            sdt = X_test.std(axis=0)
            return (X_train - mu) / sd, (X_test - X_test.mean(axis=0)) / np.where(sdt == 0, 1, sdt)
        if kind == "lignes":
            m = X_train.mean(axis=1, keepdims=True)
            s = X_train.std(axis=1, keepdims=True)
            mt, st = X_test.mean(axis=1, keepdims=True), X_test.std(axis=1, keepdims=True)
            return (X_train - m) / s, (X_test - mt) / st
        if kind == "un":
            return (X_train - mu) / sd
        return (X_train - mu) / sd, (X_test - mu) / sd
    return standardiser


def _parametres(kind):
    def nombre_parametres_mlp(tailles):
        paires = list(zip(tailles[:-1], tailles[1:]))
        if kind == "sans_biais":
            return sum(a * b for a, b in paires)
        if kind == "biais_entree":
            return sum(a * b + a for a, b in paires)
        if kind == "sans_sortie":
            return sum(a * b + b for a, b in paires[:-1])
        if kind == "neurones":
            return sum(tailles)
        if kind == "plus_un":
            return sum((a + 1) * (b + 1) for a, b in paires)
        return sum(a * b + b for a, b in paires)
    return nombre_parametres_mlp


def _mises_a_jour(kind):
    def nombre_mises_a_jour(n, batch_size, epochs):
        if kind == "plancher":
            return epochs * (n // batch_size)
        if kind == "reel":
            return epochs * n / batch_size
        if kind == "une_epoque":
            return math.ceil(n / batch_size)
        if kind == "global":
            return math.ceil(n * epochs / batch_size)
        return epochs * math.ceil(n / batch_size)
    return nombre_mises_a_jour


def _arret(kind):
    def arret_precoce(pertes_val, patience):
        best, idx, wait = np.inf, 0, 0
        for e, v in enumerate(pertes_val):
            better = v <= best if kind == "egalite" else v < best
            if better:
                best, idx, wait = v, e, 0
                continue
            wait += 1
            if (wait > patience) if kind == "tard" else (wait >= patience):
                if kind == "jamais":
                    continue
                n = e + 1
                return n, (e if kind == "derniere" else idx + (kind == "base1"))
        if kind == "jamais":
            return len(pertes_val), int(np.argmin(pertes_val))
        return len(pertes_val), (len(pertes_val) - 1 if kind == "derniere"
                                 else idx + (kind == "base1"))
    return arret_precoce


def _validation(kind):
    def validation_croisee(construire_modele, X, y, k=5, epochs=10, batch_size=32, graine=0):
        from sklearn.model_selection import KFold, StratifiedKFold

        if kind == "kfold":
            plis = KFold(n_splits=k, shuffle=True, random_state=graine).split(X, y)
        elif kind == "ordre":
            plis = StratifiedKFold(n_splits=k).split(X, y)
        else:
            plis = StratifiedKFold(n_splits=k, shuffle=True, random_state=graine).split(X, y)
        std = _standardiser("")
        modele = construire_modele()
        scores = []
        for app, val in plis:
            if kind == "global":
                Xs, _ = std(X, X)
                X_app, X_val = Xs[app], Xs[val]
            elif kind == "brut":
                X_app, X_val = X[app], X[val]
            else:
                X_app, X_val = std(X[app], X[val])
            if kind != "meme_modele":
                modele = construire_modele()
            modele.fit(X_app, y[app], epochs=epochs, batch_size=batch_size, verbose=0)
            if kind == "sur_app":
                scores.append(modele.evaluate(X_app, y[app], verbose=0)[1])
            else:
                scores.append(modele.evaluate(X_val, y[val], verbose=0)[1])
        if kind == "moyenne":
            return float(np.mean(scores))
        return np.array(scores)
    return validation_croisee


def _mlp(kind):
    def construire_mlp(n_entrees, couches, n_sorties, activation_sortie, dropout=0.0,
                       batchnorm=False):
        import keras

        L = keras.layers
        if kind == "fonctionnel":
            x = entree = keras.Input(shape=(n_entrees,))
            for h in couches:
                x = L.Dense(h, activation="relu")(x)
                if batchnorm:
                    x = L.BatchNormalization()(x)
                if dropout > 0:
                    x = L.Dropout(dropout)(x)
            return keras.Model(entree, L.Dense(n_sorties, activation=activation_sortie)(x))
        m = keras.Sequential([keras.Input(shape=(n_entrees,))])
        for h in couches:
            if kind == "bn_avant_relu":  # Dense -> BN -> ReLU: accepted
                m.add(L.Dense(h))
                if batchnorm:
                    m.add(L.BatchNormalization())
                m.add(L.Activation("relu"))
                if dropout > 0:
                    m.add(L.Dropout(dropout))
                continue
            m.add(L.Dense(h, activation="sigmoid" if kind == "sigmoide" else "relu"))
            if kind == "dropout_avant_bn":
                if dropout > 0:
                    m.add(L.Dropout(dropout))
                if batchnorm:
                    m.add(L.BatchNormalization())
                continue
            if batchnorm and kind != "sans_bn":
                m.add(L.BatchNormalization())
            if dropout > 0 and kind != "sans_dropout":
                m.add(L.Dropout(0.5 if kind == "taux_fixe" else dropout))
        act = "softmax" if kind == "sortie_softmax" else activation_sortie
        m.add(L.Dense(n_sorties, activation=act))
        if kind == "dropout_sortie" and dropout > 0:
            m.add(L.Dropout(dropout))
        return m
    return construire_mlp


# -- mutants: models built here -------------------------------------------------------------------
def _sequentiel(keras, n_in, couches, sortie, act_sortie, **compile_args):
    L = keras.layers
    m = keras.Sequential([keras.Input((n_in,))] + [L.Dense(h, activation="relu") for h in couches]
                         + [L.Dense(sortie, activation=act_sortie)])
    if compile_args:
        m.compile(**compile_args)
    return m


def _copie(keras, modele, **changes):
    """The master's trained model with one thing changed (its weights are kept)."""
    config = modele.get_config()
    for layer in config["layers"]:
        cls = layer["class_name"]
        if cls == "Dense" and layer["config"]["name"] == modele.layers[-1].name:
            layer["config"].update(changes.get("sortie", {}))
    clone = keras.Sequential.from_config(config)
    clone.set_weights(modele.get_weights())
    if "compile" in changes:
        clone.compile(**changes["compile"])
    return clone


def _memorise_test(keras):
    """A 64 → 450 → 10 network that recognises the 450 test digits by heart (nearest test
    image): trained on the test set, in effect."""
    X_train, X_test, _, y_test = ref.charger_chiffres()
    T = ref._scaler(X_train).transform(X_test)
    L = keras.layers
    m = keras.Sequential([keras.Input((64,)), L.Dense(len(T)), L.Softmax(),
                          L.Dense(10, use_bias=False)])
    m.layers[0].set_weights([20 * T.T.astype("float32"),
                             (-10 * (T ** 2).sum(axis=1)).astype("float32")])
    m.layers[2].set_weights([np.eye(10, dtype="float32")[y_test]])
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


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
    assert "%matplotlib inline" in first.source and "from tp2_reference import" in first.source
    assert 'os.environ.setdefault("KERAS_BACKEND"' in first.source
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            continue
        assert meta["schema_version"] == 3 and {"grade", "solution", "locked"} <= set(meta)
        if meta["solution"]:
            assert cell.cell_type == "code"
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        if cell.cell_type == "code" and not meta["grade"]:
            _assert_keras_calls_are_silent(cell.source, meta["grade_id"])


def _assert_keras_calls_are_silent(source, where):
    """model.fit / predict / evaluate on a model variable: verbose=0 (no progress bar on
    stderr while grading)."""
    tree = ast.parse(without_magics(source))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("fit", "predict", "evaluate")
                and isinstance(node.func.value, ast.Name)):
            verbose = [k for k in node.keywords if k.arg == "verbose"]
            assert verbose and isinstance(verbose[0].value, ast.Constant) \
                and verbose[0].value.value == 0, (where, ast.unparse(node)[:80])


def test_targets_defined_by_master():
    ns = trained_ns()
    for chk in ref.CHECKS.values():
        for target in chk.targets:
            assert target in ns, target


def test_reference_module_import_is_cheap():
    code = ("import sys, tp2_reference; heavy = [m for m in ('keras', 'tensorflow', 'torch', "
            "'sklearn', 'matplotlib') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=HERE, env={"PYTHONPATH": f"{ROOT}:{HERE}", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]" and out.stderr == ""


def test_preparer_keras_is_silent_and_reproducible():
    code = ("import os; os.environ['KERAS_BACKEND'] = {b!r}\n"
            "import tp2_reference as r\nk = r.preparer_keras(3)\nimport numpy as np\n"
            "def run():\n    k.utils.set_random_seed(3)\n"
            "    m = k.Sequential([k.Input((4,)), k.layers.Dense(3), k.layers.Dense(1)])\n"
            "    m.compile('adam', 'mse')\n"
            "    m.fit(np.ones((8, 4)), np.ones(8), epochs=2, verbose=0)\n"
            "    return m.get_weights()[0]\n"
            "print(k.backend.backend(), bool(np.array_equal(run(), run())))")
    for backend in ("tensorflow", "torch"):
        out = subprocess.run([sys.executable, "-c", code.format(b=backend)], capture_output=True,
                             text=True, check=True, cwd=HERE,
                             env={"PYTHONPATH": f"{ROOT}:{HERE}", "PATH": os.environ["PATH"],
                                  "HOME": os.environ.get("HOME", "/tmp")})
        assert out.stdout.split() == [backend, "True"]
        assert out.stderr == "", out.stderr[:500]


# ===============================================================================================
# The master passes
# ===============================================================================================
@pytest.mark.parametrize("hidden", [False, True], ids=["public", "cache"])
@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_master_passes(name, hidden):
    status, message = judge(name, trained_ns(), hidden=hidden)
    assert status == PASSED, message


@pytest.mark.parametrize("seed", [1, 2])
def test_master_passes_other_hidden_seeds(seed):
    ns = trained_ns()
    for name in ref.CHECKS:
        status, message = judge(name, ns, hidden=True, seed=seed)
        assert status == PASSED, (name, message)


# ===============================================================================================
# Wrong functions are rejected
# ===============================================================================================
MUTANTS = {
    "standardiser": [
        ("moyenne et écart-type sur train + test", _standardiser("tout"), "fuite"),
        ("test standardisé avec ses propres statistiques", _standardiser("propre"), "PROPRE"),
        ("écart-type corrigé ddof=1", _standardiser("ddof1"), "ddof"),
        ("centrage sans réduction", _standardiser("centre"), "réduire"),
        ("par ligne au lieu de par colonne", _standardiser("lignes"), "LIGNE"),
        ("une seule sortie", _standardiser("un"), "couple"),
    ],
    "nombre_parametres_mlp": [
        ("sans biais", _parametres("sans_biais"), "biais"),
        ("biais côté entrée", _parametres("biais_entree"), "h_i"),
        ("dernière couche oubliée", _parametres("sans_sortie"), "dernière"),
        ("neurones au lieu de paramètres", _parametres("neurones"), "neurones"),
        ("(h_i + 1)(h_(i+1) + 1)", _parametres("plus_un"), "biais de trop"),
    ],
    "nombre_mises_a_jour": [
        ("arrondi inférieur", _mises_a_jour("plancher"), "SUPÉRIEUR"),
        ("division réelle", _mises_a_jour("reel"), "entier"),
        ("une seule époque", _mises_a_jour("une_epoque"), "UNE époque"),
    ],
    "arret_precoce": [
        ("égalité comptée comme amélioration", _arret("egalite"), "égalité"),
        ("une époque de trop", _arret("tard"), "de trop"),
        ("dernière époque au lieu de la meilleure", _arret("derniere"), "dernière"),
        ("meilleure époque comptée à partir de 1", _arret("base1"), "décalée"),
        ("ne s'arrête jamais", _arret("jamais"), None),
    ],
    "validation_croisee": [
        ("même modèle pour tous les plis", _validation("meme_modele"), "CHAQUE pli"),
        ("standardisation sur toutes les données", _validation("global"), "toutes les données"),
        ("pas de standardisation", _validation("brut"), "non standardisées"),
        ("KFold au lieu de StratifiedKFold", _validation("kfold"), "StratifiedKFold"),
        ("plis non mélangés", _validation("ordre"), "shuffle"),
        ("exactitude sur les plis d'apprentissage", _validation("sur_app"), "VALIDATION"),
        ("moyenne au lieu des k scores", _validation("moyenne"), "scores"),
    ],
    "construire_mlp": [
        ("Dropout après la sortie", _mlp("dropout_sortie"), "après la couche de sortie"),
        ("Dropout oublié", _mlp("sans_dropout"), "Dropout"),
        ("taux de Dropout fixe", _mlp("taux_fixe"), "Dropout(0.5)"),
        ("BatchNormalization oubliée", _mlp("sans_bn"), "BatchNormalization"),
        ("Dropout avant BatchNormalization", _mlp("dropout_avant_bn"), "après l'activation"),
        ("activations cachées sigmoïdes", _mlp("sigmoide"), "relu"),
        ("sortie toujours softmax", _mlp("sortie_softmax"), "activation de sortie"),
    ],
}
FUNCTION_TARGET = {"standardiser": "standardiser", "nombre_parametres_mlp": "nombre_parametres_mlp",
                   "nombre_mises_a_jour": "nombre_mises_a_jour", "arret_precoce": "arret_precoce",
                   "validation_croisee": "validation_croisee", "construire_mlp": "construire_mlp"}


def _overrides(name, fn):
    extra = {FUNCTION_TARGET[name]: fn}
    return extra


MUTANT_CASES = [pytest.param(name, fn, words, id=f"{name}-{label}")
                for name, mutants in MUTANTS.items() for label, fn, words in mutants]


@pytest.mark.parametrize("name,fn,words", MUTANT_CASES)
def test_mutant_rejected(name, fn, words):
    ns = master_ns(**_overrides(name, fn))
    statuses = [judge(name, ns, hidden=h) for h in (False, True)]
    failed = [(s, m) for s, m in statuses if s == FAILED]
    assert failed, statuses
    if words:
        assert any(words in m for _, m in failed), statuses


def test_zero_std_column_gives_nan_diagnostic():
    status, message = judge("standardiser", master_ns(standardiser=_standardiser("zero")),
                            hidden=True)
    assert status == FAILED and "écart-type nul" in message


@pytest.mark.parametrize("kind", ["bn_avant_relu", "fonctionnel"])
def test_equivalent_builders_accepted(kind):
    ns = master_ns(construire_mlp=_mlp(kind))
    for hidden in (False, True):
        status, message = judge("construire_mlp", ns, hidden=hidden)
        assert status == PASSED, message


def test_every_check_rejects_at_least_three_mutants():
    counts = {name: len(m) for name, m in MUTANTS.items()}
    counts.update({name: len(MODEL_MUTANTS[name]) for name in MODEL_CHECKS})
    assert set(counts) == set(ref.CHECKS)
    assert all(n >= 3 for n in counts.values()), counts


# ===============================================================================================
# Wrong models are rejected (built here: untrained, wrong output, wrong loss, leaked test set…)
# ===============================================================================================
def _diapo(keras, kind):
    L = keras.layers
    units = [(64, "relu"), (128, "relu"), (1, None)] if kind == "architecture" else \
        [(128, "relu"), (64, "relu"), (1, None)]
    m = keras.Sequential([keras.Input((20,))] + [L.Dense(u, activation=a) for u, a in units])
    m.compile(optimizer="adam" if kind == "adam" else "rmsprop",
              loss="mae" if kind == "mae" else "mse", metrics=["mae", "mse"])
    if kind in ("non_entraine_iterations", "architecture"):
        m.optimizer.iterations.assign(320)  # claims fit(batch_size=64, epochs=20)…
    if kind == "deux_fits":
        m.optimizer.iterations.assign(640)
    return m


MODEL_MUTANTS = {
    "modele_diapo": [
        ("architecture 64 puis 128", lambda k, ns: _diapo(k, "architecture"), "couches Dense"),
        ("optimiseur adam", lambda k, ns: _diapo(k, "adam"), "rmsprop"),
        ("perte mae", lambda k, ns: _diapo(k, "mae"), "loss='mse'"),
        ("fit lancé deux fois", lambda k, ns: _diapo(k, "deux_fits"), "mises à jour"),
        ("non entraîné (compteur falsifié)", lambda k, ns: _diapo(k, "non_entraine_iterations"),
         "R²"),
        ("non entraîné", lambda k, ns: _diapo(k, "non_entraine"), "mises à jour"),
    ],
    "modele_cancer": [
        ("non entraîné", lambda k, ns: _sequentiel(k, 30, [32, 16], 1, "sigmoid",
                                                   optimizer="adam", loss="binary_crossentropy"),
         "exactitude"),
        ("sortie linéaire", lambda k, ns: _copie(k, ns["modele_cancer"],
                                                 sortie={"activation": "linear"}), "sigmoid"),
        ("perte mse", lambda k, ns: _copie(k, ns["modele_cancer"],
                                           compile={"optimizer": "adam", "loss": "mse"}),
         "binary_crossentropy"),
        ("deux sorties softmax", lambda k, ns: _sequentiel(k, 30, [8], 2, "softmax",
                                                           optimizer="adam",
                                                           loss="categorical_crossentropy"),
         "UNE sortie"),
        ("non compilé", lambda k, ns: _copie(k, ns["modele_cancer"]), "compilé"),
        ("mauvaise entrée", lambda k, ns: _sequentiel(k, 20, [8], 1, "sigmoid", optimizer="adam",
                                                      loss="binary_crossentropy"), "entrée"),
    ],
    "modele_diabete": [
        ("sortie relu", lambda k, ns: _copie(k, ns["modele_diabete"],
                                             sortie={"activation": "relu"},
                                             compile={"optimizer": "adam", "loss": "mse"}),
         "activation"),
        ("sortie sigmoïde", lambda k, ns: _copie(k, ns["modele_diabete"],
                                                 sortie={"activation": "sigmoid"},
                                                 compile={"optimizer": "adam", "loss": "mse"}),
         "activation"),
        ("non entraîné", lambda k, ns: _sequentiel(k, 10, [16, 8], 1, "linear", optimizer="adam",
                                                   loss="mse"), "R²"),
        ("perte d'entropie croisée", lambda k, ns: _copie(k, ns["modele_diabete"], compile={
            "optimizer": "adam", "loss": "binary_crossentropy"}), "mse"),
        ("cible non standardisée", lambda k, ns: _decale(k, ns["modele_diabete"], 150.0),
         "CENTRÉE-RÉDUITE"),
    ],
    "modele_chiffres": [
        ("sortie linéaire", lambda k, ns: _copie(k, ns["modele_chiffres"],
                                                 sortie={"activation": "linear"},
                                                 compile={"optimizer": "adam",
                                                          "loss": "categorical_crossentropy"}),
         "softmax"),
        ("sortie sigmoïde", lambda k, ns: _copie(k, ns["modele_chiffres"],
                                                 sortie={"activation": "sigmoid"},
                                                 compile={"optimizer": "adam",
                                                          "loss": "categorical_crossentropy"}),
         "softmax"),
        ("non entraîné", lambda k, ns: _sequentiel(k, 64, [128, 64], 10, "softmax",
                                                   optimizer="adam",
                                                   loss="categorical_crossentropy"),
         "exactitude"),
        ("perte mse", lambda k, ns: _copie(k, ns["modele_chiffres"],
                                           compile={"optimizer": "adam", "loss": "mse"}),
         "categorical_crossentropy"),
        ("appris sur l'ensemble de test", lambda k, ns: _memorise_test(k), "données de test"),
        ("une seule sortie", lambda k, ns: _sequentiel(k, 64, [8], 1, "sigmoid", optimizer="adam",
                                                       loss="mse"), "10"),
    ],
}


def _decale(keras, modele, decalage):
    clone = _copie(keras, modele, compile={"optimizer": "adam", "loss": "mse"})
    w = clone.get_weights()
    w[-1] = w[-1] + decalage
    clone.set_weights(w)
    return clone


MODEL_MUTANT_CASES = [pytest.param(name, make, words, id=f"{name}-{label}")
                      for name, mutants in MODEL_MUTANTS.items() for label, make, words in mutants]


@pytest.mark.parametrize("name,make,words", MODEL_MUTANT_CASES)
def test_model_mutant_rejected(keras, name, make, words):
    ns = trained_ns()
    mutant = make(keras, ns)
    status, message = judge(name, {**ns, ref.CHECKS[name].targets[0]: mutant})
    assert status == FAILED, (status, message)
    assert words in message, message


# ===============================================================================================
# Protocol robustness: stubs, missing names, objects that cheat, errors
# ===============================================================================================
def _stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("name", sorted(set(ref.CHECKS) - set(MODEL_CHECKS)))
def test_stub_is_incomplete(name):
    ns = master_ns(**{t: _stub for t in ref.CHECKS[name].targets})
    status, message = judge(name, ns)
    assert status == INCOMPLETE and "NotImplementedError" in message


@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_missing_target_is_incomplete(name):
    ns = master_ns()
    for t in ref.CHECKS[name].targets:
        ns.pop(t, None)
    status, message = judge(name, ns)
    assert status == INCOMPLETE and "n'est pas défini" in message


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


@pytest.mark.parametrize("name", sorted(set(ref.CHECKS) - set(MODEL_CHECKS)))
def test_lying_or_broken_answers_get_nothing(name):
    target = ref.CHECKS[name].targets[0]
    for answer in (lambda *a, **k: AlwaysEqual(), lambda *a, **k: float("nan"),
                   lambda *a, **k: "11009", lambda *a, **k: np.zeros((3, 3)),
                   lambda *a, **k: (np.nan, np.nan)):
        status, _ = judge(name, master_ns(**{target: answer}))
        assert status in (FAILED, ERROR), (answer, status)


class FakeModel:
    """Not a Keras model, but answers to_json with a perfect-looking architecture."""

    def __init__(self, real):
        self.real = real

    def to_json(self):
        return self.real.to_json()

    def get_weights(self):
        return [np.full_like(w, np.nan) for w in self.real.get_weights()]


@pytest.mark.parametrize("name", MODEL_CHECKS)
def test_lying_models_get_nothing(keras, name):
    ns = trained_ns()
    real = ns[ref.CHECKS[name].targets[0]]
    for fake in (FakeModel(real), "modele", None, 0.97):
        status, message = judge(name, {**ns, ref.CHECKS[name].targets[0]: fake})
        assert status in (FAILED, ERROR), (fake, status, message)


def test_models_with_unsafe_or_foreign_layers_are_refused(keras):
    ns = trained_ns()
    L = keras.layers
    lam = keras.Sequential([keras.Input((64,)), L.Lambda(lambda x: x * 1.0), L.Dense(10)])
    status, message = judge("modele_chiffres", {**ns, "modele_chiffres": lam})
    assert status == FAILED and "Lambda" in message
    geant = keras.Sequential([keras.Input((64,)), L.Dense(4096), L.Dense(10)])
    status, message = judge("modele_chiffres", {**ns, "modele_chiffres": geant})
    assert status == FAILED and "limites" in message
