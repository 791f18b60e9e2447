"""TP3's data (the course's digits as images) and an image grid (given to the students)."""

from __future__ import annotations

import numpy as np


def charger_chiffres_images():
    """Chiffres manuscrits sous forme d'images : X de forme (n, 8, 8, 1), niveaux de gris ramenés
    à [0, 1] (divisés par 16), y = chiffre 0..9. L'unique découpage du cours (`course.digits`, les
    mêmes chiffres qu'au TP2) : renvoie X_train, X_test, y_train, y_test."""
    from course.digits import split

    X_train, X_test, y_train, y_test = split()
    shape = (-1, 8, 8, 1)
    return (X_train / 16.0).reshape(shape), (X_test / 16.0).reshape(shape), y_train, y_test


def afficher_images(images, titres=None, n_colonnes=8, taille=1.4, cmap="gray_r", suptitle=None):
    """Affiche en grille une liste de tableaux 2-D (ou d'images (H, W, 1)). `cmap` est une carte
    de couleurs, ou une par image ; une image à valeurs négatives reçoit une échelle de couleurs
    centrée sur 0."""
    import matplotlib.pyplot as plt

    images = [np.asarray(im, dtype=float).squeeze() for im in images]
    n = len(images)
    cmaps = list(cmap) if isinstance(cmap, (list, tuple)) else [cmap] * n
    n_col = min(n_colonnes, n)
    n_lig = -(-n // n_col)
    fig, axes = plt.subplots(n_lig, n_col, figsize=(taille * n_col, taille * n_lig + 0.3),
                             squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if k < n:
            im = images[k]
            echelle = {}
            if im.size and im.min() < 0:
                borne = float(np.abs(im).max()) or 1.0
                echelle = {"vmin": -borne, "vmax": borne}
            ax.imshow(im, cmap=cmaps[k], **echelle)
            if titres is not None:
                ax.set_title(str(titres[k]), fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
