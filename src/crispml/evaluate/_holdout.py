"""Scoring every candidate on the locked test set, once, after selection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crispml._metrics import score_all
from crispml.models import predict_output
from crispml.search import SearchResult


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
    result: SearchResult, X_test: pd.DataFrame, y_test: np.ndarray, *, task: str
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

    Returns
    -------
    HoldoutEvaluation
    """
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
        if cand.pipeline is not None:
            output = predict_output(cand.pipeline, X_test, task)
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
