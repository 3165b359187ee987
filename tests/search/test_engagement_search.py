from __future__ import annotations

import json

import pandas as pd
import pytest

from crispml import Project
from crispml.spec import spec_from_dict

from .conftest import make_frame


def _spec(**search):  # families may be overridden
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
    budget = json.loads((run.path / "budget.json").read_text())
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


def test_cli_run_accepts_resume():
    from typer.testing import CliRunner

    from crispml.cli._app import app

    result = CliRunner().invoke(app, ["run", "--help"])
    assert result.exit_code == 0 and "--resume" in result.output


@pytest.mark.integration
def test_top_k_trials_become_mlflow_child_runs(tmp_path, binary_data):
    from crispml._runfolder import RunFolder
    from crispml.search import record_search, search_models
    from crispml.tracking import EngagementTracker, default_tracking_uri

    schema, Xt, yt, Xv, yv = binary_data
    result = search_models(
        Xt, yt, Xv, yv, schema=schema, task="binary", metric="roc_auc",
        families=("elastic_net",), deterministic=True, max_trials=4, ensemble=False,
    )  # fmt: skip
    tracker = EngagementTracker(default_tracking_uri(tmp_path), "children")
    parent = tracker.start("parent")
    folder = RunFolder(tmp_path / "runs", "r1")
    record_search(result, folder, tracker=tracker, top_k=2)
    children = tracker._client.search_runs(
        [tracker.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent}'"
    )
    assert len(children) == 2
    assert all("valid_roc_auc" in run.data.metrics for run in children)
    assert (folder.path("search/trials.csv")).is_file()


@pytest.mark.integration
def test_tracked_run_logs_the_selected_ensemble_and_its_children(tmp_path):
    import mlflow

    frame = make_frame(300)
    spec = _spec(deterministic=True, max_trials=6, families=["elastic_net", "lightgbm"])
    spec = spec.model_copy(update={"tracking": spec.tracking.model_copy(update={"enabled": True})})
    run = Project(spec, base_dir=tmp_path, data=frame).run()
    manifest = json.loads((run.path / "manifest.json").read_text())
    client = mlflow.MlflowClient(manifest["tracking"]["uri"])
    parent = manifest["tracking"]["mlflow_run_id"]
    children = client.search_runs(
        [client.get_run(parent).info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent}'",
    )
    assert 1 <= len(children) <= 5
    assert (
        client.get_run(parent).data.params["model.family"]
        == run.leaderboard.loc[run.leaderboard["selected"], "family"].iloc[0]
    )
