"""Single checks on small tables: inventory, target, univariate scores, canary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict

from crispml.audit import canary_findings
from crispml.audit._common import build_sample, univariate_score
from crispml.audit._inventory import inventory_findings, row_hashes
from crispml.audit._target import target_findings
from tests.audit.audit_data_helpers import clean_frame, make_spec, prepare


def _inventory(frame, spec=None):
    spec = spec or make_spec()
    dataset, _ = prepare(frame, spec)
    return {
        f.id: f for f in inventory_findings(dataset, row_hashes(dataset.frame, dataset.schema))
    }


def test_inventory_of_clean_data_is_informative_only():
    found = _inventory(clean_frame(n=400))
    assert {f.severity for f in found.values()} == {"info"}
    overview = found["inventory:overview"].evidence
    assert overview["rows"] == 400
    assert overview["roles"] == {"numeric": 6, "categorical": 2, "target": 1}


def test_infinite_and_all_missing_columns_are_findings():
    frame = clean_frame(n=400)
    frame.loc[:6, "x5"] = np.inf
    frame["empty"] = np.nan
    found = _inventory(frame)
    assert found["infinite:x5"].evidence == {"count": 7}
    assert found["infinite:x5"].severity == "warning"
    assert found["all-missing:empty"].evidence["missing"] == 400


def test_high_cardinality_and_mostly_missing_columns():
    frame = clean_frame(n=3000)
    frame["customer"] = [f"c{i % 1500}" for i in range(3000)]
    frame["notes_code"] = np.where(np.arange(3000) % 10 < 7, None, "a")
    found = _inventory(frame)
    assert found["high-cardinality:customer"].evidence["levels"] == 1500
    assert found["missing:notes_code"].evidence["missing_share"] == pytest.approx(0.7)


def test_target_imbalance_and_tiny_test_class():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=1000), "z": rng.normal(size=1000)})
    frame["y"] = np.where(np.arange(1000) < 30, "yes", "no")
    spec = make_spec()
    dataset, split = prepare(frame, spec)
    found = {f.id: f for f in target_findings(dataset, split)}
    balance = found["target:balance"]
    assert balance.severity == "warning"
    assert balance.evidence["minority_share"] == pytest.approx(0.03)
    assert balance.evidence["imbalance_ratio"] == pytest.approx(970 / 30, rel=1e-3)
    assert found["target:small-classes"].evidence["test_counts"] == {"yes": 6}


def test_rows_without_target_are_reported():
    frame = clean_frame(n=300)
    frame.loc[:9, "y"] = None
    spec = make_spec()
    dataset, split = prepare(frame, spec)
    found = {f.id: f for f in target_findings(dataset, split)}
    assert found["target:missing"].evidence == {"rows": 10}


def test_univariate_score_finds_non_monotone_and_categorical_signal():
    rng = np.random.default_rng(1)
    x = pd.Series(rng.normal(size=1200))
    y = (np.abs(x) > 1).to_numpy().astype(int)  # a U shape: AUC of x itself is ~0.5
    assert univariate_score(x, y, "binary", 0) > 0.97
    noise = pd.Series(rng.normal(size=1200))
    assert univariate_score(noise, y, "binary", 0) < 0.6
    levels = pd.Series(rng.choice(list("abcdef"), size=1200))
    y_cat = levels.isin(["a", "c"]).to_numpy().astype(int)
    assert univariate_score(levels, y_cat, "binary", 0) > 0.99


def _small_sample():
    spec = make_spec()
    dataset, split = prepare(clean_frame(n=800), spec)
    return build_sample(dataset, split, cap=5000, seed=0)


def test_canary_is_at_chance_for_the_audit_procedure():
    (finding,) = canary_findings(_small_sample())
    assert finding.severity == "info"
    assert all(
        abs(s - 0.5) < finding.evidence["limit"] - 0.5 for s in finding.evidence["shuffled_scores"]
    )


def test_canary_catches_a_procedure_that_sees_the_labels():
    def target_encoded_before_cv(X, y):
        # A classic leak: each row's own level is target-encoded on all rows, then CV.
        encoded = pd.Series(y, dtype=float).groupby(np.arange(len(y))).transform("mean")
        model = LogisticRegression()
        return cross_val_predict(model, encoded.to_frame(), y, cv=3, method="predict_proba")

    (finding,) = canary_findings(_small_sample(), procedure=target_encoded_before_cv)
    assert finding.severity == "blocking"
    assert finding.id == "canary:shuffled-labels"
    assert min(finding.evidence["shuffled_scores"]) > 0.99


def test_dates_later_than_the_time_column_are_leakage_suspects():
    from crispml.audit._leakage import _later_than_label

    n = 200
    opened = pd.date_range("2024-01-01", periods=n, freq="D")
    frame = clean_frame(n=n).assign(
        opened=opened.astype(str),
        closed=(opened + pd.Timedelta(days=30)).astype(str),
        birth=(opened - pd.Timedelta(days=9000)).astype(str),
    )
    spec = make_spec(split={"strategy": "time", "time_column": "opened"})
    dataset, _ = prepare(frame, spec)
    found = {f.id: f for f in _later_than_label(dataset, "opened")}
    assert set(found) == {"after-label:closed"}
    assert found["after-label:closed"].evidence["later_share"] == 1.0
    assert _later_than_label(dataset, None) == []


def test_protected_column_used_as_feature_is_not_its_own_proxy():
    from crispml.audit._proxies import proxy_findings

    frame = clean_frame(n=800).assign(group=lambda f: np.where(f.index % 3 == 0, "a", "b"))
    spec = make_spec(fairness={"protected": ["group"], "use_as_features": True})
    dataset, split = prepare(frame, spec)
    sample = build_sample(dataset, split, cap=5000, seed=0)
    assert "group" in sample.X.columns
    found = {f.id: f for f in proxy_findings(dataset, sample, ("group",))}
    assert set(found) == {"proxy:group", "base-rates:group"}
    assert found["proxy:group"].evidence["joint_roc_auc"] < 0.6
    assert "group" not in found["proxy:group"].evidence["features"]


def test_cramers_v_has_no_floor_from_many_levels():
    from scipy.stats.contingency import association, crosstab

    from crispml.audit._proxies import cramers_v

    rng = np.random.default_rng(2)
    levels, group = rng.integers(0, 50, size=1000), rng.integers(0, 2, size=1000)
    table = crosstab(levels, group).count
    assert association(table, method="cramer") > 0.15  # scipy's plain estimate
    assert cramers_v(table) < 0.1
    assert cramers_v(crosstab(group, group).count) == pytest.approx(1.0, abs=0.01)


def test_overview_lists_every_column_with_role_missing_and_cardinality():
    frame = clean_frame(n=300)
    frame.loc[:4, "x0"] = np.nan
    found = _inventory(frame)
    per_column = found["inventory:overview"].evidence["per_column"]
    assert list(per_column) == list(frame.columns)
    assert per_column["x0"]["missing"] == 5
    assert per_column["colour"] == {
        "role": "categorical",
        "dtype": str(frame["colour"].dtype),
        "missing": 0,
        "distinct": 3,
    }
