from __future__ import annotations

import json

import pandas as pd
import pytest

from crispml import Project
from crispml.spec import spec_from_dict

from .conftest import make_frame


def _spec(**search):
    return spec_from_dict(
        {
            "name": "search-phase",
            "problem": {"task": "binary", "target": "y"},
            "data": {"source": "inline"},
            "search": {"families": ["elastic_net", "lightgbm"], **search},
            "tracking": {"enabled": False},
        },
        source="test",
    )


@pytest.mark.slow
def test_run_writes_trials_budget_and_resumes_the_study(tmp_path):
    frame = make_frame(300)
    spec = _spec(deterministic=True, max_trials=3)
    run = Project(spec, base_dir=tmp_path, data=frame).run()
    trials = pd.read_csv(run.path / "search/trials.csv")
    assert {"name", "family", "status", "valid_roc_auc", "params"} <= set(trials.columns)
    assert trials["selected"].sum() == 1
    budget = json.loads((run.path / "search/budget.json").read_text())
    assert budget["deterministic"] is True and budget["study"].startswith("sqlite:///")
    assert (tmp_path / ".crispml/optuna.db").is_file()
    assert run.predict(frame.drop(columns="y").head(3)).shape == (3,)

    resumed = Project(spec, base_dir=tmp_path, data=frame).run(resume=True)
    again = pd.read_csv(resumed.path / "search/trials.csv")
    restored = again[again["info"].str.contains('"restored": true')]
    assert len(restored) == 3  # nothing re-ran: the three trials came from the study


def test_deterministic_spec_needs_max_trials():
    with pytest.raises(Exception, match="max_trials"):
        _spec(deterministic=True)
