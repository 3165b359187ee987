"""Held-out evaluation of a ranker on the locked test queries.

The delivered ranker and the baselines score the test rows once; the scores are saved
(``evaluation/test_predictions.parquet``: ``row_id``, ``group``, ``relevance``,
``score`` and one ``score_<baseline>`` column per baseline) and every test figure is
computed from that table by :func:`ranking_figures`, so ``crispml verify`` can recompute
them. NDCG@k and MAP are computed per query (scikit-learn) and averaged over the
queries where they are defined; their 95% percentile bootstrap intervals resample
whole queries (the unit a user experiences), not rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crispml._utils._result import PhaseResult
from crispml.evaluate._bootstrap import DEFAULT_RESAMPLES, bootstrap_draws, percentile_interval
from crispml.evaluate._result import VS_BASELINE, Estimate
from crispml.models import per_query_metrics, ranking_scores

PREDICTIONS_FILE = "evaluation/test_predictions.parquet"
METRICS: tuple[str, ...] = ("ndcg", "map")
"""The ranking figures, in the order they are shown."""


class RankingEvaluation(PhaseResult):
    """What the evaluation measured on the locked test queries for the delivered ranker.

    Attributes
    ----------
    ranker, model : str
        The ranker's family and the candidate's name on the leaderboard.
    k : int
        Cut-off of NDCG@k.
    primary_metric : str
        The selection metric (``ndcg``).
    test : dict of str to Estimate
        ``ndcg`` (NDCG@k) and ``map`` with intervals; ``n`` counts the scored queries.
    baselines : dict of str to dict of str to Estimate
        The same figures for each baseline (``best_feature``, ``random``).
    floor : str or None
        The baseline with the best validation score (``None`` without baselines).
    vs_floor : Estimate or None
        The primary metric of the delivered ranker minus the floor's, query by query
        on the same test queries, with the paired 95% interval (resampled queries).
    n_rows, n_queries : int
        Test rows and test queries.
    n_queries_scored : int
        Queries with at least two candidates and one relevant (grade > 0) candidate.
    predictions : str
        The saved scores the figures are computed from.
    """

    FILE = "evaluation/ranking.json"

    ranker: str
    model: str
    k: int
    primary_metric: str
    test: dict[str, Estimate]
    baselines: dict[str, dict[str, Estimate]]
    floor: str | None
    vs_floor: Estimate | None
    n_rows: int
    n_queries: int
    n_queries_scored: int
    n_resamples: int
    seed: int
    predictions: str = PREDICTIONS_FILE

    def measured(self) -> dict[str, Estimate]:
        """Figures a success criterion may name: ``ndcg``, ``map``, and the improvement.

        With baselines, ``<primary>_vs_baseline`` is what ``<primary>: beats_baseline``
        is decided on.
        """
        if self.vs_floor is None:
            return dict(self.test)
        return {**self.test, self.primary_metric + VS_BASELINE: self.vs_floor}


def ranking_predictions_frame(
    ids: list[str],
    groups: np.ndarray,
    relevance: np.ndarray,
    scores: np.ndarray,
    baselines: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Build the saved test-scores table.

    Parameters
    ----------
    ids : list of str
        Row ids of the test rows.
    groups : numpy.ndarray
        Query id of each row.
    relevance : numpy.ndarray
        Graded relevance.
    scores : numpy.ndarray
        The delivered ranker's scores.
    baselines : dict of str to numpy.ndarray, optional
        Each baseline's scores (column ``score_<name>``).

    Returns
    -------
    pandas.DataFrame
    """
    frame = pd.DataFrame(
        {
            "row_id": [str(i) for i in ids],
            "group": np.asarray(groups).astype(str),
            "relevance": np.asarray(relevance, dtype=np.int64),
            "score": np.asarray(scores, dtype=np.float64),
        }
    )
    for name, values in (baselines or {}).items():
        frame[f"score_{name}"] = np.asarray(values, dtype=np.float64)
    return frame


def ranking_figures(
    frame: pd.DataFrame,
    *,
    k: int,
    column: str = "score",
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, Estimate]:
    """NDCG@k and MAP of one score column, with intervals from resampled queries.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`ranking_predictions_frame`.
    k : int
        NDCG cut-off.
    column : str, default="score"
        The score column (``score_<baseline>`` for a baseline).
    n_resamples : int, default=1000
        Bootstrap resamples of the queries (0: estimates only).
    seed : int, default=0
        Seed of the resamples (the same for every column, so figures are paired).

    Returns
    -------
    dict of str to Estimate
        ``ndcg`` and ``map``.

    Examples
    --------
    >>> frame = ranking_predictions_frame(["a", "b", "c", "d"], np.array([1, 1, 2, 2]),
    ...                           np.array([1, 0, 0, 2]), np.array([0.9, 0.1, 0.8, 0.2]))
    >>> figures = ranking_figures(frame, k=10, n_resamples=0)
    >>> round(figures["map"].estimate, 2), figures["map"].n
    (0.75, 2)
    """
    ndcg, ap = per_query_metrics(
        frame["relevance"].to_numpy(), frame[column].to_numpy(), frame["group"].to_numpy(), k=k
    )
    return {
        name: Estimate.from_interval(_query_interval(values, n_resamples, seed))
        for name, values in zip(METRICS, (ndcg, ap), strict=True)
    }


def ranking_improvement(
    frame: pd.DataFrame,
    *,
    k: int,
    metric: str,
    baseline: str,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> Estimate:
    """Return the delivered ranker's ``metric`` minus a baseline's, with a paired interval.

    The difference is taken query by query (both rank the same candidates), so the
    bootstrap resamples queries and redraws both figures together.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`ranking_predictions_frame`, with a ``score_<baseline>`` column.
    k : int
        NDCG cut-off.
    metric : {"ndcg", "map"}
        The figure compared.
    baseline : str
        The baseline's name.
    n_resamples : int, default=1000
        Bootstrap resamples of the queries.
    seed : int, default=0
        Seed of the resamples.

    Returns
    -------
    Estimate
        Positive when the delivered ranker is better.
    """
    at = METRICS.index(metric)
    columns = [f"score_{baseline}", "score"]
    base, model = (
        per_query_metrics(
            frame["relevance"].to_numpy(), frame[c].to_numpy(), frame["group"].to_numpy(), k=k
        )[at]
        for c in columns
    )
    return Estimate.from_interval(_query_interval(model - base, n_resamples, seed))


def _query_interval(values: np.ndarray, n_resamples: int, seed: int) -> Any:
    """Mean over queries with a bootstrap interval that redraws the scored queries."""
    kept = values[np.isfinite(values)]
    estimate = float(kept.mean()) if len(kept) else float("nan")

    def stat(w: np.ndarray) -> np.ndarray:
        return np.asarray((w @ kept) / w.sum(axis=1), dtype=np.float64)

    draws = bootstrap_draws(stat, len(kept), n_resamples=n_resamples, seed=seed)
    return percentile_interval(estimate, draws, n=len(kept))


def evaluate_ranking(
    pipeline: Any,
    *,
    name: str,
    ranker: str,
    X_test: pd.DataFrame,
    test_ids: list[str],
    groups: np.ndarray,
    relevance: np.ndarray,
    k: int,
    primary_metric: str = "ndcg",
    baselines: dict[str, Any] | None = None,
    floor: str | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[RankingEvaluation, pd.DataFrame]:
    """Evaluate the delivered ranker (and the baselines) on the locked test queries, once.

    Parameters
    ----------
    pipeline : Pipeline
        The fitted ranking pipeline (conformed frame in).
    name, ranker : str
        Candidate name and ranker family.
    X_test : pandas.DataFrame
        Conformed test rows.
    test_ids : list of str
        Row ids of the test rows.
    groups : numpy.ndarray
        Query id of each test row.
    relevance : numpy.ndarray
        Graded relevance of each test row.
    k : int
        NDCG cut-off.
    primary_metric : {"ndcg", "map"}, default="ndcg"
        The metric the ranker was chosen on.
    baselines : dict of str to Pipeline, optional
        Fitted baseline pipelines, scored on the same rows.
    floor : str, optional
        The baseline chosen on validation, which the delivered ranker is compared to.
    n_resamples : int, default=1000
        Bootstrap resamples of the queries.
    seed : int, default=0
        Seed of the resamples.

    Returns
    -------
    tuple of (RankingEvaluation, pandas.DataFrame)
        The result and the saved scores table (:data:`PREDICTIONS_FILE`).
    """
    floor_scores = {b: ranking_scores(p, X_test) for b, p in (baselines or {}).items()}
    scores = ranking_scores(pipeline, X_test)
    frame = ranking_predictions_frame(test_ids, groups, relevance, scores, floor_scores)
    test = ranking_figures(frame, k=k, n_resamples=n_resamples, seed=seed)
    result = RankingEvaluation(
        ranker=ranker,
        model=name,
        k=k,
        primary_metric=primary_metric,
        test=test,
        baselines={
            b: ranking_figures(frame, k=k, column=f"score_{b}", n_resamples=n_resamples, seed=seed)
            for b in floor_scores
        },
        floor=floor,
        vs_floor=None
        if floor is None
        else ranking_improvement(
            frame,
            k=k,
            metric=primary_metric,
            baseline=floor,
            n_resamples=n_resamples,
            seed=seed,
        ),
        n_rows=len(frame),
        n_queries=int(frame["group"].nunique()),
        n_queries_scored=test["ndcg"].n,
        n_resamples=n_resamples,
        seed=seed,
    )
    return result, frame
