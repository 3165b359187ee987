"""``crispml init`` infers anomaly detection from an absent target, or is told it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from typer.testing import CliRunner

from crispml.cli import app
from crispml.spec import load_spec

runner = CliRunner()


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    flag = np.where(rng.random(200) < 0.05, "yes", "no")
    return pd.DataFrame({"amount": rng.normal(size=200), "shop": ["a", "b"] * 100, "flag": flag})


def test_init_without_target_drafts_an_unlabelled_anomaly_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _table().to_csv("tx.csv", index=False)
    result = runner.invoke(app, ["init", "tx.csv"])
    assert result.exit_code == 0, result.output
    assert "task: anomaly" in result.stdout
    raw = yaml.safe_load(Path("crispml.yaml").read_text())
    assert raw["problem"]["task"] == "anomaly" and "target" not in raw["problem"]
    spec = load_spec("crispml.yaml").resolved()
    assert spec.split.strategy == "random"
    assert spec.problem.success_criteria == {"rank_stability": ">= 0.8"}


def test_init_task_anomaly_with_a_target_marks_known_anomalies(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _table().to_csv("tx.csv", index=False)
    result = runner.invoke(app, ["init", "tx.csv", "-t", "flag", "--task", "anomaly"])
    assert result.exit_code == 0, result.output
    spec = load_spec("crispml.yaml")
    assert spec.problem.task == "anomaly" and spec.problem.target == "flag"
    assert spec.problem.positive_label == "yes"
    assert spec.problem.metric == "average_precision"


def test_init_refuses_other_forced_tasks_and_unknown_targets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _table().to_csv("tx.csv", index=False)
    forced = runner.invoke(app, ["init", "tx.csv", "-t", "flag", "--task", "regression"])
    assert forced.exit_code == 2 and "only 'anomaly' or 'ranking' can be forced" in forced.stderr
    missing = runner.invoke(app, ["init", "tx.csv", "-t", "nope", "--task", "anomaly"])
    assert missing.exit_code == 2 and "problem.target = 'nope' is not a column" in missing.stderr
    assert not Path("crispml.yaml").exists()


def test_run_refuses_a_family_that_is_not_a_detector(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _table().drop(columns="flag").to_csv("tx.csv", index=False)
    assert runner.invoke(app, ["init", "tx.csv"]).exit_code == 0
    raw = yaml.safe_load(Path("crispml.yaml").read_text())
    raw["search"]["families"] = ["lightgbm"]
    raw["tracking"] = {"enabled": False}
    Path("crispml.yaml").write_text(yaml.safe_dump(raw))
    result = runner.invoke(app, ["run", "crispml.yaml"])
    assert result.exit_code == 2, result.output
    assert "no anomaly detector 'lightgbm'" in result.stderr
    assert "isolation_forest" in result.stderr and "Traceback" not in result.output
    assert not any((tmp_path / "runs").glob("*"))  # nothing half-written
