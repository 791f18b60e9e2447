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
