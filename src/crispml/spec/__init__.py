"""Problem definition: the validated project spec and its YAML form."""

from __future__ import annotations

from crispml.spec._anomaly_template import render_anomaly_template
from crispml.spec._io import load_spec, save_spec, spec_from_dict, spec_json_schema, spec_to_yaml
from crispml.spec._model import (
    DEFAULT_CONTAMINATION,
    DEFAULT_DETECTORS,
    DEFAULT_FAMILIES,
    DEFAULT_METRIC,
    FAIRNESS_CRITERIA,
    METRICS_BY_TASK,
    AuditSpec,
    CostSpec,
    DataSpec,
    DeploymentSpec,
    EvaluationSpec,
    ExplainSpec,
    FairnessSpec,
    FeaturesSpec,
    LatencySLA,
    ProblemSpec,
    ProjectSpec,
    ReportSpec,
    SearchSpec,
    SplitSpec,
    TrackingSpec,
    parse_criterion,
)
from crispml.spec._template import propose_metric, render_spec_template

__all__ = [
    "DEFAULT_CONTAMINATION",
    "DEFAULT_DETECTORS",
    "DEFAULT_FAMILIES",
    "DEFAULT_METRIC",
    "FAIRNESS_CRITERIA",
    "METRICS_BY_TASK",
    "AuditSpec",
    "CostSpec",
    "DataSpec",
    "DeploymentSpec",
    "EvaluationSpec",
    "ExplainSpec",
    "FairnessSpec",
    "FeaturesSpec",
    "LatencySLA",
    "ProblemSpec",
    "ProjectSpec",
    "ReportSpec",
    "SearchSpec",
    "SplitSpec",
    "TrackingSpec",
    "load_spec",
    "parse_criterion",
    "propose_metric",
    "render_anomaly_template",
    "render_spec_template",
    "save_spec",
    "spec_from_dict",
    "spec_json_schema",
    "spec_to_yaml",
]
