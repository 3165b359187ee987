"""scikit-learn's HistGradientBoosting: LightGBM-like boosting with no extra dependency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from crispml.models._base import ModelFamily, register
from crispml.models._stopping import fit_in_chunks

ITERATIONS_PER_CHUNK = 100


@register("hist_gradient_boosting")
class HistGradientBoostingFamily(ModelFamily):
    """HistGradientBoosting with early stopping on validation, grown in chunks of rounds."""

    relative_cost: ClassVar[float] = 1.2
    monotone_param: ClassVar[str | None] = "monotonic_cst"
    iterative: ClassVar[bool] = True
    fit_overhead_s: ClassVar[float] = 2.0

    def defaults(self, task: str) -> dict[str, Any]:
        """Learning rate 0.05, 31 leaves, up to 1000 rounds with early stopping."""
        base: dict[str, Any] = {
            "max_iter": 1000,
            "learning_rate": 0.05,
            "max_leaf_nodes": 31,
            "min_samples_leaf": 20,
            "l2_regularization": 1.0,
        }
        return base if task == "regression" else {**base, "class_weight": "none"}

    def search_space(self, n_rows: int, n_cols: int, task: str) -> dict[str, Any]:
        """Learning rate, tree size, leaf size, L2 penalty and class weighting."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        space: dict[str, Any] = {
            "learning_rate": FloatDistribution(0.01, 0.3, log=True),
            "max_leaf_nodes": IntDistribution(7, 127, log=True),
            "min_samples_leaf": IntDistribution(5, 100, log=True),
            "l2_regularization": FloatDistribution(1e-3, 10.0, log=True),
        }
        if task != "regression":
            space["class_weight"] = CategoricalDistribution(["none", "balanced"])
        return space

    def build(
        self, params: Mapping[str, Any], *, task: str, seed: int, n_jobs: int | None = None
    ) -> BaseEstimator:
        """Return an unfitted estimator with early stopping (patience 30 rounds)."""
        merged = {**self.defaults(task), **params}
        weight = merged.pop("class_weight", "none")
        common = {"random_state": seed, "early_stopping": True, "n_iter_no_change": 30, **merged}
        if task == "regression":
            return HistGradientBoostingRegressor(**common)
        return HistGradientBoostingClassifier(
            class_weight=None if weight == "none" else weight, **common
        )

    def fit(
        self,
        estimator: BaseEstimator,
        X_train: np.ndarray,
        y_train: np.ndarray,
        X_valid: np.ndarray,
        y_valid: np.ndarray,
        *,
        time_left_s: float | None = None,
    ) -> BaseEstimator:
        """Boost in chunks with early stopping on the given validation set."""
        total = int(estimator.get_params()["max_iter"])
        estimator.set_params(validation_fraction=None)
        fitted, stopped = fit_in_chunks(
            _WithValidation(estimator, X_valid, y_valid),
            X_train,
            y_train,
            param="max_iter",
            total=total,
            chunk=ITERATIONS_PER_CHUNK,
            time_left_s=time_left_s,
        )
        model: BaseEstimator = fitted.estimator
        model.set_params(max_iter=int(model.n_iter_))
        model.stopped_at_deadline_ = stopped
        return model

    def fit_info(self, estimator: BaseEstimator) -> dict[str, Any]:
        """Return the boosting rounds kept."""
        return {"max_iter": int(getattr(estimator, "n_iter_", 0))}


class _WithValidation:
    """Adapter passing a fixed validation set to each warm-started ``fit`` call."""

    def __init__(self, estimator: BaseEstimator, X_val: np.ndarray, y_val: np.ndarray) -> None:
        self.estimator = estimator
        self.X_val = X_val
        self.y_val = y_val

    def set_params(self, **params: Any) -> _WithValidation:
        self.estimator.set_params(**params)
        return self

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return self.estimator.get_params(deep)  # type: ignore[no-any-return]

    def fit(self, X: np.ndarray, y: np.ndarray, **kwargs: Any) -> _WithValidation:
        self.estimator.fit(X, y, X_val=self.X_val, y_val=self.y_val, **kwargs)
        self.n_iter_ = int(self.estimator.n_iter_)  # tells fit_in_chunks early stopping ended it
        return self
