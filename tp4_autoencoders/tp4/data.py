"""TP4's data, imposed sizes and the judge's thresholds per scale (shown in the notebook).

The architectures are imposed by the subject: their state_dict names and shapes are written
here once, for the notebook's own checks and for the judge, which rebuilds the networks it
receives.
"""

from __future__ import annotations

from course.digit_images import charger_chiffres  # noqa: F401 (the notebook's digits)
from course.torch_tools import echelle

LATENT_VAE = 8  # the VAE's latent dimension
DIM_Z = 16  # the GAN's noise dimension
LATENT_DAE = 32  # the denoising auto-encoder's latent dimension
BRUIT_DAE = 0.5  # its noise
DIM_Z_2D = 64  # the noise of the 2-D GAN of part 5.5: rich noise for a 2-D output collapses

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
        # Eight Gaussians, 3000 iterations, batch 256, Adam 3e-4 (training seeds 0-9, 2000 points
        # of the judge's noise): with the minibatch standard deviation (groups of 8), 7-8 modes
        # covered, 78-85 % of the points on a mode; plain GAN (seeds 0-5) 0-2 modes; the batch
        # standard deviation over the whole concatenated batch (seeds 0-3) 0-1 modes.
        "modes_8g": 6, "sur_les_modes_8g": 0.5,
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
        # Eight Gaussians, 5000 iterations (20-28 s on this CPU), seeds 0-3: with the minibatch
        # standard deviation 8 modes, 87-93 % of the points on a mode; plain GAN 0-3 modes (left
        # alone for 10000 iterations, it sometimes spreads: 6 and 8 modes for seeds 0 and 1).
        "modes_8g": 7, "sur_les_modes_8g": 0.75,
    },
}


def seuils() -> dict:
    """Les seuils qu'applique le correcteur à l'échelle courante (à afficher dans le notebook)."""
    return dict(SEUILS[echelle()])


# -- the imposed architectures: state_dict name -> shape -------------------------------------
def forme_autoencodeur(d: int) -> dict[str, tuple[int, ...]]:
    return {"encodeur.0.weight": (128, 64), "encodeur.0.bias": (128,),
            "encodeur.2.weight": (d, 128), "encodeur.2.bias": (d,),
            "decodeur.0.weight": (128, d), "decodeur.0.bias": (128,),
            "decodeur.2.weight": (64, 128), "decodeur.2.bias": (64,)}


def forme_autoencodeur_conv(d: int) -> dict[str, tuple[int, ...]]:
    return {"encodeur.1.weight": (8, 1, 3, 3), "encodeur.1.bias": (8,),
            "encodeur.4.weight": (16, 8, 3, 3), "encodeur.4.bias": (16,),
            "encodeur.8.weight": (d, 64), "encodeur.8.bias": (d,),
            "decodeur.0.weight": (64, d), "decodeur.0.bias": (64,),
            "decodeur.4.weight": (8, 16, 3, 3), "decodeur.4.bias": (8,),
            "decodeur.7.weight": (1, 8, 3, 3), "decodeur.7.bias": (1,)}


def forme_vae(d: int = LATENT_VAE) -> dict[str, tuple[int, ...]]:
    return {"encodeur.0.weight": (128, 64), "encodeur.0.bias": (128,),
            "mu.weight": (d, 128), "mu.bias": (d,), "logvar.weight": (d, 128),
            "logvar.bias": (d,), "decodeur.0.weight": (128, d), "decodeur.0.bias": (128,),
            "decodeur.2.weight": (64, 128), "decodeur.2.bias": (64,)}


def forme_generateur(dim_z: int = DIM_Z) -> dict[str, tuple[int, ...]]:
    return {"reseau.0.weight": (128, dim_z), "reseau.0.bias": (128,),
            "reseau.2.weight": (128, 128), "reseau.2.bias": (128,),
            "reseau.4.weight": (64, 128), "reseau.4.bias": (64,)}


def forme_generateur_2d() -> dict[str, tuple[int, ...]]:
    return {"reseau.0.weight": (128, DIM_Z_2D), "reseau.0.bias": (128,),
            "reseau.2.weight": (128, 128), "reseau.2.bias": (128,),
            "reseau.4.weight": (2, 128), "reseau.4.bias": (2,)}


def forme_discriminateur() -> dict[str, tuple[int, ...]]:
    return {"reseau.0.weight": (128, 64), "reseau.0.bias": (128,),
            "reseau.3.weight": (128, 128), "reseau.3.bias": (128,),
            "reseau.6.weight": (1, 128), "reseau.6.bias": (1,)}


# The generator's layers as `course.torch_tools.couches` lists them (the subject's).
COUCHES_GENERATEUR = (
    "reseau.0: Linear(in_features=16, out_features=128, bias=True)",
    "reseau.1: LeakyReLU(negative_slope=0.2)",
    "reseau.2: Linear(in_features=128, out_features=128, bias=True)",
    "reseau.3: LeakyReLU(negative_slope=0.2)",
    "reseau.4: Linear(in_features=128, out_features=64, bias=True)",
    "reseau.5: Sigmoid()",
)


def conseils_latent(d: int) -> dict[str, str]:
    msg = f"la dimension latente doit être d = {d} (l'argument du constructeur)"
    return {"encodeur.2.weight": msg, "encodeur.2.bias": msg, "decodeur.0.weight": msg,
            "mu.weight": msg, "mu.bias": msg, "logvar.weight": msg, "logvar.bias": msg}


def ecart_architecture(recus: dict, attendus: dict, quoi: str,
                       conseils: dict | None = None) -> str | None:
    """None when the parameters `recus` (name -> shape) are those of the imposed architecture
    `attendus`, else a French diagnostic (for the notebook's checks and the judge alike)."""
    if not recus:
        return f"{quoi} : aucun paramètre — est-ce bien un nn.Module ?"
    manquants = [k for k in attendus if k not in recus]
    en_trop = [k for k in recus if k not in attendus]
    if manquants or en_trop:
        msg = f"{quoi} : l'architecture ne suit pas l'énoncé"
        if manquants:
            msg += f" ; paramètres attendus absents : {', '.join(manquants[:6])}"
        if en_trop:
            msg += f" ; paramètres inattendus : {', '.join(en_trop[:6])}"
        return msg + (" (respectez les noms des attributs et l'ordre des couches de "
                      "nn.Sequential)")
    for k, forme in attendus.items():
        if tuple(recus[k]) != tuple(forme):
            conseil = (conseils or {}).get(k, "")
            return (f"{quoi} : {k} de forme {tuple(recus[k])} au lieu de {tuple(forme)}"
                    + (f" — {conseil}" if conseil else ""))
    return None
