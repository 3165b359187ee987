"""Held-out evaluation of an anomaly detector, with or without known anomalies.

The delivered detector scores the locked test rows once; the scores are saved
(``evaluation/anomaly_scores.parquet``) and every test figure is computed from that
table by :func:`anomaly_figures`, so ``crispml verify`` can recompute them.

- with labels: ROC AUC, PR AUC (average precision) and precision@k (k: the expected
  number of anomalies among the test rows), each with a percentile bootstrap interval;
- always: the score distribution and the share flagged, the stability of the scores
  across seeds (the detector refitted with other seeds, each on a seeded 80 % subsample
  of the training rows: Spearman's rho with the delivered scores and the overlap of the
  top-k rows), and the top-k most anomalous test rows with the columns that drive
  their score (occlusion: the score drop when the column is set to its training
  reference, the median or the most frequent level — the rule ``/v1/explain`` uses).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict
from scipy.stats import spearmanr
from sklearn.base import clone

from crispml._utils._result import PhaseResult
from crispml.evaluate._bootstrap import (
    DEFAULT_RESAMPLES,
    Interval,
    bootstrap_draws,
    bootstrap_metric,
    percentile_interval,
)
from crispml.evaluate._result import Estimate
from crispml.models import FLAG_THRESHOLD, anomaly_scores, precision_at_k, top_k

SCORES_FILE = "evaluation/anomaly_scores.parquet"
STABILITY_SEEDS = 5
SUBSAMPLE = 0.8
MAX_TOP_ROWS = 10
DRIVERS_PER_ROW = 3
_QUANTILES = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ScoreDistribution(BaseModel):
    """Anomaly scores of the test rows: quantiles and the share flagged."""

    model_config = _FROZEN

    quantiles: dict[str, float]
    flagged: int
    flagged_share: float
    n: int


class Stability(BaseModel):
    """Agreement of the delivered scores with refits under other seeds (test rows)."""

    model_config = _FROZEN

    seeds: list[int]
    subsample: float
    spearman_mean: float
    spearman_min: float
    top_k_overlap_mean: float
    top_k_overlap_min: float
    k: int


class Driver(BaseModel):
    """A column that drives a row's score: its value, reference and score drop."""

    model_config = _FROZEN

    column: str
    value: str | float | None
    reference: str | float | None
    contribution: float


class TopRow(BaseModel):
    """One of the most anomalous test rows."""

    model_config = _FROZEN

    row_id: str
    score: float
    drivers: list[Driver]


class AnomalyEvaluation(PhaseResult):
    """What the evaluation measured on the locked test set for the delivered detector.

    Attributes
    ----------
    detector, model : str
        The detector's family and the candidate's name on the leaderboard.
    contamination : float
        Share of rows the detector flags (the spec's).
    threshold : float
        Scores above it are flagged.
    labelled : bool
        Whether the test rows carry known anomalies.
    primary_metric : str or None
        The metric the detector was chosen on (``None`` without labels).
    k : int
        Rows of precision@k and of the top-k overlap.
    test : dict of str to Estimate
        ROC AUC, average precision, precision@k (labelled only).
    distribution : ScoreDistribution
    stability : Stability
    top_rows : list of TopRow
    predictions : str
        The saved scores the figures are computed from.
    """

    FILE = "evaluation/anomaly.json"

    detector: str
    model: str
    contamination: float
    threshold: float
    labelled: bool
    primary_metric: str | None
    k: int
    test: dict[str, Estimate]
    distribution: ScoreDistribution
    stability: Stability
    top_rows: list[TopRow]
    n_resamples: int
    seed: int
    predictions: str = SCORES_FILE

    def measured(self) -> dict[str, Estimate]:
        """Figures a success criterion may name: the test metrics and stability.

        ``rank_stability`` (the lowest Spearman's rho), ``top_k_overlap`` (the lowest
        overlap) and ``flagged_share`` are point figures without an interval.
        """
        point = {
            "rank_stability": self.stability.spearman_min,
            "top_k_overlap": self.stability.top_k_overlap_min,
            "flagged_share": self.distribution.flagged_share,
        }
        extra = {
            k: Estimate(estimate=v, low=None, high=None, level=0.95, n=self.distribution.n)
            for k, v in point.items()
        }
        return {**self.test, **extra}


def scores_frame(
    ids: list[str], scores: np.ndarray, y: np.ndarray | None, *, threshold: float
) -> pd.DataFrame:
    """Build the saved test-scores table: ``row_id``, ``score``, ``flagged`` (and ``y_true``).

    Parameters
    ----------
    ids : list of str
        Row ids of the test rows.
    scores : numpy.ndarray
        Anomaly scores.
    y : numpy.ndarray or None
        Known anomalies (1), or ``None`` without labels.
    threshold : float
        Scores above it are flagged.

    Returns
    -------
    pandas.DataFrame
    """
    frame = pd.DataFrame({"row_id": [str(i) for i in ids], "score": scores})
    frame["flagged"] = (scores > threshold).astype(np.int64)
    if y is not None:
        frame["y_true"] = np.asarray(y, dtype=np.int64)
    return frame


def anomaly_figures(
    frame: pd.DataFrame, *, k: int, n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> tuple[dict[str, Estimate], ScoreDistribution]:
    """Test figures from the saved scores: metrics with intervals (labelled) and distribution.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`scores_frame`.
    k : int
        Rows of precision@k.
    n_resamples : int, default=1000
        Bootstrap resamples (0: estimates only).
    seed : int, default=0
        Seed of the resamples.

    Returns
    -------
    tuple of (dict of str to Estimate, ScoreDistribution)
        The metrics (empty without labels) and the score distribution.

    Examples
    --------
    >>> frame = scores_frame(["a", "b", "c", "d"], np.array([-0.2, 0.3, -0.1, 0.5]),
    ...                      np.array([0, 1, 0, 1]), threshold=0.0)
    >>> test, dist = anomaly_figures(frame, k=2, n_resamples=0)
    >>> test["precision_at_k"].estimate, dist.flagged, list(dist.quantiles)[:3]
    (1.0, 2, ['q000', 'q001', 'q005'])
    """
    scores = np.asarray(frame["score"], dtype=np.float64)
    flagged = int(frame["flagged"].sum())
    qs = np.quantile(scores, _QUANTILES) if len(scores) else np.zeros(len(_QUANTILES))
    dist = ScoreDistribution(
        quantiles={
            f"q{round(q * 100):03d}": float(v) for q, v in zip(_QUANTILES, qs, strict=True)
        },
        flagged=flagged,
        flagged_share=flagged / max(len(scores), 1),
        n=len(scores),
    )
    if "y_true" not in frame:
        return {}, dist
    y = np.asarray(frame["y_true"], dtype=np.int64)
    out = np.c_[-scores, scores]
    test = {
        name: Estimate.from_interval(
            bootstrap_metric(name, y, out, n_resamples=n_resamples, seed=seed)
        )
        for name in ("roc_auc", "average_precision")
    }
    test["precision_at_k"] = Estimate.from_interval(
        _precision_at_k_ci(y, scores, k, n_resamples=n_resamples, seed=seed)
    )
    return test, dist


def _precision_at_k_ci(
    y: np.ndarray, scores: np.ndarray, k: int, *, n_resamples: int, seed: int
) -> Interval:
    """precision@k with a bootstrap interval: a resample counts each drawn row by weight."""
    order = np.argsort(-scores, kind="stable")
    hits = y[order].astype(np.float64)

    def stat(w: np.ndarray) -> np.ndarray:
        ws = w[:, order].astype(np.float64)
        before = np.cumsum(ws, axis=1) - ws
        taken = np.clip(k - before, 0.0, ws)  # the weight of each row inside the top k
        return np.asarray((taken * hits).sum(axis=1) / k, dtype=np.float64)

    draws = bootstrap_draws(stat, len(y), n_resamples=n_resamples, seed=seed)
    return percentile_interval(precision_at_k(y, scores, k), draws, n=len(y))


def seed_stability(
    pipeline: Any,
    X_train: pd.DataFrame,
    X_test: pd.DataFrame,
    delivered: np.ndarray,
    *,
    k: int,
    seed: int = 0,
) -> Stability:
    """Refit the delivered configuration under other seeds and compare test scores.

    Each refit draws a seeded 80 % subsample of the training rows and, for randomised
    detectors, uses that seed; deterministic detectors thus vary through their data.
    """
    seeds = [seed + i for i in range(1, STABILITY_SEEDS + 1)]
    rhos, overlaps = [], []
    top = set(np.argsort(-delivered, kind="stable")[:k])
    for s in seeds:
        rng = np.random.default_rng(s)
        rows = rng.choice(len(X_train), size=max(2, int(SUBSAMPLE * len(X_train))), replace=False)
        model = clone(pipeline)
        if "random_state" in model.steps[-1][1].get_params():
            model.set_params(model__random_state=s)
        scores = anomaly_scores(model.fit(X_train.iloc[np.sort(rows)]), X_test)
        rhos.append(float(spearmanr(delivered, scores).statistic))
        overlaps.append(len(top & set(np.argsort(-scores, kind="stable")[:k])) / k)
    return Stability(
        seeds=seeds,
        subsample=SUBSAMPLE,
        spearman_mean=float(np.mean(rhos)),
        spearman_min=float(np.min(rhos)),
        top_k_overlap_mean=float(np.mean(overlaps)),
        top_k_overlap_min=float(np.min(overlaps)),
        k=k,
    )


def driving_columns(
    score: Callable[[pd.DataFrame], np.ndarray],
    X_train: pd.DataFrame,
    rows: pd.DataFrame,
    *,
    top: int = DRIVERS_PER_ROW,
) -> list[list[Driver]]:
    """Per row, the columns whose reset to the training reference lowers its score most.

    Parameters
    ----------
    score : callable
        Conformed frame -> anomaly scores.
    X_train : pandas.DataFrame
        Conformed training rows (references: median of numbers, most frequent level).
    rows : pandas.DataFrame
        Conformed rows to explain.
    top : int, default=3
        Drivers kept per row.

    Returns
    -------
    list of list of Driver
    """
    refs = {c: _reference(X_train[c]) for c in X_train.columns}
    out = []
    for i in range(len(rows)):
        row = rows.iloc[[i]]
        variants = pd.concat([row] * (len(refs) + 1), ignore_index=True)
        for j, (col, ref) in enumerate(refs.items(), start=1):
            variants.loc[j, col] = ref
        values = score(variants)
        drop = values[0] - values[1:]
        order = np.argsort(-drop, kind="stable")[:top]
        cols = list(refs)
        out.append(
            [
                Driver(
                    column=str(cols[j]),
                    value=_plain(row.iloc[0][cols[j]]),
                    reference=_plain(refs[cols[j]]),
                    contribution=float(drop[j]),
                )
                for j in order
            ]
        )
    return out


def evaluate_anomaly(
    pipeline: Any,
    *,
    name: str,
    detector: str,
    X_train: pd.DataFrame,
    X_test: pd.DataFrame,
    test_ids: list[str],
    y_test: np.ndarray | None,
    contamination: float,
    primary_metric: str | None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> tuple[AnomalyEvaluation, pd.DataFrame]:
    """Evaluate the delivered detector on the locked test rows (touched once).

    Parameters
    ----------
    pipeline : Pipeline
        The fitted detector pipeline (conformed frame in).
    name, detector : str
        Candidate name and detector family.
    X_train, X_test : pandas.DataFrame
        Conformed training and test rows.
    test_ids : list of str
        Row ids of the test rows.
    y_test : numpy.ndarray or None
        Known anomalies (1) of the test rows, or ``None``.
    contamination : float
        Share flagged (sets k).
    primary_metric : str or None
        The selection metric (labelled).
    n_resamples : int, default=1000
        Bootstrap resamples of the intervals.
    seed : int, default=0
        Seed of the resamples and of the stability refits.

    Returns
    -------
    tuple of (AnomalyEvaluation, pandas.DataFrame)
        The result and the saved scores table (:data:`SCORES_FILE`).
    """
    scores = anomaly_scores(pipeline, X_test)
    frame = scores_frame(test_ids, scores, y_test, threshold=FLAG_THRESHOLD)
    k = top_k(len(X_test), contamination)
    test, dist = anomaly_figures(frame, k=k, n_resamples=n_resamples, seed=seed)
    stability = seed_stability(pipeline, X_train, X_test, scores, k=k, seed=seed)
    shown = np.argsort(-scores, kind="stable")[: min(k, MAX_TOP_ROWS)]
    drivers = driving_columns(lambda f: anomaly_scores(pipeline, f), X_train, X_test.iloc[shown])
    top_rows = [
        TopRow(row_id=str(test_ids[i]), score=float(scores[i]), drivers=d)
        for i, d in zip(shown, drivers, strict=True)
    ]
    result = AnomalyEvaluation(
        detector=detector,
        model=name,
        contamination=contamination,
        threshold=FLAG_THRESHOLD,
        labelled=y_test is not None,
        primary_metric=primary_metric,
        k=k,
        test=test,
        distribution=dist,
        stability=stability,
        top_rows=top_rows,
        n_resamples=n_resamples,
        seed=seed,
    )
    return result, frame


def _reference(column: pd.Series) -> Any:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return float(column.median())
    mode = column.mode()
    return mode.iloc[0] if len(mode) else None


def _plain(value: Any) -> str | float | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    return str(value)
