"""CatBoost: the strongest untuned family on our suite, fed the one-hot encoded features.

CatBoost's ONNX export refuses categorical features, so the family takes the same
preprocessed (one-hot) matrix as the other tree families and exports like them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from crispml._utils._threads import resolve_n_jobs
from crispml.models._base import ModelFamily, register
from crispml.models._stopping import deadline_from

EARLY_STOPPING_ROUNDS = 100


@register("catboost")
class CatBoostFamily(ModelFamily):
    """CatBoost with its own defaults (auto learning rate), early stopping, deadline stop.

    .. versionchanged:: 0.4
       The default no longer sets ``l2_leaf_reg``: giving it (even at CatBoost's own
       value, 3) turns CatBoost's automatic learning rate off and leaves 0.03, which
       does not converge in 1,000 rounds on tens of thousands of rows.
    """

    relative_cost: ClassVar[float] = 4.0
    monotone_param: ClassVar[str | None] = "monotone_constraints"
    iterative: ClassVar[bool] = True
    # German credit (480 rows, 18 columns, 1,000 rounds, 2 threads): 2.1-2.3 s wall;
    # early stopping ends sooner. 3.0 skipped CatBoost on small tables' short searches.
    fit_overhead_s: ClassVar[float] = 1.5

    def defaults(self, task: str) -> dict[str, Any]:
        """CatBoost's defaults: 1000 rounds, depth 6, learning rate chosen from the data.

        Only parameters that leave CatBoost's automatic learning rate on are set; the
        rate CatBoost chose is kept by :meth:`fit_info` (a refit pins it).
        """
        base: dict[str, Any] = {"iterations": 1000, "depth": 6}
        return base if task == "regression" else {**base, "auto_class_weights": "none"}

    def search_space(self, n_rows: int, n_cols: int, task: str) -> dict[str, Any]:
        """Depth, learning rate, L2 penalty, bagging temperature and class weighting."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        space: dict[str, Any] = {
            "depth": IntDistribution(4, 8),
            "learning_rate": FloatDistribution(0.01, 0.2, log=True),
            "l2_leaf_reg": FloatDistribution(1.0, 20.0, log=True),
            "random_strength": FloatDistribution(0.1, 5.0, log=True),
        }
        if task != "regression":
            space["auto_class_weights"] = CategoricalDistribution(["none", "Balanced"])
        return space

    def build(
        self, params: Mapping[str, Any], *, task: str, seed: int, n_jobs: int | None = None
    ) -> BaseEstimator:
        """Return an unfitted CatBoost estimator (``n_jobs`` threads, silent, no files written)."""
        import catboost as cb

        merged = {**self.defaults(task), **params}
        weights = merged.pop("auto_class_weights", "none")
        common = {
            "random_seed": seed,
            "thread_count": resolve_n_jobs(n_jobs),
            "verbose": False,
            "allow_writing_files": False,
        }
        if task == "regression":
            return cb.CatBoostRegressor(**merged, **common)
        if weights != "none":
            common["auto_class_weights"] = weights
        return cb.CatBoostClassifier(**merged, **common)

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
        """Boost with early stopping on validation; keep the best round; stop at the deadline."""
        stop_at = deadline_from(time_left_s)
        callbacks = None if stop_at is None else [_StopAt(stop_at)]
        estimator.fit(
            X_train,
            y_train,
            eval_set=(X_valid, y_valid),
            early_stopping_rounds=EARLY_STOPPING_ROUNDS,
            use_best_model=True,
            callbacks=callbacks,
        )
        estimator.stopped_at_deadline_ = stop_at is not None and time.monotonic() >= stop_at
        return estimator

    def fit_info(self, estimator: BaseEstimator) -> dict[str, Any]:
        """Return the rounds kept and the learning rate CatBoost chose (a refit pins both)."""
        return {
            "iterations": int(estimator.tree_count_),
            "learning_rate": float(estimator.get_all_params()["learning_rate"]),
        }


class _StopAt:
    """CatBoost callback: returning False from ``after_iteration`` ends the fit."""

    def __init__(self, stop_at: float) -> None:
        self.stop_at = stop_at

    def after_iteration(self, info: Any) -> bool:
        return time.monotonic() < self.stop_at
