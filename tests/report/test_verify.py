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
        if rel in ("signature.json", "public_key.pem"):  # written after the manifest
            assert not result.signature.valid and result.differing == [], (rel, result)
        else:
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


# --- the signed manifest ------------------------------------------------------------------


def _reseal_after_edit(run):
    """What a forger does: edit metrics.json, re-hash and re-seal with crispml's own code."""
    from crispml._runfolder import hash_tree, seal_manifest

    metrics = run / "metrics.json"
    record = json.loads(metrics.read_text())
    record["verdict"] = "ok" if record["verdict"] != "ok" else "go"
    metrics.write_text(json.dumps(record))
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["artifacts"] = hash_tree(run)
    (run / "manifest.json").write_text(json.dumps(seal_manifest(manifest)))


def test_a_fresh_run_is_signed_and_the_card_names_the_key(run_project):
    result = verify_run(run_project)
    assert result.signature.valid and not result.signature.pinned
    signed = json.loads((run_project / "signature.json").read_text())
    manifest = json.loads((run_project / "manifest.json").read_text())
    fp = manifest["signing"]["public_key_fingerprint"]
    assert signed["public_key_fingerprint"] == fp == result.signature.signer
    assert fp.startswith("sha256:") and len(fp) == 7 + 64
    card = json.loads((run_project / "report/model_card.json").read_text())
    assert card["model_details"]["signing_key_fingerprint"] == fp
    assert fp in (run_project / "report/model_card.md").read_text()
    assert "signature.json" not in manifest["artifacts"]


def test_a_manifest_resealed_after_an_edit_fails_verify(run_copy):
    _reseal_after_edit(run_copy)
    result = verify_run(run_copy)
    assert result.differing == [] and result.missing == [] and result.extra == []
    assert not result.signature.valid
    assert "re-sealed without the signing key" in result.signature.problem
    assert not result.ok
    cli = runner.invoke(app, ["verify", str(run_copy)])
    assert cli.exit_code == 1
    assert "signature:" in cli.output and "FAILED" in cli.output
    # and crispml report refuses to re-sign (it would launder the edit)
    rebuilt = runner.invoke(app, ["report", str(run_copy)])
    assert rebuilt.exit_code == 2
    assert "re-sealed without the signing key" in rebuilt.output
    assert not verify_run(run_copy).ok


def test_a_removed_signature_fails_verify(run_copy):
    (run_copy / "signature.json").unlink()
    result = verify_run(run_copy)
    assert not result.ok
    assert result.signature.problem == "manifest.json is not signed (no signature.json)"


def test_an_unreadable_signature_is_one_line_and_exit_1(run_copy):
    (run_copy / "signature.json").write_text("{not json")
    cli = runner.invoke(app, ["verify", str(run_copy)])
    assert cli.exit_code == 1
    assert "signature: the signature cannot be read" in cli.output
    assert "Traceback" not in cli.output


def test_cli_report_resigns_so_verify_passes(run_copy):
    before = json.loads((run_copy / "signature.json").read_text())
    (run_copy / "report/model_card.md").write_text("stale")
    result = runner.invoke(app, ["report", str(run_copy)])
    assert result.exit_code == 0, result.output
    after = json.loads((run_copy / "signature.json").read_text())
    assert after["signature"] != before["signature"]  # the manifest changed, so did the signature
    assert verify_run(run_copy).ok
    rebuild = json.loads((run_copy / "manifest.json").read_text())["report_rebuilds"][-1]
    assert rebuild["signed_by"] == after["public_key_fingerprint"]


def test_key_pinning(run_copy, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from crispml._signing import public_pem

    own = runner.invoke(app, ["verify", str(run_copy), "--key", str(run_copy / "public_key.pem")])
    assert own.exit_code == 0, own.output
    assert "the pinned key" in own.output
    other = tmp_path / "other.pem"
    other.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    wrong = runner.invoke(app, ["verify", str(run_copy), "--key", str(other)])
    assert wrong.exit_code == 1
    assert "not by the pinned key" in wrong.output
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    bad = runner.invoke(app, ["verify", str(run_copy), "--key", str(junk)])
    assert bad.exit_code == 2
    assert "not an ed25519 public key" in bad.output and "Traceback" not in bad.output


def test_a_forger_who_resigns_with_their_own_key_fails_against_the_pinned_key(run_copy, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from crispml._signing import sign_run, signer_identity

    trusted = tmp_path / "trusted.pem"
    trusted.write_bytes((run_copy / "public_key.pem").read_bytes())
    _reseal_after_edit(run_copy)
    forger = Ed25519PrivateKey.generate()
    manifest = json.loads((run_copy / "manifest.json").read_text())
    manifest["signing"] = signer_identity(forger)
    from crispml._runfolder import seal_manifest

    (run_copy / "manifest.json").write_text(json.dumps(seal_manifest(manifest)))
    sign_run(run_copy, forger)
    assert verify_run(run_copy).ok  # self-consistent: only pinning tells the keys apart
    pinned = verify_run(run_copy, key=trusted)
    assert not pinned.ok and "not by the pinned key" in pinned.signature.problem
