"""Mutation tests of TP3's checks (tp3_reference.CHECKS).

The instructors' implementation comes from the master notebook itself: its imports cell, its
solution cells that only define functions and, for the trained CNN, the cells that load the
digits and train it (executed once per test module, about ten seconds). Every check must accept
it, on public and hidden cases, and reject plausible wrong answers: functions written below (one
line naming each mistake) and models built directly here (untrained, wrong output, too big,
without convolution, memorising the test set).

The masters and starters are graded end to end by tests/test_course.py, under each Keras backend
that course.toml declares for this TP (tensorflow and torch).
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (str(ROOT), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import nbformat  # noqa: E402

import tp3_reference as ref  # noqa: E402
from master_code import Master, without_magics  # noqa: E402
from grader.checks import ERROR, FAILED, INCOMPLETE, PASSED, run_in_process  # noqa: E402

MASTER = Master(ROOT / "solutions" / "tp3_cnn.ipynb")
master_ns = MASTER.ns
TRAINING_CELLS = ("sobel", "sol_cnn_chiffres")


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
def _mlp_image(kind):
    def parametres_mlp_image(h, w):
        s = h * w
        if kind == "int32":
            s = np.int32(s)
            t = [s, s // np.int32(2), s // np.int32(4), np.int32(1)]
            total = np.int32(0)
            with np.errstate(over="ignore"):
                for a, b in zip(t[:-1], t[1:]):
                    total = np.int32(total + a * b + b)
            return total
        if kind == "moitie_dims":
            q = (h // 2) * (w // 2)
            t = [s, q, q // 4, 1]
        else:
            t = [s, s // 2, s // 4] + ([] if kind == "sans_sortie" else [1])
        paires = list(zip(t[:-1], t[1:]))
        if kind == "sans_biais":
            return sum(a * b for a, b in paires)
        if kind == "neurones":
            return sum(t)
        return sum(a * b + b for a, b in paires)
    return parametres_mlp_image


def _conv2d(kind):
    def convolution2d(image, noyau, padding=0, stride=1):
        image = np.asarray(image, float)
        noyau = np.asarray(noyau, float)
        if kind == "retourne":
            noyau = noyau[::-1, ::-1]
        if kind == "transpose":
            noyau = noyau.T
        p = 0 if kind == "sans_padding" else padding
        s = 1 if kind == "sans_stride" else stride
        if kind == "un_cote":
            image = np.pad(image, ((0, p), (0, p)))
        else:
            image = np.pad(image, p)
        ky, kx = noyau.shape
        h_out = (image.shape[0] - ky) // s + 1 - (kind == "une_de_moins")
        w_out = (image.shape[1] - kx) // s + 1 - (kind == "une_de_moins")
        out = np.zeros((max(h_out, 0), max(w_out, 0)))
        for i in range(out.shape[0]):
            for j in range(out.shape[1]):
                out[i, j] = np.sum(image[i * s:i * s + ky, j * s:j * s + kx] * noyau)
        return out
    return convolution2d


def _couche(kind):
    conv = _conv2d("")

    def couche_convolution(images, noyaux, biais, padding=0, stride=1):
        ky, kx, c_in, f_out = noyaux.shape
        if kind == "transposes":
            noyaux = noyaux.transpose(1, 0, 2, 3)
        if kind == "retournes":
            noyaux = noyaux[::-1, ::-1]
        canaux = range(1) if kind == "premier_canal" else range(c_in)
        cartes = []
        for f in range(f_out):
            if kind == "biais_par_canal":
                carte = sum(conv(images[:, :, c], noyaux[:, :, c, f], padding, stride) + biais[f]
                            for c in canaux)
            else:
                carte = sum(conv(images[:, :, c], noyaux[:, :, c, f], padding, stride)
                            for c in canaux)
                if kind != "sans_biais":
                    carte = carte + biais[f]
            cartes.append(carte)
        out = np.stack(cartes, axis=-1)
        if kind == "relu":
            out = np.maximum(out, 0)
        if kind == "canaux_premiers":
            out = out.transpose(2, 0, 1)
        return out
    return couche_convolution


def _pool(kind):
    def max_pooling(carte, taille=2, stride=None):
        s = stride if stride is not None else (1 if kind == "stride_un" else taille)
        h, w, c = carte.shape
        if kind == "bords":
            h_out, w_out = -(-(h - taille) // s) + 1, -(-(w - taille) // s) + 1
        else:
            h_out, w_out = (h - taille) // s + 1, (w - taille) // s + 1
        out = np.zeros((h_out, w_out, c))
        for i in range(h_out):
            for j in range(w_out):
                fen = carte[i * s:i * s + taille, j * s:j * s + taille, :]
                if kind == "moyenne":
                    out[i, j] = fen.mean(axis=(0, 1))
                elif kind == "minimum":
                    out[i, j] = fen.min(axis=(0, 1))
                elif kind == "canaux":
                    out[i, j] = fen.max()
                else:
                    out[i, j] = fen.max(axis=(0, 1))
        if kind == "2d":
            return out.max(axis=2)
        return out
    return max_pooling


def _taille(kind):
    def taille_sortie(w_in, k, p=0, s=1):
        if kind == "reel":
            return (w_in - k + 2 * p) / s + 1
        if kind == "plafond":
            return -(-(w_in - k + 2 * p) // s) + 1
        if kind == "sans_plus_un":
            return (w_in - k + 2 * p) // s
        if kind == "un_p":
            return (w_in - k + p) // s + 1
        if kind == "sans_stride":
            return w_in - k + 2 * p + 1
        if kind == "same":
            return -(-w_in // s)
        return (w_in - k + 2 * p) // s + 1
    return taille_sortie


def _params_conv(kind):
    def nombre_parametres_conv(kx, ky, i, f):
        if kind == "sans_biais":
            return kx * ky * i * f
        if kind == "biais_par_canal":
            return (kx * ky + 1) * i * f
        if kind == "sans_i":
            return (kx * ky + 1) * f
        if kind == "carre":
            return (kx * kx * i + 1) * f
        if kind == "un_biais":
            return kx * ky * i * f + 1
        return (kx * ky * i + 1) * f
    return nombre_parametres_conv


def _archi(kind):
    taille = _taille("")

    def resume_architecture(forme_entree, couches):
        forme = tuple(forme_entree)
        out = []
        for couche in couches:
            if couche[0] == "conv":
                _, f, (ky, kx), p, s = couche
                i = forme_entree[2] if kind == "i_image" else forme[2]
                params = (kx * ky * i + 1) * f
                p = 0 if kind == "sans_padding" else p
                forme = (taille(forme[0], ky, p, s), taille(forme[1], kx, p, s), f)
                if kind == "canaux_premiers":
                    out.append(((f, forme[0], forme[1]), params))
                    continue
            elif couche[0] == "pool":
                _, k, s = couche
                params = (k * k * forme[2] + 1) * forme[2] if kind == "pool_params" else 0
                forme = (taille(forme[0], k, 0, s), taille(forme[1], k, 0, s), forme[2])
            elif couche[0] == "flatten":
                params = 0
                forme = (sum(forme),) if kind == "flatten_somme" else (int(np.prod(forme)),)
            else:
                n = couche[1]
                params = forme[0] * n + (0 if kind == "dense_sans_biais" else n)
                forme = (n,)
            out.append((forme, params))
        return out
    return resume_architecture


MUTANTS = {
    "parametres_mlp_image": [
        ("sans biais", _mlp_image("sans_biais"), "biais"),
        ("sans couche de sortie", _mlp_image("sans_sortie"), "sortie"),
        ("(h/2)(w/2) neurones", _mlp_image("moitie_dims"), "s/2"),
        ("neurones au lieu de paramètres", _mlp_image("neurones"), "neurones"),
        ("entiers 32 bits", _mlp_image("int32"), "32 bits"),
    ],
    "convolution2d": [
        ("noyau retourné (convolution mathématique)", _conv2d("retourne"), "retourné"),
        ("noyau transposé", _conv2d("transpose"), None),
        ("padding ignoré", _conv2d("sans_padding"), "padding"),
        ("stride ignoré", _conv2d("sans_stride"), "stride"),
        ("une position de moins", _conv2d("une_de_moins"), "dernière position"),
        ("padding d'un seul côté", _conv2d("un_cote"), None),
    ],
    "couche_convolution": [
        ("sans biais", _couche("sans_biais"), "biais"),
        ("biais par canal", _couche("biais_par_canal"), "canal"),
        ("premier canal seulement", _couche("premier_canal"), "premier canal"),
        ("ReLU en trop", _couche("relu"), "activation"),
        ("canaux en premier", _couche("canaux_premiers"), "DERNIER"),
        ("noyaux transposés", _couche("transposes"), "transposés"),
        ("noyaux retournés", _couche("retournes"), "retournés"),
    ],
    "max_pooling": [
        ("moyenne", _pool("moyenne"), "MOYENNE"),
        ("minimum", _pool("minimum"), "MINIMUM"),
        ("stride 1 par défaut", _pool("stride_un"), "stride"),
        ("maximum sur les canaux", _pool("canaux"), "canal"),
        ("fenêtres incomplètes gardées", _pool("bords"), "incomplets"),
        ("sortie 2-D", _pool("2d"), "canaux"),
    ],
    "taille_sortie": [
        ("division réelle", _taille("reel"), "INFÉRIEUR"),
        ("arrondi supérieur", _taille("plafond"), "supérieur"),
        ("sans + 1", _taille("sans_plus_un"), "+ 1"),
        ("p au lieu de 2p", _taille("un_p"), "2p"),
        ("stride ignoré", _taille("sans_stride"), "stride"),
        ("taille « same »", _taille("same"), "same"),
    ],
    "nombre_parametres_conv": [
        ("sans biais", _params_conv("sans_biais"), "biais manquent"),
        ("un biais par canal", _params_conv("biais_par_canal"), "par canal"),
        ("I oublié", _params_conv("sans_i"), "I plans"),
        ("noyau supposé carré", _params_conv("carre"), "non carré"),
        ("un seul biais", _params_conv("un_biais"), "PAR FILTRE"),
    ],
    "resume_architecture": [
        ("pooling avec paramètres", _archi("pool_params"), "AUCUN"),
        ("I de l'image", _archi("i_image"), "PRÉCÉDENTE"),
        ("Flatten en somme", _archi("flatten_somme"), "Flatten"),
        ("Dense sans biais", _archi("dense_sans_biais"), "biais"),
        ("canaux en premier", _archi("canaux_premiers"), "DERNIER"),
        ("padding ignoré", _archi("sans_padding"), "forme de sortie"),
    ],
}


# -- mutants: models built here -------------------------------------------------------------------
def _cnn(keras, couches, loss="sparse_categorical_crossentropy", entree=(8, 8, 1)):
    m = keras.Sequential([keras.Input(entree)] + couches)
    if loss:
        m.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return m


def _copie(keras, modele, activation=None, loss="sparse_categorical_crossentropy"):
    config = modele.get_config()
    if activation:
        config["layers"][-1]["config"]["activation"] = activation
    clone = keras.Sequential.from_config(config)
    clone.set_weights(modele.get_weights())
    if loss:
        clone.compile(optimizer="adam", loss=loss)
    return clone


def _memorise_test(keras):
    """A network with a (neutral) 1×1 convolution that recognises the 450 test digits by heart."""
    _, X_test, _, y_test = ref.charger_chiffres_images()
    T = X_test.reshape(len(X_test), -1)
    L = keras.layers
    m = _cnn(keras, [L.Conv2D(1, 1), L.Flatten(), L.Dense(len(T)), L.Softmax(),
                     L.Dense(10, use_bias=False)])
    m.layers[0].set_weights([np.ones((1, 1, 1, 1), "float32"), np.zeros(1, "float32")])
    m.layers[2].set_weights([40 * T.T.astype("float32"), (-20 * (T ** 2).sum(axis=1)).astype(
        "float32")])
    m.layers[4].set_weights([np.eye(10, dtype="float32")[y_test]])
    return m


def _L(keras):
    return keras.layers


MODEL_MUTANTS = [
    ("sans convolution", lambda k, ns: _cnn(k, [_L(k).Flatten(), _L(k).Dense(32, activation="relu"),
                                                _L(k).Dense(10, activation="softmax")]),
     "convolution"),
    ("trop de paramètres", lambda k, ns: _trop_grand(k, ns), "paramètres"),
    ("non entraîné", lambda k, ns: _cnn(k, [_L(k).Conv2D(8, 3, activation="relu"), _L(k).Flatten(),
                                            _L(k).Dense(10, activation="softmax")]), "exactitude"),
    ("sortie linéaire", lambda k, ns: _copie(k, ns["cnn_chiffres"], activation="linear"),
     "softmax"),
    ("perte mse", lambda k, ns: _copie(k, ns["cnn_chiffres"], loss="mse"), "perte"),
    ("non compilé", lambda k, ns: _copie(k, ns["cnn_chiffres"], loss=None), "compilé"),
    ("appris sur l'ensemble de test", lambda k, ns: _memorise_test(k), "données de test"),
    ("entrée aplatie", lambda k, ns: _cnn(k, [_L(k).Reshape((8, 8, 1)), _L(k).Conv2D(4, 3),
                                              _L(k).Flatten(), _L(k).Dense(10, activation="softmax")],
                                          entree=(64,)), "entrée"),
]


def _trop_grand(keras, ns):
    """The master's CNN with an identity dense layer inserted after Flatten: same predictions,
    same accuracy, but more parameters than the TP2 MLP."""
    L = keras.layers
    master = ns["cnn_chiffres"]
    m = keras.Sequential([keras.Input((8, 8, 1)),
                          L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                          L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                          L.Flatten(), L.Dense(128), L.Dense(10, activation="softmax")])
    w = master.get_weights()
    m.set_weights(w[:4] + [np.eye(128, dtype="float32"), np.zeros(128, "float32")] + w[4:])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
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
    assert "%matplotlib inline" in first.source and "from tp3_reference import" in first.source
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
            tree = ast.parse(without_magics(cell.source))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in ("fit", "predict", "evaluate")
                        and isinstance(node.func.value, ast.Name)):
                    verbose = [k for k in node.keywords if k.arg == "verbose"]
                    assert verbose and verbose[0].value.value == 0, ast.unparse(node)


def test_master_respects_numpy_only():
    from grader.notebooks import numpy_only_violations

    numpy_checks = [c for c in ref.CHECKS.values() if c.numpy_only]
    assert {c.name for c in numpy_checks} == set(ref.CHECKS) - {"cnn_chiffres"}
    assert numpy_only_violations(MASTER.notebook, numpy_checks) == {}


def test_keras_answer_to_a_numpy_exercise_is_refused():
    from grader.notebooks import numpy_only_violations

    nb = nbformat.from_dict(MASTER.notebook)
    cell = next(c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "sol_nombre_parametres_conv")
    cell.source = ("def nombre_parametres_conv(kx, ky, i, f):\n"
                   "    m = keras.Sequential([keras.Input((9, 9, i)), "
                   "keras.layers.Conv2D(f, (ky, kx))])\n    return m.count_params()")
    out = numpy_only_violations(nb, [ref.CHECKS["nombre_parametres_conv"]])
    assert "keras" in out["nombre_parametres_conv"]


def test_targets_defined_by_master():
    ns = trained_ns()
    for chk in ref.CHECKS.values():
        for target in chk.targets:
            assert target in ns, target


def test_reference_module_import_is_cheap():
    code = ("import sys, tp3_reference; heavy = [m for m in ('keras', 'tensorflow', 'torch', "
            "'sklearn', 'matplotlib') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=HERE, env={"PYTHONPATH": f"{ROOT}:{HERE}", "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]" and out.stderr == ""


def test_course_figures():
    ns = master_ns()
    assert ns["parametres_mlp_image"](24, 24) == 207_937
    assert ns["parametres_mlp_image"](512, 512) == 42_949_935_105
    assert ref._mlp_image_keras(24, 24) == 207_937  # the course's figure is Keras's count
    diapo = ns["resume_architecture"]((9, 9, 3), ref._en_tuples(ref.ARCHI_DIAPO["couches"]))
    assert diapo == ref._archi_keras((9, 9, 3), ref.ARCHI_DIAPO["couches"])
    assert ref._parametres_mlp_tp2() == 17_226


# ===============================================================================================
# The master passes
# ===============================================================================================
@pytest.mark.parametrize("hidden", [False, True], ids=["public", "cache"])
@pytest.mark.parametrize("name", sorted(ref.CHECKS))
def test_master_passes(name, hidden):
    ns = trained_ns() if name == "cnn_chiffres" else master_ns()
    status, message = judge(name, ns, hidden=hidden)
    assert status == PASSED, message


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_master_passes_other_hidden_seeds(seed):
    ns = master_ns()
    for name in set(ref.CHECKS) - {"cnn_chiffres"}:
        status, message = judge(name, ns, hidden=True, seed=seed)
        assert status == PASSED, (name, message)


# ===============================================================================================
# Wrong answers are rejected
# ===============================================================================================
MUTANT_CASES = [pytest.param(name, fn, words, id=f"{name}-{label}")
                for name, mutants in MUTANTS.items() for label, fn, words in mutants]


@pytest.mark.parametrize("name,fn,words", MUTANT_CASES)
def test_mutant_rejected(name, fn, words):
    ns = master_ns(**{ref.CHECKS[name].targets[0]: fn})
    statuses = [judge(name, ns, hidden=h) for h in (False, True)]
    failed = [(s, m) for s, m in statuses if s == FAILED]
    assert failed, statuses
    if words:
        assert any(words in m for _, m in failed), statuses


@pytest.mark.parametrize("label,make,words", MODEL_MUTANTS, ids=[m[0] for m in MODEL_MUTANTS])
def test_model_mutant_rejected(keras, label, make, words):
    ns = trained_ns()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mutant = make(keras, ns)
    status, message = judge("cnn_chiffres", {**ns, "cnn_chiffres": mutant})
    assert status == FAILED, (status, message)
    assert words in message, message


def test_every_check_rejects_at_least_three_mutants():
    counts = {name: len(m) for name, m in MUTANTS.items()}
    counts["cnn_chiffres"] = len(MODEL_MUTANTS)
    assert set(counts) == set(ref.CHECKS)
    assert all(n >= 3 for n in counts.values()), counts


# ===============================================================================================
# Protocol robustness: stubs, missing names, objects that cheat
# ===============================================================================================
def _stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("name", sorted(set(ref.CHECKS) - {"cnn_chiffres"}))
def test_stub_is_incomplete(name):
    status, message = judge(name, master_ns(**{t: _stub for t in ref.CHECKS[name].targets}))
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


@pytest.mark.parametrize("name", sorted(set(ref.CHECKS) - {"cnn_chiffres"}))
def test_lying_or_broken_answers_get_nothing(name):
    target = ref.CHECKS[name].targets[0]
    for answer in (lambda *a, **k: AlwaysEqual(), lambda *a, **k: float("nan"),
                   lambda *a, **k: "207937", lambda *a, **k: np.zeros((3, 3)),
                   lambda *a, **k: [((np.nan,), np.nan)]):
        status, _ = judge(name, master_ns(**{target: answer}))
        assert status in (FAILED, ERROR), (name, status)


class FakeModel:
    def __init__(self, real):
        self.real = real

    def to_json(self):
        return self.real.to_json()

    def get_weights(self):
        return [np.full_like(w, np.nan) for w in self.real.get_weights()]


def test_lying_models_get_nothing(keras):
    ns = trained_ns()
    for fake in (FakeModel(ns["cnn_chiffres"]), "cnn", None, 0.99):
        status, message = judge("cnn_chiffres", {**ns, "cnn_chiffres": fake})
        assert status in (FAILED, ERROR), (fake, status, message)
