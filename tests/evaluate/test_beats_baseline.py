"""Success criteria relative to the baselines: ``<metric>: beats_baseline``."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression

from crispml.evaluate import verdict
from crispml.evaluate._baseline import compare_with_baseline
from crispml.search import Candidate, SearchResult
from crispml.spec import render_spec_template, spec_from_dict


def _spec(criteria, metric=None):
    problem = {"task": "regression", "target": "y", "success_criteria": criteria}
    if metric:
        problem["metric"] = metric
    raw = {"name": "p", "problem": problem, "data": {"source": "d.csv"}}
    return spec_from_dict(raw, source="t")


def test_beats_baseline_is_accepted_on_the_primary_metric_only():
    assert _spec({"rmse": "beats_baseline"}).problem.success_criteria == {"rmse": "beats_baseline"}
    with pytest.raises(Exception, match=r"success_criteria.mae: beats_baseline is decided"):
        _spec({"mae": "beats_baseline"})


def test_init_proposes_a_criterion_that_can_fail():
    for task, metric in (("regression", "rmse"), ("binary", "roc_auc")):
        text = render_spec_template(name="p", source="d.csv", target="y", task=task, metric=metric)
        assert yaml.safe_load(text)["problem"]["success_criteria"] == {metric: "beats_baseline"}


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ({"estimate": 3.0, "low": 1.0, "high": 5.0}, "pass"),
        ({"estimate": 0.5, "low": -1.0, "high": 2.0}, "inconclusive"),
        ({"estimate": -3.0, "low": -5.0, "high": -1.0}, "fail"),
        ({"estimate": 0.0, "low": 0.0, "high": 0.0}, "fail"),  # the baseline itself
    ],
)
def test_beats_baseline_is_decided_on_the_improvement_interval(interval, expected):
    result = verdict({"rmse": "beats_baseline"}, {"rmse_vs_baseline": interval})
    row = result.criteria[0]
    assert row.name == "rmse_vs_baseline" and row.threshold == 0.0
    assert row.result == expected
    assert result.overall == ("go" if expected == "pass" else "no-go")


def test_beats_baseline_without_baselines_is_inconclusive():
    row = verdict({"rmse": "beats_baseline"}, {"rmse": {"estimate": 1.0}}).criteria[0]
    assert row.result == "inconclusive" and "search.baselines" in row.note


def _search_result(X, y):
    dummy = Candidate("dummy", "dummy", {}, pipeline=DummyRegressor().fit(X, y), baseline=True)
    dummy.valid_score = 10.0
    linear = Candidate("linear", "linear", {}, pipeline=LinearRegression().fit(X, y))
    linear.baseline, linear.valid_score = True, 2.0
    return SearchResult([dummy, linear], "rmse", linear, 60.0, 1.0)


def test_comparison_uses_the_baseline_best_on_validation_and_pairs_the_rows():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = X @ np.array([2.0, -1.0, 0.5]) + rng.normal(scale=1.0, size=400)
    result = _search_result(X, y)
    exact = X @ np.array([2.0, -1.0, 0.5])  # better than the fitted line: no noise fitted
    noisy = exact + rng.normal(scale=3.0, size=400)  # far worse than the baseline
    better = compare_with_baseline(result, X, y, exact, task="regression", n_resamples=200, seed=0)
    worse = compare_with_baseline(result, X, y, noisy, task="regression", n_resamples=200, seed=0)
    assert better.baseline == "linear" and worse.baseline == "linear"
    assert worse.improvement.high < 0 < worse.improvement.estimate + 10
    assert better.improvement.low <= better.improvement.estimate <= better.improvement.high
    base_rmse = float(np.sqrt(np.mean((LinearRegression().fit(X, y).predict(X) - y) ** 2)))
    assert better.baseline_estimate == pytest.approx(base_rmse)
    assert worse.improvement.estimate == pytest.approx(
        base_rmse - float(np.sqrt(np.mean((noisy - y) ** 2)))
    )
