"""Bad files and bad specs through ``crispml run``: one clear line and exit 2, or a run
with a documented warning; never a traceback, never a half-written run folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crispml.cli import app
from crispml.report import verify_run
from tests.badinputs._files import BAD_FILES, BAD_SPECS

CASES = {**BAD_FILES, **BAD_SPECS}
runner = CliRunner()


def _folders(project: Path) -> list[Path]:
    runs = project / "runs"
    return sorted(p for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []


def _check_clean(result) -> None:
    """No traceback: the command ended through its own exit, not an exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output and "Traceback" not in result.stderr


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_ends_cleanly(name, tmp_path):
    build, (outcome, text) = CASES[name]
    spec = build(tmp_path)
    result = runner.invoke(app, ["run", str(spec)])
    _check_clean(result)
    folders = _folders(tmp_path)
    if outcome == "error":
        assert result.exit_code == 2, result.output + result.stderr
        line = result.stderr.strip()
        assert line.startswith("error:") and "\n" not in line, line
        assert text in line
        assert folders == [], "a failed run left a folder behind"
        return
    assert result.exit_code == 0, result.output + result.stderr
    (folder,) = folders
    assert verify_run(folder).ok
    audit = (folder / "audit/audit.json").read_text(encoding="utf-8")
    found = {f["id"] for f in json.loads(audit)["findings"]}
    assert not text or any(text in f for f in found) or text in result.output, found
