"""The signing key: where it comes from, how bad keys are refused."""

import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crispml._signing import (
    KEY_FILE,
    config_dir,
    fingerprint,
    load_public_key,
    public_pem,
    signing_key,
)
from crispml.exceptions import SigningError


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("CRISPML_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.delenv("CRISPML_SIGNING_KEY", raising=False)
    return tmp_path / "cfg"


def test_tests_never_use_the_real_config_folder():
    assert config_dir().resolve() != (config_dir().home() / ".config" / "crispml").resolve()


def test_config_folder_falls_back_to_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("CRISPML_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_dir() == tmp_path / "crispml"


def test_key_is_created_once_private_and_reused(config):
    first = signing_key()
    path = config / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = signing_key()
    assert fingerprint(first.public_key()) == fingerprint(again.public_key())


def test_key_from_env_path_or_pem_text(config, tmp_path, monkeypatch):
    key = Ed25519PrivateKey.generate()
    (tmp_path / "k.pem").write_bytes(_pem(key))
    monkeypatch.setenv("CRISPML_SIGNING_KEY", str(tmp_path / "k.pem"))
    assert fingerprint(signing_key().public_key()) == fingerprint(key.public_key())
    monkeypatch.setenv("CRISPML_SIGNING_KEY", _pem(key).decode())
    assert fingerprint(signing_key().public_key()) == fingerprint(key.public_key())
    assert not (config / KEY_FILE).exists()  # an explicit key never creates the default one


def test_bad_env_keys_are_refused_in_one_line(config, tmp_path, monkeypatch):
    monkeypatch.setenv("CRISPML_SIGNING_KEY", str(tmp_path / "absent.pem"))
    with pytest.raises(SigningError, match=r"absent\.pem: cannot be read"):
        signing_key()
    (tmp_path / "ec.pem").write_bytes(_pem(generate_private_key(SECP256R1())))
    monkeypatch.setenv("CRISPML_SIGNING_KEY", str(tmp_path / "ec.pem"))
    with pytest.raises(SigningError, match="not an unencrypted ed25519 private key") as info:
        signing_key()
    assert "\n" not in str(info.value)
    monkeypatch.setenv("CRISPML_SIGNING_KEY", "-----BEGIN PRIVATE KEY-----\ngarbage")
    with pytest.raises(SigningError, match="CRISPML_SIGNING_KEY: not an unencrypted ed25519"):
        signing_key()


def test_public_key_to_pin_from_public_or_private_pem(tmp_path):
    key = Ed25519PrivateKey.generate()
    (tmp_path / "pub.pem").write_text(public_pem(key.public_key()))
    (tmp_path / "priv.pem").write_bytes(_pem(key))
    want = fingerprint(key.public_key())
    assert fingerprint(load_public_key(tmp_path / "pub.pem")) == want
    assert fingerprint(load_public_key(tmp_path / "priv.pem")) == want
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(SigningError, match="not an ed25519 public key"):
        load_public_key(tmp_path / "junk.pem")


def test_a_run_with_an_unusable_key_stops_at_once_in_one_line(tmp_project, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from crispml.cli._app import app

    (tmp_path / "junk.pem").write_text("not a key")
    monkeypatch.setenv("CRISPML_SIGNING_KEY", str(tmp_path / "junk.pem"))
    result = CliRunner().invoke(app, ["run", str(tmp_project)])
    assert result.exit_code == 2
    assert "junk.pem: not an unencrypted ed25519 private key" in result.output
    assert "Traceback" not in result.output
    runs = tmp_project.parent / "runs"
    assert not runs.exists() or not any(runs.iterdir())
