"""Greedy ensemble selection (Caruana et al. 2004) and the one deployable ensemble object."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crispml._metrics import METRICS, score

ENSEMBLE_ROUNDS = 20
"""Rounds of greedy selection (with replacement); weights are multiples of 1/rounds."""


class WeightedEnsemble(BaseEstimator):
    """A weighted average of fitted pipelines: one object to save, calibrate and export.

    Bagged cross-validation models (one pipeline per fold, equal weights) and greedy
    ensembles of several candidates are both this object, flattened to plain pipelines.

    Parameters
    ----------
    members : list of sklearn.pipeline.Pipeline
        Fitted pipelines, each taking the frame returned by :func:`crispml.data.conform`.
    weights : array-like of float
        Non-negative weights; normalised to sum to 1.
    task : {"binary", "multiclass", "regression"}
        Whether members are averaged through ``predict_proba`` or ``predict``.

    Attributes
    ----------
    members_ : list of sklearn.pipeline.Pipeline
        The fitted members.
    weights_ : numpy.ndarray
        Weights summing to 1, one per member.
    classes_ : numpy.ndarray
        Encoded classes (classification only).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.dummy import DummyRegressor
    >>> from sklearn.pipeline import make_pipeline
    >>> X, y = pd.DataFrame({"x": [0.0, 1.0]}), np.array([0.0, 2.0])
    >>> a = make_pipeline(DummyRegressor(strategy="constant", constant=0.0)).fit(X, y)
    >>> b = make_pipeline(DummyRegressor(strategy="constant", constant=4.0)).fit(X, y)
    >>> WeightedEnsemble(members=[a, b], weights=[3, 1], task="regression").fit().predict(X)
    array([1., 1.])
    """

    def __init__(self, *, members: Sequence[Any], weights: Sequence[float], task: str) -> None:
        self.members = members
        self.weights = weights
        self.task = task

    def fit(self, X: Any = None, y: Any = None) -> WeightedEnsemble:
        """Adopt the (already fitted) members and normalise the weights; data is ignored."""
        weights = np.asarray(self.weights, dtype=np.float64)
        if len(weights) != len(self.members) or len(weights) == 0 or (weights < 0).any():
            raise ValueError(
                f"weights {weights.tolist()} must be non-negative, one per member "
                f"({len(self.members)} members)"
            )
        self.members_ = list(self.members)
        self.weights_ = weights / weights.sum()
        if self.task != "regression":
            self.classes_ = np.asarray(self.members_[0].classes_)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Weighted average of the members' class probabilities."""
        check_is_fitted(self, "weights_")
        parts = [
            w * np.asarray(m.predict_proba(X), dtype=np.float64)
            for m, w in zip(self.members_, self.weights_, strict=True)
        ]
        return np.sum(parts, axis=0)  # type: ignore[no-any-return]

    def predict(self, X: Any) -> np.ndarray:
        """Weighted average of values (regression) or the most probable class."""
        check_is_fitted(self, "weights_")
        if self.task == "regression":
            parts = [
                w * np.asarray(m.predict(X), dtype=np.float64)
                for m, w in zip(self.members_, self.weights_, strict=True)
            ]
            return np.sum(parts, axis=0)  # type: ignore[no-any-return]
        return self.classes_[self.predict_proba(X).argmax(axis=1)]  # type: ignore[no-any-return]


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
