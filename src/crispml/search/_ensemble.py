"""Greedy ensemble selection (Caruana et al. 2004).

The deployable ensemble object is :class:`crispml.models.WeightedEnsemble` (re-exported
here for older imports).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from crispml._metrics import METRICS, score
from crispml.models._ensemble import WeightedEnsemble

__all__ = ["ENSEMBLE_ROUNDS", "WeightedEnsemble", "greedy_selection"]

ENSEMBLE_ROUNDS = 20
"""Rounds of greedy selection (with replacement); weights are multiples of 1/rounds."""


def greedy_selection(
    outputs: Sequence[np.ndarray],
    y: np.ndarray,
    metric: str,
    *,
    rounds: int = ENSEMBLE_ROUNDS,
    stop_at: float | None = None,
) -> tuple[np.ndarray, float]:
    """Caruana's forward selection with replacement over validation predictions.

    Starts from the best single model, then repeatedly adds (again, possibly) the
    model whose addition to the running average scores best.

    Parameters
    ----------
    outputs : sequence of numpy.ndarray
        Each candidate's validation predictions (probabilities (n, k) or values (n,)).
    y : numpy.ndarray
        The validation target.
    metric : str
        Primary metric (a key of :data:`crispml.evaluate.METRICS`).
    rounds : int, default=20
        Selection rounds; the weights are selection counts / rounds.
    stop_at : float, optional
        A ``time.monotonic()`` deadline: selection ends early (keeping the best so far).

    Returns
    -------
    tuple of (numpy.ndarray, float)
        Weights (summing to 1) and the ensemble's validation score.

    Examples
    --------
    >>> y = np.array([0.0, 1.0, 2.0, 3.0])
    >>> low, high = y - 1.0, y + 1.0
    >>> weights, rmse = greedy_selection([low, high], y, "rmse", rounds=2)
    >>> weights.tolist(), rmse
    ([0.5, 0.5], 0.0)
    """
    sign = 1.0 if METRICS[metric].greater_is_better else -1.0
    singles = [sign * score(metric, y, out) for out in outputs]
    counts = np.zeros(len(outputs))
    first = int(np.argmax(singles))
    counts[first] = 1
    total = np.array(outputs[first], dtype=np.float64)
    best_counts, best_value = counts.copy(), singles[first]
    for step in range(2, rounds + 1):
        if stop_at is not None and time.monotonic() >= stop_at:
            break
        trial_values = [sign * score(metric, y, (total + out) / step) for out in outputs]
        pick = int(np.argmax(trial_values))
        counts[pick] += 1
        total = total + outputs[pick]
        if trial_values[pick] > best_value:
            best_counts, best_value = counts.copy(), trial_values[pick]
    return best_counts / best_counts.sum(), sign * best_value
