"""Baselines, the model-family registry and the deployable model types."""

from __future__ import annotations

from crispml.models import (  # noqa: F401  (register the built-in families)
    _baselines,
    _catboost,
    _elastic_net,
    _extra_trees,
    _hist_gradient_boosting,
    _lightgbm,
    _random_forest,
    _ridge,
    _xgboost,
)
from crispml.models._anomaly import (
    DETECTORS,
    FLAG_THRESHOLD,
    Detector,
    anomaly_scores,
    get_detector,
    precision_at_k,
    top_k,
)
from crispml.models._base import ModelFamily, family_names, get_family, predict_output, register
from crispml.models._calibrated import CalibratedModel
from crispml.models._deployable import (
    CalibrationMap,
    DeployableModel,
    ExportSpec,
    IsotonicMap,
    SigmoidMap,
    TemperatureMap,
    WeightedAverage,
    decision_threshold,
)
from crispml.models._ensemble import WeightedEnsemble
from crispml.models._persist import load_pipeline, save_pipeline
from crispml.models._ranking import (
    RANKERS,
    RANKING_BASELINES,
    BestFeatureRanker,
    RandomRanker,
    Ranker,
    fit_ranking,
    get_ranker,
    group_sizes,
    mean_ndcg,
    per_query_metrics,
    query_order,
    ranking_scores,
)

__all__ = [
    "DETECTORS",
    "FLAG_THRESHOLD",
    "RANKERS",
    "RANKING_BASELINES",
    "BestFeatureRanker",
    "CalibratedModel",
    "CalibrationMap",
    "DeployableModel",
    "Detector",
    "ExportSpec",
    "IsotonicMap",
    "ModelFamily",
    "RandomRanker",
    "Ranker",
    "SigmoidMap",
    "TemperatureMap",
    "WeightedAverage",
    "WeightedEnsemble",
    "anomaly_scores",
    "decision_threshold",
    "family_names",
    "fit_ranking",
    "get_detector",
    "get_family",
    "get_ranker",
    "group_sizes",
    "load_pipeline",
    "mean_ndcg",
    "per_query_metrics",
    "precision_at_k",
    "predict_output",
    "query_order",
    "ranking_scores",
    "register",
    "save_pipeline",
    "top_k",
]
