"""Replaying and reproducing a run from its folder (real engagements: slow)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer
from typer.testing import CliRunner

from crispml import Project
from crispml._replay import replay_run
from crispml.cli._app import app
from crispml.spec import spec_from_dict

pytestmark = pytest.mark.slow


def test_replay_gives_identical_test_predictions(run_copy, tmp_path):
    replay = replay_run(run_copy, workdir=tmp_path / "replays")
    split = json.loads((run_copy / "data/split.json").read_text())
    assert replay.n_rows == len(split["test"]) > 0
    assert replay.data_matches
    assert replay.identical
    assert replay.max_abs_diff == 0.0
    assert replay.replay_path.parent == tmp_path / "replays"
    replayed = json.loads((replay.replay_path / "metrics.json").read_text())
    original = json.loads((run_copy / "metrics.json").read_text())
    assert replayed["test"] == original["test"]


def test_cli_verify_replay(run_copy):
    result = CliRunner().invoke(app, ["verify", str(run_copy), "--replay"])
    assert result.exit_code == 0, result.output
    assert "replayed predictions are identical" in result.output


@pytest.fixture
def csv_run(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    frame = load_breast_cancer(as_frame=True).frame.iloc[:300]
    frame.to_csv(project / "cancer.csv", index=False)
    spec = spec_from_dict(
        {
            "name": "csv-run",
            "problem": {"task": "binary", "target": "target"},
            "data": {"source": "cancer.csv"},
            "search": {"time_budget_s": 30, "families": []},
            "tracking": {"enabled": False},
        }
    )
    return Project(spec, base_dir=project).run().path


def _reproduce(run, work):
    env = {
        **os.environ,
        "CRISPML_SKIP_INSTALL": "1",
        "CRISPML": str(Path(sys.executable).parent / "crispml"),
        "CRISPML_REPRODUCE_DIR": str(work),
    }
    return subprocess.run(
        ["bash", str(run / "reproduce.sh")], env=env, capture_output=True, text=True, timeout=300
    )


def test_reproduce_script_reruns_the_engagement_from_the_raw_file(csv_run, tmp_path):
    script = (csv_run / "reproduce.sh").read_text()
    raw = json.loads((csv_run / "manifest.json").read_text())["inputs"]["data"]["raw_sha256"]
    assert f'echo "{raw}  $PROJECT_DIR/cancer.csv" | sha256sum --check --strict -' in script
    assert "scikit-learn==" in script and "crispml==0.1.0" in script
    done = _reproduce(csv_run, tmp_path / "work")
    assert done.returncode == 0, done.stderr[-2000:]
    (new_run,) = (tmp_path / "work" / "runs").iterdir()
    original = json.loads((csv_run / "metrics.json").read_text())
    assert json.loads((new_run / "metrics.json").read_text())["test"] == original["test"]
    assert not list(csv_run.parent.parent.glob(".reproduce-*.yaml"))  # the spec copy is removed


def test_reproduce_script_stops_when_the_raw_data_changed(csv_run, tmp_path):
    data = csv_run.parent.parent / "cancer.csv"
    data.write_text(data.read_text().replace("\n", "\r\n", 1))
    done = _reproduce(csv_run, tmp_path / "work")
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr
    assert not (tmp_path / "work" / "runs").exists()
