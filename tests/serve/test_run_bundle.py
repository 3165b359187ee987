"""The deployment phase inside a run (its bundle), and the predict / serve commands."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from crispml import Project, Run
from crispml.cli import app
from crispml.spec import spec_from_dict

runner = CliRunner()


def test_run_folder_holds_onnx_certificate_latency_and_bundle(run_dir):
    for rel in (
        "model/model.onnx",
        "model/contract.json",
        "deploy/parity.json",
        "deploy/latency.json",
        "deploy/Dockerfile",
        "deploy/requirements.txt",
        "deploy/start.sh",
    ):
        assert (run_dir / rel).is_file(), rel
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert "model/model.onnx" in manifest["artifacts"]
    parity = json.loads((run_dir / "deploy/parity.json").read_text())
    assert parity["passed"] and parity["max_abs_prob_diff"] <= 1e-4
    assert parity["n_edge_cases"] > 0 and "missing" in parity["edge_cases"]
    latency = json.loads((run_dir / "deploy/latency.json").read_text())
    for mode in ("in_process", "http"):
        for size in ("single_row", "batch_1000"):
            stats = latency[mode][size]
            assert 0 < stats["p50_ms"] <= stats["p95_ms"] <= stats["p99_ms"]
    assert latency["sla_ms"]["p99"] == 50.0 and isinstance(latency["meets_sla"], bool)
    requirements = (run_dir / "deploy/requirements.txt").read_text().split()
    names = sorted(line.split("==")[0] for line in requirements)
    required = ["fastapi", "numpy", "onnxruntime", "pydantic", "swagger-ui-bundle-v2", "uvicorn"]
    assert set(required) <= set(names) <= {*required, "httptools", "uvloop"}
    assert all("==" in line for line in requirements)
    docker = (run_dir / "deploy/Dockerfile").read_text()
    assert "FROM python:3.11-slim" in docker and "USER crispml" in docker
    assert "pandas" not in docker and "scikit" not in docker


def test_format_none_skips_the_deployment_phase(tmp_path, loans):
    spec = spec_from_dict(
        {
            "name": "plain",
            "problem": {"task": "binary", "target": "deny"},
            "data": {"source": "x.csv"},
            "search": {"time_budget_s": 5, "families": []},
            "deployment": {"format": "none"},
            "tracking": {"enabled": False},
        },
        source="test",
    )
    run = Project(spec, base_dir=tmp_path, data=loans).run()
    assert not (run.path / "model/model.onnx").exists()
    assert not (run.path / "deploy").exists()


def test_predict_command_goes_through_onnx(run_dir, loans, tmp_path):
    source = tmp_path / "in.csv"
    loans.drop(columns="deny").head(40).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["predict", str(run_dir), str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    native = Run(run_dir).predict_output(loans.head(40))[:, 1]
    assert (scored["probability"] - native).abs().max() < 1e-4
    assert set(scored["prediction"]) <= {"yes", "no"}
    threshold = json.loads((run_dir / "model/contract.json").read_text())["threshold"]
    contract = json.loads((run_dir / "model/schema.json").read_text())
    assert threshold == pytest.approx(contract["decision_threshold"])  # chosen on validation
    assert list(scored["decision"]) == list(scored["probability"] >= threshold)


def test_predict_command_rejects_bad_rows_and_tampered_bundles(run_dir, loans, tmp_path):
    bad = tmp_path / "bad.csv"
    loans.drop(columns="deny").head(3).assign(income="lots").to_csv(bad, index=False)
    result = runner.invoke(app, ["predict", str(run_dir), str(bad), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "record 0.income: expected a number, got 'lots'" in result.output
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "model/contract.json").write_text("{}")
    result = runner.invoke(app, ["predict", str(copy), str(bad)])
    assert result.exit_code == 2 and "refusing to serve it" in result.output


@pytest.mark.parametrize("command", ["serve", "predict"])
def test_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output
