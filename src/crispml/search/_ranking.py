"""Choosing a ranker on the validation queries.

The baselines (``best_feature``, ``random``) and every ranker at its defaults are fitted
on the training queries; Optuna then tunes (ranker, parameters) on the validation
queries' mean NDCG@k until ``max_trials`` or the budget runs out. The ranker with the
best validation NDCG@k is delivered; the baselines are the floor on the leaderboard and
are never delivered (the random one is chance, the single column is no model to serve).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from crispml.data import Schema
from crispml.features import build_preprocessor
from crispml.models import (
    BestFeatureRanker,
    RandomRanker,
    fit_ranking,
    get_ranker,
    mean_ndcg,
    ranking_scores,
)
from crispml.search._candidate import Candidate
from crispml.search._deadline import Deadline
from crispml.search._tune import tune_choices


@dataclass
class RankingSearch:
    """What the ranker search returns.

    Attributes
    ----------
    candidates : list of Candidate
        Baselines, then every configuration tried (``valid_output``: validation scores).
    best : Candidate
        The delivered ranker (never a baseline).
    k : int
        Cut-off of NDCG@k.
    metric : str
        The selection metric: ``ndcg`` (NDCG@k) or ``map``.
    elapsed_s, budget_s : float
        Wall time of the search and the budget it was given.
    """

    candidates: list[Candidate]
    best: Candidate
    k: int
    metric: str = "ndcg"
    elapsed_s: float = 0.0
    budget_s: float = 0.0

    @property
    def floor(self) -> Candidate | None:
        """The baseline with the best validation score (``None`` without baselines)."""
        floor = [c for c in self.candidates if c.baseline]
        if not floor:
            return None
        return max(floor, key=_valid)


def ranking_pipeline(
    schema: Schema,
    name: str,
    params: Mapping[str, Any],
    *,
    seed: int,
    k: int = 10,
    n_jobs: int | None = None,
) -> Pipeline:
    """Preprocessing (tree flavour) followed by ranker or baseline ``name``.

    Parameters
    ----------
    schema : Schema
        Roles of the input columns (the query id is not among the features).
    name : str
        A key of :data:`crispml.models.RANKERS`, or ``best_feature`` / ``random``.
    params : mapping
        Parameters of the ranker (defaults for the ones missing).
    seed : int
        Seed of the ranker or of the random baseline.
    k : int, default=10
        NDCG cut-off the ``best_feature`` baseline chooses its column on.
    n_jobs : int, optional
        Threads of one ranker fit (default: every core).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted; fit it with :func:`crispml.models.fit_ranking`.
    """
    if name == "best_feature":
        model: Any = BestFeatureRanker(k=k)
    elif name == "random":
        model = RandomRanker(seed=seed)
    else:
        model = get_ranker(name).make(params, seed, n_jobs)
    return Pipeline([("features", build_preprocessor(schema, flavour="tree")), ("model", model)])


def search_rankers(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    g_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    g_valid: np.ndarray,
    *,
    schema: Schema,
    rankers: Sequence[str],
    k: int = 10,
    metric: str = "ndcg",
    baselines: bool = True,
    seed: int = 0,
    time_budget_s: float = 60.0,
    max_trials: int | None = None,
    deterministic: bool = False,
    n_jobs: int | None = None,
) -> RankingSearch:
    """Fit the baselines and rankers on the training queries; choose on validation NDCG@k.

    Parameters
    ----------
    X_train, X_valid : pandas.DataFrame
        Conformed feature frames.
    y_train, y_valid : numpy.ndarray
        Graded relevance.
    g_train, g_valid : numpy.ndarray
        Query ids.
    schema : Schema
        Roles of the input columns.
    rankers : sequence of str
        Ranker names (keys of :data:`crispml.models.RANKERS`).
    k : int, default=10
        NDCG cut-off.
    metric : {"ndcg", "map"}, default="ndcg"
        The validation metric the ranker is chosen on.
    baselines : bool, default=True
        Fit the ``best_feature`` and ``random`` baselines first.
    seed : int, default=0
        Seed of the rankers and of Optuna's sampler.
    time_budget_s : float, default=60.0
        Budget of the search; tuning stops when it runs out.
    max_trials : int, optional
        Total ranker configurations tried (defaults count as trials); default: the budget.
    deterministic : bool, default=False
        Count the budget in trials only, never in seconds.
    n_jobs : int, optional
        Threads of one ranker fit (default: every core).

    Returns
    -------
    RankingSearch
    """
    deadline = Deadline(time_budget_s)
    names = [get_ranker(n).name for n in rankers]

    def fit(name: str, params: dict[str, Any], label: str) -> Candidate:
        start = time.perf_counter()
        pipe = ranking_pipeline(schema, name, params, seed=seed, k=k, n_jobs=n_jobs)
        fit_ranking(pipe, X_train, y_train, g_train)
        scores = ranking_scores(pipe, X_valid)
        cand = Candidate(label, name, params, pipeline=pipe, valid_output=scores)
        cand.valid_score = mean_ndcg(y_valid, scores, g_valid, k=k, metric=metric)
        cand.baseline = name in ("best_feature", "random")
        cand.fit_s = time.perf_counter() - start
        return cand

    floor = [fit(n, {}, n) for n in ("best_feature", "random")] if baselines else []
    tried = [fit(n, {}, n) for n in names]
    limit = max_trials if max_trials is not None else 10_000
    timed = None if deterministic else deadline
    if len(tried) < limit and not deadline.expired():
        spaces = {n: get_ranker(n).space for n in names}
        tried += tune_choices(fit, spaces, limit - len(tried), timed, seed, choice="ranker")
    best = max(tried, key=_valid)
    return RankingSearch(
        floor + tried, best, k, metric, elapsed_s=deadline.elapsed(), budget_s=time_budget_s
    )


def _valid(cand: Candidate) -> float:
    """Return the validation score to choose on: undefined (None or NaN) ranks last."""
    score = cand.valid_score
    return -np.inf if score is None or not np.isfinite(score) else float(score)
