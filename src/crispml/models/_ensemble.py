"""The weighted ensemble: one deployable object for bagged folds and greedy ensembles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crispml.models._deployable import DeployableModel, WeightedAverage

__all__ = ["WeightedEnsemble"]


class WeightedEnsemble(DeployableModel, BaseEstimator):  # type: ignore[misc]
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
    >>> ensemble = WeightedEnsemble(members=[a, b], weights=[3, 1], task="regression").fit()
    >>> ensemble.predict(X)
    array([1., 1.])
    >>> ensemble.export_spec().weights
    (0.75, 0.25)
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
        return np.asarray(np.sum(parts, axis=0), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """Weighted average of values (regression) or the most probable class."""
        check_is_fitted(self, "weights_")
        if self.task == "regression":
            parts = [
                w * np.asarray(m.predict(X), dtype=np.float64)
                for m, w in zip(self.members_, self.weights_, strict=True)
            ]
            return np.asarray(np.sum(parts, axis=0), dtype=np.float64)
        return np.asarray(self.classes_[self.predict_proba(X).argmax(axis=1)])

    def export_spec(self) -> WeightedAverage:
        """Describe the ensemble for export: its members and their normalised weights.

        Returns
        -------
        WeightedAverage
        """
        check_is_fitted(self, "weights_")
        return WeightedAverage(
            members=tuple(self.members_), weights=tuple(float(w) for w in self.weights_)
        )
