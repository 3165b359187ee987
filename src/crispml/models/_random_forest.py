"""Random forest: bagged deep trees, a robust default that needs no tuning."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from crispml._utils._threads import resolve_n_jobs
from crispml.models._base import ModelFamily, register
from crispml.models._stopping import fit_in_chunks

TREES_PER_CHUNK = 50
NODE_BYTES = 64
"""Bytes of one node of a scikit-learn tree (its ``Node`` record), besides its values."""
MIN_LEAVES = 64
"""The fewest leaves per tree a size bound may impose (below, a forest is not worth it)."""


@register("random_forest")
class RandomForestFamily(ModelFamily):
    """scikit-learn's random forest, grown in chunks of trees until the deadline."""

    relative_cost: ClassVar[float] = 1.5
    iterative: ClassVar[bool] = True
    fit_overhead_s: ClassVar[float] = 0.8
    estimator_classes: ClassVar[tuple[type, type]] = (
        RandomForestClassifier,
        RandomForestRegressor,
    )
    """The (classifier, regressor) pair this family builds."""

    def defaults(self, task: str) -> dict[str, Any]:
        """150 trees, sqrt features (classification) or all features (regression).

        Leaves of at least 3 rows make the model several times smaller (file, ONNX,
        latency) than fully grown trees; the bagged fold models multiply its size.
        """
        return {
            "n_estimators": 150,
            "max_features": 1.0 if task == "regression" else "sqrt",
            "min_samples_leaf": 3,
            "max_leaf_nodes": None,
            "class_weight": "none",
        }

    def size_bound(
        self, params: Mapping[str, Any], *, task: str, n_rows: int, n_outputs: int, max_mb: float
    ) -> dict[str, Any]:
        """Cap the leaves per tree so that the forest's nodes fit in ``max_mb``.

        A tree of ``L`` leaves has ``2L - 1`` nodes of :data:`NODE_BYTES` plus one
        float64 per output; a tree of leaves of at least ``min_samples_leaf`` rows has at
        most ``n_rows / min_samples_leaf`` leaves, so no bound is set when that fits.

        Examples
        --------
        >>> family = RandomForestFamily()
        >>> family.size_bound({}, task="regression", n_rows=1000, n_outputs=1, max_mb=100.0)
        {}
        >>> family.size_bound({}, task="regression", n_rows=10**6, n_outputs=1, max_mb=10.0)
        {'max_leaf_nodes': 462}
        """
        merged = {**self.defaults(task), **params}
        trees = int(merged["n_estimators"])
        node_bytes = NODE_BYTES + 8 * max(1, n_outputs)
        affordable = int(max_mb * 1e6 / (trees * 2 * node_bytes))
        natural = n_rows / max(1, int(merged["min_samples_leaf"]))
        if natural <= affordable:
            return {}
        return {"max_leaf_nodes": max(MIN_LEAVES, affordable)}

    def search_space(self, n_rows: int, n_cols: int, task: str) -> dict[str, Any]:
        """Feature share, leaf size and (classification) class weighting."""
        from optuna.distributions import CategoricalDistribution, IntDistribution

        space: dict[str, Any] = {
            "max_features": CategoricalDistribution(["sqrt", 0.3, 0.6, 1.0]),
            "min_samples_leaf": IntDistribution(1, 20, log=True),
        }
        if task != "regression":
            space["class_weight"] = CategoricalDistribution(["none", "balanced"])
        return space

    def build(
        self, params: Mapping[str, Any], *, task: str, seed: int, n_jobs: int | None = None
    ) -> BaseEstimator:
        """Return an unfitted forest growing its trees on ``n_jobs`` threads."""
        return _build_forest(
            {**self.defaults(task), **params},
            task=task,
            seed=seed,
            n_jobs=n_jobs,
            classes=self.estimator_classes,
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


def _build_forest(
    merged: dict[str, Any],
    *,
    task: str,
    seed: int,
    n_jobs: int | None,
    classes: tuple[type, type],
) -> BaseEstimator:
    """Build a forest of ``classes`` (classifier, regressor) from merged parameters."""
    merged = dict(merged)
    weight = merged.pop("class_weight", "none")
    common = {"random_state": seed, "n_jobs": resolve_n_jobs(n_jobs), **merged}
    if task == "regression":
        return classes[1](**common)
    return classes[0](class_weight=None if weight == "none" else weight, **common)


def _fit_forest(
    estimator: BaseEstimator, X: np.ndarray, y: np.ndarray, time_left_s: float | None
) -> BaseEstimator:
    total = int(estimator.get_params()["n_estimators"])
    fitted, stopped = fit_in_chunks(
        estimator,
        X,
        y,
        param="n_estimators",
        total=total,
        chunk=TREES_PER_CHUNK,
        time_left_s=time_left_s,
    )
    fitted.stopped_at_deadline_ = stopped
    # Two threads summing tree votes add in a varying order (last-bit differences);
    # predicting on one thread makes predictions bit-identical from run to run.
    fitted.set_params(n_jobs=1)
    return fitted
