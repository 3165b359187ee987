"""Baselines: the floor every model must beat (dummy, linear, shallow tree)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from crispml.models._base import ModelFamily, register


@register("dummy")
class DummyFamily(ModelFamily):
    """Predicts the class prior (classification) or the training mean (regression)."""

    relative_cost: ClassVar[float] = 0.01
    glass_box: ClassVar[bool] = True
    baseline: ClassVar[bool] = True
    always_monotone: ClassVar[bool] = True

    def build(
        self, params: Mapping[str, Any], *, task: str, seed: int, n_jobs: int | None = None
    ) -> BaseEstimator:
        """Return a prior / mean predictor."""
        if task == "regression":
            return DummyRegressor(strategy="mean")
        return DummyClassifier(strategy="prior")


@register("linear")
class LinearFamily(ModelFamily):
    """L2-regularised logistic regression (classification) or ridge regression."""

    relative_cost: ClassVar[float] = 0.1
    preprocessing: ClassVar[str] = "linear"
    glass_box: ClassVar[bool] = True
    baseline: ClassVar[bool] = True

    def defaults(self, task: str) -> dict[str, Any]:
        """Moderate regularisation."""
        return {"alpha": 1.0} if task == "regression" else {"C": 1.0}

    def build(
        self, params: Mapping[str, Any], *, task: str, seed: int, n_jobs: int | None = None
    ) -> BaseEstimator:
        """Return a logistic or ridge regression."""
        merged = {**self.defaults(task), **params}
        if task == "regression":
            return Ridge(alpha=merged["alpha"])
        return LogisticRegression(C=merged["C"], max_iter=2000)


@register("tree")
class ShallowTreeFamily(ModelFamily):
    """A depth-limited decision tree: readable, and a sanity floor for boosted trees."""

    relative_cost: ClassVar[float] = 0.05
    glass_box: ClassVar[bool] = True
    baseline: ClassVar[bool] = True

    def defaults(self, task: str) -> dict[str, Any]:
        """Depth 4 and leaves of at least 20 rows."""
        return {"max_depth": 4, "min_samples_leaf": 20}

    def build(
        self, params: Mapping[str, Any], *, task: str, seed: int, n_jobs: int | None = None
    ) -> BaseEstimator:
        """Return a shallow decision tree."""
        merged = {**self.defaults(task), **params}
        cls = DecisionTreeRegressor if task == "regression" else DecisionTreeClassifier
        return cls(random_state=seed, **merged)
