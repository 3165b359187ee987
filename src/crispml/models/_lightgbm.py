"""LightGBM: gradient-boosted trees with early stopping on the validation split."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator

from crispml._utils._threads import resolve_n_jobs
from crispml.models._base import ModelFamily, register

EARLY_STOPPING_ROUNDS = 50


@register("lightgbm")
class LightGBMFamily(ModelFamily):
    """LightGBM with early stopping on validation and a stop at the deadline."""

    relative_cost: ClassVar[float] = 1.0
    monotone_param: ClassVar[str | None] = "monotone_constraints"
    iterative: ClassVar[bool] = True
    fit_overhead_s: ClassVar[float] = 0.4

    def defaults(self, task: str) -> dict[str, Any]:
        """Return LightGBM's own defaults, boosted until validation stops improving.

        Learning rate 0.1, 31 leaves, leaves of at least 20 rows, every row and column
        per tree, as untuned LightGBM uses them; rounds end by early stopping (at most
        1,000) instead of at 100. A smaller rate (0.03) scored no better on the shared
        tables and took three to five times the rounds, which a short budget cannot
        pay for; the search still tunes the rate.

        .. versionchanged:: 0.4
           Learning rate 0.1 and no subsampling (was 0.03, 80 % of rows and columns).
        """
        return {
            "n_estimators": 1000,
            "learning_rate": 0.1,
            "num_leaves": 31,
            "min_child_samples": 20,
            "subsample": 1.0,
            "subsample_freq": 1,
            "colsample_bytree": 1.0,
            "reg_lambda": 1.0,
        }

    def search_space(self, n_rows: int, n_cols: int, task: str) -> dict[str, Any]:
        """Learning rate, leaves, leaf size, subsampling, L2 penalty, class weighting."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        space: dict[str, Any] = {
            "learning_rate": FloatDistribution(0.01, 0.2, log=True),
            "num_leaves": IntDistribution(7, 255, log=True),
            "min_child_samples": IntDistribution(5, 100, log=True),
            "subsample": FloatDistribution(0.5, 1.0),
            "colsample_bytree": FloatDistribution(0.3, 1.0),
            "reg_lambda": FloatDistribution(1e-3, 20.0, log=True),
        }
        if task != "regression":
            space["class_weight"] = CategoricalDistribution(["none", "balanced"])
        return space

    def build(
        self, params: Mapping[str, Any], *, task: str, seed: int, n_jobs: int | None = None
    ) -> BaseEstimator:
        """Return an unfitted LightGBM estimator (``n_jobs`` threads, quiet, deterministic)."""
        import lightgbm as lgb

        merged = {**self.defaults(task), **params}
        if merged.get("class_weight", "none") == "none":
            merged.pop("class_weight", None)
        common: dict[str, Any] = {
            "random_state": seed,
            "n_jobs": resolve_n_jobs(n_jobs),
            "verbose": -1,
            "deterministic": True,
            "force_row_wise": True,
        }
        if task == "regression":
            return lgb.LGBMRegressor(**merged, **common)
        return lgb.LGBMClassifier(**merged, **common)

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
        """Boost until validation stops improving or the time runs out."""
        import lightgbm as lgb

        callbacks: list[Callable[[Any], None]] = [
            lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)
        ]
        if time_left_s is not None:
            callbacks.append(_stop_at(time.monotonic() + time_left_s))
        estimator.fit(X_train, y_train, eval_X=(X_valid,), eval_y=(y_valid,), callbacks=callbacks)
        best = getattr(estimator, "best_iteration_", None)
        if best:  # keep only the rounds that helped, so export and refit agree
            estimator.set_params(n_estimators=int(best))
        return estimator

    def fit_info(self, estimator: BaseEstimator) -> dict[str, Any]:
        """Return the boosting rounds kept after early stopping."""
        return {
            "n_estimators": int(
                getattr(estimator, "best_iteration_", 0) or estimator.get_params()["n_estimators"]
            )
        }


def _stop_at(deadline: float) -> Callable[[Any], None]:
    """Return a LightGBM callback that ends boosting at ``deadline`` (monotonic clock)."""

    def callback(env: Any) -> None:
        import lightgbm as lgb

        if time.monotonic() >= deadline:
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)

    callback.order = 30  # type: ignore[attr-defined]
    return callback
