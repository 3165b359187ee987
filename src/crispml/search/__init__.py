"""Model selection: baselines, default portfolio, Optuna tuning, ensemble, under a budget."""

from __future__ import annotations

from crispml.search._anomaly import (
    AnomalySearch,
    detector_pipeline,
    search_detectors,
    validation_score,
)
from crispml.search._auto import AutoClassifier, AutoRegressor
from crispml.search._candidate import Candidate, SearchResult
from crispml.search._deadline import Deadline
from crispml.search._ensemble import WeightedEnsemble, greedy_selection
from crispml.search._finish import refit_all_rows
from crispml.search._loop import SearchProgress
from crispml.search._plan import (
    EngagementBudget,
    EvaluationWork,
    PhaseCost,
    PhaseTime,
    RunBudget,
    SizeCap,
    phase_costs,
)
from crispml.search._ranking import RankingSearch, ranking_pipeline, search_rankers
from crispml.search._report import record_search, trials_table
from crispml.search._search import PORTFOLIO, direction, search_models
from crispml.search._validation import ValidationPlan, plan_validation

__all__ = [
    "PORTFOLIO",
    "AnomalySearch",
    "AutoClassifier",
    "AutoRegressor",
    "Candidate",
    "Deadline",
    "EngagementBudget",
    "EvaluationWork",
    "PhaseCost",
    "PhaseTime",
    "RankingSearch",
    "RunBudget",
    "SearchProgress",
    "SearchResult",
    "SizeCap",
    "ValidationPlan",
    "WeightedEnsemble",
    "detector_pipeline",
    "direction",
    "greedy_selection",
    "phase_costs",
    "plan_validation",
    "ranking_pipeline",
    "record_search",
    "refit_all_rows",
    "search_detectors",
    "search_models",
    "search_rankers",
    "trials_table",
    "validation_score",
]
