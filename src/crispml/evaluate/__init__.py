"""Held-out evaluation: metrics of every candidate on the locked test set."""

from __future__ import annotations

from crispml._metrics import METRICS, Metric, better, score, score_all
from crispml.evaluate._holdout import HoldoutEvaluation, evaluate_holdout

__all__ = [
    "METRICS",
    "HoldoutEvaluation",
    "Metric",
    "better",
    "evaluate_holdout",
    "score",
    "score_all",
]
