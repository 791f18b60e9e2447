"""What TP4's checks share: the scale of the run and the judge's digits."""

from __future__ import annotations

import numpy as np

from course.torch_tools import echelle as scale  # noqa: F401 (the checks' budgets)
from judges.common.digits_quality import digits  # noqa: F401 (pixels in [0, 1], float32)


def subset(rng, n: int) -> np.ndarray:
    """n training digits drawn without replacement, in their order."""
    X_train = digits()[0]
    return X_train[np.sort(rng.choice(len(X_train), size=n, replace=False))]
