"""scikit-learn estimators wrapping the search: AutoClassifier and AutoRegressor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, column_or_1d, validate_data

from crispml.data import Schema, conform, infer_schema
from crispml.search._search import PORTFOLIO, search_models

_TARGET = "__crispml_target__"
VALID_SHARE = 0.2


class _AutoBase(BaseEstimator):  # type: ignore[misc]
    """Shared fit logic: schema from the data, split, search, keep the selected model."""

    _task_default: str = "regression"

    def __init__(
        self,
        *,
        time_budget_s: float = 60.0,
        families: Sequence[str] = PORTFOLIO,
        metric: str | None = None,
        validation: str = "auto",
        deterministic: bool = False,
        max_trials: int | None = None,
        ensemble: bool = True,
        baselines: bool = False,
        seed: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.time_budget_s = time_budget_s
        self.families = families
        self.metric = metric
        self.validation = validation
        self.deterministic = deterministic
        self.max_trials = max_trials
        self.ensemble = ensemble
        self.baselines = baselines
        self.seed = seed
        self.n_jobs = n_jobs

    def _frame(self, X: Any, y: Any = None, *, reset: bool) -> tuple[pd.DataFrame, Any]:
        """Validate like scikit-learn; arrays must be numeric, DataFrames keep their types."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if reset and y is None:
                raise ValueError("requires y to be passed, but the target y is None")
            if y is not None:
                y = column_or_1d(check_array(y, ensure_2d=False, dtype=None), warn=True)
            named = X.set_axis([str(c) for c in X.columns], axis=1)  # the schema names by str
            return named.reset_index(drop=True), y
        options = {"dtype": "numeric", "ensure_all_finite": "allow-nan"}
        if reset:
            X, y = validate_data(self, X, y, reset=True, ensure_min_samples=2, **options)
        else:
            X = validate_data(self, X, reset=False, **options)
        names = [f"x{i}" for i in range(self.n_features_in_)]
        return pd.DataFrame(np.asarray(X, dtype=np.float64), columns=names), y

    def _search(self, X: Any, y: np.ndarray, task: str) -> None:
        if self.deterministic and self.max_trials is None:
            raise ValueError("deterministic=True counts the budget in trials; set max_trials")
        frame = X
        schema = infer_schema(frame.assign(**{_TARGET: y}), target=_TARGET)
        if not [c for c in schema.features if c not in schema.dropped]:
            raise ValueError("X has no usable feature: every column is constant or an id")
        self.schema_: Schema = schema
        features = conform(frame, schema)
        stratify = y if task != "regression" and np.bincount(y).min() >= 2 else None
        fit_rows, valid_rows = train_test_split(
            np.arange(len(y)), test_size=VALID_SHARE, random_state=self.seed, stratify=stratify
        )
        metric = self.metric or {"binary": "roc_auc", "multiclass": "log_loss"}.get(task, "rmse")
        result = search_models(
            features.iloc[fit_rows], y[fit_rows], features.iloc[valid_rows], y[valid_rows],
            schema=schema, task=task, metric=metric, families=self.families,
            time_budget_s=self.time_budget_s, seed=self.seed, baselines=self.baselines,
            validation=self.validation, deterministic=self.deterministic,
            max_trials=self.max_trials, ensemble=self.ensemble, n_jobs=self.n_jobs,
        )  # fmt: skip
        self.model_ = result.best.pipeline
        self.best_name_ = result.best.name
        self.search_result_ = result

    def _features(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "model_")
        return conform(self._frame(X, reset=False)[0], self.schema_)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = not self.deterministic
        return tags


class AutoClassifier(ClassifierMixin, _AutoBase):  # type: ignore[misc]
    """AutoML classifier: the crispml search (portfolio, Optuna, ensemble) as an estimator.

    Parameters
    ----------
    time_budget_s : float, default=60
        Seconds for the whole fit (trials, ensemble, refit).
    families : sequence of str, default=PORTFOLIO
        Model families to search.
    metric : str, optional
        Selection metric (default: roc_auc for two classes, log_loss for more).
    validation : {"auto", "cv", "holdout"}, default="auto"
        Bagged cross-validation or a holdout (auto: decided from the data size).
    deterministic : bool, default=False
        Count the budget in trials (``max_trials``): bit-identical refits.
    max_trials : int, optional
        Trials of the search (required when ``deterministic``).
    ensemble : bool, default=True
        Whether to try a greedy ensemble.
    baselines : bool, default=False
        Whether to fit the baselines as well.
    seed : int, default=0
        Seed of the split, folds, sampler and models.
    n_jobs : int, optional
        Threads one model fit may use; ``None`` (default) means every available core.

    Attributes
    ----------
    classes_ : numpy.ndarray
        The class labels.
    model_ : object
        The selected model (taking the conformed frame).
    best_name_ : str
        Its name on the leaderboard.
    search_result_ : SearchResult
        Every candidate and the budget report.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = AutoClassifier(families=["elastic_net"], deterministic=True, max_trials=1)
    >>> clf.fit(X, y).predict(X[:2]).tolist()
    [0, 0]
    """

    def fit(self, X: Any, y: Any) -> AutoClassifier:
        """Search models for ``X`` -> ``y`` and keep the selected one."""
        X, y = self._frame(X, y, reset=True)
        check_classification_targets(y)
        self.classes_, encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has a single class ({self.classes_[0]!r}); a classifier needs at least two"
            )
        self._search(X, encoded, "binary" if len(self.classes_) == 2 else "multiclass")
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        features = self._features(X)
        return np.asarray(self.model_.predict_proba(features), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """Predict the most probable class label."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]  # type: ignore[no-any-return]


class AutoRegressor(RegressorMixin, _AutoBase):  # type: ignore[misc]
    """AutoML regressor: the crispml search (portfolio, Optuna, ensemble) as an estimator.

    Parameters
    ----------
    time_budget_s : float, default=60
        Seconds for the whole fit (trials, ensemble, refit).
    families : sequence of str, default=PORTFOLIO
        Model families to search.
    metric : str, optional
        Selection metric (default rmse).
    validation : {"auto", "cv", "holdout"}, default="auto"
        Bagged cross-validation or a holdout (auto: decided from the data size).
    deterministic : bool, default=False
        Count the budget in trials (``max_trials``): bit-identical refits.
    max_trials : int, optional
        Trials of the search (required when ``deterministic``).
    ensemble : bool, default=True
        Whether to try a greedy ensemble.
    baselines : bool, default=False
        Whether to fit the baselines as well.
    seed : int, default=0
        Seed of the split, folds, sampler and models.
    n_jobs : int, optional
        Threads one model fit may use; ``None`` (default) means every available core.

    Attributes
    ----------
    model_ : object
        The selected model (taking the conformed frame).
    best_name_ : str
        Its name on the leaderboard.
    search_result_ : SearchResult
        Every candidate and the budget report.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = AutoRegressor(families=["elastic_net"], deterministic=True, max_trials=1)
    >>> reg.fit(X, y).predict(X[:1]).shape
    (1,)
    """

    def fit(self, X: Any, y: Any) -> AutoRegressor:
        """Search models for ``X`` -> ``y`` and keep the selected one."""
        X, y = self._frame(X, y, reset=True)
        y = np.asarray(y, dtype=np.float64)
        if not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinity; drop or impute those rows")
        self._search(X, y, "regression")
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values."""
        features = self._features(X)
        return np.asarray(self.model_.predict(features), dtype=np.float64)
