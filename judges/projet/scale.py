"""What the project's checks share: the scale of the run and the judge's digits."""

from __future__ import annotations

import functools

from course.torch_tools import echelle as scale  # noqa: F401 (the checks' thresholds)
from judges.common.digits_quality import digits
from projet.data import vers_diffusion


@functools.lru_cache(maxsize=1)
def digits_diffusion():
    """(X_train, X_test) of the digits in [-1, 1] (the diffusion's scale), float64."""
    X_train, X_test, _, _ = digits()
    return vers_diffusion(X_train.astype(float)), vers_diffusion(X_test.astype(float))
