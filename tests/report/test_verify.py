import json

import pytest
from typer.testing import CliRunner

from crispml.cli._app import app
from crispml.exceptions import ReportError
from crispml.report import verify_run

runner = CliRunner()


def _flip_middle_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_fresh_run_verifies(run_project):
    result = verify_run(run_project)
    assert result.ok
    assert result.checked == len(
        json.loads((run_project / "manifest.json").read_text())["artifacts"]
    )
    assert result.checked >= 14


def test_one_changed_byte_in_any_file_is_caught(run_copy):
    files = sorted(p for p in run_copy.rglob("*") if p.is_file())
    assert len(files) >= 15
    for path in files:
        original = path.read_bytes()
        _flip_middle_byte(path)
        result = verify_run(run_copy)
        rel = path.relative_to(run_copy).as_posix()
        assert not result.ok, rel
        assert rel in result.differing, (rel, result)
        path.write_bytes(original)
    assert verify_run(run_copy).ok


def test_an_edited_manifest_value_is_caught_by_its_seal(run_copy):
    manifest = json.loads((run_copy / "manifest.json").read_text())
    manifest["seed"] = manifest["seed"] + 1
    (run_copy / "manifest.json").write_text(json.dumps(manifest))
    assert verify_run(run_copy).differing == ["manifest.json"]


def test_missing_and_extra_files_are_listed(run_copy):
    (run_copy / "data/schema.json").unlink()
    (run_copy / "notes.txt").write_text("added later")
    result = verify_run(run_copy)
    assert result.missing == ["data/schema.json"]
    assert result.extra == ["notes.txt"]
    assert result.differing == []


def test_verify_needs_a_manifest(tmp_path):
    with pytest.raises(ReportError, match=r"has no manifest\.json"):
        verify_run(tmp_path)


def test_cli_verify_exit_codes(run_copy, tmp_path):
    ok = runner.invoke(app, ["verify", str(run_copy)])
    assert ok.exit_code == 0, ok.output
    assert "artifacts match manifest.json" in ok.output
    _flip_middle_byte(run_copy / "model/pipeline.skops")
    bad = runner.invoke(app, ["verify", str(run_copy)])
    assert bad.exit_code == 1
    assert "differs: model/pipeline.skops" in bad.output
    missing = runner.invoke(app, ["verify", str(tmp_path)])
    assert missing.exit_code == 2
    assert "Traceback" not in missing.output


def test_cli_report_rebuilds_and_the_run_still_verifies(run_copy):
    (run_copy / "report/report.html").unlink()
    (run_copy / "reproduce.sh").write_text("tampered")
    result = runner.invoke(app, ["report", str(run_copy)])
    assert result.exit_code == 0, result.output
    assert (run_copy / "report/report.html").is_file()
    assert "crispml engagement" in (run_copy / "reproduce.sh").read_text()
    assert verify_run(run_copy).ok
    rebuild = json.loads((run_copy / "manifest.json").read_text())["report_rebuilds"][-1]
    # rebuilt from the same files, the documents are byte-identical to the sealed ones
    assert rebuild["changed"] == []


def test_cli_report_on_a_folder_that_is_not_a_run(tmp_path):
    result = runner.invoke(app, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
