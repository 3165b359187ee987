"""Each planted problem is found by the whole audit; clean data raises no warning."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from crispml.audit import audit_data, find_label_problems
from crispml.audit._common import build_sample
from crispml.data import table_hash
from crispml.exceptions import AuditBlockedError
from tests.audit.audit_data_helpers import clean_frame, make_spec, prepare

pytestmark = pytest.mark.slow  # each runs the whole audit (about 2 s on 2 cores)


def _ids(report, *severities):
    return {f.id for f in report.findings if f.severity in severities}


def test_clean_data_has_no_warning_or_blocking(clean):
    spec = make_spec()
    report = audit_data(*prepare(clean, spec), spec)
    assert _ids(report, "warning", "blocking") == set()
    assert report["canary:shuffled-labels"].severity == "info"
    assert report["shift:adversarial"].evidence["roc_auc"] < 0.6
    assert report.summary["test_labels_read"] is False


def test_audit_does_not_change_the_data(clean):
    spec = make_spec()
    dataset, split = prepare(clean, spec)
    before, y_before = table_hash(dataset.frame), dataset.y.copy()
    audit_data(dataset, split, spec)
    assert table_hash(dataset.frame) == before
    np.testing.assert_array_equal(dataset.y, y_before)


def test_leaked_copy_of_target_is_blocking_and_stops_the_run(clean):
    frame = clean.assign(outcome_code=clean["y"].map({"yes": 1.0, "no": 0.0}) + 0.01)
    spec = make_spec()
    dataset, split = prepare(frame, spec)
    report = audit_data(dataset, split, spec)
    finding = report["leakage:outcome_code"]
    assert finding.severity == "blocking"
    assert finding.evidence["score"] > 0.99
    assert [f.id for f in report.blocking] == ["leakage:outcome_code"]
    with pytest.raises(AuditBlockedError, match=r"leakage:outcome_code.*accept"):
        audit_data(dataset, split, spec, enforce=True)


def test_accepted_blocking_finding_is_kept_and_marked(clean, tmp_path):
    frame = clean.assign(outcome_code=clean["y"].map({"yes": 1.0, "no": 0.0}))
    spec = make_spec(audit={"accept": ["leakage:outcome_code", "leakage:outcome"]})

    class Folder:
        def write_json(self, rel, payload):
            path = tmp_path / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(payload))

    report = audit_data(*prepare(frame, spec), spec, folder=Folder(), enforce=True)
    assert report.blocking == []
    written = json.loads((tmp_path / "audit/audit.json").read_text())
    assert written["schema_version"] == 1
    leak = next(f for f in written["findings"] if f["id"] == "leakage:outcome_code")
    assert leak["accepted"] is True and leak["severity"] == "blocking"
    assert report["audit:unused-accept"].evidence["unused"] == ["leakage:outcome"]


def test_function_of_target_is_blocking_for_multiclass():
    rng = np.random.default_rng(1)
    n = 1500
    frame = pd.DataFrame({"x0": rng.normal(size=n), "x1": rng.normal(size=n)})
    frame["y"] = rng.choice(["a", "b", "c"], size=n)
    # Not one-to-one: 'a' and 'b' share a value, so it does not predict perfectly.
    frame["stage"] = frame["y"].map({"a": "early", "b": "early", "c": "late"})
    spec = make_spec(task="multiclass")
    report = audit_data(*prepare(frame, spec), spec)
    finding = report["leakage:stage"]
    assert finding.severity == "blocking"
    assert "function of the target" in finding.title


def test_regression_leak_and_target_distribution():
    rng = np.random.default_rng(2)
    n = 1500
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(4)})
    frame["price"] = np.exp(frame["x0"] + rng.normal(scale=0.5, size=n))
    frame["price_eur"] = frame["price"] * 0.9
    spec = make_spec(task="regression", target="price")
    report = audit_data(*prepare(frame, spec), spec)
    assert report["leakage:price_eur"].severity == "blocking"
    assert report["target:distribution"].evidence["skew"] > 2


def test_regression_entry_errors_rank_first():
    rng = np.random.default_rng(5)
    n = 1200
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(3)})
    frame["price"] = 10 + 3 * frame["x0"] + rng.normal(scale=0.3, size=n)
    spec = make_spec(task="regression", target="price")
    _, split = prepare(frame, spec)
    planted = split.train[:5]
    frame.loc[planted, "price"] *= 100  # a unit mix-up in five training rows
    report = audit_data(*prepare(frame, spec), spec)
    labels = report["labels:issues"]
    assert labels.severity == "info"
    top = [e["position"] for e in labels.evidence["examples"][:5]]
    assert sorted(top) == sorted(planted.tolist())
    assert labels.evidence["far_residuals"] >= 5


def test_flipped_labels_are_found_by_cleanlab():
    frame = clean_frame(n=3000, seed=3)
    rng = np.random.default_rng(3)
    flipped = rng.choice(len(frame), size=len(frame) // 10, replace=False)
    frame.loc[flipped, "y"] = frame.loc[flipped, "y"].map({"yes": "no", "no": "yes"})
    spec = make_spec()
    dataset, split = prepare(frame, spec)
    report = audit_data(dataset, split, spec)
    assert report["labels:issues"].severity == "warning"
    sample = build_sample(dataset, split, cap=spec.audit.sample_rows, seed=0)
    flagged = set(find_label_problems(sample).positions.tolist())
    planted = set(flipped.tolist()) & set(sample.positions.tolist())
    precision = len(flagged & planted) / len(flagged)
    recall = len(flagged & planted) / len(planted)
    print(f"cleanlab on 10% flipped labels: precision {precision:.2f}, recall {recall:.2f}")
    assert precision >= 0.6
    assert recall >= 0.6


def test_proxy_for_protected_attribute_and_base_rates(clean):
    rng = np.random.default_rng(4)
    n = len(clean)
    group = rng.choice(["g1", "g2"], size=n)
    district = np.where(rng.random(n) < 0.9, group, np.where(group == "g1", "g2", "g1"))
    frame = clean.assign(group=group, district=np.char.add("d-", district))
    spec = make_spec(fairness={"protected": ["group"]})
    report = audit_data(*prepare(frame, spec), spec)
    proxy = report["proxy:group:district"]
    assert proxy.severity == "warning"
    assert proxy.evidence["cramers_v"] > 0.7
    assert "proxy:group:x0" not in report.ids()
    rates = report["base-rates:group"].evidence["by_group"]
    assert set(rates) == {"g1", "g2"}
    assert sum(v["count"] for v in rates.values()) == report.summary["sample_rows"]


def test_shifted_test_split_is_found(clean):
    spec = make_spec()
    _, split = prepare(clean, spec)
    shifted = clean.copy()
    shifted.loc[split.test, "x3"] += 3.0
    report = audit_data(*prepare(shifted, spec), spec)
    finding = report["shift:adversarial"]
    assert finding.severity == "warning"
    assert finding.evidence["roc_auc"] > 0.9
    assert next(iter(finding.evidence["top_features_gain_share"])) == "x3"


def test_rows_repeated_across_split_and_ordered_ids(clean):
    repeated = pd.concat([clean, clean.iloc[:400]], ignore_index=True)
    ordered = repeated.sort_values("y", kind="stable").reset_index(drop=True)
    ordered.insert(0, "row_id", np.arange(len(ordered)))
    spec = make_spec(data={"source": "data.csv", "id_column": "row_id"})
    report = audit_data(*prepare(ordered, spec), spec)
    assert report["duplicates:rows"].evidence["duplicate_rows"] == 400
    assert report["leakage:duplicates-across-split"].severity == "warning"
    assert report["id-signal:row_id"].severity == "warning"


def test_inventory_flags_sentinels_constants_and_copies(clean):
    frame = clean.copy()
    frame.loc[:49, "x4"] = -999
    frame["colour_copy"] = frame["colour"]
    frame["source"] = "crm"
    frame.loc[:99, "size"] = "?"
    frame["mixed"] = np.where(np.arange(len(frame)) % 4 == 0, "n/k", "12")
    spec = make_spec()
    report = audit_data(*prepare(frame, spec), spec)
    assert report["sentinel:x4"].evidence["values"] == {"-999": 50}
    assert report["sentinel:size"].evidence["values"] == {"?": 100}
    assert report["duplicate-column:colour_copy"].evidence["copy_of"] == "colour"
    assert report["constant:source"].severity == "info"
    assert report["mixed-types:mixed"].evidence["numeric_share"] == 0.75


def test_report_is_sorted_by_severity_and_json_ready(clean):
    frame = clean.assign(outcome_code=clean["y"].map({"yes": 1, "no": 0}), leftover=np.nan)
    spec = make_spec()
    report = audit_data(*prepare(frame, spec), spec)
    order = {"blocking": 0, "warning": 1, "info": 2}
    ranks = [order[f.severity] for f in report.findings]
    assert ranks == sorted(ranks)
    assert report.findings[0].severity == "blocking"
    payload = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert payload["counts"]["blocking"] == 1
    assert payload["blocking_unaccepted"] == ["leakage:outcome_code"]
    assert report["all-missing:leftover"].severity == "warning"
