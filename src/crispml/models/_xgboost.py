"""XGBoost (xgboost-cpu): histogram boosting with early stopping and a stop at the deadline."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.class_weight import compute_sample_weight

from crispml._utils._threads import resolve_n_jobs
from crispml.models._base import ModelFamily, register
from crispml.models._stopping import deadline_from

EARLY_STOPPING_ROUNDS = 50
BALANCED = -1.0
"""``scale_pos_weight`` placeholder for ``class_weight: balanced``, resolved from the
training labels in :meth:`XGBoostFamily.fit` (a real parameter, so ``clone`` keeps it)."""


@register("xgboost")
class XGBoostFamily(ModelFamily):
    """XGBoost's ``hist`` trees, early stopping on the validation split."""

    relative_cost: ClassVar[float] = 1.5
    monotone_param: ClassVar[str | None] = "monotone_constraints"
    iterative: ClassVar[bool] = True
    fit_overhead_s: ClassVar[float] = 0.4

    def defaults(self, task: str) -> dict[str, Any]:
        """Learning rate 0.05, depth 6, row and column subsampling 0.8, no class weights."""
        base: dict[str, Any] = {
            "n_estimators": 2000,
            "learning_rate": 0.05,
            "max_depth": 6,
            "min_child_weight": 1.0,
            "subsample": 0.8,
            "colsample_bytree": 0.8,
            "reg_lambda": 1.0,
        }
        return base if task == "regression" else {**base, "class_weight": "none"}

    def search_space(self, n_rows: int, n_cols: int, task: str) -> dict[str, Any]:
        """Learning rate, depth, child weight, subsampling, L2 penalty and class weighting."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        space: dict[str, Any] = {
            "learning_rate": FloatDistribution(0.01, 0.2, log=True),
            "max_depth": IntDistribution(3, 10),
            "min_child_weight": FloatDistribution(0.5, 20.0, log=True),
            "subsample": FloatDistribution(0.5, 1.0),
            "colsample_bytree": FloatDistribution(0.3, 1.0),
            "reg_lambda": FloatDistribution(1e-2, 20.0, log=True),
        }
        if task != "regression":
            space["class_weight"] = CategoricalDistribution(["none", "balanced"])
        return space

    def build(
        self, params: Mapping[str, Any], *, task: str, seed: int, n_jobs: int | None = None
    ) -> BaseEstimator:
        """Return an unfitted XGBoost estimator (``n_jobs`` threads)."""
        import xgboost as xgb

        merged = {**self.defaults(task), **params}
        if merged.pop("class_weight", "none") == "balanced":
            merged["scale_pos_weight"] = BALANCED
        threads = resolve_n_jobs(n_jobs)
        common = {"tree_method": "hist", "n_jobs": threads, "random_state": seed, "verbosity": 0}
        if task == "regression":
            return xgb.XGBRegressor(**merged, **common)
        return xgb.XGBClassifier(**merged, **common)

    def constrain(self, estimator: BaseEstimator, signs: Sequence[int]) -> BaseEstimator:
        """Set the monotone directions in XGBoost's form, a string such as ``(1,0,-1)``."""
        if not any(signs):
            return estimator
        text = "(" + ",".join(str(int(s)) for s in signs) + ")"
        constrained: BaseEstimator = estimator.set_params(monotone_constraints=text)
        return constrained

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
        """Boost until validation stops improving or the deadline; keep the useful rounds."""
        stop_at = deadline_from(time_left_s)
        callbacks = [] if stop_at is None else [_stop_at(stop_at)]
        estimator.set_params(early_stopping_rounds=EARLY_STOPPING_ROUNDS, callbacks=callbacks)
        weights = _balance(estimator, y_train)
        estimator.fit(
            X_train, y_train, sample_weight=weights, eval_set=[(X_valid, y_valid)], verbose=False
        )
        built = int(estimator.get_booster().num_boosted_rounds())
        best = getattr(estimator, "best_iteration", None)
        rounds = built if best is None else min(built, int(best) + 1)
        # Drop the rounds after the best one, so predict, export and refit all agree.
        estimator.set_params(n_estimators=rounds, early_stopping_rounds=None, callbacks=None)
        if rounds < built:
            estimator._Booster = estimator.get_booster()[:rounds]
        estimator.stopped_at_deadline_ = stop_at is not None and time.monotonic() >= stop_at
        return estimator

    def fit_info(self, estimator: BaseEstimator) -> dict[str, Any]:
        """Return the boosting rounds kept."""
        return {"n_estimators": int(estimator.get_params()["n_estimators"])}


def _balance(estimator: BaseEstimator, y: np.ndarray) -> np.ndarray | None:
    """Resolve the :data:`BALANCED` placeholder from the training labels.

    Binary: ``scale_pos_weight`` becomes the negative/positive ratio; multiclass (where
    it does not apply): balanced sample weights are returned for ``fit``.
    """
    if estimator.get_params().get("scale_pos_weight") != BALANCED:
        return None
    counts = np.bincount(np.asarray(y, dtype=np.int64))
    if len(counts) == 2:
        estimator.set_params(scale_pos_weight=float(counts[0] / max(counts[1], 1)))
        return None
    estimator.set_params(scale_pos_weight=None)
    weights: np.ndarray = compute_sample_weight("balanced", y)
    return weights


def _stop_at(stop_at: float) -> Any:
    """Return an XGBoost callback that stops boosting at a monotonic deadline."""
    import xgboost as xgb

    class StopAt(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            return time.monotonic() >= stop_at

    return StopAt()
