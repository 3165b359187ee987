"""Problem definition: the validated project spec and its YAML form."""

from __future__ import annotations

from crispml.spec._io import load_spec, save_spec, spec_from_dict, spec_json_schema, spec_to_yaml
from crispml.spec._model import (
    BEATS_BASELINE,
    DEFAULT_FAMILIES,
    DEFAULT_METRIC,
    FAIRNESS_CRITERIA,
    METRICS_BY_TASK,
    AuditSpec,
    CostSpec,
    DataSpec,
    DeploymentSpec,
    EvaluationSpec,
    FairnessSpec,
    FeaturesSpec,
    LatencySLA,
    ProblemSpec,
    ProjectSpec,
    SearchSpec,
    SplitSpec,
    TrackingSpec,
    parse_criterion,
)
from crispml.spec._template import propose_metric, render_spec_template

__all__ = [
    "BEATS_BASELINE",
    "DEFAULT_FAMILIES",
    "DEFAULT_METRIC",
    "FAIRNESS_CRITERIA",
    "METRICS_BY_TASK",
    "AuditSpec",
    "CostSpec",
    "DataSpec",
    "DeploymentSpec",
    "EvaluationSpec",
    "FairnessSpec",
    "FeaturesSpec",
    "LatencySLA",
    "ProblemSpec",
    "ProjectSpec",
    "SearchSpec",
    "SplitSpec",
    "TrackingSpec",
    "load_spec",
    "parse_criterion",
    "propose_metric",
    "render_spec_template",
    "save_spec",
    "spec_from_dict",
    "spec_json_schema",
    "spec_to_yaml",
]
