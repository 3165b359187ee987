"""The audit of a ranking table: queries, their relevance levels and repeated candidates."""

from __future__ import annotations

import pandas as pd

from crispml.audit import audit_data
from crispml.data import load_table, make_split, prepare_dataset
from crispml.spec import spec_from_dict


def _audit(frame):
    spec = spec_from_dict(
        {
            "name": "r",
            "data": {"source": "t.csv"},
            "problem": {"task": "ranking", "target": "rel", "group_column": "qid"},
        },
        source="test",
    ).resolved()
    ds = prepare_dataset(load_table(frame), spec)
    split = make_split(ds.frame, spec.split, target="rel")
    return audit_data(ds, split, spec)


def _table():
    rows = []
    for q in range(12):
        for c in range(5):
            rows.append({"qid": f"q{q}", "x": q + c / 10, "y": c % 3, "rel": c % 3})
    return pd.DataFrame(rows)


def test_clean_queries_get_the_overview_only():
    report = _audit(_table())
    ranking = [f for f in report.findings if f.check == "ranking"]
    assert [f.id for f in ranking] == ["ranking:queries"]
    evidence = ranking[0].evidence
    assert evidence["queries"] == 12 and evidence["rows_per_query"]["median"] == 5
    assert report.summary["task"] == "ranking" and report.blocking == []
    assert not any(f.check in {"labels", "leakage", "target"} for f in report.findings)


def test_single_candidate_single_level_and_duplicate_candidates_are_reported():
    frame = _table()
    frame.loc[frame["qid"].isin(["q0", "q1", "q2"]), "rel"] = 0  # flat queries
    frame.loc[frame["qid"] == "q3", ["x", "y"]] = [3.0, 1]  # five identical candidates
    frame = pd.concat([frame, pd.DataFrame([{"qid": "lonely", "x": 9.0, "y": 0, "rel": 1}])])
    report = _audit(frame)
    found = {f.id: f for f in report.findings if f.check == "ranking"}
    assert found["ranking:single-candidate"].evidence["examples"] == ["lonely"]
    flat = found["ranking:single-level"]
    assert flat.evidence["queries"] == 3 and flat.severity == "warning"
    dup = found["ranking:duplicate-candidates"]
    assert dup.evidence["rows"] == 5 and dup.evidence["conflicting_groups"] == 1
    assert dup.evidence["examples"] == ["q3"]
