"""Fairness criteria in the verdict: on the favourable outcome, decided on the CI, small n."""

import numpy as np
import pandas as pd
import pytest

from crispml import Project
from crispml.evaluate import fairness_report, verdict
from crispml.exceptions import DataError, SpecError
from crispml.spec import spec_from_dict


def _disparate(n=2000, seed=0):
    """Group g2 is denied far more often, through a feature that stands in for it."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["g1", "g2"], size=n, p=[0.6, 0.4])
    proxy = rng.normal(size=n) + np.where(group == "g2", 1.5, 0.0)
    x = rng.normal(size=n)
    logit = 2.0 * proxy + x - 1.5
    deny = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return pd.DataFrame({"proxy": proxy, "x": x, "group": group, "deny": deny})


def _spec(**fairness):
    return spec_from_dict(
        {
            "name": "fair",
            "problem": {"task": "binary", "target": "deny", "positive_label": "yes"},
            "data": {"source": "in-memory"},
            "fairness": {"protected": ["group"], **fairness},
            "search": {"families": [], "deterministic": True, "max_trials": 1},
            "evaluation": {"bootstrap": 200},
            "deployment": {"format": "none"},
            "tracking": {"enabled": False},
        },
        source="test",
    )


def test_adverse_impact_ratio_is_on_the_favourable_outcome():
    y = np.array([1] * 10 + [0] * 30 + [1] * 20 + [0] * 20)
    groups = np.array(["a"] * 40 + ["b"] * 40)
    p1 = y.astype(float)  # decisions equal the labels
    out = np.column_stack([1 - p1, p1])
    report = fairness_report(
        y, out, groups, task="binary", metric="roc_auc", n_resamples=100, min_class_size=5
    )
    # denial (positive) rates 0.25 and 0.5: approvals 0.75 and 0.5 -> ratio 0.5 / 0.75
    assert report["gaps"]["adverse_impact_ratio"]["estimate"] == pytest.approx(2 / 3)
    assert report["gaps"]["demographic_parity_ratio"]["estimate"] == pytest.approx(0.5)
    assert report["by_group"]["a"]["favourable_rate"]["estimate"] == pytest.approx(0.75)
    assert report["underpowered"] == []
    small = fairness_report(
        y, out, groups, task="binary", metric="roc_auc", n_resamples=50, min_class_size=15
    )
    assert len(small["underpowered"]) == 1 and "'a': 10 positives" in small["underpowered"][0]


def test_an_inconclusive_reason_overrides_the_interval():
    measured = {"adverse_impact_ratio": {"estimate": 0.95, "low": 0.9, "high": 1.0}}
    assert verdict({"adverse_impact_ratio": ">= 0.8"}, measured).overall == "go"
    measured["adverse_impact_ratio"]["inconclusive"] = "group 'b' too small"
    row = verdict({"adverse_impact_ratio": ">= 0.8"}, measured).criteria[0]
    assert row.result == "inconclusive" and row.note == "group 'b' too small"


@pytest.mark.slow
def test_a_planted_disparity_makes_the_verdict_no_go(tmp_path):
    spec = _spec(criteria={"adverse_impact_ratio": ">= 0.8"})
    run = Project(spec, base_dir=tmp_path, data=_disparate()).run()
    (row,) = run.verdict.criteria
    assert row.name == "adverse_impact_ratio" and row.result == "fail"
    assert row.high < 0.8
    assert row.source == "evaluation/evaluation.json: fairness_gaps.adverse_impact_ratio"
    assert run.verdict.overall == "no-go"
    card = (run.path / "report/model_card.md").read_text()
    assert "adverse_impact_ratio >= 0.8000" in card and "favourable outcome: no" in card


def test_fairness_criteria_are_validated():
    with pytest.raises(SpecError, match="unknown fairness figure"):
        _spec(criteria={"four_fifths": ">= 0.8"})
    with pytest.raises(SpecError, match=r"needs fairness\.protected"):
        spec_from_dict(
            {
                "name": "x",
                "problem": {"task": "binary", "target": "deny"},
                "data": {"source": "d.csv"},
                "fairness": {"criteria": {"adverse_impact_ratio": ">= 0.8"}},
            }
        )


def test_an_unknown_favourable_label_is_a_data_error(tmp_path):
    raw = _spec().model_dump(mode="json")
    raw["problem"]["favourable_label"] = "approved"
    spec = spec_from_dict(raw, source="test")
    with pytest.raises(DataError, match="favourable_label = 'approved' is not a class"):
        Project(spec, base_dir=tmp_path, data=_disparate(200)).run()
