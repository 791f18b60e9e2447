"""The project's plots (the digits mosaic is the course's: `course.digit_images`)."""

from __future__ import annotations

from course.torch_tools import vers_numpy


def tracer_nuages(nuages: dict, titre=None, limite=3.5, taille=3.2):
    """Nuages de points 2-D côte à côte, donnés comme {nom: tableau (n, 2)}."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(nuages), figsize=(taille * len(nuages), taille),
                             squeeze=False)
    for ax, (nom, X) in zip(axes[0], nuages.items()):
        X = vers_numpy(X)
        ax.scatter(X[:, 0], X[:, 1], s=2, alpha=0.5)
        ax.set_title(nom, fontsize=9)
        ax.set_xlim(-limite, limite)
        ax.set_ylim(-limite, limite)
        ax.set_aspect("equal")
    if titre:
        fig.suptitle(titre)
    plt.show()
