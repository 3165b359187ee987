"""Scoring every candidate on the locked test set, once, after selection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crispml._metrics import score_all
from crispml.models import predict_output
from crispml.search import Candidate, SearchResult


@dataclass(frozen=True)
class TestOutputs:
    """Every fitted candidate's predictions on the test rows, computed once.

    The evaluation's consumers (the leaderboard, calibration, the baseline comparison,
    the price of interpretability, the fairness alternatives) take these instead of
    predicting the test rows again: a fold-bagged model predicts each row with every
    fold model, so each repeat costs as much as the first.

    Attributes
    ----------
    by_name : mapping of str to numpy.ndarray
        Candidate name -> its output on the test rows (probabilities or values); only
        candidates that still hold a fitted model.
    n_rows : int
        Test rows.
    """

    by_name: Mapping[str, np.ndarray]
    n_rows: int

    def of(self, cand: Candidate) -> np.ndarray | None:
        """Return ``cand``'s test output, or ``None`` when it holds no fitted model."""
        return self.by_name.get(cand.name)


def predict_candidates(result: SearchResult, X_test: pd.DataFrame, *, task: str) -> TestOutputs:
    """Predict the test rows once with every candidate that holds a fitted model.

    Parameters
    ----------
    result : SearchResult
        The finished search.
    X_test : pandas.DataFrame
        Conformed test features.
    task : str
        binary, multiclass or regression.

    Returns
    -------
    TestOutputs
    """
    return TestOutputs(
        {
            cand.name: predict_output(cand.pipeline, X_test, task)
            for cand in result.candidates
            if cand.pipeline is not None
        },
        len(X_test),
    )


@dataclass(frozen=True)
class HoldoutEvaluation:
    """Test-set results: the selected model's metrics and the leaderboard.

    Attributes
    ----------
    metrics : dict
        Every metric of the task for the selected model, on test.
    leaderboard : pandas.DataFrame
        One row per candidate: validation score of the primary metric, every test
        metric, fit time, status; sorted by validation score, best first.
    test_output : numpy.ndarray
        The selected model's test predictions (probabilities or values).
    """

    metrics: dict[str, float]
    leaderboard: pd.DataFrame
    test_output: np.ndarray


def evaluate_holdout(
    result: SearchResult,
    X_test: pd.DataFrame,
    y_test: np.ndarray,
    *,
    task: str,
    outputs: TestOutputs | None = None,
) -> HoldoutEvaluation:
    """Score every fitted candidate on the test set; selection was already made on validation.

    Parameters
    ----------
    result : SearchResult
        The finished search (its ``best`` was chosen on validation only).
    X_test : pandas.DataFrame
        Conformed test features.
    y_test : numpy.ndarray
        Encoded test target.
    task : str
        binary, multiclass or regression.
    outputs : TestOutputs, optional
        The candidates' test outputs when already computed (see
        :func:`predict_candidates`); computed here otherwise.

        .. versionadded:: 0.3

    Returns
    -------
    HoldoutEvaluation
    """
    outputs = outputs or predict_candidates(result, X_test, task=task)
    rows: list[dict[str, Any]] = []
    best_output = np.empty(0)
    for cand in result.candidates:
        row: dict[str, Any] = {
            "model": cand.name,
            "family": cand.family,
            "baseline": cand.baseline,
            "status": cand.status,
            f"valid_{result.metric}": cand.valid_score,
            "fit_s": round(cand.fit_s, 3),
            "model_mb": cand.info.get("delivered_mb", cand.info.get("model_mb")),
            "predicted_ms": cand.info.get("delivered_ms", cand.info.get("predicted_ms")),
            "excluded": cand.info.get("excluded"),
        }
        output = outputs.of(cand)
        if output is not None:
            row.update({f"test_{k}": v for k, v in score_all(task, y_test, output).items()})
            if cand is result.best:
                best_output = output
        row["selected"] = cand is result.best
        rows.append(row)
    board = _sort(pd.DataFrame(rows), f"valid_{result.metric}", result.metric)
    metrics = {
        k.removeprefix("test_"): float(v)
        for k, v in board.loc[board["selected"]].iloc[0].items()
        if str(k).startswith("test_")
    }
    return HoldoutEvaluation(metrics, board, best_output)


def _sort(board: pd.DataFrame, column: str, metric: str) -> pd.DataFrame:
    from crispml._metrics import METRICS

    ascending = not METRICS[metric].greater_is_better
    return board.sort_values(column, ascending=ascending, na_position="last").reset_index(
        drop=True
    )
