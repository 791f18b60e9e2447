"""TP1's plotting helpers, given to the students (matplotlib is imported when they draw)."""

from __future__ import annotations

import numpy as np

from .data import peaks


def tracer_frontiere(X, y, w=None, b=None, ax=None, titre=None):
    """Nuage de points des arbres malades et, si (w, b) est donné, la droite w.x + b = 0."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    ax.scatter(X[y == 1, 0], X[y == 1, 1], c="tab:red", marker="x", label="malade")
    ax.scatter(X[y == 0, 0], X[y == 0, 1], c="tab:green", marker="o", label="non malade")
    if w is not None:
        w = np.asarray(w, dtype=float).ravel()
        b = float(b)
        x0 = np.linspace(X[:, 0].min() - 1, X[:, 0].max() + 1, 100)
        if abs(w[1]) > 1e-12:
            ax.plot(x0, -(w[0] * x0 + b) / w[1], "k-", label="frontière w.x + b = 0")
        elif abs(w[0]) > 1e-12:
            ax.axvline(-b / w[0], color="k", label="frontière w.x + b = 0")
        ax.set_ylim(X[:, 1].min() - 1, X[:, 1].max() + 1)
    ax.set_xlabel("nombre de branches cassées")
    ax.set_ylabel("hauteur (m)")
    ax.legend(loc="best")
    if titre:
        ax.set_title(titre)
    return ax


def tracer_peaks(trajectoires=(), ax=None, titre=None):
    """Courbes de niveau de `peaks` sur [-3, 3]^2, avec d'éventuelles trajectoires (tableaux de
    forme (T, 2))."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    g = np.linspace(-3, 3, 200)
    xx, yy = np.meshgrid(g, g)
    cs = ax.contourf(xx, yy, peaks(xx, yy), levels=30, cmap="viridis")
    plt.colorbar(cs, ax=ax)
    for traj in trajectoires:
        traj = np.asarray(traj, dtype=float)
        ax.plot(traj[:, 0], traj[:, 1], "w.-", markersize=2, linewidth=1)
        ax.plot(traj[0, 0], traj[0, 1], "wo")
        ax.plot(traj[-1, 0], traj[-1, 1], "r*", markersize=12)
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if titre:
        ax.set_title(titre)
    return ax
