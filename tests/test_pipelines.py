"""The DVC stage (crispml export dvc) and the CI workflow (crispml init --ci)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from crispml._pipelines import CI_FILE, DVC_RUNS, export_dvc
from crispml._utils._io import sha256_bytes
from crispml.cli._app import app
from crispml.exceptions import SpecError
from crispml.report import verify_run
from crispml.spec import load_spec, spec_to_yaml

runner = CliRunner()

SPEC = {
    "name": "tiny",
    "problem": {"task": "binary", "target": "y"},
    "data": {"source": "tiny.csv"},
    "search": {
        "time_budget_s": 30,
        "families": ["lightgbm"],
        "deterministic": True,
        "max_trials": 2,
        "validation": "holdout",
        "n_jobs": 1,
    },
    "evaluation": {"bootstrap": 50},
    "deployment": {"format": "none"},
    "tracking": {"enabled": False},
    "report": {"formats": ["html", "md"]},
}


def _project(tmp_path, **overrides):
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    frame = pd.DataFrame(
        {"x": x, "z": rng.normal(size=300), "y": np.where(x + rng.normal(size=300) > 0, "a", "b")}
    )
    frame.to_csv(tmp_path / "tiny.csv", index=False)
    spec = {**SPEC, **overrides}
    (tmp_path / "crispml.yaml").write_text(yaml.safe_dump(spec))
    return tmp_path / "crispml.yaml"


def test_the_dvc_stage_tracks_the_spec_and_the_data_and_outputs_the_run(tmp_path):
    _project(tmp_path)
    (tmp_path / "dvc.yaml").write_text(
        yaml.safe_dump({"stages": {"prepare": {"cmd": "python prep.py", "outs": ["tiny.csv"]}}})
    )
    stage = export_dvc(tmp_path)
    written = yaml.safe_load((tmp_path / "dvc.yaml").read_text())
    assert written["stages"]["prepare"]["cmd"] == "python prep.py"  # the client's stage kept
    ours = written["stages"]["crispml"]
    assert ours == stage.stage
    assert ours["cmd"] == f"crispml run crispml.yaml --runs-dir {DVC_RUNS}"
    assert ours["deps"] == ["crispml.yaml", "tiny.csv"]
    assert ours["outs"] == [DVC_RUNS]
    assert stage.notes == []


def test_the_dvc_stage_notes_a_search_bounded_by_time(tmp_path):
    _project(tmp_path, search={"time_budget_s": 30})
    stage = export_dvc(tmp_path / "crispml.yaml")
    assert any("search.deterministic" in n for n in stage.notes)


def _fake_run(project, spec_text, spec_sha):
    run = project / "runs" / "20260101-000000-abcdef"
    run.mkdir(parents=True)
    (run / "spec.yaml").write_text(spec_text)
    (run / "manifest.json").write_text(json.dumps({"spec_sha256": spec_sha}))
    return run


def test_from_a_run_folder_the_project_spec_that_made_it_is_found(tmp_path):
    spec_path = _project(tmp_path)
    resolved = spec_to_yaml(load_spec(spec_path).resolved())
    run = _fake_run(tmp_path, resolved, sha256_bytes(resolved.encode()))
    stage = export_dvc(run)
    assert stage.path == (tmp_path / "dvc.yaml").resolve()
    assert stage.stage["deps"][0] == "crispml.yaml"


def test_from_a_run_whose_spec_changed_since_the_run_copies_its_spec(tmp_path):
    spec_path = _project(tmp_path)
    old = spec_to_yaml(load_spec(spec_path).resolved()).replace("tiny", "older")
    run = _fake_run(tmp_path, old, sha256_bytes(old.encode()))
    stage = export_dvc(run)
    copied = f"crispml.{run.name}.yaml"
    assert stage.stage["deps"][0] == copied
    assert (tmp_path / copied).read_text() == old
    assert any(copied in n for n in stage.notes)


def test_export_dvc_bad_inputs_are_one_line_and_exit_2(tmp_path):
    with pytest.raises(SpecError, match="neither a run folder"):
        export_dvc(tmp_path)
    _project(tmp_path)
    (tmp_path / "dvc.yaml").write_text("stages: [not, a, mapping]\n")
    result = runner.invoke(app, ["export", "dvc", str(tmp_path)])
    assert result.exit_code == 2
    assert "dvc.yaml is not a DVC pipeline file" in result.output
    assert "Traceback" not in result.output


def test_cli_export_dvc(tmp_path):
    _project(tmp_path)
    result = runner.invoke(app, ["export", "dvc", str(tmp_path / "crispml.yaml")])
    assert result.exit_code == 0, result.output
    assert "dvc repro" in result.output
    assert (tmp_path / "dvc.yaml").is_file()


def _workflow_steps(path):
    workflow = yaml.safe_load(path.read_text())
    job = workflow["jobs"]["engagement"]
    return workflow, job, [s.get("run", "") for s in job["steps"]]


def test_init_ci_writes_a_workflow_that_reruns_deterministically_and_replays(
    tmp_path, monkeypatch
):
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "--ci", "--pip", "crispml @ ./dist/crispml.whl"])
    assert result.exit_code == 0, result.output
    workflow, job, runs = _workflow_steps(tmp_path / CI_FILE)
    assert set(workflow["on"]) == {"push", "pull_request", "workflow_dispatch"}
    assert "crispml run crispml.yaml --deterministic --runs-dir ci-runs" in "".join(runs)
    assert 'crispml verify "$run" --replay' in "".join(runs)
    assert "crispml @ ./dist/crispml.whl" in job["env"]["CRISPML_PIP_SPEC"]
    again = runner.invoke(app, ["init", "--ci"])
    assert again.exit_code == 2
    assert "already exists" in again.output


def test_init_ci_refuses_a_spec_that_cannot_run_deterministically(tmp_path, monkeypatch):
    _project(tmp_path, search={"time_budget_s": 30})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "--ci"])
    assert result.exit_code == 2
    assert "search.max_trials" in result.output
    assert not (tmp_path / CI_FILE).exists()
    result = runner.invoke(app, ["run", "crispml.yaml", "--deterministic"])
    assert result.exit_code == 2
    assert "search.max_trials" in result.output
    assert "Traceback" not in result.output


def test_init_without_data_and_without_ci_says_what_to_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 2
    assert "needs DATA" in result.output and "--target" in result.output


@pytest.mark.slow
def test_the_dvc_command_and_the_ci_steps_reproduce_and_replay(tmp_path, monkeypatch):
    """Run the stage's cmd and the workflow's run steps as DVC and CI would, in a shell."""
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    stage = export_dvc(tmp_path)
    assert runner.invoke(app, ["init", "--ci"]).exit_code == 0
    _, job, _ = _workflow_steps(tmp_path / CI_FILE)
    scripts = [
        s["run"] for s in job["steps"] if s.get("name", "").startswith(("Re-run", "Verify"))
    ]
    assert len(scripts) == 2  # the deterministic re-run, then verify --replay
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    done = subprocess.run(
        stage.stage["cmd"], shell=True, cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [run] = list((tmp_path / DVC_RUNS).iterdir())
    assert verify_run(run).ok
    # report.formats [html, md]: no Word documents, no PDF, and the record says so
    assert not list(run.glob("report/*.docx")) and not (run / "report/report.pdf").exists()
    documents = json.loads((run / "report/documents.json").read_text())["documents"]
    assert [d["format"] for d in documents] == ["html", "md"]
    for script in scripts:
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "the replayed predictions are identical" in done.stdout


def test_init_with_data_and_ci_drafts_a_deterministic_spec_and_the_workflow(tmp_path, monkeypatch):
    _project(tmp_path)
    (tmp_path / "crispml.yaml").unlink()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init", "tiny.csv", "-t", "y", "--ci"])
    assert result.exit_code == 0, result.output
    spec = load_spec(tmp_path / "crispml.yaml")
    assert spec.search.deterministic
    assert spec.search.max_trials == 20
    assert (tmp_path / CI_FILE).is_file()
