"""`crispml audit` through the CLI: bad input is one line and exit 2; findings exit 0 or 3."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from crispml.cli import _app, app
from tests.audit.audit_data_helpers import clean_frame

runner = CliRunner()


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    """Keep finding ids on one line of the table whatever the terminal width."""
    monkeypatch.setattr(_app.console, "width", 250)


def _project(tmp_path, content, *, target="y", name="data.csv", **sections):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        content.to_csv(path, index=False)
    spec = {
        "name": "cli-audit",
        "problem": {"task": "binary", "target": target},
        "data": {"source": name},
        "tracking": {"enabled": False},
        **sections,
    }
    spec_path = tmp_path / "crispml.yaml"
    spec_path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return spec_path


def _audit(spec_path, *args):
    return runner.invoke(app, ["audit", str(spec_path), *args])


BAD_INPUTS = {
    "empty file": (b"", "y", "the file is empty"),
    "header only": ("a,b,y\n", "y", "header but no data rows"),
    "one column": ("y\nyes\nno\n", "y", "only one column"),
    "non-UTF-8": ("a,b,y\n1,caf\xe9,yes\n2,x,no\n".encode("latin-1"), "y", "not UTF-8"),
    "wrong delimiter": ("a;b;y\n1;2;yes\n3;4;no\n", "y", "only one column"),
    "duplicate columns": ("a,a,y\n1,2,yes\n3,4,no\n", "y", "duplicate column names"),
    "missing target": ("a,b,y\n1,2,yes\n3,4,no\n", "label", "not a column of the data"),
    "single class": ("a,b,y\n1,2,yes\n3,4,yes\n5,6,yes\n", "y", "single class"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(tmp_path, case):
    content, target, expected = BAD_INPUTS[case]
    result = _audit(_project(tmp_path, content, target=target))
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert message.startswith("error:")
    assert expected in message
    assert "Traceback" not in result.output + result.stderr
    assert len(message.splitlines()) <= 2  # one sentence; rich may wrap a long path


def test_missing_spec_file_is_exit_2(tmp_path):
    result = _audit(tmp_path / "nope.yaml")
    assert result.exit_code == 2
    assert "nope.yaml" in result.stderr


@pytest.mark.slow
def test_findings_print_exit_0_and_write_nothing_unless_asked(tmp_path):
    frame = clean_frame(n=1200)
    frame.loc[:4, "x5"] = np.inf
    frame["empty"] = np.nan
    spec_path = _project(tmp_path, frame, audit={"sample_rows": 600})
    result = _audit(spec_path)
    assert result.exit_code == 0, result.output + result.stderr
    assert "infinite:x5" in result.output
    assert "all-missing:empty" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crispml.yaml", "data.csv"]
    out = tmp_path / "audit.json"
    result = _audit(spec_path, "-o", str(out))
    assert result.exit_code == 0
    payload = json.loads(out.read_text())
    assert payload["schema_version"] == 1
    assert "infinite:x5" in {f["id"] for f in payload["findings"]}


@pytest.mark.slow
def test_ten_thousand_level_categorical_is_a_finding(tmp_path):
    frame = clean_frame(n=12_000)
    frame["account"] = [f"acct-{i % 10_000}" for i in range(12_000)]
    result = _audit(_project(tmp_path, frame, audit={"sample_rows": 2000}))
    assert result.exit_code == 0, result.output + result.stderr
    assert "high-cardinality:account" in result.output
    assert "10,000 levels" in result.output


@pytest.mark.slow
def test_blocking_finding_exits_3_until_accepted(tmp_path):
    frame = clean_frame(n=1000).assign(leak=lambda f: (f["y"] == "yes").astype(int) * 2)
    result = _audit(_project(tmp_path, frame, audit={"sample_rows": 600}))
    assert result.exit_code == 3
    assert "leakage:leak" in result.output
    assert "accept: ['leakage:leak']" in result.output
    accepted = _project(tmp_path, frame, audit={"sample_rows": 600, "accept": ["leakage:leak"]})
    result = _audit(accepted)
    assert result.exit_code == 0
    assert "blocking (accepted)" in result.output
