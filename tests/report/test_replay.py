"""Replaying and reproducing a run from its folder (real engagements: slow)."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
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


def _csv_project(tmp_path, **data):
    project = tmp_path / "project"
    project.mkdir()
    frame = load_breast_cancer(as_frame=True).frame.iloc[:300]
    frame.to_csv(project / "cancer.csv", index=False)
    spec = spec_from_dict(
        {
            "name": "csv-run",
            "problem": {"task": "binary", "target": "target"},
            "data": {"source": "cancer.csv", **data},
            "search": {"time_budget_s": 30, "families": []},
            "tracking": {"enabled": False},
        }
    )
    return Project(spec, base_dir=project).run().path


@pytest.fixture
def csv_run(tmp_path):
    return _csv_project(tmp_path)


def _reproduce(run, work, **env):
    env = {
        **os.environ,
        "CRISPML_SKIP_INSTALL": "1",
        "CRISPML": str(Path(sys.executable).parent / "crispml"),
        "CRISPML_REPRODUCE_DIR": str(work),
        **env,
    }
    return subprocess.run(
        ["bash", str(run / "reproduce.sh")], env=env, capture_output=True, text=True, timeout=600
    )


def test_reproduce_script_reruns_the_engagement_from_the_raw_file(csv_run, tmp_path):
    script = (csv_run / "reproduce.sh").read_text()
    manifest = json.loads((csv_run / "manifest.json").read_text())
    raw = manifest["inputs"]["data"]["raw_sha256"]
    assert f'echo "{raw}  $DATA" | sha256sum --check --strict -' in script
    assert manifest["reproduction"]["data"]["copy"] == "data/snapshot/cancer.csv"
    assert "crispml==" not in script and "env/crispml-0.1.0-py3-none-any.whl" in script
    done = _reproduce(csv_run, tmp_path / "work")
    assert done.returncode == 0, done.stderr[-2000:]
    (new_run,) = (tmp_path / "work" / "runs").iterdir()
    original = json.loads((csv_run / "metrics.json").read_text())
    assert json.loads((new_run / "metrics.json").read_text())["test"] == original["test"]
    assert (
        not (csv_run.parent.parent / ".crispml" / "lineage.jsonl").read_text().count(new_run.name)
    )  # the re-run writes under WORK, never into the project


def test_reproduce_script_stops_when_the_data_copy_changed(csv_run, tmp_path):
    copy = csv_run / "data/snapshot/cancer.csv"
    copy.write_text(copy.read_text().replace("\n", "\r\n", 1))
    done = _reproduce(csv_run, tmp_path / "work")
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr
    assert not (tmp_path / "work" / "runs").exists()


def test_data_over_the_cap_is_read_from_the_project_and_checked(tmp_path):
    run = _csv_project(tmp_path, snapshot_max_mb=0)
    entry = json.loads((run / "manifest.json").read_text())["reproduction"]["data"]
    assert entry["copy"] is None and entry["size_bytes"] > 0
    assert not (run / "data/snapshot").exists()
    assert "over data.snapshot_max_mb = 0.0" in (run / "reproduce.sh").read_text()
    data = run.parent.parent / "cancer.csv"
    data.write_text(data.read_text().replace("\n", "\r\n", 1))
    done = _reproduce(run, tmp_path / "work")
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr
    data.unlink()
    gone = _reproduce(run, tmp_path / "work2")
    assert gone.returncode == 1
    assert "cancer.csv is in neither" in gone.stderr


def test_reproduce_in_a_fresh_venv_offline_then_verify_replay(csv_run, tmp_path):
    """reproduce.sh from a run folder copied alone: fresh venv, no index, crispml's wheel.

    The fresh venv sees this environment's packages on PYTHONPATH (nothing is downloaded;
    pip finds every pinned version installed) but crispml must come from the run's wheel.
    """
    alone = tmp_path / "elsewhere" / csv_run.name
    shutil.copytree(csv_run, alone)
    work = tmp_path / "work"
    site = sysconfig.get_paths()["purelib"]
    done = _reproduce(
        alone,
        work,
        CRISPML_SKIP_INSTALL="0",
        CRISPML_PIP_ARGS="--no-index",
        PYTHON=getattr(sys, "_base_executable", sys.executable),
        PYTHONPATH=site,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    venv_python = work / "venv" / "bin" / "python"
    where = subprocess.run(
        [str(venv_python), "-c", "import crispml; print(crispml.__file__)"],
        env={**os.environ, "PYTHONPATH": site},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(work / "venv")), where  # the wheel's crispml, not this one
    (new_run,) = (work / "runs").iterdir()
    original = json.loads((csv_run / "metrics.json").read_text())
    assert json.loads((new_run / "metrics.json").read_text())["test"] == original["test"]
    predictions = original["sources"]["predictions"]
    assert (new_run / predictions).read_bytes() == (csv_run / predictions).read_bytes()
    check = subprocess.run(
        [str(work / "venv" / "bin" / "crispml"), "verify", str(new_run), "--replay"],
        env={**os.environ, "PYTHONPATH": site},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "replayed predictions are identical" in check.stdout
