"""Extra trees: randomised split thresholds, fast and diverse (good ensemble members)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

from crispml.models._base import ModelFamily, register
from crispml.models._random_forest import RandomForestFamily, _build_forest, _fit_forest


@register("extra_trees")
class ExtraTreesFamily(ModelFamily):
    """scikit-learn's extremely randomised trees, grown in chunks until the deadline."""

    relative_cost: ClassVar[float] = 1.0
    iterative: ClassVar[bool] = True
    fit_overhead_s: ClassVar[float] = 0.7

    def defaults(self, task: str) -> dict[str, Any]:
        """Return the random forest's defaults (150 trees)."""
        return RandomForestFamily().defaults(task)

    def search_space(self, n_rows: int, n_cols: int, task: str) -> dict[str, Any]:
        """Return the random forest's search space."""
        return RandomForestFamily().search_space(n_rows, n_cols, task)

    def build(self, params: Mapping[str, Any], *, task: str, seed: int) -> BaseEstimator:
        """Return an unfitted extra-trees ensemble using both cores."""
        return _build_forest(
            {**self.defaults(task), **params},
            task=task,
            seed=seed,
            classes=(ExtraTreesClassifier, ExtraTreesRegressor),
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
        """Grow the trees in chunks, stopping at the deadline."""
        return _fit_forest(estimator, X_train, y_train, time_left_s)

    def fit_info(self, estimator: BaseEstimator) -> dict[str, Any]:
        """Return the number of trees grown."""
        return {"n_estimators": len(getattr(estimator, "estimators_", []))}
