"""The handwritten digits of scikit-learn (`load_digits`: 1797 images 8×8, grey levels 0..16),
split once for the whole course: 75 % training, 25 % test, stratified, `random_state=0`.

Every TP uses this split (TP2's MLP, TP3's CNN, TP4's autoencoders and GAN, the project's
diffusion), so that a judge's held-out images are the same test images everywhere.
"""

from __future__ import annotations

import numpy as np

SPLIT_SEED = 0
TEST_FRACTION = 0.25


def split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train (1347, 64), X_test (450, 64), y_train, y_test): grey levels 0..16 as float64,
    labels 0..9; the same arrays at every call."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    parts = train_test_split(np.asarray(X, dtype=float), y, test_size=TEST_FRACTION,
                             stratify=y, random_state=SPLIT_SEED)
    return tuple(parts)
