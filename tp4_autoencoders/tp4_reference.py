"""Reference module of TP4 (auto-encoders, denoising, anomaly detection, VAE, GAN) in PyTorch.

It holds what the students' notebook imports (the digits data, plotting helpers, the scale of
the run, the digits classifier that judges generated samples and its metrics) and the graded
checks (`CHECKS`, `check`). It holds no solution: the oracles are other methods than the ones
the students write (scikit-learn's PCA and ROC AUC, `torch.distributions` for the KL divergence
and the Bernoulli log-likelihood, the analytic derivatives of the GAN losses, eigenvalues for
the Fréchet distance, statistics of many draws for the reparameterisation trick).

Trained networks are never trusted: the kernel only sends their weights (`state_dict` as
arrays); the architectures are imposed by the subject, so the judge rebuilds each network with
NumPy in its own process and measures it itself, on held-out digits and with its own noise:
reconstruction error against PCA, denoising error, held-out ELBO, and the quality of generated
digits judged by a classifier trained here (confidence, class coverage, Fréchet distance on its
hidden layer).

Scale: the environment variable COURSE_SCALE ("quick", the default, for grading on 2 CPU cores;
"full" for a GPU or a patient laptop) sets the training budgets the checks ask for and their
thresholds; the notebook reads the same variable. Every threshold below comes with the figures
measured over several seeds that justify it.

Module-level code stays cheap: torch, scikit-learn, scipy and matplotlib are imported inside the
functions that need them. Every message a student can read is in French.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings

import numpy as np

from grader.checks import Check, Checks, as_array

# The judge imports these in the background while the notebook runs (the verdicts need them).
CHECKS = Checks(judge_imports=("torch", "torch.distributions", "sklearn.decomposition",
                               "sklearn.metrics"))
check = CHECKS.check


# =============================================================================================
# Scale of the run (quick: grading on 2 CPU cores; full: GPU or patient laptop)
# =============================================================================================
def echelle() -> str:
    """"full" when the environment variable COURSE_SCALE says so, else "quick" (the default)."""
    return "full" if os.environ.get("COURSE_SCALE", "quick").strip().lower() == "full" else "quick"


# What the judge demands, per scale. Figures measured on this course's 2-core machine (CPU,
# torch 2.13, one thread, shared with other jobs) with the master's own code and the judge's own
# held-out digits and noise: training seeds 0-4 at the quick scale (generated samples: seeds 0-7,
# each judged on 30 draws of the judge's noise) and 0-2 at the full scale. A student's code that
# consumes random numbers differently behaves like another seed: the thresholds leave room for it.
SEUILS = {
    "quick": {
        # AE 64-128-d, Adam 2e-3, batch 32, 30 epochs: test MSE / PCA MSE = 0.577-0.598 (d = 8,
        # all training digits), 0.629-0.705 (d = 6 or 12, 1000 of them); d = 2: 0.72-0.78,
        # d = 16: 0.70-0.72; untrained: 7.3.
        "epochs_ae": 30, "ratio_acp": 0.85,
        # DAE d = 32, noise 0.5, 30 epochs: 0.0322-0.0339 against the clean digits; a plain AE
        # d = 32 on the same noisy inputs 0.061-0.062, trained with a noisy target 0.071; noisy
        # input 0.25.
        "epochs_dae": 30, "mse_debruitage": 0.045,
        # VAE d = 8, 40 epochs, Adam 5e-3: held-out -ELBO 24.60-24.75 nats; decoder that ignores
        # z (mean image) 27.2, untrained 44.6. Prior samples (seeds 0-7 x 30 draws): coverage 10
        # (smallest class >= 6 %), Fréchet 3.7-5.0, confidence 0.796-0.843.
        "elbo_vae": 26.5, "frechet_vae": 8.0, "couverture_vae": 9, "confiance_vae": 0.70,
        # GAN with label smoothing 0.9 and dropout 0.3, 2500 iterations, batch 128, Adam 1e-3
        # (seeds 0-7 x 30 draws): coverage 9-10 (seeds 1 and 5 leave one digit at 2-3 %),
        # Fréchet 1.95-5.43, confidence 0.817-0.878; plain GAN of the same budget (seeds 0-4):
        # coverage 9-10, Fréchet 4.7-8.0. Collapsed generators: one digit 74.5 (coverage 1), two
        # digits 49.6 (coverage 2), untrained 52 (coverage 1).
        "frechet_gan": 8.0, "couverture_gan": 8, "confiance_gan": 0.75,
    },
    "full": {
        # 200 epochs: ratio 0.450-0.468 (d = 8), 0.522-0.550 (d = 6 or 12 on 1000 digits);
        # d = 2: 0.65-0.70, d = 16: 0.50-0.51.
        "epochs_ae": 200, "ratio_acp": 0.70,
        # 200 epochs: 0.0286-0.0309 (plain AE d = 32 on the noisy inputs: 0.084-0.091).
        "epochs_dae": 200, "mse_debruitage": 0.040,
        # 300 epochs: -ELBO 24.11-24.18, coverage 10, Fréchet 2.63-2.73, confidence 0.845-0.861.
        "elbo_vae": 25.5, "frechet_vae": 5.0, "couverture_vae": 10, "confiance_vae": 0.78,
        # 8000 iterations (81-211 s on this shared CPU, one thread; meant for a GPU), seeds 0-2 x
        # 30 draws: coverage 10 (smallest class >= 7 %), Fréchet 0.76-1.44, confidence
        # 0.876-0.919; plain GAN (one draw per seed) 1.07-2.80.
        "frechet_gan": 3.0, "couverture_gan": 10, "confiance_gan": 0.82,
    },
}


def seuils() -> dict:
    """The thresholds the judge applies at the current scale (to display in the notebook)."""
    return dict(SEUILS[echelle()])


# =============================================================================================
# Data (given to the students)
# =============================================================================================
@functools.lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    return tuple(train_test_split(X, y, test_size=0.25, stratify=y, random_state=0))


def charger_chiffres():
    """The 8x8 digits of scikit-learn (`load_digits`), pixels divided by 16 (in [0, 1]).

    Returns (X_train, X_test, y_train, y_test): X of shapes (1347, 64) and (450, 64), float32;
    y the labels 0-9. The split is fixed (stratified, 25 % test, random_state=0): the judge
    uses the same test images as held-out data.
    """
    return tuple(a.copy() for a in _digits())


# =============================================================================================
# Plotting helpers (given)
# =============================================================================================
def afficher_chiffres(images, n_colonnes=10, titre=None, etiquettes=None, taille=0.7):
    """Show images (array or tensor of shape (n, 64) or (n, 8, 8)) as one mosaic."""
    import matplotlib.pyplot as plt

    images = np.clip(_to_numpy(images).reshape(-1, 8, 8), 0.0, 1.0)
    n = len(images)
    n_colonnes = max(1, min(n_colonnes, n))
    n_lignes = int(np.ceil(n / n_colonnes))
    grille = np.full((9 * n_lignes + 1, 9 * n_colonnes + 1), np.nan)
    for i, image in enumerate(images):
        ligne, colonne = divmod(i, n_colonnes)
        grille[1 + 9 * ligne:9 * ligne + 9, 1 + 9 * colonne:9 * colonne + 9] = image
    fig, ax = plt.subplots(figsize=(taille * n_colonnes, taille * n_lignes + (0.5 if titre else 0.1)))
    cmap = plt.get_cmap("gray_r").copy()
    cmap.set_bad("white")
    ax.imshow(grille, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    if etiquettes is not None:
        for i, etiquette in enumerate(etiquettes[:n]):
            ligne, colonne = divmod(i, n_colonnes)
            ax.text(9 * colonne + 1.2, 9 * ligne + 2.2, str(etiquette), color="tab:red", fontsize=8)
    ax.axis("off")
    if titre:
        ax.set_title(titre)
    plt.show()


def tracer_latent(Z, y, ax=None, titre=None):
    """Scatter a 2-D latent code Z (n, 2) coloured by the digit labels y."""
    import matplotlib.pyplot as plt

    Z = _to_numpy(Z)
    ax = ax or plt.gca()
    points = ax.scatter(Z[:, 0], Z[:, 1], c=np.asarray(y), cmap="tab10", s=8, vmin=-0.5,
                        vmax=9.5)
    plt.colorbar(points, ax=ax, ticks=range(10), label="chiffre")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if titre:
        ax.set_title(titre)
    return ax


def tracer_repartition(images, ax=None, titre=None):
    """Bar plot of the classes the judge's classifier assigns to generated images."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    ax.bar(range(10), repartition_classes(images), color="tab:blue")
    ax.axhline(0.1, color="k", linestyle=":", label="répartition des vraies données")
    ax.set_xticks(range(10))
    ax.set_xlabel("classe prédite")
    ax.set_ylabel("fraction des échantillons")
    ax.legend(loc="upper right")
    if titre:
        ax.set_title(titre)
    return ax


# =============================================================================================
# The digits classifier that judges generated samples (given)
# =============================================================================================
def _to_numpy(x) -> np.ndarray:
    """A tensor (any device, with or without grad) or an array-like as a float64 array."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        if getattr(x, "dtype", None) is not None and "complex" in str(x.dtype):
            raise TypeError("tenseur complexe")
        x = x.double().numpy()
    return np.asarray(x, dtype=float)


@functools.lru_cache(maxsize=1)
def _classifieur():
    """MLP 64-100-10 (ReLU) trained once with a fixed seed, on CPU, one thread, in float32:
    0.973 accuracy on the held-out digits. Returns its parameters as float64 arrays."""
    import torch
    import torch.nn.functional as F

    Xtr, _, ytr, _ = _digits()
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with torch.random.fork_rng(devices=[]), torch.enable_grad():
            torch.manual_seed(0)
            g = torch.Generator().manual_seed(0)
            net = torch.nn.Sequential(torch.nn.Linear(64, 100), torch.nn.ReLU(),
                                      torch.nn.Linear(100, 10))
            opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
            X, y = torch.tensor(Xtr), torch.tensor(ytr)
            for _ in range(40):
                perm = torch.randperm(len(X), generator=g)
                for i in range(0, len(X), 64):
                    idx = perm[i:i + 64]
                    loss = F.cross_entropy(net(X[idx]), y[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
    finally:
        torch.set_num_threads(threads)
    return tuple(p.detach().double().numpy() for p in net.parameters())


def _caracteristiques(X) -> np.ndarray:
    W1, b1, _, _ = _classifieur()
    return np.maximum(np.asarray(X, dtype=float) @ W1.T + b1, 0.0)


def probabilites_classes(images) -> np.ndarray:
    """Class probabilities (n, 10) given by the judge's classifier to images (n, 64)."""
    X = _to_numpy(images).reshape(-1, 64)
    _, _, W2, b2 = _classifieur()
    logits = _caracteristiques(X) @ W2.T + b2
    logits -= logits.max(axis=1, keepdims=True)
    P = np.exp(logits)
    return P / P.sum(axis=1, keepdims=True)


def repartition_classes(images) -> np.ndarray:
    """Fraction of the images assigned to each class 0-9 by the judge's classifier."""
    pred = probabilites_classes(images).argmax(axis=1)
    return np.bincount(pred, minlength=10) / max(len(pred), 1)


def _frechet_gaussiennes(mu1, S1, mu2, S2) -> float:
    """‖mu1 − mu2‖² + Tr(S1 + S2 − 2 (S1 S2)^½), with Tr (S1 S2)^½ = Σ √λ(S1^½ S2 S1^½) (the
    eigenvalues of a symmetric PSD matrix: no complex square root, no warning)."""
    w, V = np.linalg.eigh(S1)
    r = (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T
    lam = np.linalg.eigvalsh(r @ S2 @ r)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(S1) + np.trace(S2)
                 - 2.0 * np.sum(np.sqrt(np.clip(lam, 0.0, None))))


@functools.lru_cache(maxsize=1)
def _stats_reference():
    F = _caracteristiques(_digits()[1])
    return F.mean(axis=0), np.cov(F, rowvar=False)


def evaluer_echantillons(images) -> dict:
    """The judge's metrics of generated digits (n, 64) with pixels in [0, 1]:

    - confiance: mean of the classifier's largest probability (real test digits: 0.965);
    - couverture: number of classes receiving at least 2 % of the samples (real digits: 10);
    - frechet: Fréchet distance between Gaussians fitted to the classifier's hidden layer
      (100 ReLU units) on the samples and on the 450 test digits (450 training digits: 0.3-0.4,
      a Gaussian fit of the data: 2.4, uniform noise: 24);
    - repartition: fraction of samples per predicted class.
    """
    X = np.clip(_to_numpy(images).reshape(-1, 64), 0.0, 1.0)
    if len(X) < 2:
        raise ValueError("au moins deux images sont nécessaires")
    P = probabilites_classes(X)
    rep = np.bincount(P.argmax(axis=1), minlength=10) / len(X)
    F = _caracteristiques(X)
    mu, S = _stats_reference()
    return {"confiance": float(P.max(axis=1).mean()), "couverture": int(np.sum(rep >= 0.02)),
            "frechet": max(0.0, _frechet_gaussiennes(F.mean(axis=0), np.cov(F, rowvar=False),
                                                     mu, S)),  # not −0.00 for the test digits
            "repartition": rep}


# =============================================================================================
# Helpers shared by the checks
# =============================================================================================
def _quiet(fn):
    """Run the student's code without warnings on stderr (any stderr output in a test cell
    costs the cell its points)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)

    return wrapper


def _fmt(x, digits=4):
    x = np.asarray(x, dtype=float)
    if x.ndim == 0:
        return f"{float(x):.{digits}g}"
    return np.array2string(x, precision=digits, max_line_width=120, threshold=12)


def _close(a, b, rtol=1e-5, atol=1e-7):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return False
    scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
    return bool(np.all(np.abs(a - b) <= rtol * np.abs(b) + atol * scale))


def _scalar(answer, key, what):
    arr = as_array(answer, key, what=what)
    if arr.size != 1:
        raise AssertionError(f"{what} : un nombre est attendu, pas un tableau de forme {arr.shape}")
    return float(arr.reshape(()))


def _torch():
    import torch

    return torch


@contextlib.contextmanager
def _graine(graine, device=None):
    """Seed torch for the student's code without touching the notebook's own random state."""
    torch = _torch()
    devices = []
    if device is not None and torch.device(device).type == "cuda":
        devices = [torch.device(device).index or 0]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(graine))
        yield


def _tenseur(x, device="cpu", grad=False):
    torch = _torch()
    t = torch.tensor(np.asarray(x), dtype=torch.float32, device=device)
    return t.requires_grad_(True) if grad else t


def _poids(modele) -> dict:
    """Kernel side: a network's state_dict as plain arrays (keys "w:<name>")."""
    etat = modele.state_dict()
    return {f"w:{k}": _to_numpy(v) for k, v in etat.items()}


def _verifier_poids(answer, attendu: dict, quoi: str, conseils=None) -> dict:
    """Judge side: the weights sent by the kernel, checked against the imposed architecture
    (names and shapes of the state_dict). Returns {name: float64 array}."""
    recus = {k[2:]: v for k, v in answer.items() if k.startswith("w:")}
    if not recus:
        raise AssertionError(f"{quoi} : aucun paramètre reçu — est-ce bien un nn.Module ?")
    manquants = [k for k in attendu if k not in recus]
    en_trop = [k for k in recus if k not in attendu]
    if manquants or en_trop:
        msg = f"{quoi} : l'architecture ne suit pas l'énoncé"
        if manquants:
            msg += f" ; paramètres attendus absents : {', '.join(manquants[:6])}"
        if en_trop:
            msg += f" ; paramètres inattendus : {', '.join(en_trop[:6])}"
        raise AssertionError(msg + " (respectez les noms des attributs et l'ordre des couches "
                             "de nn.Sequential)")
    out = {}
    for k, forme in attendu.items():
        v = recus[k]
        if isinstance(v, str):
            raise AssertionError(f"{quoi} : paramètre {k} illisible")
        v = np.asarray(v, dtype=float)
        if v.shape != tuple(forme):
            conseil = (conseils or {}).get(k, "")
            raise AssertionError(f"{quoi} : {k} de forme {v.shape} au lieu de {tuple(forme)}"
                                 + (f" — {conseil}" if conseil else ""))
        if not np.all(np.isfinite(v)):
            raise AssertionError(f"{quoi} : {k} contient des NaN ou des valeurs infinies "
                                 "(l'entraînement a divergé ?)")
        out[k] = v
    return out


def _relu(x):
    return np.maximum(x, 0.0)


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _lineaire(W, nom, x):
    return x @ W[f"{nom}.weight"].T + W[f"{nom}.bias"]


def _forme_ae(d):
    return {"encodeur.0.weight": (128, 64), "encodeur.0.bias": (128,),
            "encodeur.2.weight": (d, 128), "encodeur.2.bias": (d,),
            "decodeur.0.weight": (128, d), "decodeur.0.bias": (128,),
            "decodeur.2.weight": (64, 128), "decodeur.2.bias": (64,)}


def _conseils_latent(d):
    msg = f"la dimension latente doit être d = {d} (l'argument du constructeur)"
    return {"encodeur.2.weight": msg, "encodeur.2.bias": msg, "decodeur.0.weight": msg}


def _ae_encode(W, X):
    return _lineaire(W, "encodeur.2", _relu(_lineaire(W, "encodeur.0", X)))


def _ae_decode(W, Z):
    return _sigmoid(_lineaire(W, "decodeur.2", _relu(_lineaire(W, "decodeur.0", Z))))


def _ae_forward(W, X):
    return _ae_decode(W, _ae_encode(W, X))


def _mse_acp(X_train, X_val, d):
    """Held-out MSE of the PCA reconstruction with d components (scikit-learn)."""
    from sklearn.decomposition import PCA

    acp = PCA(n_components=d, svd_solver="full").fit(X_train)
    return float(np.mean((acp.inverse_transform(acp.transform(X_val)) - X_val) ** 2))


def _init_ae(rng, d, echelle_poids=1.0):
    """Random weights of the imposed auto-encoder (PyTorch's default initialisation law)."""
    W = {}
    for nom, (n_out, n_in) in (("encodeur.0", (128, 64)), ("encodeur.2", (d, 128)),
                               ("decodeur.0", (128, d)), ("decodeur.2", (64, 128))):
        borne = echelle_poids / np.sqrt(n_in)
        W[f"{nom}.weight"] = rng.uniform(-borne, borne, size=(n_out, n_in))
        W[f"{nom}.bias"] = rng.uniform(-borne, borne, size=n_out)
    return W


# =============================================================================================
# Part 1 — Auto-encoder: architecture, training, comparison with PCA
# =============================================================================================
def _cases_autoencodeur(rng, hidden):
    tailles = [2, 13] if hidden else [4]
    return [{"d": d, "X": rng.uniform(0, 1, size=(int(rng.integers(5, 12)), 64)),
             "graine": int(rng.integers(0, 2 ** 31))} for d in tailles]


@_quiet
def _eval_autoencodeur(case, Autoencodeur):
    torch = _torch()
    with _graine(case["graine"]):
        modele = Autoencodeur(int(case["d"]))
    x = _tenseur(case["X"])
    with torch.no_grad():
        rec = modele(x)
        z = modele.encodeur(x)
    return {"rec": _to_numpy(rec), "z": _to_numpy(z), **_poids(modele)}


def _verdict_autoencodeur(case, answer):
    d, X = int(case["d"]), case["X"]
    n = len(X)
    W = _verifier_poids(answer, _forme_ae(d), f"Autoencodeur({d})", _conseils_latent(d))
    z = as_array(answer, "z", what="modele.encodeur(x)")
    if z.shape != (n, d):
        raise AssertionError(f"modele.encodeur(x) : forme {z.shape} au lieu de {(n, d)}")
    if not _close(z, _ae_encode(W, X), 1e-4, 1e-5):
        if _close(z, _relu(_ae_encode(W, X)), 1e-4, 1e-5):
            raise AssertionError("le code latent z ne doit pas passer par une activation : "
                                 "encodeur = Linear(64, 128) → ReLU → Linear(128, d), sans ReLU "
                                 "finale")
        raise AssertionError("modele.encodeur(x) ne correspond pas à Linear(64, 128) → ReLU → "
                             "Linear(128, d) : vérifiez les activations de l'encodeur")
    rec = as_array(answer, "rec", what="modele(x)")
    if rec.shape == (n, d):
        raise AssertionError("modele(x) doit renvoyer la reconstruction (n, 64), pas le code z")
    if rec.shape != (n, 64):
        raise AssertionError(f"modele(x) : forme {rec.shape} au lieu de {(n, 64)}")
    attendu = _ae_forward(W, X)
    if _close(rec, attendu, 1e-4, 1e-5):
        return
    brut = _lineaire(W, "decodeur.2", _relu(_lineaire(W, "decodeur.0", _ae_encode(W, X))))
    if _close(rec, brut, 1e-4, 1e-5):
        raise AssertionError("la sortie du décodeur doit passer par une sigmoïde (pixels dans "
                             "[0, 1]) : decodeur = Linear(d, 128) → ReLU → Linear(128, 64) → "
                             "Sigmoid")
    if np.any(rec < 0) or np.any(rec > 1):
        raise AssertionError("reconstruction hors de [0, 1] : il manque la sigmoïde finale du "
                             "décodeur")
    raise AssertionError("modele(x) ne vaut pas decodeur(encodeur(x)) avec decodeur = "
                         "Linear(d, 128) → ReLU → Linear(128, 64) → Sigmoid")


CHECKS.add(Check(
    name="autoencodeur", targets=("Autoencodeur",), cases=_cases_autoencodeur,
    evaluate=_eval_autoencodeur, verdict=_verdict_autoencodeur,
    doc="Architecture imposée (noms et formes du state_dict) ; encodeur(x) et modele(x) "
        "recalculés par le correcteur avec les poids reçus (ReLU, pas d'activation sur z, "
        "sigmoïde finale)."))


def _sous_ensemble(rng, n):
    Xtr = _digits()[0]
    return Xtr[np.sort(rng.choice(len(Xtr), size=n, replace=False))]


def _cases_entrainer(rng, hidden):
    s = SEUILS[echelle()]
    specs = [(int(rng.choice([6, 12])), 1000)] if hidden else [(8, len(_digits()[0]))]
    return [{"d": d, "X": _sous_ensemble(rng, n) if n < len(_digits()[0]) else _digits()[0],
             "n_epochs": s["epochs_ae"], "lr": 2e-3, "taille_batch": 32,
             "graine": int(rng.integers(0, 2 ** 31))} for d, n in specs]


@_quiet
def _eval_entrainer(case, entrainer_autoencodeur, Autoencodeur, device):
    with _graine(case["graine"], device):
        modele = Autoencodeur(int(case["d"])).to(device)
        pertes = entrainer_autoencodeur(modele, _tenseur(case["X"], device), int(case["n_epochs"]),
                                        lr=float(case["lr"]),
                                        taille_batch=int(case["taille_batch"]),
                                        graine=int(case["graine"]))
    return {"pertes": _to_numpy(pertes), **_poids(modele)}


def _verdict_entrainer(case, answer):
    d, X, n_epochs = int(case["d"]), case["X"], int(case["n_epochs"])
    X_val = _digits()[1]
    pertes = as_array(answer, "pertes", what="les pertes renvoyées").ravel()
    if len(pertes) != n_epochs:
        raise AssertionError(f"entrainer_autoencodeur doit renvoyer une perte moyenne par époque "
                             f"({n_epochs} valeurs), pas {len(pertes)}")
    W = _verifier_poids(answer, _forme_ae(d), f"Autoencodeur({d}) entraîné", _conseils_latent(d))
    mse_app = float(np.mean((_ae_forward(W, X) - X) ** 2))
    if not pertes[-1] < 0.95 * pertes[0]:
        raise AssertionError(f"la perte ne diminue pas ({pertes[0]:.4g} → {pertes[-1]:.4g}) : "
                             "optimizer.zero_grad(), loss.backward() et optimizer.step() à chaque "
                             "mini-batch ?")
    if not (0.5 * mse_app <= pertes[-1] <= 2.0 * mse_app + 1e-3):
        raise AssertionError(f"la dernière perte renvoyée ({pertes[-1]:.4g}) ne correspond pas à "
                             f"l'erreur de reconstruction du modèle sur X ({mse_app:.4g}) : "
                             "renvoyez la moyenne des pertes (MSE) des mini-batchs de chaque "
                             "époque, et entraînez le modèle reçu en argument")
    mse = float(np.mean((_ae_forward(W, X_val) - X_val) ** 2))
    acp = _mse_acp(X, X_val, d)
    seuil = SEUILS[echelle()]["ratio_acp"]
    if mse > seuil * acp:
        raise AssertionError(
            f"après {n_epochs} époques (d = {d}), erreur de reconstruction sur les chiffres de "
            f"test {mse:.4f} contre {acp:.4f} pour l'ACP à {d} composantes : l'auto-encodeur "
            f"doit faire au moins {seuil:g} × mieux que l'ACP. Mélangez-vous les données à "
            "chaque époque, avec des mini-batchs de taille_batch exemples, Adam au taux lr et la "
            "perte MSE entre la reconstruction et l'entrée ?")


CHECKS.add(Check(
    name="entrainer_autoencodeur",
    targets=("entrainer_autoencodeur", "Autoencodeur", "device"), cases=_cases_entrainer,
    evaluate=_eval_entrainer, verdict=_verdict_entrainer,
    doc="Entraînement sur les données du correcteur ; modèle reconstruit par le correcteur : "
        "erreur de reconstruction sur les chiffres de test nettement meilleure que l'ACP "
        "(scikit-learn) de même dimension latente ; pertes par époque cohérentes."))


def _cases_acp(rng, hidden):
    specs = [(3, 500), (20, 300)] if hidden else [(8, None)]
    cases = []
    for d, n in specs:
        Xa = _digits()[0] if n is None else _sous_ensemble(rng, n)
        Xv = _digits()[1] if n is None else _digits()[1][rng.choice(450, size=200, replace=False)]
        cases.append({"X_train": Xa, "X_test": Xv, "d": d})
    return cases


@_quiet
def _eval_acp(case, erreur_reconstruction_acp):
    return {"mse": erreur_reconstruction_acp(case["X_train"].copy(), case["X_test"].copy(),
                                             int(case["d"]))}


def _verdict_acp(case, answer):
    Xa, Xv, d = case["X_train"].astype(float), case["X_test"].astype(float), int(case["d"])
    got = _scalar(answer, "mse", "erreur_reconstruction_acp")
    exp = _mse_acp(Xa, Xv, d)
    if abs(got - exp) <= 1e-4 * exp:
        return

    def near(v):
        return abs(got - v) <= 1e-4 * abs(v)

    if near(exp * 64):
        raise AssertionError("erreur sommée sur les 64 pixels : on attend la moyenne sur les "
                             "images ET les pixels (comme la perte MSE de PyTorch)")
    if near(_mse_acp(Xa, Xv, d + 1)) or near(_mse_acp(Xa, Xv, max(d - 1, 1))):
        raise AssertionError(f"nombre de composantes incorrect : d = {d} composantes principales")
    if near(_mse_acp(Xv, Xv, d)):
        raise AssertionError("l'ACP doit être apprise sur X_train puis appliquée à X_test")
    Vt = np.linalg.svd(Xa, full_matrices=False)[2][:d]
    if near(float(np.mean((Xv @ Vt.T @ Vt - Xv) ** 2))):
        raise AssertionError("données non centrées : l'ACP projette X − moyenne (de X_train), "
                             "puis rajoute la moyenne")
    raise AssertionError(f"erreur de reconstruction de l'ACP (d = {d}) : attendu {exp:.6g}, "
                         f"obtenu {got:.6g}")


CHECKS.add(Check(
    name="erreur_acp", targets=("erreur_reconstruction_acp",), cases=_cases_acp,
    evaluate=_eval_acp, verdict=_verdict_acp,
    doc="Erreur de reconstruction de l'ACP à d composantes sur des données de test, comparée à "
        "sklearn.decomposition.PCA ; diagnostics : somme sur les pixels, centrage, ACP apprise "
        "sur le test, nombre de composantes."))


# =============================================================================================
# Part 2 — Denoising auto-encoder, anomaly detection
# =============================================================================================
BRUIT_DAE = 0.5
LATENT_DAE = 32


def _cases_debruitage(rng, hidden):
    s = SEUILS[echelle()]
    n = 1000 if hidden else len(_digits()[0])
    return [{"d": LATENT_DAE, "X": _sous_ensemble(rng, n) if hidden else _digits()[0],
             "n_epochs": s["epochs_dae"], "bruit": BRUIT_DAE, "graine": int(rng.integers(2 ** 31)),
             "_bruit_test": rng.normal(size=(450, 64)) * BRUIT_DAE}]


@_quiet
def _eval_debruitage(case, entrainer_autoencodeur, Autoencodeur, device):
    with _graine(case["graine"], device):
        modele = Autoencodeur(int(case["d"])).to(device)
        entrainer_autoencodeur(modele, _tenseur(case["X"], device), int(case["n_epochs"]),
                               lr=2e-3, taille_batch=32, bruit=float(case["bruit"]),
                               graine=int(case["graine"]))
    return _poids(modele)


def _verdict_debruitage(case, answer):
    d, bruit = int(case["d"]), float(case["bruit"])
    W = _verifier_poids(answer, _forme_ae(d), f"Autoencodeur({d}) débruiteur",
                        _conseils_latent(d))
    X_val = _digits()[1].astype(float)
    bruite = X_val + case["_bruit_test"]
    mse = float(np.mean((_ae_forward(W, bruite) - X_val) ** 2))
    seuil = SEUILS[echelle()]["mse_debruitage"]
    if mse > seuil:
        raise AssertionError(
            f"débruitage insuffisant : sur les chiffres de test bruités (bruit gaussien "
            f"d'écart-type {bruit:g}, erreur {np.mean(case['_bruit_test'] ** 2):.3f} avant "
            f"débruitage), l'erreur entre la sortie et l'image PROPRE vaut {mse:.4f} (seuil "
            f"{seuil:g}). Quand bruit > 0, l'entrée doit être x + bruit × ε (ε ~ N(0, I), tiré "
            "à nouveau à chaque mini-batch) et la cible l'image propre x")


CHECKS.add(Check(
    name="debruitage", targets=("entrainer_autoencodeur", "Autoencodeur", "device"),
    cases=_cases_debruitage, evaluate=_eval_debruitage, verdict=_verdict_debruitage,
    doc="Auto-encodeur débruiteur entraîné par la fonction de l'étudiant (bruit 0.5, d = 32) ; "
        "le correcteur le reconstruit et mesure l'erreur par rapport aux images propres sur "
        "les chiffres de test bruités avec son propre bruit."))


def _cases_score(rng, hidden):
    specs = [(3, 9), (16, 1)] if hidden else [(8, 6)]
    cases = []
    for d, n in specs:
        W = _init_ae(rng, d, echelle_poids=2.0)
        X = np.clip(_digits()[1][rng.choice(450, size=n, replace=False)]
                    + 0.2 * rng.normal(size=(n, 64)), 0, 1)
        cases.append({"d": d, "X": X, **{f"p:{k}": v for k, v in W.items()}})
    return cases


@_quiet
def _eval_score(case, score_anomalie, Autoencodeur):
    torch = _torch()
    modele = Autoencodeur(int(case["d"]))
    etat = {k[2:]: torch.tensor(np.asarray(v), dtype=torch.float32)
            for k, v in case.items() if k.startswith("p:")}
    modele.load_state_dict(etat)
    return {"score": _to_numpy(score_anomalie(modele, _tenseur(case["X"])))}


def _verdict_score(case, answer):
    d, X = int(case["d"]), case["X"]
    W = {k[2:]: v for k, v in case.items() if k.startswith("p:")}
    n = len(X)
    got = as_array(answer, "score", what="score_anomalie")
    if got.shape in ((), (1,)) and got.shape != (n,):
        raise AssertionError("score_anomalie doit renvoyer un score par image (forme (n,)), pas "
                             "une moyenne sur tout le lot")
    if got.shape == (n, 64):
        raise AssertionError("score_anomalie doit renvoyer un score par image (forme (n,)) : "
                             "moyenne de l'erreur sur les 64 pixels")
    if got.shape != (n,):
        raise AssertionError(f"score_anomalie : forme {got.shape} au lieu de {(n,)}")
    ecart = _ae_forward(W, X) - X
    exp = np.mean(ecart ** 2, axis=1)
    if _close(got, exp, 1e-4, 1e-6):
        return
    if _close(got, 64 * exp, 1e-4, 1e-6):
        raise AssertionError("erreur sommée sur les pixels : on attend la moyenne des 64 "
                             "erreurs au carré de chaque image")
    if _close(got, np.sqrt(exp), 1e-4, 1e-6):
        raise AssertionError("pas de racine carrée : le score est l'erreur quadratique moyenne "
                             "de reconstruction de chaque image")
    if _close(got, np.mean(np.abs(ecart), axis=1), 1e-4, 1e-6):
        raise AssertionError("erreur absolue au lieu de l'erreur quadratique")
    raise AssertionError(f"scores incorrects (d = {d}) : attendu {_fmt(exp)}, obtenu "
                         f"{_fmt(got)} — score = moyenne sur les pixels de (modele(x) − x)²")


CHECKS.add(Check(
    name="score_anomalie", targets=("score_anomalie", "Autoencodeur"), cases=_cases_score,
    evaluate=_eval_score, verdict=_verdict_score,
    doc="Erreur quadratique moyenne de reconstruction de chaque image, avec des poids fournis "
        "par le correcteur, comparée à son propre calcul."))


def _cases_auc(rng, hidden):
    cases = []
    specs = [(40, 25, False, 1.0), (7, 30, True, 0.5), (50, 50, False, -0.5),
             (12, 3, True, 1.5)] if hidden else [(30, 20, False, 1.0), (15, 10, True, 0.5)]
    for n0, n1, ties, shift in specs:
        a = rng.normal(size=n0)
        b = rng.normal(size=n1) + shift
        if ties:
            a, b = np.round(a * 2) / 2, np.round(b * 2) / 2
        cases.append({"normaux": a, "anomalies": b})
    return cases


@_quiet
def _eval_auc(case, auc_roc):
    return {"auc": auc_roc(case["normaux"].copy(), case["anomalies"].copy())}


def _verdict_auc(case, answer):
    from sklearn.metrics import roc_auc_score

    a, b = case["normaux"], case["anomalies"]
    got = _scalar(answer, "auc", "auc_roc")
    exp = float(roc_auc_score(np.r_[np.zeros(len(a)), np.ones(len(b))], np.r_[a, b]))
    if abs(got - exp) <= 1e-9:
        return
    diff = b[:, None] - a[None, :]
    if abs(got - (1 - exp)) <= 1e-9:
        raise AssertionError("AUC inversée (1 − AUC) : on mesure la probabilité qu'une anomalie "
                             "ait un score PLUS GRAND qu'une image normale")
    if abs(got - float(np.mean(diff > 0))) <= 1e-9 or abs(got - float(np.mean(diff >= 0))) <= 1e-9:
        raise AssertionError("ex æquo mal comptés : une paire (anomalie, normale) de scores égaux "
                             "compte pour 1/2")
    raise AssertionError(f"AUC incorrecte : attendu {exp:.6g}, obtenu {got:.6g} "
                         f"({len(a)} normales, {len(b)} anomalies)")


CHECKS.add(Check(
    name="auc_roc", targets=("auc_roc",), cases=_cases_auc, evaluate=_eval_auc,
    verdict=_verdict_auc,
    doc="Aire sous la courbe ROC comparée à sklearn.metrics.roc_auc_score, avec des ex æquo, "
        "des tailles différentes et une AUC < 1/2."))


# =============================================================================================
# Part 3 — Variational auto-encoder
# =============================================================================================
def _cases_reparam(rng, hidden):
    dims = [5, 1] if hidden else [3]
    return [{"mu": rng.normal(size=d) * 2, "logvar": rng.uniform(-3, 2, size=d), "n": 4000,
             "w": rng.normal(size=(4000, d)), "graine": int(rng.integers(2 ** 31))} for d in dims]


@_quiet
def _eval_reparam(case, reparametrer):
    torch = _torch()
    n = int(case["n"])
    mu = _tenseur(np.tile(case["mu"], (n, 1)), grad=True)
    logvar = _tenseur(np.tile(case["logvar"], (n, 1)), grad=True)
    with _graine(case["graine"]):
        z = reparametrer(mu, logvar)
        z2 = reparametrer(mu, logvar)
    if not isinstance(z, torch.Tensor) or z.grad_fn is None:
        return {"z": _to_numpy(z), "differentiable": 0.0}
    (z * _tenseur(case["w"])).sum().backward()
    return {"z": _to_numpy(z), "z2": _to_numpy(z2), "differentiable": 1.0,
            "grad_mu": _to_numpy(mu.grad) if mu.grad is not None else np.zeros(0),
            "grad_logvar": _to_numpy(logvar.grad) if logvar.grad is not None else np.zeros(0)}


def _verdict_reparam(case, answer):
    mu, logvar, n, w = case["mu"], case["logvar"], int(case["n"]), case["w"]
    d = len(mu)
    z = as_array(answer, "z", what="reparametrer(mu, logvar)")
    if z.shape != (n, d):
        raise AssertionError(f"reparametrer(mu, logvar) : forme {z.shape} au lieu de {(n, d)} "
                             "(la forme de mu)")
    sigma = np.exp(0.5 * logvar)
    if _scalar(answer, "differentiable", "differentiable") != 1.0:
        raise AssertionError("z doit être un tenseur PyTorch calculé à partir de mu et logvar "
                             "(z = mu + σ ε), pour que le gradient les traverse : pas de NumPy, "
                             "pas de .detach()")
    if np.all(np.abs(z - mu) <= 1e-5 * (1 + np.abs(mu))):
        raise AssertionError("pas de bruit : z = mu + σ ε avec ε ~ N(0, I)")
    ecart = z.std(axis=0)
    if np.all(ecart < 1e-6 * (1 + sigma)):
        raise AssertionError("z ne varie pas d'un exemple à l'autre : ε doit être tiré pour "
                             "chaque exemple (torch.randn_like(mu)), pas une seule fois")
    g_mu = as_array(answer, "grad_mu", what="gradient par rapport à mu")
    g_lv = as_array(answer, "grad_logvar", what="gradient par rapport à logvar")
    if g_mu.shape != (n, d) or not _close(g_mu, w, 1e-4, 1e-6):
        raise AssertionError("∂z/∂mu doit valoir 1 : z = mu + σ ε (le gradient ne traverse pas "
                             "mu ?)")
    moy = z.mean(axis=0)
    if np.any(np.abs(moy - mu) > 6 * ecart / np.sqrt(n) + 1e-6):
        raise AssertionError(f"la moyenne de z ({_fmt(moy)}) n'est pas mu ({_fmt(mu)}) : "
                             "ε ~ N(0, I) est centré (torch.randn_like, pas torch.rand_like)")
    if np.any(np.abs(ecart / sigma - 1) > 0.08):
        for nom, s in (("exp(logvar)", np.exp(logvar)), ("logvar", np.abs(logvar)),
                       ("exp(logvar)^2", np.exp(2 * logvar))):
            if np.all(np.abs(ecart / np.maximum(s, 1e-12) - 1) <= 0.08):
                raise AssertionError(f"l'écart-type de z vaut {nom} au lieu de σ = exp(logvar / 2)"
                                     " : logvar est le LOGARITHME DE LA VARIANCE σ²")
        raise AssertionError(f"l'écart-type de z ({_fmt(ecart)}) n'est pas σ = exp(logvar / 2) "
                             f"({_fmt(sigma)})")
    if g_lv.shape != (n, d) or not _close(g_lv, 0.5 * (z - mu) * w, 1e-3, 1e-5):
        raise AssertionError("∂z/∂logvar doit valoir σ ε / 2 : calculez σ = torch.exp(0.5 * "
                             "logvar) à partir de logvar, dans le graphe de calcul")
    z2 = as_array(answer, "z2", what="second tirage")
    if z2.shape == z.shape and np.allclose(z, z2):
        raise AssertionError("deux appels donnent le même z : tirez un nouveau ε à chaque appel")


CHECKS.add(Check(
    name="reparametrer", targets=("reparametrer",), cases=_cases_reparam,
    evaluate=_eval_reparam, verdict=_verdict_reparam,
    doc="Astuce de reparamétrisation : moyenne et écart-type de 4000 tirages (σ = exp(logvar/2)), "
        "gradients exacts ∂z/∂mu = 1 et ∂z/∂logvar = (z − mu)/2, nouveau bruit à chaque appel."))


def _kl_oracle(mu, logvar):
    """KL(N(mu, diag σ²) ‖ N(0, I)) per example, by torch.distributions (float64)."""
    torch = _torch()
    from torch.distributions import Normal, kl_divergence

    m = torch.tensor(mu, dtype=torch.float64)
    s = torch.exp(0.5 * torch.tensor(logvar, dtype=torch.float64))
    return kl_divergence(Normal(m, s), Normal(torch.zeros_like(m), torch.ones_like(m))).sum(-1).numpy()


def _cases_kl(rng, hidden):
    specs = [(1, 5), (9, 1), (4, 16)] if hidden else [(6, 3)]
    return [{"mu": rng.normal(size=(n, d)) * 1.5, "logvar": rng.uniform(-2.5, 1.5, size=(n, d))}
            for n, d in specs]


@_quiet
def _eval_kl(case, kl_gaussienne):
    return {"kl": _to_numpy(kl_gaussienne(_tenseur(case["mu"]), _tenseur(case["logvar"])))}


def _verdict_kl(case, answer):
    mu, lv = case["mu"], case["logvar"]
    n, d = mu.shape
    got = as_array(answer, "kl", what="kl_gaussienne")
    if got.shape in ((), (1,)) and got.shape != (n,):
        raise AssertionError("kl_gaussienne doit renvoyer une divergence par exemple (forme (n,)),"
                             " pas la moyenne du lot")
    if got.shape == (n, d) and d > 1:
        raise AssertionError("sommez sur les d dimensions latentes : une valeur par exemple")
    if got.shape != (n,):
        raise AssertionError(f"kl_gaussienne : forme {got.shape} au lieu de {(n,)}")
    exp = _kl_oracle(mu, lv)
    if _close(got, exp, 1e-4, 1e-6):
        return
    terme = mu ** 2 + np.exp(lv) - 1 - lv
    if _close(got, -exp, 1e-4, 1e-6):
        raise AssertionError("signe opposé : une divergence KL est positive, "
                             "KL = ½ Σ (mu² + σ² − 1 − log σ²)")
    if _close(got, 2 * exp, 1e-4, 1e-6):
        raise AssertionError("facteur ½ oublié : KL = ½ Σ (mu² + σ² − 1 − log σ²)")
    if d > 1 and _close(got, exp / d, 1e-4, 1e-6):
        raise AssertionError("moyenne sur les dimensions latentes : il faut la SOMME")
    if _close(got, 0.5 * np.sum(mu ** 2 + np.exp(2 * lv) - 1 - 2 * lv, axis=1), 1e-4, 1e-6):
        raise AssertionError("logvar traité comme log σ : logvar = log σ², donc σ² = exp(logvar)")
    if _close(got, 0.5 * np.sum(mu ** 2 + np.exp(lv) ** 2 - 1 - lv, axis=1), 1e-4, 1e-6):
        raise AssertionError("σ² = exp(logvar) (et non exp(logvar)²)")
    if _close(got, 0.5 * np.sum(terme + 2 * lv, axis=1), 1e-4, 1e-6) or _close(
            got, 0.5 * np.sum(mu ** 2 + np.exp(lv) - 1 + lv, axis=1), 1e-4, 1e-6):
        raise AssertionError("signe du terme log σ² : KL = ½ Σ (mu² + σ² − 1 − log σ²)")
    raise AssertionError(f"KL incorrecte : attendu {_fmt(exp)}, obtenu {_fmt(got)}")


CHECKS.add(Check(
    name="kl_gaussienne", targets=("kl_gaussienne",), cases=_cases_kl, evaluate=_eval_kl,
    verdict=_verdict_kl,
    doc="KL(N(mu, diag exp(logvar)) ‖ N(0, I)) par exemple, comparée à "
        "torch.distributions.kl_divergence ; diagnostics : signe, ½, log σ vs log σ², moyenne."))


def _bce_oracle(x, p):
    """Σ_pixels −log Bernoulli(x; p) per example (continuous x in [0, 1]), by
    torch.distributions.ContinuousBernoulli's unnormalised part: x log p + (1 − x) log(1 − p)."""
    torch = _torch()
    from torch.distributions import Bernoulli

    # Bernoulli.log_prob accepts x in [0, 1] with validate_args=False: x log p + (1−x) log(1−p).
    dist = Bernoulli(probs=torch.tensor(p, dtype=torch.float64), validate_args=False)
    return -dist.log_prob(torch.tensor(x, dtype=torch.float64)).sum(-1).numpy()


def _cases_perte_vae(rng, hidden):
    specs = [(1, 2), (12, 5)] if hidden else [(7, 3)]
    cases = []
    for n, d in specs:
        x = _digits()[1][rng.choice(450, size=n, replace=False)].astype(float)
        cases.append({"x": x, "x_rec": _sigmoid(rng.normal(size=(n, 64)) * 2),
                      "mu": rng.normal(size=(n, d)), "logvar": rng.uniform(-2, 1, size=(n, d))})
    return cases


@_quiet
def _eval_perte_vae(case, perte_vae):
    torch = _torch()
    x_rec = _tenseur(case["x_rec"], grad=True)
    perte = perte_vae(_tenseur(case["x"]), x_rec, _tenseur(case["mu"]), _tenseur(case["logvar"]))
    out = {"perte": _to_numpy(perte)}
    if isinstance(perte, torch.Tensor) and perte.grad_fn is not None and perte.numel() == 1:
        perte.sum().backward()
        out["grad"] = _to_numpy(x_rec.grad) if x_rec.grad is not None else np.zeros(0)
    return out


def _verdict_perte_vae(case, answer):
    x, p, mu, lv = case["x"], case["x_rec"], case["mu"], case["logvar"]
    n = len(x)
    got = as_array(answer, "perte", what="perte_vae")
    if got.size != 1:
        raise AssertionError(f"perte_vae doit renvoyer un scalaire (moyenne sur le lot), pas un "
                             f"tableau de forme {got.shape}")
    got = float(got.reshape(()))
    rec = _bce_oracle(x, p)
    kl = _kl_oracle(mu, lv)
    exp = float(np.mean(rec + kl))
    if abs(got - exp) <= 1e-4 * abs(exp):
        if "grad" not in answer:
            raise AssertionError("la perte doit être un tenseur PyTorch différentiable (pas un "
                                 "float, pas de .item() ni de .detach())")
        grad = as_array(answer, "grad", what="gradient de la perte")
        attendu = (p - x) / (p * (1 - p)) / n
        if grad.shape != attendu.shape or not _close(grad, attendu, 1e-3, 1e-6):
            raise AssertionError("le gradient de la perte par rapport à x_rec est faux : la "
                                 "reconstruction doit être l'entropie croisée binaire de x_rec")
        return

    def near(v):
        return abs(got - v) <= 1e-4 * max(abs(v), 1e-9)

    if near(float(np.mean(rec - kl))):
        raise AssertionError("signe de la KL : −ELBO = reconstruction + KL (on AJOUTE la KL)")
    if near(float(np.mean(rec))):
        raise AssertionError("la KL est oubliée : −ELBO = reconstruction + KL")
    if near(float(np.mean(rec / 64 + kl))):
        raise AssertionError("entropie croisée moyennée sur les pixels : il faut la SOMME sur les "
                             "64 pixels (log-vraisemblance de l'image entière), sinon la KL écrase "
                             "la reconstruction")
    if near(float(np.sum(rec + kl))):
        raise AssertionError("somme sur le lot : renvoyez la MOYENNE sur les exemples du lot")
    if near(float(np.mean(np.sum((p - x) ** 2, axis=1) + kl))):
        raise AssertionError("reconstruction par erreur quadratique : l'énoncé demande "
                             "l'entropie croisée binaire (F.binary_cross_entropy, somme)")
    if near(float(np.mean(rec + 2 * kl))) or near(float(np.mean(rec + kl / 2))):
        raise AssertionError("facteur incorrect sur la KL : KL = ½ Σ (mu² + σ² − 1 − log σ²)")
    raise AssertionError(f"perte incorrecte : attendu {exp:.6g} (reconstruction "
                         f"{np.mean(rec):.4g} + KL {np.mean(kl):.4g}), obtenu {got:.6g}")


CHECKS.add(Check(
    name="perte_vae", targets=("perte_vae",), cases=_cases_perte_vae,
    evaluate=_eval_perte_vae, verdict=_verdict_perte_vae,
    doc="−ELBO moyen du lot : entropie croisée binaire sommée sur les pixels "
        "(torch.distributions.Bernoulli) + KL (torch.distributions), différentiable (gradient "
        "par rapport à x_rec comparé à sa formule)."))


def _cases_frechet(rng, hidden):
    dims = [1, 7, 30] if hidden else [4]
    cases = []
    for d in dims:
        A = rng.normal(size=(d, d + 3))
        B = rng.normal(size=(d, d + 2)) * rng.uniform(0.5, 2)
        cases.append({"mu1": rng.normal(size=d), "S1": A @ A.T / (d + 3),
                      "mu2": rng.normal(size=d), "S2": B @ B.T / (d + 2)})
    if hidden:  # a singular covariance (dead ReLU units give some)
        A = rng.normal(size=(6, 3))
        cases.append({"mu1": np.zeros(6), "S1": A @ A.T, "mu2": rng.normal(size=6),
                      "S2": np.eye(6)})
    return cases


@_quiet
def _eval_frechet(case, distance_frechet):
    return {"d": distance_frechet(case["mu1"].copy(), case["S1"].copy(), case["mu2"].copy(),
                                  case["S2"].copy())}


def _verdict_frechet(case, answer):
    mu1, S1, mu2, S2 = case["mu1"], case["S1"], case["mu2"], case["S2"]
    got = _scalar(answer, "d", "distance_frechet")
    exp = _frechet_gaussiennes(mu1, S1, mu2, S2)
    tol = 1e-5 * max(1.0, abs(exp))
    if abs(got - exp) <= tol:
        return
    moyenne = float(np.sum((mu1 - mu2) ** 2))
    croise = (exp - moyenne - np.trace(S1) - np.trace(S2)) / -2.0  # Tr (S1 S2)^½
    if abs(got - (exp - moyenne)) <= tol:
        raise AssertionError("terme des moyennes oublié : ‖mu1 − mu2‖²")
    if abs(got - (exp + croise)) <= tol:
        raise AssertionError("facteur 2 oublié devant Tr (S1 S2)^½")
    if abs(got - np.sqrt(max(exp, 0))) <= tol:
        raise AssertionError("pas de racine carrée sur la distance : d² = ‖mu1 − mu2‖² + "
                             "Tr(S1 + S2 − 2 (S1 S2)^½) est la quantité attendue")
    if abs(got - (moyenne + np.trace(S1) + np.trace(S2)
                  - 2 * np.sum(np.sqrt(np.clip(S1 * S2, 0, None))))) <= tol:
        raise AssertionError("(S1 S2)^½ est la racine carrée MATRICIELLE du produit matriciel "
                             "(scipy.linalg.sqrtm), pas une racine élément par élément")
    raise AssertionError(f"distance de Fréchet incorrecte (dimension {len(mu1)}) : attendu "
                         f"{exp:.6g}, obtenu {got:.6g}")


CHECKS.add(Check(
    name="distance_frechet", targets=("distance_frechet",), cases=_cases_frechet,
    evaluate=_eval_frechet, verdict=_verdict_frechet,
    doc="Distance de Fréchet entre gaussiennes, comparée à un calcul par valeurs propres "
        "(Σ √λ(S1^½ S2 S1^½)) ; covariance singulière dans les cas cachés."))


LATENT_VAE = 8


def _forme_vae(d):
    return {"encodeur.0.weight": (128, 64), "encodeur.0.bias": (128,),
            "mu.weight": (d, 128), "mu.bias": (d,), "logvar.weight": (d, 128),
            "logvar.bias": (d,), "decodeur.0.weight": (128, d), "decodeur.0.bias": (128,),
            "decodeur.2.weight": (64, 128), "decodeur.2.bias": (64,)}


def _vae_elbo(W, X, eps):
    """Held-out −ELBO (nats per image) of the rebuilt VAE, with the judge's noise eps (K, n, d)."""
    h = _relu(_lineaire(W, "encodeur.0", X))
    mu, lv = _lineaire(W, "mu", h), _lineaire(W, "logvar", h)
    kl = 0.5 * np.sum(mu ** 2 + np.exp(lv) - 1 - lv, axis=1)
    rec = 0.0
    for e in eps:
        p = np.clip(_ae_decode(W, mu + np.exp(0.5 * lv) * e), 1e-7, 1 - 1e-7)
        rec = rec - np.sum(X * np.log(p) + (1 - X) * np.log(1 - p), axis=1) / len(eps)
    return float(np.mean(rec + kl)), float(np.mean(kl))


def _cases_echantillons(dim, nom):
    def cases(rng, hidden):
        return [{"z": rng.normal(size=(16, dim)), "_z": rng.normal(size=(450, dim)),
                 "_eps": rng.normal(size=(2, 450, dim))}]
    return cases


def _eval_modele_entraine(attribut_sortie):
    @_quiet
    def evaluate(case, modele):
        torch = _torch()
        if not isinstance(modele, torch.nn.Module):
            return {"type": type(modele).__name__}
        params = list(modele.parameters())
        device = params[0].device if params else "cpu"
        poids = _poids(modele)
        etait = modele.training
        modele.eval()
        try:
            with torch.no_grad():
                sortie = getattr(modele, attribut_sortie)(_tenseur(case["z"], device))
            return {"sortie": _to_numpy(sortie), **poids}
        except Exception as exc:  # wrong input size: the weights say why
            if not poids:
                raise
            return {"erreur_sortie": f"{type(exc).__name__}: {exc}"[:300], **poids}
        finally:
            modele.train(etait)
    return evaluate


def _verdict_qualite(X, quoi, prefixe):
    s = SEUILS[echelle()]
    m = evaluer_echantillons(X)
    classes = ", ".join(f"{k} : {100 * f:.0f} %" for k, f in enumerate(m["repartition"]) if f > 0)
    if m["couverture"] < s[f"couverture_{prefixe}"]:
        raise AssertionError(
            f"{quoi} : les échantillons ne couvrent que {m['couverture']} classes sur 10 (classe "
            f"prédite par le classifieur du correcteur : {classes}) ; au moins "
            f"{s[f'couverture_{prefixe}']} attendues — effondrement de modes ?")
    if m["frechet"] > s[f"frechet_{prefixe}"] or m["confiance"] < s[f"confiance_{prefixe}"]:
        raise AssertionError(
            f"{quoi} : échantillons de qualité insuffisante (distance de Fréchet {m['frechet']:.2f}"
            f", seuil {s[f'frechet_{prefixe}']:g} ; confiance du classifieur {m['confiance']:.3f}"
            f", seuil {s[f'confiance_{prefixe}']:g}) : entraînez plus longtemps ou vérifiez "
            "l'entraînement")


def _verdict_vae(case, answer):
    if "type" in answer:
        raise AssertionError(f"vae doit être votre modèle VAE entraîné (un nn.Module), pas "
                             f"{answer['type']}")
    d = LATENT_VAE
    recus = {k[2:]: np.shape(v) for k, v in answer.items() if k.startswith("w:")}
    if recus.get("mu.weight", (d, 128))[0] != d:
        raise AssertionError(f"vae : dimension latente {recus['mu.weight'][0]} au lieu de "
                             f"LATENT_VAE = {d}")
    W = _verifier_poids(answer, _forme_vae(d), "vae")
    z = case["z"]
    if "erreur_sortie" in answer:
        raise AssertionError(f"vae.decodeur(z) lève une erreur : {answer['erreur_sortie']}")
    sortie = as_array(answer, "sortie", what="vae.decodeur(z)")
    if sortie.shape != (len(z), 64) or not _close(sortie, _ae_decode(W, z), 1e-4, 1e-5):
        raise AssertionError("vae.decodeur(z) ne correspond pas à Linear(d, 128) → ReLU → "
                             "Linear(128, 64) → Sigmoid")
    X_val = _digits()[1].astype(float)
    elbo, kl = _vae_elbo(W, X_val, case["_eps"])
    seuil = SEUILS[echelle()]["elbo_vae"]
    if elbo > seuil:
        raise AssertionError(f"−ELBO sur les chiffres de test = {elbo:.2f} nats par image (dont "
                             f"KL {kl:.2f}) : au plus {seuil:g} attendu — entraînez plus "
                             "longtemps, ou vérifiez perte_vae et la reparamétrisation")
    _verdict_qualite(_ae_decode(W, case["_z"]), "VAE (z ~ N(0, I) décodé)", "vae")


CHECKS.add(Check(
    name="vae_entraine", targets=("vae",), cases=_cases_echantillons(LATENT_VAE, "vae"),
    evaluate=_eval_modele_entraine("decodeur"), verdict=_verdict_vae,
    doc="VAE entraîné du notebook : poids reconstruits par le correcteur ; −ELBO sur les chiffres "
        "de test (bruit du correcteur) et qualité des images décodées depuis N(0, I) "
        "(classifieur : couverture, confiance, Fréchet)."))


# =============================================================================================
# Part 4 — GAN
# =============================================================================================
def _log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def _cases_pertes_gan(rng, hidden):
    specs = [(1, 3, 0.8), (12, 5, 1.0), (6, 6, 0.9)] if hidden else [(8, 6, 1.0), (5, 7, 0.9)]
    return [{"reels": rng.normal(size=n_r) * 3, "faux": rng.normal(size=n_f) * 3, "lissage": c}
            for n_r, n_f, c in specs]


@_quiet
def _eval_pertes_gan(case, perte_discriminateur, perte_generateur):
    torch = _torch()
    out = {}
    reels, faux = _tenseur(case["reels"][:, None], grad=True), _tenseur(case["faux"][:, None],
                                                                        grad=True)
    calculs = (("D", lambda: perte_discriminateur(reels, faux, lissage=float(case["lissage"])),
                (reels, faux)),
               ("G", lambda: perte_generateur(faux), (faux,)),
               ("Gs", lambda: perte_generateur(faux, saturante=True), (faux,)))
    for nom, calcul, entrees in calculs:
        for t in (reels, faux):
            t.grad = None
        perte = calcul()
        out[nom] = _to_numpy(perte)
        if isinstance(perte, torch.Tensor) and perte.grad_fn is not None and perte.numel() == 1:
            perte.sum().backward()
            for i, t in enumerate(entrees):
                out[f"{nom}_grad{i}"] = (_to_numpy(t.grad).ravel() if t.grad is not None
                                         else np.zeros(0))
    return out


def _verdict_pertes_gan(case, answer):
    lr_, lf, c = case["reels"], case["faux"], float(case["lissage"])
    sr, sf = _sigmoid(lr_), _sigmoid(lf)
    # Oracles: −E[c log D(x) + (1 − c) log(1 − D(x))] − E[log(1 − D(G(z)))], with
    # log D = log σ(l) = −log(1 + e^−l) and log(1 − D) = log σ(−l); gradients analytic.
    vrai_d = -np.mean(c * _log_sigmoid(lr_) + (1 - c) * _log_sigmoid(-lr_)) - np.mean(
        _log_sigmoid(-lf))
    vrai_g = -np.mean(_log_sigmoid(lf))
    vrai_gs = np.mean(_log_sigmoid(-lf))
    attendus = {
        "D": (vrai_d, [(sr - c) / len(lr_), sf / len(lf)]),
        "G": (vrai_g, [(sf - 1) / len(lf)]),
        "Gs": (vrai_gs, [-sf / len(lf)]),
    }
    noms = {"D": "perte_discriminateur", "G": "perte_generateur(logits_faux)",
            "Gs": "perte_generateur(logits_faux, saturante=True)"}
    for cle, (vrai, grads) in attendus.items():
        quoi = noms[cle]
        got = as_array(answer, cle, what=quoi)
        if got.size != 1:
            raise AssertionError(f"{quoi} : un scalaire (moyenne sur le lot) est attendu, pas un "
                                 f"tableau de forme {got.shape}")
        got = float(got.reshape(()))
        if abs(got - vrai) > 1e-4 * max(1.0, abs(vrai)):
            _diagnostic_gan(cle, quoi, got, vrai, lr_, lf, c)
        for i, g in enumerate(grads):
            cle_g = f"{cle}_grad{i}"
            if cle_g not in answer:
                raise AssertionError(f"{quoi} doit renvoyer un tenseur PyTorch différentiable "
                                     "(pas de .item(), de NumPy ni de .detach())")
            recu = as_array(answer, cle_g, what=f"gradient de {quoi}")
            if recu.shape != g.shape or not _close(recu, g, 1e-3, 1e-6):
                raise AssertionError(f"{quoi} : bonne valeur mais gradient faux par rapport aux "
                                     "logits (détachez-vous une partie du calcul ?)")


def _diagnostic_gan(cle, quoi, got, vrai, lr_, lf, c):
    def near(v):
        return abs(got - v) <= 1e-4 * max(1.0, abs(v))

    ls = _log_sigmoid
    if cle == "D":
        reel = -np.mean(c * ls(lr_) + (1 - c) * ls(-lr_))
        faux = -np.mean(ls(-lf))
        if near(-vrai):
            raise AssertionError(f"{quoi} : signe opposé — le discriminateur MAXIMISE "
                                 "E[log D(x)] + E[log(1 − D(G(z)))], il MINIMISE donc son opposé")
        if near((reel + faux) / 2):
            raise AssertionError(f"{quoi} : renvoyez la SOMME des deux entropies croisées "
                                 "(réels + faux), pas leur moyenne")
        if near(-np.mean(ls(-lr_)) - np.mean(ls(lf))):
            raise AssertionError(f"{quoi} : étiquettes inversées — les vraies images ont "
                                 "l'étiquette 1 (ou lissage), les fausses 0")
        if c != 1 and near(-np.mean(ls(lr_)) + faux):
            raise AssertionError(f"{quoi} : le lissage des étiquettes est ignoré — cible "
                                 f"{c:g} pour les vraies images")
        if c != 1 and near(reel - np.mean((1 - c) * ls(lf) + c * ls(-lf))):
            raise AssertionError(f"{quoi} : le lissage est unilatéral — il ne porte que sur les "
                                 "vraies images (cible lissage), les fausses gardent la cible 0")
    else:
        nonsat, sat = -np.mean(ls(lf)), np.mean(ls(-lf))
        if cle == "G" and near(sat):
            raise AssertionError(f"{quoi} : c'est la version saturante ; par défaut "
                                 "(saturante=False), le générateur minimise −E[log D(G(z))]")
        if cle == "Gs" and near(nonsat):
            raise AssertionError(f"{quoi} : avec saturante=True, le générateur minimise "
                                 "E[log(1 − D(G(z)))], le terme du min-max")
        if near(-vrai):
            raise AssertionError(f"{quoi} : signe opposé")
        if near(-np.mean(ls(-lf))) or near(np.mean(ls(lf))):
            raise AssertionError(f"{quoi} : étiquette incorrecte — le générateur veut que D "
                                 "classe ses images comme vraies")
    raise AssertionError(f"{quoi} : attendu {vrai:.6g}, obtenu {got:.6g}")


CHECKS.add(Check(
    name="pertes_gan", targets=("perte_discriminateur", "perte_generateur"),
    cases=_cases_pertes_gan, evaluate=_eval_pertes_gan, verdict=_verdict_pertes_gan,
    doc="Pertes du min-max sur des logits fixés : valeur (formule avec log σ) et gradients "
        "analytiques ; lissage unilatéral, versions saturante et non saturante du générateur."))


DIM_Z = 16


def _forme_generateur(dim_z=DIM_Z):
    return {"reseau.0.weight": (128, dim_z), "reseau.0.bias": (128,),
            "reseau.2.weight": (128, 128), "reseau.2.bias": (128,),
            "reseau.4.weight": (64, 128), "reseau.4.bias": (64,)}


def _leaky(x):
    return np.where(x > 0, x, 0.2 * x)


def _generer(W, z):
    h = _leaky(_lineaire(W, "reseau.0", z))
    h = _leaky(_lineaire(W, "reseau.2", h))
    return _sigmoid(_lineaire(W, "reseau.4", h))


def _verdict_generateur(case, answer):
    if "type" in answer:
        raise AssertionError(f"generateur doit être votre Generateur entraîné (un nn.Module), "
                             f"pas {answer['type']}")
    W = _verifier_poids(answer, _forme_generateur(), "generateur",
                        {"reseau.0.weight": f"bruit z de dimension DIM_Z = {DIM_Z}"})
    z = case["z"]
    if "erreur_sortie" in answer:
        raise AssertionError(f"generateur(z) lève une erreur : {answer['erreur_sortie']}")
    sortie = as_array(answer, "sortie", what="generateur(z)")
    if sortie.shape != (len(z), 64) or not _close(sortie, _generer(W, z), 1e-4, 1e-5):
        raise AssertionError("generateur(z) ne correspond pas à l'architecture imposée : "
                             "Linear(16, 128) → LeakyReLU(0.2) → Linear(128, 128) → LeakyReLU(0.2)"
                             " → Linear(128, 64) → Sigmoid")
    _verdict_qualite(_generer(W, case["_z"]), "GAN", "gan")


CHECKS.add(Check(
    name="generateur_gan", targets=("generateur",), cases=_cases_echantillons(DIM_Z, "generateur"),
    evaluate=_eval_modele_entraine("forward"), verdict=_verdict_generateur,
    doc="Générateur entraîné du notebook : poids reconstruits par le correcteur, 450 images "
        "générées depuis son propre bruit, jugées par le classifieur (couverture des 10 classes, "
        "confiance, distance de Fréchet)."))
