"""A table with dates through the whole engagement: time split with a gap, date features."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from crispml import Project
from crispml.serve import ContractViolation, ServingModel
from crispml.spec import spec_from_dict

from .test_dates import elapsed_frame


@pytest.mark.slow
def test_engagement_learns_from_elapsed_time_on_a_time_split(tmp_path):
    frame = elapsed_frame(600)
    spec = spec_from_dict(
        {
            "name": "dates",
            "problem": {"task": "binary", "target": "y"},
            "data": {"source": "inline"},
            "split": {"strategy": "time", "time_column": "opened", "gap_days": 7},
            "search": {"families": ["lightgbm"], "deterministic": True, "max_trials": 2},
            "evaluation": {"bootstrap": 50},
            "deployment": {"format": "none"},
            "tracking": {"enabled": False},
        },
        source="test",
    )
    run = Project(spec, base_dir=tmp_path, data=frame).run()
    split = json.loads((run.path / "data/split.json").read_text())
    assert split["sizes"]["embargoed"] > 0 and split["sizes"]["test"] == 120
    assert json.loads((run.path / "search/folds.json").read_text())["mode"] == "holdout"
    importance = json.loads((run.path / "evaluation/importance.json").read_text())
    top = max(importance["importance"], key=lambda r: r["importance"])
    assert top["column"] in ("opened", "closed")  # pairs count for the later column
    assert run.evaluation.test["roc_auc"].estimate > 0.85  # measured: 0.95
    assert list(run.predict(frame.drop(columns="y").head(3))) == ["no", "yes", "yes"]


@pytest.mark.slow
def test_date_model_is_served_from_iso_strings(tmp_path):
    frame = elapsed_frame(400)
    spec = spec_from_dict(
        {
            "name": "dates-onnx",
            "problem": {"task": "binary", "target": "y"},
            "data": {"source": "inline"},
            "search": {"families": ["lightgbm"], "deterministic": True, "max_trials": 1},
            "evaluation": {"bootstrap": 20},
            "tracking": {"enabled": False},
        },
        source="test",
    )
    project = Project(spec, base_dir=tmp_path, data=frame)
    run = project.run()
    parity = json.loads((run.path / "deploy/parity.json").read_text())
    assert parity["passed"] and parity["n_test_rows"] == 80  # raw ISO strings, served path
    contract = json.loads((run.path / "model/contract.json").read_text())
    kinds = {c["name"]: c["type"] for c in contract["columns"]}
    assert kinds == {"opened": "datetime", "closed": "datetime", "noise": "number"}

    served = ServingModel.from_bundle(run.path)
    opened = pd.Timestamp("2021-03-01T09:00:00")
    long_gap = {"opened": "2021-03-01T09:00:00", "closed": "2021-04-20", "noise": 0.0}
    as_epoch = {**long_gap, "opened": (opened - pd.Timestamp(0)).total_seconds()}
    short_gap = {**long_gap, "closed": "2021-03-03T09:00:00+00:00"}
    rows = served.predict([long_gap, as_epoch, short_gap])
    assert [r["prediction"] for r in rows] == ["yes", "yes", "no"]
    assert rows[0]["probability"] == pytest.approx(rows[1]["probability"])
    with pytest.raises(ContractViolation, match="expected an ISO 8601 date"):
        served.predict([{**long_gap, "closed": "next tuesday"}])
