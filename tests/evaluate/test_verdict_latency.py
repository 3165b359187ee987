"""Latency criteria are decided once deployment has measured latency."""

from __future__ import annotations

import json

import pytest

from crispml import Project
from crispml.evaluate import verdict
from crispml.spec import spec_from_dict
from tests.conftest import make_binary


def test_latency_is_a_point_figure_and_intervals_are_kept():
    criteria = {"roc_auc": ">= 0.7", "latency_p99_ms": "<= 20"}
    auc = {"estimate": 0.8, "low": 0.75, "high": 0.85}
    unmeasured = verdict(criteria, {"roc_auc": auc})
    assert unmeasured.overall == "no-go"  # a run that did not deploy cannot pass latency
    slow = verdict(criteria, {"roc_auc": auc, "latency_p99_ms": {"estimate": 35.0}})
    fast = verdict(criteria, {"roc_auc": auc, "latency_p99_ms": {"estimate": 4.0}})
    assert [r.result for r in slow.criteria] == ["pass", "fail"]
    assert fast.overall == "go" and fast.criteria[0].low == 0.75


@pytest.mark.slow
@pytest.mark.integration
def test_run_decides_latency_criteria_from_the_deployment(tmp_path):
    spec = spec_from_dict(
        {
            "name": "latency",
            "problem": {
                "task": "binary",
                "target": "y",
                "positive_label": "yes",
                "success_criteria": {
                    "latency_p99_ms": "<= 100000",
                    "latency_p50_ms": "<= 0.000001",
                },
            },
            "data": {"source": "x.csv"},
            "search": {"families": ["lightgbm"], "deterministic": True, "max_trials": 1},
            "tracking": {"enabled": False},
        }
    )
    run = Project(spec, base_dir=tmp_path, data=make_binary()).run()
    decision = json.loads((run.path / "evaluation/verdict.json").read_text())
    latency = json.loads((run.path / "deploy/latency.json").read_text())
    rows = {r["name"]: r for r in decision["criteria"]}
    assert rows["latency_p99_ms"]["result"] == "pass"
    assert rows["latency_p50_ms"]["result"] == "fail"
    assert rows["latency_p99_ms"]["estimate"] == latency["http"]["single_row"]["p99_ms"]
    assert json.loads((run.path / "metrics.json").read_text())["verdict"] == "no-go"
    assert run.verdict.overall == "no-go"
    assert decision["latency_measured_on"] == "http single_row"
