"""Audit findings a model validator asks for (issue 11, item 6), each planted in a table.

Near-deterministic levels on top drivers, a joint proxy for a protected column, label
flags concentrated in one protected group, and identifier columns kept out of features.
The checks are called on the audit sample directly (fast); one slow test runs the whole
audit on a table with every problem planted at once.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from crispml.audit import _levels as levels
from crispml.audit import audit_data
from crispml.audit._common import build_sample
from crispml.audit._inventory import inventory_findings, row_hashes
from crispml.audit._labels import label_findings
from crispml.audit._levels import outcome_level_findings
from crispml.audit._proxies import JOINT_PROXY_WARNING, PREDICTABILITY_WARNING, proxy_findings
from tests.audit.audit_data_helpers import clean_frame, make_spec, prepare


def lender_frame(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """A weak-signal binary task (about 15% positive, like loan denials) with two columns
    recorded after the outcome: a flag set on 70 positives and 4 negatives, and an amount
    that is non-zero only for 60 positives."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(4)})
    positive = rng.random(n) < 1 / (1 + np.exp(-(-2 + 0.8 * frame["x0"] + 0.5 * frame["x1"])))
    frame["y"] = np.where(positive, "yes", "no")
    flag = np.zeros(n, dtype=bool)
    flag[rng.choice(np.flatnonzero(positive), 70, replace=False)] = True
    flag[rng.choice(np.flatnonzero(~positive), 4, replace=False)] = True
    frame["mi_denied"] = np.where(flag, "yes", "no")
    recovered = np.zeros(n)
    rows = rng.choice(np.flatnonzero(positive & ~flag), 60, replace=False)
    recovered[rows] = rng.uniform(100, 1000, size=60)
    frame["recovered"] = recovered
    return frame


def _sample(frame, spec):
    dataset, split = prepare(frame, spec)
    return dataset, split, build_sample(dataset, split, cap=spec.audit.sample_rows, seed=0)


def _no_drop_advice(text: str) -> bool:
    """True when every sentence that mentions dropping says not to."""
    sentences = re.split(r"(?<=[.;:])\s+", text.lower())
    return all("not" in s for s in sentences if "drop" in s)


# --- near-deterministic levels -------------------------------------------------------


def test_near_deterministic_level_and_range_on_top_drivers_are_warnings():
    dataset, _, sample = _sample(lender_frame(), make_spec())
    found = {f.id: f for f in outcome_level_findings(dataset, sample, exclude=set())}
    assert set(found) == {"outcome-level:mi_denied", "outcome-level:recovered"}
    flag = found["outcome-level:mi_denied"]
    assert flag.severity == "warning" and flag.check == "leakage"
    level = flag.evidence["levels"][0]
    rows = sample.X["mi_denied"].astype(str).to_numpy() == "yes"
    assert level["level"] == "= yes" and level["outcome"] == "yes"
    assert level["rows"] == rows.sum() and level["outcome_rows"] == sample.y[rows].sum()
    assert level["rate"] >= 0.9 and level["overall_rate"] < 0.2
    assert flag.evidence["driver_rank"] <= levels.TOP_DRIVERS
    assert "recorded after" in flag.title.lower() and "data.drop: [mi_denied]" in flag.action
    amount = found["outcome-level:recovered"].evidence["levels"]
    assert len(amount) == 1 and amount[0]["rate"] == 1.0
    assert amount[0]["level"].startswith("in [1")  # the non-zero amounts, not the zeros


def test_level_with_outcome_rate_below_0_1_is_found_too():
    frame = lender_frame()
    frame["y"] = frame["y"].map({"yes": "no", "no": "yes"})  # 85% positive; the flag ~7%
    dataset, _, sample = _sample(frame, make_spec())
    found = {f.id: f for f in outcome_level_findings(dataset, sample, exclude=set())}
    level = found["outcome-level:mi_denied"].evidence["levels"][0]
    assert level["outcome"] == "no" and 1 - level["rate"] <= 0.1
    assert found["outcome-level:mi_denied"].severity == "warning"


def test_level_on_a_column_the_model_does_not_lean_on_is_info(monkeypatch):
    monkeypatch.setattr(levels, "TOP_DRIVERS", 0)
    dataset, _, sample = _sample(lender_frame(), make_spec())
    found = outcome_level_findings(dataset, sample, exclude={"recovered"})
    assert [(f.id, f.severity) for f in found] == [("outcome-level:mi_denied", "info")]


def test_smooth_strong_predictor_and_noise_have_no_level_and_no_extra_fit(monkeypatch):
    def no_fit(*args, **kwargs):
        raise AssertionError("the driver model is fitted only when a level is found")

    monkeypatch.setattr(levels, "driver_ranks", no_fit)
    # labels follow x0..x2 almost surely in the tails (a steep logistic), x3..x5 are noise
    dataset, _, sample = _sample(clean_frame(), make_spec())
    assert outcome_level_findings(dataset, sample, exclude=set()) == []


def test_level_at_the_base_rate_is_not_reported():
    # 95% 'no' where 85% are 'no' overall: near 0 or 1, but not news
    frame = lender_frame()
    frame["mi_denied"] = np.where(frame["y"] == "no", "a", "b")
    frame.loc[frame.index[:300], "mi_denied"] = "a"
    dataset, _, sample = _sample(frame.drop(columns=["recovered"]), make_spec())
    found = outcome_level_findings(dataset, sample, exclude={"mi_denied"})
    assert found == []


# --- proxies --------------------------------------------------------------------------


def test_joint_proxy_auc_above_0_7_is_a_warning_without_single_proxies():
    frame = clean_frame()
    rng = np.random.default_rng(5)
    # six weak proxies: none reaches Cramér's V 0.3 or AUC 0.8 alone, together about 0.78
    latent = frame[[f"x{i}" for i in range(6)]].sum(axis=1) + rng.normal(
        scale=3.0, size=len(frame)
    )
    frame["group"] = np.where(latent > np.quantile(latent, 0.7), "b", "a")
    dataset, _, sample = _sample(frame, make_spec(fairness={"protected": ["group"]}))
    found = {f.id: f for f in proxy_findings(dataset, sample, ("group",))}
    joint = found["proxy:group"]
    assert JOINT_PROXY_WARNING <= joint.evidence["joint_roc_auc"] < PREDICTABILITY_WARNING
    assert joint.severity == "warning"
    assert "jointly encode 'group'" in joint.action
    assert not [i for i in found if i.startswith("proxy:group:")]  # no single proxy


# --- label flags per protected group ---------------------------------------------------


def _noisy_for_one_group(flip_b: float, seed: int = 7) -> pd.DataFrame:
    frame = clean_frame(n=2000, seed=seed)
    rng = np.random.default_rng(seed)
    frame["group"] = np.where(rng.random(len(frame)) < 0.3, "b", "a")
    flip = rng.random(len(frame)) < np.where(frame["group"] == "b", flip_b, 0.01)
    frame.loc[flip, "y"] = frame.loc[flip, "y"].map({"yes": "no", "no": "yes"})
    return frame


def test_label_flags_concentrated_in_one_group_are_a_warning_without_drop_advice():
    spec = make_spec(fairness={"protected": ["group"]})
    dataset, _, sample = _sample(_noisy_for_one_group(flip_b=0.15), spec)
    found = {f.id: f for f in label_findings(dataset, sample, 0, ("group",))}
    groups = found["labels:groups:group"]
    assert groups.severity == "warning"
    by_group = groups.evidence["by_group"]
    assert by_group["b"]["rate"] > 2 * by_group["a"]["rate"]
    assert sum(g["rows"] for g in by_group.values()) == len(sample.positions)
    assert (
        sum(g["flagged"] for g in by_group.values()) == found["labels:issues"].evidence["flagged"]
    )
    assert groups.evidence["p_value"] < 0.05
    assert "do not drop or relabel rows of one group" in groups.action.lower()
    assert _no_drop_advice(groups.action) and _no_drop_advice(found["labels:issues"].action)


def test_label_flags_spread_evenly_are_info():
    spec = make_spec(fairness={"protected": ["group"]})
    dataset, _, sample = _sample(_noisy_for_one_group(flip_b=0.01), spec)
    found = {f.id: f for f in label_findings(dataset, sample, 0, ("group",))}
    assert found["labels:groups:group"].severity == "info"
    assert found["labels:groups:group"].action == ""


# --- identifiers ---------------------------------------------------------------------


def _inventory(dataset):
    return {
        f.id: f for f in inventory_findings(dataset, row_hashes(dataset.frame, dataset.schema))
    }


def _with_ids(frame: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = len(frame)
    return frame.assign(
        applicant_id=rng.permutation(np.arange(1, n + 1)),  # id-named, shuffled sequence
        ref=rng.permutation(5000 + 3 * np.arange(n)),  # a shuffled sequence, plain name
        amount=rng.integers(0, 10**9, size=n),  # distinct integers, not a sequence
    )


def test_sequential_and_id_named_columns_are_flagged_and_not_features(clean):
    spec = make_spec()
    dataset, _ = prepare(_with_ids(clean), spec)
    assert dataset.schema["applicant_id"].role == "id" and dataset.schema["ref"].role == "id"
    assert dataset.schema["amount"].role == "numeric"
    features = list(dataset.features().columns)
    assert "applicant_id" not in features and "ref" not in features and "amount" in features
    found = _inventory(dataset)
    assert found["identifier:applicant_id"].severity == "warning"
    assert "data.keep_ids: [ref]" in found["identifier:ref"].action
    assert "identifier:amount" not in found
    excluded = found["inventory:overview"].evidence["excluded_from_features"]
    assert {"applicant_id", "ref"} <= set(excluded) and "amount" not in excluded


def test_keep_ids_keeps_the_column_as_a_feature_and_says_so(clean):
    spec = make_spec(data={"source": "data.csv", "keep_ids": ["ref"]})
    dataset, _ = prepare(_with_ids(clean), spec)
    assert dataset.schema["ref"].role == "numeric"
    assert "ref" in dataset.features().columns
    found = _inventory(dataset)
    assert found["identifier:ref"].severity == "info"
    assert found["identifier:applicant_id"].severity == "warning"


def test_declared_id_column_is_not_a_finding(clean):
    spec = make_spec(data={"source": "data.csv", "id_column": "applicant_id"})
    dataset, _ = prepare(_with_ids(clean), spec)
    ids = list(_inventory(dataset))
    assert "identifier:applicant_id" not in ids and "identifier:ref" in ids


# --- everything at once, through the whole audit -------------------------------------------


@pytest.mark.slow
def test_whole_audit_reports_every_planted_problem():
    frame = lender_frame()
    rng = np.random.default_rng(2)
    frame["group"] = np.where(rng.random(len(frame)) < 0.3, "b", "a")
    frame = _with_ids(frame)
    spec = make_spec(fairness={"protected": ["group"]})
    report = audit_data(*prepare(frame, spec), spec)
    warnings = {f.id for f in report.by_severity("warning")}
    assert {
        "outcome-level:mi_denied",
        "outcome-level:recovered",
        "identifier:applicant_id",
        "identifier:ref",
    } <= warnings
    assert not report.blocking
    assert report.timings_s["leakage"] < 5.0
