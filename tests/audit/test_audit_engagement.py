"""The audit as the engagement's step: audit.json in the run, a stop on blocking findings."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crispml import Project
from crispml.cli import app
from crispml.exceptions import AuditBlockedError
from crispml.spec import save_spec, spec_from_dict
from tests.audit.audit_data_helpers import clean_frame

pytestmark = pytest.mark.slow  # real (tiny) engagements


def _spec(**audit):
    return spec_from_dict(
        {
            "name": "audit-engagement",
            "problem": {"task": "binary", "target": "y", "positive_label": "yes"},
            "data": {"source": "data.csv"},
            "search": {"time_budget_s": 5, "families": []},
            "tracking": {"enabled": False},
            "audit": {"sample_rows": 600, **audit},
        }
    )


def _leaky():
    return clean_frame(n=800).assign(leak=lambda f: (f["y"] == "yes").astype(float))


def test_blocking_finding_stops_the_run_and_leaves_no_run_folder(tmp_path):
    project = Project(_spec(), base_dir=tmp_path, data=_leaky())
    with pytest.raises(AuditBlockedError, match="leakage:leak"):
        project.run()
    runs = tmp_path / "runs"
    assert not runs.exists() or [p.name for p in runs.iterdir()] == []


def test_accepted_finding_is_recorded_in_the_run_folder(tmp_path):
    project = Project(_spec(accept=["leakage:leak"]), base_dir=tmp_path, data=_leaky())
    run = project.run()
    audit = json.loads((run.path / "audit/audit.json").read_text())
    leak = next(f for f in audit["findings"] if f["id"] == "leakage:leak")
    assert leak["accepted"] is True
    manifest = json.loads((run.path / "manifest.json").read_text())
    assert "audit/audit.json" in json.dumps(manifest)


def test_crispml_run_reports_the_block_in_one_line(tmp_path):
    _leaky().to_csv(tmp_path / "data.csv", index=False)
    save_spec(_spec(), tmp_path / "crispml.yaml")
    result = CliRunner().invoke(app, ["run", str(tmp_path / "crispml.yaml")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output + result.stderr
    assert "leakage:leak" in result.stderr
    assert "audit: {accept: ['leakage:leak']}" in result.stderr.replace("\n", " ")
