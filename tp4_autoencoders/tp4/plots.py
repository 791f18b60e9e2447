"""TP4's plots (the digits mosaic is the course's: `course.digit_images`)."""

from __future__ import annotations

import numpy as np

from course.sample_quality import repartition_classes
from course.torch_tools import vers_numpy


def tracer_latent(Z, y, ax=None, titre=None):
    """Nuage de points d'un code latent 2-D Z (n, 2), coloré selon les étiquettes y des
    chiffres."""
    import matplotlib.pyplot as plt

    Z = vers_numpy(Z)
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
    """Diagramme en barres des classes que le classifieur du notebook (`evaluer_echantillons`)
    attribue à des images générées."""
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


def tracer_suivi_gan(historique, titre=None):
    """Le suivi d'un entraînement de GAN (le dictionnaire renvoyé par `entrainer_gan`) : à
    gauche les deux pertes à chaque itération, à droite la répartition des classes générées au
    fil des itérations (une colonne par point de suivi, une ligne par classe). Une figure ;
    terminez la cellule par plt.show()."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 3.5))
    axes[0].plot(vers_numpy(historique["perte_D"]), alpha=0.6, label="discriminateur")
    axes[0].plot(vers_numpy(historique["perte_G"]), alpha=0.6, label="générateur")
    axes[0].set_xlabel("itération")
    axes[0].set_ylabel("perte")
    axes[0].legend()
    if len(historique.get("repartition", [])):
        repartition = np.array([vers_numpy(r) for r in historique["repartition"]])
        image = axes[1].imshow(repartition.T, aspect="auto", origin="lower", cmap="viridis",
                               vmin=0, vmax=0.4,
                               extent=(0, historique["iterations"][-1], -0.5, 9.5))
        axes[1].set_yticks(range(10))
        plt.colorbar(image, ax=axes[1], label="fraction des échantillons")
    axes[1].set_xlabel("itération")
    axes[1].set_ylabel("classe générée")
    if titre:
        fig.suptitle(titre)
    return fig


def grille_latente(decodeur, z1, z2, base=None, axes=(0, 1), titre=None):
    """Décode les points (z1[j], z2[i]) d'une grille d'un plan latent et les affiche en
    mosaïque : colonne j pour z1[j] (croissant vers la droite), ligne i pour z2[i] (croissant
    vers le haut, comme un nuage de points). `base` (tenseur (d,), 0 par défaut en dimension 2)
    donne les autres coordonnées du code ; seules les coordonnées `axes` (deux indices) varient.
    Une figure ; terminez la cellule par plt.show()."""
    import matplotlib.pyplot as plt
    import torch

    z1, z2 = vers_numpy(z1).ravel(), vers_numpy(z2).ravel()
    base = np.zeros(2) if base is None else vers_numpy(base).ravel()
    codes = np.tile(base, (len(z1) * len(z2), 1))
    a, b = (int(i) for i in axes)
    codes[:, a] = np.tile(z1, len(z2))
    codes[:, b] = np.repeat(z2[::-1], len(z1))  # first row at the top: the largest z2
    parametres = list(decodeur.parameters())
    appareil = parametres[0].device if parametres else "cpu"
    with torch.no_grad():
        images = decodeur(torch.tensor(codes, dtype=torch.float32, device=appareil))
    images = np.clip(vers_numpy(images).reshape(len(z2), len(z1), 8, 8), 0.0, 1.0)
    grille = np.full((9 * len(z2) + 1, 9 * len(z1) + 1), np.nan)
    for i in range(len(z2)):
        for j in range(len(z1)):
            grille[1 + 9 * i:9 * i + 9, 1 + 9 * j:9 * j + 9] = images[i, j]
    fig, ax = plt.subplots(figsize=(0.5 * len(z1) + 1.2, 0.5 * len(z2) + 0.8))
    cmap = plt.get_cmap("gray_r").copy()
    cmap.set_bad("white")
    ax.imshow(grille, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks(9 * np.arange(len(z1)) + 4.5, [f"{v:.2g}" for v in z1], fontsize=7)
    ax.set_yticks(9 * np.arange(len(z2)) + 4.5, [f"{v:.2g}" for v in z2[::-1]], fontsize=7)
    ax.set_xlabel(f"$z_{{{a + 1}}}$")
    ax.set_ylabel(f"$z_{{{b + 1}}}$")
    if titre:
        ax.set_title(titre)
    return fig
