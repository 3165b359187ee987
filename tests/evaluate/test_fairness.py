import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from crispml.evaluate import fairness_report, group_labels, mitigation_report


def _planted(n=3000, gap=0.3, seed=0):
    """Group 'b' is selected ``gap`` more often than group 'a' at the same true rate."""
    rng = np.random.default_rng(seed)
    groups = rng.choice(["a", "b"], size=n)
    y = rng.integers(0, 2, n)
    base = 0.3 + 0.4 * y
    p1 = np.clip(base + np.where(groups == "b", gap, 0.0) + rng.normal(0, 0.1, n), 0, 1)
    return y, np.c_[1 - p1, p1], groups


def test_planted_disparity_is_detected_with_an_interval_excluding_zero():
    y, out, groups = _planted()
    report = fairness_report(y, out, groups, task="binary", metric="roc_auc", n_resamples=300)
    dp = report["gaps"]["demographic_parity_difference"]
    assert dp["estimate"] > 0.2 and dp["low"] > 0
    sel = {g: report["by_group"][g]["selection_rate"]["estimate"] for g in ("a", "b")}
    assert sel["b"] > sel["a"]
    assert report["gaps"]["demographic_parity_ratio"]["high"] < 1
    assert report["gaps"]["equalized_odds_difference"]["low"] > 0
    assert report["by_group"]["a"]["count"] + report["by_group"]["b"]["count"] == 3000
    assert report["warnings"] == []


def test_no_disparity_gives_an_interval_reaching_near_zero():
    y, out, groups = _planted(gap=0.0)
    report = fairness_report(y, out, groups, task="binary", metric="roc_auc", n_resamples=300)
    assert report["gaps"]["demographic_parity_difference"]["low"] < 0.02


def test_small_groups_are_flagged():
    y, out, groups = _planted(n=400)
    groups = groups.astype(object)
    groups[:10] = "tiny"
    report = fairness_report(
        y, out, groups, task="binary", metric="roc_auc", min_group_size=30, n_resamples=50
    )
    assert len(report["warnings"]) == 1 and "'tiny' has 10 test rows" in report["warnings"][0]
    assert report["groups_in_gaps"] == ["a", "b"]
    assert report["by_group"]["tiny"]["count"] == 10
    # a tiny group whose rows are all selected would otherwise dominate the gap
    out = out.copy()
    out[groups == "tiny"] = [0.0, 1.0]
    again = fairness_report(
        y, out, groups, task="binary", metric="roc_auc", min_group_size=30, n_resamples=50
    )
    assert again["gaps"]["demographic_parity_difference"]["estimate"] < 0.5


def test_regression_reports_the_metric_per_group():
    rng = np.random.default_rng(0)
    y = rng.normal(size=500)
    groups = np.where(np.arange(500) % 2, "x", "y")
    pred = y + np.where(groups == "x", 1.0, 0.1) * rng.normal(size=500)
    report = fairness_report(y, pred, groups, task="regression", metric="mae", n_resamples=100)
    assert report["by_group"]["x"]["mae"]["estimate"] > report["by_group"]["y"]["mae"]["estimate"]
    assert report["gaps"] == {}


def test_group_labels_handle_missing_and_many_levels():
    labels = group_labels(pd.Series(["a", None, "b"]))
    assert list(labels) == ["a", "__missing__", "b"]
    ages = group_labels(pd.Series(np.arange(100.0)))
    assert len(set(ages)) == 4


@pytest.mark.parametrize(
    "method",
    ["threshold_optimizer", pytest.param("exponentiated_gradient", marks=pytest.mark.slow)],
)
def test_mitigation_narrows_the_gap(method):
    rng = np.random.default_rng(0)
    n = 3000
    groups = rng.choice(["a", "b"], size=n)
    X = pd.DataFrame({"x": rng.normal(size=n) + np.where(groups == "b", 1.0, 0.0)})
    y = (X["x"] + rng.normal(size=n) > 0.5).astype(int).to_numpy()
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    model = Pipeline([("features", StandardScaler()), ("model", LogisticRegression())])
    model.fit(X[:1000], y[:1000])
    fit = slice(0, 1000) if method == "exponentiated_gradient" else slice(1000, 2000)
    report = mitigation_report(
        method,
        model,
        X_fit=X[fit],
        y_fit=y[fit],
        groups_fit=groups[fit],
        X_test=X[2000:],
        y_test=y[2000:],
        groups_test=groups[2000:],
        threshold=0.5,
    )
    before = report["unmitigated"]["demographic_parity_difference"]
    after = report["mitigated"]["demographic_parity_difference"]
    assert before > 0.2
    assert after < before / 2
    assert "deployed" in report["deployment"]


def test_mitigation_pools_groups_too_small_to_fit():
    rng = np.random.default_rng(1)
    n = 2000
    groups = rng.choice(["a", "b"], size=n).astype(object)
    groups[:5] = "rare"  # all in the fitting rows, all with label 1 below
    X = pd.DataFrame({"x": rng.normal(size=n)})
    y = np.array((X["x"] + rng.normal(size=n) > 0).astype(int))
    y[:5] = 1
    model = LogisticRegression().fit(X, y)
    report = mitigation_report(
        "threshold_optimizer",
        model,
        X_fit=X[:1000],
        y_fit=y[:1000],
        groups_fit=groups[:1000],
        X_test=X[1000:],
        y_test=y[1000:],
        groups_test=groups[1000:],
        threshold=0.5,
    )
    assert set(report["mitigated"]["selection_rate_by_group"]) == {"a", "b"}


def test_threshold_optimizer_accepts_a_calibrated_model():
    from crispml.evaluate import CalibratedModel

    rng = np.random.default_rng(3)
    n = 3000
    groups = rng.choice(["a", "b"], size=n)
    X = pd.DataFrame({"x": rng.normal(size=n) + np.where(groups == "b", 1.0, 0.0)})
    y = np.array((X["x"] + rng.normal(size=n) > 0.5).astype(int))
    base = LogisticRegression(C=0.001).fit(X[:1000], y[:1000])
    model = CalibratedModel(base=base, method="sigmoid").fit(X[1000:1500], y[1000:1500])
    report = mitigation_report(
        "threshold_optimizer",
        model,
        X_fit=X[1000:2000],
        y_fit=y[1000:2000],
        groups_fit=groups[1000:2000],
        X_test=X[2000:],
        y_test=y[2000:],
        groups_test=groups[2000:],
        threshold=0.5,
    )
    assert (
        report["mitigated"]["demographic_parity_difference"]
        < report["unmitigated"]["demographic_parity_difference"]
    )
