"""Stopping a fit at the deadline: warm-start chunks for forests and staged boosting."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator


def deadline_from(time_left_s: float | None) -> float | None:
    """Monotonic time at which a fit must stop, or ``None`` (no limit)."""
    return None if time_left_s is None else time.monotonic() + max(0.0, time_left_s)


def fit_in_chunks(
    estimator: BaseEstimator,
    X: np.ndarray,
    y: np.ndarray,
    *,
    param: str,
    total: int,
    chunk: int,
    time_left_s: float | None,
    sample_weight: np.ndarray | None = None,
) -> tuple[BaseEstimator, bool]:
    """Grow ``param`` (trees, iterations) by ``chunk`` with ``warm_start`` until ``total``.

    scikit-learn forests and HistGradientBoosting have no per-iteration callback; growing
    them in chunks lets the fit stop at the deadline with the trees already built.

    Returns
    -------
    tuple of (estimator, bool)
        The fitted estimator and whether it was cut short by the deadline.
    """
    stop_at = deadline_from(time_left_s)
    done = 0
    stopped = False
    kwargs: dict[str, Any] = {} if sample_weight is None else {"sample_weight": sample_weight}
    estimator.set_params(warm_start=True)
    while done < total:
        done = min(total, done + chunk)
        estimator.set_params(**{param: done})
        estimator.fit(X, y, **kwargs)
        if getattr(estimator, "n_iter_", done) < done:  # early stopping ended it
            break
        if stop_at is not None and time.monotonic() >= stop_at and done < total:
            stopped = True
            break
    estimator.set_params(warm_start=False, **{param: done})
    return estimator, stopped
