"""The audit's cost: checks sample beyond a row count, and audit.json says which did."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crispml.audit import audit_data
from crispml.audit._labels import REGRESSION_LABEL_ROWS
from tests.audit.audit_data_helpers import make_spec, prepare


def _regression_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(4)})
    frame["price"] = 3.0 * frame["x0"] - frame["x1"] + rng.normal(scale=0.2, size=n)
    frame.loc[:4, "price"] += 50.0  # entry errors the label check should rank first
    return frame


def test_regression_label_quality_runs_on_a_sample_and_says_so():
    spec = make_spec("regression", target="price", audit={"sample_rows": 3000})
    dataset, split = prepare(_regression_frame(4000), spec)
    report = audit_data(dataset, split, spec)
    labels = next(f for f in report.findings if f.id == "labels:issues")
    assert labels.evidence["rows_checked"] == REGRESSION_LABEL_ROWS
    assert labels.evidence["sampled"] is True
    assert labels.evidence["sample_of"] == len(split.train) + len(split.valid)
    rows = report.summary["rows_by_check"]
    assert rows["labels"] == {"rows": REGRESSION_LABEL_ROWS, "sampled": True}
    assert rows["inventory"] == {"rows": 4000, "sampled": False}
    assert rows["leakage"]["rows"] == 3000 and rows["leakage"]["sampled"] is True


def test_small_regression_tables_are_checked_in_full():
    spec = make_spec("regression", target="price")
    dataset, split = prepare(_regression_frame(600), spec)
    report = audit_data(dataset, split, spec)
    labels = next(f for f in report.findings if f.id == "labels:issues")
    labelled = len(split.train) + len(split.valid)
    assert labels.evidence["rows_checked"] == labelled
    assert labels.evidence["sampled"] is False
    # the planted entry errors are far from what the features predict
    planted = {int(p) for p in range(5)}
    flagged = {e["position"] for e in labels.evidence["examples"]}
    assert planted & set(split.train.tolist() + split.valid.tolist()) <= flagged
