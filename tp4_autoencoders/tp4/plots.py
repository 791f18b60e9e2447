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


def tracer_modes(echantillons: dict, donnees=None):
    """Compare des générateurs du plan sur les huit gaussiennes : `echantillons` associe un nom à
    des points (n, 2). En haut, les points de chacun (en gris les `donnees`, les cercles de rayon
    0.3 autour des modes) ; en bas, la part des points sur chaque mode (une part égale : 12.5 %,
    un mode compte comme couvert à partir de 4 %). Une figure ; terminez la cellule par
    plt.show()."""
    import matplotlib.pyplot as plt

    from .modes import PART_MIN, RAYON_MODE, centres_8g, modes_couverts

    fig, axes = plt.subplots(2, len(echantillons), figsize=(4 * len(echantillons), 6.5),
                             gridspec_kw={"height_ratios": [3, 1.2]}, squeeze=False)
    for j, (nom, points) in enumerate(echantillons.items()):
        points, m = vers_numpy(points).reshape(-1, 2), modes_couverts(points)
        ax = axes[0, j]
        if donnees is not None:
            d = vers_numpy(donnees).reshape(-1, 2)
            ax.scatter(d[:, 0], d[:, 1], s=2, c="0.8", label="données")
        ax.scatter(points[:, 0], points[:, 1], s=3, c="C3", alpha=0.4, label="générés")
        for c in centres_8g():
            ax.add_patch(plt.Circle(c, RAYON_MODE, fill=False, ls=":", color="0.3"))
        ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal",
               title=f"{nom}\n{m['modes']} mode{'s' if m['modes'] > 1 else ''} sur 8, "
                     f"{100 * m['sur_les_modes']:.0f} % des points sur un mode")
        ax = axes[1, j]
        ax.bar(range(1, 9), 100 * m["repartition"], color="C3")
        ax.axhline(12.5, color="0.3", ls="--", lw=1, label="part égale")
        ax.axhline(100 * PART_MIN, color="0.3", ls=":", lw=1, label="seuil « couvert »")
        ax.set(xlabel="mode", ylabel="% des points", xticks=range(1, 9),
               ylim=(0, max(30, 100 * m["repartition"].max() + 5)))
    axes[0, 0].legend(loc="center", fontsize=8)
    axes[1, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig
