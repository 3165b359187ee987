"""Held-out evaluation: intervals, calibration, threshold, conformal, fairness, slices, verdict."""

from __future__ import annotations

from crispml._metrics import METRICS, Metric, better, score, score_all
from crispml.evaluate._alternatives import AlternativePoint, AlternativesResult, AlternativeTest
from crispml.evaluate._anomaly import (
    AnomalyEvaluation,
    anomaly_figures,
    evaluate_anomaly,
    scores_frame,
)
from crispml.evaluate._bootstrap import Interval, bootstrap_metric, metrics_with_ci
from crispml.evaluate._calibration import (
    CalibratedModel,
    calibration_summary,
    choose_calibration,
    expected_calibration_error,
)
from crispml.evaluate._conformal import conformal_report
from crispml.evaluate._engagement import EngagementEvaluation, evaluate_engagement
from crispml.evaluate._explain import explain_model, output_sources, reason_codes
from crispml.evaluate._fairness import fairness_report, group_labels, mitigation_report
from crispml.evaluate._holdout import (
    HoldoutEvaluation,
    TestOutputs,
    evaluate_holdout,
    predict_candidates,
)
from crispml.evaluate._interpretability import price_of_interpretability
from crispml.evaluate._ranking import (
    RankingEvaluation,
    evaluate_ranking,
    ranking_figures,
    ranking_improvement,
    ranking_predictions_frame,
)
from crispml.evaluate._result import (
    PREDICTIONS_FILE,
    Decisions,
    Estimate,
    EvaluationResult,
    figures_from_predictions,
    output_of,
    predictions_frame,
)
from crispml.evaluate._slices import row_errors, slice_report
from crispml.evaluate._threshold import choose_threshold, decision_report
from crispml.evaluate._verdict import (
    LATENCY_CRITERIA,
    CriterionResult,
    Verdict,
    check_criterion,
    verdict,
)

__all__ = [
    "LATENCY_CRITERIA",
    "METRICS",
    "PREDICTIONS_FILE",
    "AlternativePoint",
    "AlternativeTest",
    "AlternativesResult",
    "AnomalyEvaluation",
    "CalibratedModel",
    "CriterionResult",
    "Decisions",
    "EngagementEvaluation",
    "Estimate",
    "EvaluationResult",
    "HoldoutEvaluation",
    "Interval",
    "Metric",
    "RankingEvaluation",
    "TestOutputs",
    "Verdict",
    "anomaly_figures",
    "better",
    "bootstrap_metric",
    "calibration_summary",
    "check_criterion",
    "choose_calibration",
    "choose_threshold",
    "conformal_report",
    "decision_report",
    "evaluate_anomaly",
    "evaluate_engagement",
    "evaluate_holdout",
    "evaluate_ranking",
    "expected_calibration_error",
    "explain_model",
    "fairness_report",
    "figures_from_predictions",
    "group_labels",
    "metrics_with_ci",
    "mitigation_report",
    "output_of",
    "output_sources",
    "predict_candidates",
    "predictions_frame",
    "price_of_interpretability",
    "ranking_figures",
    "ranking_improvement",
    "ranking_predictions_frame",
    "reason_codes",
    "row_errors",
    "score",
    "score_all",
    "scores_frame",
    "slice_report",
    "verdict",
]
