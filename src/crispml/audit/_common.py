"""What the model-based checks share: the sample, its model matrix, a quick model, a score."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.preprocessing import TargetEncoder
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from crispml.data import Dataset, Split

MAX_LEVELS = 50
"""Categorical levels the quick model keeps (the most frequent); the rest become one level."""
_OTHER = "__other__"


@dataclass(frozen=True)
class AuditSample:
    """The rows the model-based checks use: labelled (non-test) rows, capped.

    Attributes
    ----------
    positions : numpy.ndarray
        Row positions into ``dataset.frame`` (train and validation rows only: the audit
        never reads test labels).
    X : pandas.DataFrame
        Model matrix of those rows: numeric columns as float, categorical columns as
        pandas ``category`` (most frequent :data:`MAX_LEVELS` levels).
    y : numpy.ndarray
        Encoded target of those rows.
    task : str
        binary, multiclass or regression.
    n_labelled : int
        Labelled rows before capping.
    """

    positions: np.ndarray
    X: pd.DataFrame
    y: np.ndarray
    task: str
    n_labelled: int

    @property
    def capped(self) -> bool:
        """True when the checks run on a subsample of the labelled rows."""
        return len(self.positions) < self.n_labelled


def sample_positions(positions: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """At most ``cap`` of ``positions``, drawn without replacement, sorted."""
    if len(positions) <= cap:
        return np.sort(positions)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(positions, size=cap, replace=False))


def build_sample(dataset: Dataset, split: Split, *, cap: int, seed: int) -> AuditSample:
    """Draw the audit sample from the train and validation rows of ``split``."""
    labelled = np.concatenate([split.train, split.valid])
    positions = sample_positions(labelled, cap, seed)
    X = model_matrix(dataset.features(positions))
    return AuditSample(positions, X, dataset.y[positions], dataset.target.task, len(labelled))


def model_matrix(features: pd.DataFrame) -> pd.DataFrame:
    """Numeric columns as float; other columns as ``category`` with their top levels."""
    out = {}
    for name in features.columns:
        col = features[name]
        if pd.api.types.is_numeric_dtype(col):
            out[name] = col.astype("float64").to_numpy()
        else:
            out[name] = capped_categories(col)
    return pd.DataFrame(out, index=range(len(features)))


def capped_categories(col: pd.Series, max_levels: int = MAX_LEVELS) -> pd.Categorical:
    """``col`` as a categorical with its ``max_levels`` most frequent levels kept."""
    text = col.astype(str)
    top = text.value_counts().index[:max_levels]
    kept = text.where(text.isin(top), _OTHER)
    return pd.Categorical(kept.to_numpy(), categories=sorted(set(kept)))


def quick_model(task: str, seed: int) -> Any:
    """Return a small LightGBM model: 60 trees of 15 leaves, enough to find strong signal fast."""
    from lightgbm import LGBMClassifier, LGBMRegressor  # loaded when the audit runs

    params: dict[str, Any] = {
        "n_estimators": 60,
        "num_leaves": 15,
        "learning_rate": 0.1,
        "min_child_samples": 10,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "random_state": seed,
        "n_jobs": 1,  # 2 threads on 2 busy cores ran 10x slower on small samples
        "verbose": -1,
    }
    return LGBMRegressor(**params) if task == "regression" else LGBMClassifier(**params)


def folds(task: str, y: np.ndarray, seed: int, n_splits: int = 5) -> Any:
    """Stratified folds for classes (fewer when a class is small), plain folds otherwise."""
    if task == "regression":
        return KFold(n_splits=n_splits, shuffle=True, random_state=seed)
    smallest = int(np.unique(y, return_counts=True)[1].min())
    n_folds = max(2, min(n_splits, smallest))
    return StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)


def oof_output(model: Any, X: Any, y: np.ndarray, task: str, seed: int, n_splits: int = 5) -> Any:
    """Out-of-fold probabilities (classification) or values (regression)."""
    method = "predict" if task == "regression" else "predict_proba"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # LightGBM's feature-name chatter
        return cross_val_predict(model, X, y, cv=folds(task, y, seed, n_splits), method=method)


def audit_score(task: str, y: np.ndarray, output: np.ndarray) -> float:
    """ROC AUC (one-vs-rest macro for multiclass) or R²: 0.5 / 0 is chance, 1 is perfect."""
    output = np.asarray(output, dtype=np.float64)
    if task == "regression":
        return float(r2_score(y, output))
    if output.ndim == 2 and output.shape[1] == 2:
        output = output[:, 1]
    if output.ndim == 1:
        return float(roc_auc_score(y, output))
    sums = output.sum(axis=1, keepdims=True)
    probs = np.divide(output, sums, out=np.full_like(output, 1 / output.shape[1]), where=sums > 0)
    return float(roc_auc_score(y, probs, multi_class="ovr", labels=np.arange(probs.shape[1])))


def chance_score(task: str) -> float:
    """Return the :func:`audit_score` of a model that knows nothing."""
    return 0.0 if task == "regression" else 0.5


def level_codes(column: pd.Series) -> np.ndarray:
    """Integer codes of a column's levels (missing is its own level, -1)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return np.asarray(column.cat.codes, dtype=np.int64)
    return np.asarray(pd.factorize(column)[0], dtype=np.int64)


def univariate_score(column: pd.Series, y: np.ndarray, task: str, seed: int) -> float:
    """Cross-validated score of a model that sees only ``column``.

    Numeric columns go through a 32-leaf decision tree (any monotone or non-monotone
    relation); categorical columns through scikit-learn's cross-fitted
    :class:`~sklearn.preprocessing.TargetEncoder`, whose output is already out of fold.
    """
    if pd.api.types.is_numeric_dtype(column):
        values = column.astype("float64").to_numpy().reshape(-1, 1)
        leaf = max(5, len(values) // 500)
        tree: Callable[..., Any] = (
            DecisionTreeRegressor if task == "regression" else DecisionTreeClassifier
        )
        model = tree(max_leaf_nodes=32, min_samples_leaf=leaf, random_state=seed)
        return audit_score(task, y, oof_output(model, values, y, task, seed, n_splits=3))
    codes = level_codes(column).reshape(-1, 1)
    target_type = "continuous" if task == "regression" else task
    encoder = TargetEncoder(target_type=target_type, cv=folds(task, y, seed, n_splits=3))
    encoded = encoder.fit_transform(codes, y)
    return audit_score(task, y, encoded if task == "multiclass" else encoded[:, 0])
