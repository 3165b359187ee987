"""The delivered model against the best baseline, on the same test rows (paired bootstrap)."""

from __future__ import annotations

from typing import Any

import numpy as np

from crispml._metrics import METRICS, better, score
from crispml.evaluate._bootstrap import bootstrap_draws, percentile_interval, weighted_metric
from crispml.evaluate._holdout import TestOutputs
from crispml.evaluate._result import BaselineComparison, Estimate
from crispml.models import predict_output
from crispml.search import Candidate, SearchResult


def compare_with_baseline(
    result: SearchResult,
    X_test: Any,
    y_test: np.ndarray,
    test_out: np.ndarray,
    *,
    task: str,
    n_resamples: int,
    seed: int,
    outputs: TestOutputs | None = None,
) -> BaselineComparison | None:
    """Compare the delivered model's test output with the best baseline's.

    Parameters
    ----------
    result : SearchResult
        The search; its baselines are the candidates with ``baseline`` set.
    X_test : pandas.DataFrame
        Conformed test features (the baseline predicts them).
    y_test : numpy.ndarray
        Encoded test target.
    test_out : numpy.ndarray
        The delivered model's test predictions (as saved).
    task : str
        binary, multiclass or regression.
    n_resamples : int
        Bootstrap resamples (``evaluation.bootstrap``).
    seed : int
        Seed of the resampling.
    outputs : TestOutputs, optional
        The candidates' test outputs, when already computed: the baseline's is reused.

        .. versionadded:: 0.3

    Returns
    -------
    BaselineComparison or None
        ``None`` when the search fitted no baseline (``search.baselines: false``).
    """
    base = _best_baseline(result.candidates, result.metric)
    if base is None:
        return None
    metric = result.metric
    known = outputs.of(base) if outputs is not None else None
    base_out = known if known is not None else predict_output(base.pipeline, X_test, task)
    sign = 1.0 if METRICS[metric].greater_is_better else -1.0
    y = np.asarray(y_test)
    model_out = np.asarray(test_out, dtype=np.float64)

    def paired(w: np.ndarray) -> np.ndarray:
        ours = weighted_metric(metric, y, model_out, w)
        theirs = weighted_metric(metric, y, base_out, w)
        return np.asarray(sign * (ours - theirs), dtype=np.float64)

    base_value = score(metric, y, base_out)
    estimate = sign * (score(metric, y, model_out) - base_value)
    draws = bootstrap_draws(paired, len(y), n_resamples=n_resamples, seed=seed)
    interval = percentile_interval(estimate, draws, n=len(y))
    return BaselineComparison(
        baseline=base.name,
        metric=metric,
        baseline_estimate=float(base_value) if np.isfinite(base_value) else None,
        improvement=Estimate.from_interval(interval),
    )


def _best_baseline(candidates: list[Candidate], metric: str) -> Candidate | None:
    """Return the baseline with the best validation score (never chosen on test)."""
    best: Candidate | None = None
    for cand in candidates:
        if not cand.baseline or cand.pipeline is None or cand.valid_score is None:
            continue
        if best is None or better(metric, cand.valid_score, best.valid_score):  # type: ignore[arg-type]
            best = cand
    return best
