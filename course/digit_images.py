"""The 8×8 digits as images with pixels in [0, 1] (TP4, the project): loading them, showing
them as one mosaic (arrays or tensors)."""

from __future__ import annotations

import numpy as np

from .digits import split
from .torch_tools import vers_numpy


def charger_chiffres():
    """Les chiffres 8x8 de scikit-learn (`load_digits`), pixels divisés par 16 (dans [0, 1]).

    Renvoie (X_train, X_test, y_train, y_test) : X de formes (1347, 64) et (450, 64), en float32 ;
    y les étiquettes 0-9. Le découpage est celui du cours (`course.digits.split` : stratifié,
    25 % de test, random_state=0) : les correcteurs gardent les images de test comme données mises
    de côté.
    """
    X_train, X_test, y_train, y_test = split()
    return ((X_train / 16.0).astype(np.float32), (X_test / 16.0).astype(np.float32),
            y_train, y_test)


def afficher_chiffres(images, n_colonnes=10, titre=None, etiquettes=None, taille=0.7):
    """Affiche des images (tableau ou tenseur de forme (n, 64) ou (n, 8, 8), pixels dans [0, 1])
    en une seule mosaïque, avec leurs étiquettes en rouge quand `etiquettes` est donné."""
    import matplotlib.pyplot as plt

    images = np.clip(vers_numpy(images).reshape(-1, 8, 8), 0.0, 1.0)
    n = len(images)
    n_colonnes = max(1, min(n_colonnes, n))
    n_lignes = int(np.ceil(n / n_colonnes))
    grille = np.full((9 * n_lignes + 1, 9 * n_colonnes + 1), np.nan)
    for i, image in enumerate(images):
        ligne, colonne = divmod(i, n_colonnes)
        grille[1 + 9 * ligne:9 * ligne + 9, 1 + 9 * colonne:9 * colonne + 9] = image
    fig, ax = plt.subplots(figsize=(taille * n_colonnes,
                                    taille * n_lignes + (0.5 if titre else 0.1)))
    cmap = plt.get_cmap("gray_r").copy()
    cmap.set_bad("white")
    ax.imshow(grille, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    if etiquettes is not None:
        for i, etiquette in enumerate(etiquettes[:n]):
            ligne, colonne = divmod(i, n_colonnes)
            ax.text(9 * colonne + 1.2, 9 * ligne + 2.2, str(etiquette), color="tab:red",
                    fontsize=8)
    ax.axis("off")
    if titre:
        ax.set_title(titre)
    plt.show()
