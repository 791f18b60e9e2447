"""The 8×8 digits as images with pixels in [0, 1] (TP4, the project): loading them, showing
them as one mosaic (arrays or tensors)."""

from __future__ import annotations

import numpy as np

from .digits import split
from .torch_tools import vers_numpy


def charger_chiffres():
    """The 8x8 digits of scikit-learn (`load_digits`), pixels divided by 16 (in [0, 1]).

    Returns (X_train, X_test, y_train, y_test): X of shapes (1347, 64) and (450, 64), float32;
    y the labels 0-9. The split is the course's (`course.digits.split`: stratified, 25 % test,
    random_state=0): the judges keep the test images as held-out data.
    """
    X_train, X_test, y_train, y_test = split()
    return ((X_train / 16.0).astype(np.float32), (X_test / 16.0).astype(np.float32),
            y_train, y_test)


def afficher_chiffres(images, n_colonnes=10, titre=None, etiquettes=None, taille=0.7):
    """Show images (array or tensor of shape (n, 64) or (n, 8, 8), pixels in [0, 1]) as one
    mosaic, with their labels in red when `etiquettes` is given."""
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
