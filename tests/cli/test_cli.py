"""End to end through the command line: run folder, manifest, split, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from crispml._utils._io import sha256_file
from crispml.cli import app
from tests.conftest import binary_spec, make_binary, make_regression, write_project

runner = CliRunner()
EXPECTED = {
    "manifest.json",
    "signature.json",
    "public_key.pem",
    "env/lock.json",
    "env/requirements.txt",
    "spec.yaml",
    "metrics.json",
    "leaderboard.csv",
    "search/leaderboard.csv",
    "search/candidates.json",
    "data/schema.json",
    "data/split.json",
    "model/pipeline.skops",
    "model/schema.json",
}


def _run_folder(spec_path: Path) -> Path:
    runs = [p for p in (spec_path.parent / "runs").iterdir() if not p.name.startswith(".")]
    assert len(runs) == 1
    return runs[0]


@pytest.mark.slow
@pytest.mark.integration
def test_run_writes_a_complete_hashed_folder(tmp_path):
    tmp_project = write_project(tmp_path, make_binary(), binary_spec(tracking={"enabled": True}))
    result = subprocess.run(
        [sys.executable, "-m", "crispml", "run", str(tmp_project)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    folder = _run_folder(tmp_project)
    assert "Leaderboard" in result.stdout and str(folder.name) in result.stdout
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert files >= EXPECTED
    manifest = json.loads((folder / "manifest.json").read_text())
    signed = {"manifest.json", "signature.json", "public_key.pem"}  # written after hashing
    assert set(manifest["artifacts"]) == files - signed
    for rel, digest in manifest["artifacts"].items():
        assert sha256_file(folder / rel) == digest, rel
    assert manifest["inputs"]["data"]["raw_sha256"] == sha256_file(tmp_project.parent / "data.csv")
    assert manifest["command"][:2] == ["crispml", "run"]
    metrics = json.loads((folder / "metrics.json").read_text())
    board = pd.read_csv(folder / "leaderboard.csv")
    assert {"dummy", "linear", "tree", "lightgbm"} <= set(board["model"])
    assert set(board["family"]) <= {"dummy", "linear", "tree", "lightgbm", "ensemble"}
    assert board.loc[board["selected"], "test_roc_auc"].item() == pytest.approx(
        metrics["test"]["roc_auc"]
    )
    assert metrics["test"]["roc_auc"] > 0.7
    scored = board[board["test_roc_auc"].notna()]
    assert {"dummy", "linear", "tree"} <= set(scored["model"]) and scored["selected"].any()
    for column in ("test_roc_auc", "test_log_loss", "test_accuracy", "test_f1", "test_brier"):
        assert scored[column].notna().all()
    _check_mlflow(tmp_path, manifest, metrics)


def _check_mlflow(project: Path, manifest: dict, metrics: dict) -> None:
    import mlflow

    tracking = manifest["tracking"]
    assert tracking["uri"] == f"sqlite:///{(project / '.crispml' / 'mlflow.db').resolve()}"
    client = mlflow.MlflowClient(tracking_uri=tracking["uri"])
    run = client.get_run(tracking["mlflow_run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.metrics["test_roc_auc"] == pytest.approx(metrics["test"]["roc_auc"])
    assert run.data.params["spec.problem.target"] == "y"
    logged = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"metrics.json", "model", "spec.yaml"} <= logged


@pytest.mark.slow
def test_same_seed_gives_the_same_test_split(tmp_path):
    frame = make_binary(seed=5)
    folders = []
    quick = {"deployment": {"format": "none"}, "evaluation": {"bootstrap": 100}}
    for name in ("one", "two"):
        spec = write_project(tmp_path / name, frame, binary_spec(**quick))
        assert runner.invoke(app, ["run", str(spec)]).exit_code == 0
        folders.append(_run_folder(spec))
    splits = [json.loads((f / "data/split.json").read_text()) for f in folders]
    assert (
        splits[0]["test_ids"] == splits[1]["test_ids"]
        and splits[0]["sha256"] == splits[1]["sha256"]
    )
    manifests = [json.loads((f / "manifest.json").read_text()) for f in folders]
    assert manifests[0]["inputs"]["split_sha256"] == manifests[1]["inputs"]["split_sha256"]
    other = write_project(tmp_path / "three", frame, binary_spec(split={"seed": 1}, **quick))
    assert runner.invoke(app, ["run", str(other)]).exit_code == 0
    assert (
        json.loads((_run_folder(other) / "data/split.json").read_text())["sha256"]
        != splits[0]["sha256"]
    )


def test_broken_csv_exits_2_with_one_line(tmp_path):
    spec = write_project(tmp_path, make_binary(), binary_spec())
    (tmp_path / "data.csv").write_bytes(b"x1,y\n\xff\xfe\x00,1\n")
    result = runner.invoke(app, ["run", str(spec)])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "data.csv: not UTF-8" in result.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_unknown_task_exits_2_with_one_line(tmp_path):
    spec = write_project(
        tmp_path, make_binary(), binary_spec(problem={"task": "clustering", "target": "y"})
    )
    result = runner.invoke(app, ["run", str(spec)])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and "problem.task = 'clustering'" in line and "'binary'" in line


def test_wrong_column_in_spec_exits_2(tmp_path):
    spec = write_project(tmp_path, make_binary(), binary_spec(fairness={"protected": ["gender"]}))
    result = runner.invoke(app, ["run", str(spec)])
    assert result.exit_code == 2 and "fairness.protected names 'gender'" in result.stderr


def test_failure_mid_run_leaves_no_folder(tmp_project, monkeypatch):
    import crispml._engagement as engagement

    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engagement, "evaluate_engagement", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        engagement.Project.from_yaml(tmp_project).run()
    assert list((tmp_project.parent / "runs").iterdir()) == []


def test_init_infers_the_task_and_writes_a_valid_spec(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_regression().to_csv("homes.csv", index=False)
    result = runner.invoke(app, ["init", "homes.csv", "--target", "price"])
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load(Path("crispml.yaml").read_text())
    assert spec["problem"]["task"] == "regression" and spec["problem"]["metric"] == "rmse"
    assert spec["data"]["source"] == "homes.csv" and spec["name"] == "homes"
    assert "# " in Path("crispml.yaml").read_text()  # commented for the user
    again = runner.invoke(app, ["init", "homes.csv", "--target", "price"])
    assert again.exit_code == 2 and "already exists" in again.stderr
    missing = runner.invoke(app, ["init", "homes.csv", "--target", "cost", "-o", "other.yaml"])
    assert missing.exit_code == 2 and "problem.target = 'cost' is not a column" in missing.stderr


def test_init_binary_guesses_positive_and_protected(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = make_binary()
    frame["sex"] = ["f", "m"] * (len(frame) // 2)
    frame.to_csv("loans.csv", index=False)
    assert runner.invoke(app, ["init", "loans.csv", "-t", "y"]).exit_code == 0
    spec = yaml.safe_load(Path("crispml.yaml").read_text())
    assert spec["problem"]["positive_label"] == "yes"
    assert spec["problem"]["favourable_label"] == "no"
    assert spec["fairness"]["protected"] == ["sex"]
    assert spec["fairness"]["criteria"] == {"adverse_impact_ratio": ">= 0.8"}


def test_schema_prints_json_schema():
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert {
        "name",
        "problem",
        "data",
        "split",
        "fairness",
        "search",
        "deployment",
        "tracking",
    } <= set(schema["properties"])


def test_help_everywhere():
    for command in ([], ["init"], ["run"], ["demo"], ["schema"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output


def test_a_search_with_no_fitted_model_exits_2_with_one_line(tmp_path):
    from crispml.models import ModelFamily, register
    from crispml.models._base import _REGISTRY

    @register("always_fails")
    class Failing(ModelFamily):
        def build(self, params, *, task, seed, n_jobs=None):
            raise MemoryError("out of memory in build")

    search = {"families": ["always_fails"], "baselines": False, "deterministic": True,
              "max_trials": 1, "ensemble": False}  # fmt: skip
    spec = write_project(tmp_path, make_binary(), binary_spec(search=search))
    try:
        result = runner.invoke(app, ["run", str(spec)])
    finally:
        _REGISTRY.pop("always_fails")
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert "\n" not in line and "search: no model could be fitted" in line
    assert "search.time_budget_s" in line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_unreachable_ray_cluster_exits_2_before_any_work(tmp_path):
    pytest.importorskip("ray")
    search = {"backend": "ray", "ray_address": "ray://127.0.0.1:1"}
    spec = write_project(tmp_path, make_binary(), binary_spec(search=search))
    result = runner.invoke(app, ["run", str(spec)])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert "\n" not in line and "search.ray_address = 'ray://127.0.0.1:1'" in line
    assert "ray start --head" in line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
