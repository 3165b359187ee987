"""Rankers, ranking baselines and the per-query ranking metrics.

A ranker scores each candidate of a query; candidates are ordered by score within their
query. The two rankers are gradient-boosted trees with a listwise objective: LightGBM's
``LGBMRanker`` (lambdarank) and XGBoost's ``XGBRanker`` (``rank:ndcg``). Both take the
rows grouped by query (contiguous) with the size of each group.

The baselines are the floor a ranker must beat: ``best_feature`` orders candidates by
the one input column (and direction) with the best NDCG on the training queries;
``random`` orders them by a seeded random draw.

Metrics are computed per query with scikit-learn and averaged over queries: NDCG@k
(``ndcg_score``, graded relevance) and MAP (``average_precision_score`` with a candidate
relevant when its grade is above 0). A query with a single candidate, or with no
relevant candidate, has neither figure defined (NaN) and is left out of the averages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.metrics import average_precision_score, ndcg_score
from sklearn.utils.validation import check_is_fitted

from crispml.exceptions import UnknownModelFamilyError

_MSG_UNKNOWN = "no ranker {name!r}. Known: {known}. Set search.families to some of them."
RANKING_BASELINES: tuple[str, ...] = ("best_feature", "random")
"""The ranking baselines, in the order the search fits them."""


@dataclass(frozen=True)
class Ranker:
    """One kind of ranker: how it is built and a small search space.

    Attributes
    ----------
    name : str
        Registry key (lower_snake).
    make : callable
        ``make(params, seed, n_jobs)`` returns the unfitted estimator.
    space : dict
        Parameter name to ``(kind, low, high)`` with kind ``int``, ``float`` or ``log``.
    """

    name: str
    make: Callable[[Mapping[str, Any], int, int | None], Any]
    space: dict[str, tuple[str, float, float]]


def _lightgbm_ranker(params: Mapping[str, Any], seed: int, n_jobs: int | None) -> Any:
    from lightgbm import LGBMRanker

    return LGBMRanker(
        objective="lambdarank",
        n_estimators=int(params.get("n_estimators", 200)),
        learning_rate=float(params.get("learning_rate", 0.05)),
        num_leaves=int(params.get("num_leaves", 15)),
        min_child_samples=int(params.get("min_child_samples", 5)),
        subsample=float(params.get("subsample", 1.0)),
        subsample_freq=1,
        random_state=seed,
        n_jobs=n_jobs or -1,
        verbose=-1,
    )


def _xgboost_ranker(params: Mapping[str, Any], seed: int, n_jobs: int | None) -> Any:
    from xgboost import XGBRanker

    return XGBRanker(
        objective="rank:ndcg",
        n_estimators=int(params.get("n_estimators", 200)),
        learning_rate=float(params.get("learning_rate", 0.05)),
        max_depth=int(params.get("max_depth", 4)),
        subsample=float(params.get("subsample", 1.0)),
        random_state=seed,
        n_jobs=n_jobs,
        tree_method="hist",
    )


_BOOSTING = {
    "n_estimators": ("int", 50, 400),
    "learning_rate": ("log", 0.01, 0.3),
    "subsample": ("float", 0.6, 1.0),
}
RANKERS: dict[str, Ranker] = {
    r.name: r
    for r in (
        Ranker(
            "lightgbm_ranker",
            _lightgbm_ranker,
            {**_BOOSTING, "num_leaves": ("int", 4, 63), "min_child_samples": ("int", 2, 40)},
        ),
        Ranker("xgboost_ranker", _xgboost_ranker, {**_BOOSTING, "max_depth": ("int", 2, 8)}),
    )
}
"""The rankers the search may use, by name."""


def get_ranker(name: str) -> Ranker:
    """Return the ranker registered as ``name``.

    Raises
    ------
    UnknownModelFamilyError
        If no ranker has that name.

    Examples
    --------
    >>> get_ranker("lightgbm_ranker").name
    'lightgbm_ranker'
    """
    if name not in RANKERS:
        raise UnknownModelFamilyError(
            _MSG_UNKNOWN.format(name=name, known=", ".join(sorted(RANKERS)))
        )
    return RANKERS[name]


def group_sizes(groups: np.ndarray) -> np.ndarray:
    """Sizes of the runs of equal query ids, in order (the ``group`` a ranker's fit takes).

    Examples
    --------
    >>> group_sizes(np.array(["a", "a", "b", "c", "c", "c"])).tolist()
    [2, 1, 3]
    """
    values = np.asarray(groups)
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    return np.asarray(np.diff(np.r_[starts, len(values)]), dtype=np.int64)


def query_order(groups: np.ndarray) -> np.ndarray:
    """Positions that sort rows by query id (stable: candidates keep their order)."""
    return np.argsort(np.asarray(groups).astype(str), kind="stable")


def per_query_metrics(
    y: np.ndarray, scores: np.ndarray, groups: np.ndarray, *, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """NDCG@k and average precision of every query (NaN where undefined).

    Parameters
    ----------
    y : numpy.ndarray
        Graded relevance (non-negative integers).
    scores : numpy.ndarray
        Ranking scores (higher: ranked first).
    groups : numpy.ndarray
        Query id of each row.
    k : int
        NDCG cut-off.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray)
        Per query, in order of first appearance: NDCG@k and average precision.

    Examples
    --------
    >>> ndcg, ap = per_query_metrics(np.array([2, 0, 0, 1]), np.array([0.9, 0.1, 0.2, 0.3]),
    ...                              np.array([1, 1, 2, 2]), k=10)
    >>> ndcg.tolist(), ap.tolist()
    ([1.0, 1.0], [1.0, 1.0])
    """
    y = np.asarray(y, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    _, first, codes = np.unique(np.asarray(groups).astype(str), True, True)
    ndcg, ap = [], []
    for code in np.argsort(first, kind="stable"):
        rows = codes == code
        rel, sc = y[rows], scores[rows]
        if rows.sum() < 2 or not (rel > 0).any():
            ndcg.append(np.nan)
            ap.append(np.nan)
            continue
        ndcg.append(float(ndcg_score(rel[None, :], sc[None, :], k=k)))
        ap.append(float(average_precision_score(rel > 0, sc)))
    return np.asarray(ndcg, dtype=np.float64), np.asarray(ap, dtype=np.float64)


def mean_ndcg(
    y: np.ndarray, scores: np.ndarray, groups: np.ndarray, *, k: int, metric: str = "ndcg"
) -> float:
    """NDCG@k (or MAP) averaged over the queries where it is defined (NaN when none is).

    Parameters
    ----------
    y : numpy.ndarray
        Graded relevance.
    scores : numpy.ndarray
        Ranking scores (higher: ranked first).
    groups : numpy.ndarray
        Query id of each row.
    k : int
        NDCG cut-off.
    metric : {"ndcg", "map"}, default="ndcg"
        The figure averaged.

    Returns
    -------
    float

    Examples
    --------
    >>> mean_ndcg(np.array([1, 0, 0, 1]), np.array([1.0, 0.0, 1.0, 0.0]),
    ...           np.array([1, 1, 2, 2]), k=10) < 1.0
    True
    """
    ndcg, ap = per_query_metrics(y, scores, groups, k=k)
    values = ap if metric == "map" else ndcg
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def fit_ranking(pipeline: Any, X: Any, y: np.ndarray, groups: np.ndarray) -> Any:
    """Fit a ranking pipeline with the rows grouped by query, as rankers require.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Preprocessing then a ranker (its last step is named ``model``).
    X : pandas.DataFrame
        Conformed features.
    y : numpy.ndarray
        Graded relevance.
    groups : numpy.ndarray
        Query id of each row (any order: rows are sorted by query first).

    Returns
    -------
    sklearn.pipeline.Pipeline
        The fitted pipeline.
    """
    order = query_order(groups)
    sizes = group_sizes(np.asarray(groups).astype(str)[order])
    return pipeline.fit(X.iloc[order], np.asarray(y)[order], model__group=sizes)


def ranking_scores(pipeline: Any, X: Any) -> np.ndarray:
    """Scores of a fitted ranking pipeline (higher: ranked first), as floats.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        A fitted ranking pipeline (conformed frame in).
    X : pandas.DataFrame
        Conformed rows.

    Returns
    -------
    numpy.ndarray
        One score per row.
    """
    return np.asarray(pipeline.predict(X), dtype=np.float64).reshape(-1)


class BestFeatureRanker(BaseEstimator):  # type: ignore[misc]
    """Baseline: rank by the single input column (and sign) best on the training queries.

    Parameters
    ----------
    k : int, default=10
        NDCG cut-off used to choose the column.
    """

    def __init__(self, *, k: int = 10) -> None:
        self.k = k

    def fit(self, X: Any, y: Any, *, group: Any) -> BestFeatureRanker:
        """Choose the column and direction with the highest mean NDCG@k on ``X``.

        ``group`` holds the sizes of the consecutive queries, as a ranker's fit takes.
        """
        data = _dense(X)
        groups = np.repeat(np.arange(len(group)), np.asarray(group, dtype=np.int64))
        best = (-np.inf, 0, 1.0)
        for j in range(data.shape[1]):
            column = np.nan_to_num(data[:, j], nan=np.nanmedian(data[:, j]))
            for sign in (1.0, -1.0):
                value = mean_ndcg(y, sign * column, groups, k=self.k)
                if np.isfinite(value) and value > best[0]:
                    best = (value, j, sign)
        self.train_ndcg_, self.column_, self.sign_ = best
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Scores: the chosen column times its sign (missing values last)."""
        check_is_fitted(self, "column_")
        column = _dense(X)[:, self.column_]
        return np.nan_to_num(self.sign_ * column, nan=-np.inf)


class RandomRanker(BaseEstimator):  # type: ignore[misc]
    """Baseline: a seeded random score per row (the floor of chance).

    Parameters
    ----------
    seed : int, default=0
        Seed of the draws.
    """

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed

    def fit(self, X: Any, y: Any, *, group: Any) -> RandomRanker:
        """Nothing to learn; records the fit."""
        del X, y, group
        self.fitted_ = True
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Uniform random scores, the same for the same seed and row count."""
        check_is_fitted(self, "fitted_")
        rng = np.random.default_rng(self.seed)
        return np.asarray(rng.uniform(size=_dense(X).shape[0]), dtype=np.float64)


def _dense(X: Any) -> np.ndarray:
    data = X.toarray() if hasattr(X, "toarray") else X
    return np.asarray(data, dtype=np.float64)
