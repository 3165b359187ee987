"""The anomaly task in the spec: optional target, contamination, resolved defaults."""

from __future__ import annotations

import pytest

from crispml.exceptions import SpecError
from crispml.spec import DEFAULT_DETECTORS, spec_from_dict


def _raw(**problem):
    return {"name": "p", "problem": problem, "data": {"source": "d.csv"}}


def test_anomaly_needs_no_target_and_resolves_to_detectors():
    spec = spec_from_dict(_raw(task="anomaly")).resolved()
    assert spec.problem.target is None
    assert spec.problem.metric == "average_precision"
    assert spec.problem.anomaly_share == 0.05
    assert spec.split.strategy == "random"  # nothing to stratify on
    assert spec.search.families == DEFAULT_DETECTORS
    assert spec.search.validation == "holdout" and spec.search.ensemble is False


def test_labelled_anomaly_stratifies_and_keeps_contamination():
    spec = spec_from_dict(_raw(task="anomaly", target="fraud", contamination=0.02)).resolved()
    assert spec.split.strategy == "stratified" and spec.problem.anomaly_share == 0.02


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_other_tasks_still_need_a_target(task):
    with pytest.raises(SpecError, match=r"problem\.target is required for task") as info:
        spec_from_dict(_raw(task=task), source="crispml.yaml")
    assert "task: anomaly" in str(info.value) and "\n" not in str(info.value)


def test_contamination_is_for_anomaly_only_and_bounded():
    with pytest.raises(SpecError, match="contamination applies to task: anomaly only"):
        spec_from_dict(_raw(task="binary", target="y", contamination=0.1))
    with pytest.raises(SpecError, match="contamination"):
        spec_from_dict(_raw(task="anomaly", contamination=0.7))


def test_unlabelled_anomaly_cannot_stratify():
    raw = _raw(task="anomaly") | {"split": {"strategy": "stratified"}}
    with pytest.raises(SpecError, match=r"'stratified' needs problem\.target"):
        spec_from_dict(raw)


def test_anomaly_metric_must_fit_the_task():
    with pytest.raises(SpecError, match="does not fit task 'anomaly'"):
        spec_from_dict(_raw(task="anomaly", target="y", metric="rmse"))


@pytest.mark.parametrize(
    ("field", "value"),
    [("costs", {"fp": 1, "fn": 5}), ("threshold_objective", "f1"), ("min_precision", 0.8)],
)
def test_threshold_fields_are_refused_for_anomaly(field, value):
    with pytest.raises(SpecError, match=f"problem.{field} sets a classifier's threshold"):
        spec_from_dict(_raw(task="anomaly", **{field: value}))


def test_monotone_is_refused_for_anomaly():
    raw = _raw(task="anomaly") | {"features": {"monotone": {"x": 1}}}
    with pytest.raises(SpecError, match="anomaly detectors take no constraints"):
        spec_from_dict(raw)


def test_refit_on_all_rows_is_refused_for_anomaly():
    raw = _raw(task="anomaly") | {"deployment": {"refit": "all_rows"}}
    with pytest.raises(SpecError, match=r"deployment\.refit: all_rows .* task: anomaly"):
        spec_from_dict(raw)
    labelled = _raw(task="binary", target="y") | {"deployment": {"refit": "all_rows"}}
    assert spec_from_dict(labelled).deployment.refit == "all_rows"
    assert spec_from_dict(_raw(task="binary", target="y")).deployment.refit == "non_test_rows"
