"""Signing a run folder's ``manifest.json`` with an ed25519 key, and checking the signature.

The manifest's seal (``manifest_sha256``) proves that the files are unchanged since
sealing, not who sealed them: anyone can edit a file, re-hash and re-seal. The signature
closes that gap. After ``manifest.json`` is written, :func:`sign_run` writes

- ``signature.json``: the algorithm, the signed file, the base64 signature of the exact
  bytes of ``manifest.json`` and the signer's public-key fingerprint;
- ``public_key.pem``: the signer's public key (SubjectPublicKeyInfo PEM).

Neither file is listed in the manifest (they are written after it). The manifest itself
names the signer's fingerprint under ``signing``, so the model card can print it.

Which key signs. ``CRISPML_SIGNING_KEY`` holds either the path of a PEM private key
(PKCS#8, unencrypted, ed25519) or the PEM text itself (a value starting with
``-----BEGIN``, handy for CI secrets). Without it, the key is
``<config>/signing_key.pem``, created on first use with mode 0600, where ``<config>`` is
``$CRISPML_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/crispml``, else ``~/.config/crispml``.

The fingerprint is ``sha256:`` followed by the hex sha256 of the 32 raw public-key bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crispml._utils._io import atomic_write_text, sha256_bytes, to_json
from crispml.exceptions import SigningError

logger = logging.getLogger(__name__)

SIGNATURE = "signature.json"
PUBLIC_KEY = "public_key.pem"
SIGNATURE_FILES = (SIGNATURE, PUBLIC_KEY)
KEY_ENV = "CRISPML_SIGNING_KEY"
CONFIG_ENV = "CRISPML_CONFIG_DIR"
KEY_FILE = "signing_key.pem"
ALGORITHM = "ed25519"

_MSG_BAD_PRIVATE = (
    "{where}: not an unencrypted ed25519 private key in PEM ({problem}). Point "
    f"{KEY_ENV} at a PKCS#8 PEM file, e.g. written by: openssl genpkey -algorithm ed25519"
)
_MSG_BAD_PUBLIC = (
    "{where}: not an ed25519 public key in PEM ({problem}). Pass the signer's "
    f"{PUBLIC_KEY} (or their private key file)."
)
_MSG_UNREADABLE = "{where}: cannot be read ({problem})."


@dataclass(frozen=True)
class SignatureCheck:
    """Outcome of checking a run folder's signature.

    Attributes
    ----------
    valid : bool
        The signature verifies over ``manifest.json`` with the key used, and that
        key is the one the manifest names (and the pinned one, when pinned).
    signer : str or None
        Fingerprint of the key in ``public_key.pem`` (``None`` if unreadable).
    pinned : bool
        The check used a key given by the caller rather than the folder's own.
    problem : str or None
        Why the check failed, in one sentence.
    """

    valid: bool
    signer: str | None
    pinned: bool
    problem: str | None = None


def config_dir() -> Path:
    """Return crispml's per-user configuration folder (see the module docstring)."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "crispml"


def fingerprint(key: Ed25519PublicKey) -> str:
    """Return ``sha256:<hex>`` of the raw public-key bytes."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + sha256_bytes(raw)


def public_pem(key: Ed25519PublicKey) -> str:
    """Return the SubjectPublicKeyInfo PEM text of ``key``."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def signing_key() -> Ed25519PrivateKey:
    """Return the signing key: from ``CRISPML_SIGNING_KEY``, else the user's, made on first use.

    Returns
    -------
    Ed25519PrivateKey

    Raises
    ------
    SigningError
        If the configured key cannot be read or is not an unencrypted ed25519 key.
    """
    value = os.environ.get(KEY_ENV, "").strip()
    if value.startswith("-----BEGIN"):
        return _private_from_pem(value.encode("ascii", "replace"), where=KEY_ENV)
    if value:
        path = Path(value).expanduser()
        return _private_from_pem(_read(path, where=f"{KEY_ENV}={path}"), where=str(path))
    path = config_dir() / KEY_FILE
    if not path.exists():
        _create_key(path)
    return _private_from_pem(_read(path, where=str(path)), where=str(path))


def signer_identity(key: Ed25519PrivateKey) -> dict[str, str]:
    """Return the ``signing`` entry of a manifest: algorithm and public-key fingerprint."""
    return {"algorithm": ALGORITHM, "public_key_fingerprint": fingerprint(key.public_key())}


def sign_run(root: Path, key: Ed25519PrivateKey) -> Path:
    """Sign ``root/manifest.json``: write ``signature.json`` and ``public_key.pem``.

    Parameters
    ----------
    root : Path
        A run folder whose ``manifest.json`` is written (and final).
    key : Ed25519PrivateKey
        The signer's key.

    Returns
    -------
    Path
        The ``signature.json`` written.
    """
    data = (root / "manifest.json").read_bytes()
    public = key.public_key()
    atomic_write_text(root / PUBLIC_KEY, public_pem(public))
    record = {
        "algorithm": ALGORITHM,
        "signed_file": "manifest.json",
        "signed_sha256": sha256_bytes(data),
        "public_key_fingerprint": fingerprint(public),
        "signature": base64.b64encode(key.sign(data)).decode("ascii"),
    }
    return atomic_write_text(root / SIGNATURE, to_json(record))


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """Read a key to pin: an ed25519 public key PEM, or a private key PEM (its public half).

    Raises
    ------
    SigningError
        If the file cannot be read or holds no ed25519 key.
    """
    data = _read(Path(path), where=str(path))
    try:
        key: Any = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        if b"PRIVATE KEY" not in data:
            raise SigningError(_MSG_BAD_PUBLIC.format(where=path, problem=_short(exc))) from None
        return _private_from_pem(data, where=str(path)).public_key()
    if not isinstance(key, Ed25519PublicKey):
        problem = f"a {type(key).__name__}"
        raise SigningError(_MSG_BAD_PUBLIC.format(where=path, problem=problem))
    return key


def check_signature(
    root: Path, manifest: dict[str, Any], *, pinned: Ed25519PublicKey | None = None
) -> SignatureCheck:
    """Check ``signature.json`` over the bytes of ``root/manifest.json``.

    Parameters
    ----------
    root : Path
        A run folder.
    manifest : dict
        Its parsed ``manifest.json`` (the ``signing`` entry names the expected key).
    pinned : Ed25519PublicKey, optional
        Require this key; otherwise the folder's ``public_key.pem`` is used.

    Returns
    -------
    SignatureCheck
    """
    is_pinned = pinned is not None
    if not (root / SIGNATURE).is_file():
        problem = f"manifest.json is not signed (no {SIGNATURE})"
        return SignatureCheck(False, None, is_pinned, problem)
    try:
        record = json.loads((root / SIGNATURE).read_text(encoding="utf-8"))
        signature = base64.b64decode(record["signature"], validate=True)
        own = load_public_key(root / PUBLIC_KEY)
    except (OSError, ValueError, KeyError, TypeError, binascii.Error, SigningError) as exc:
        problem = f"the signature cannot be read: {_short(exc)}"
        return SignatureCheck(False, None, is_pinned, problem)
    signer = fingerprint(own)
    named = (manifest.get("signing") or {}).get("public_key_fingerprint")
    failure = _mismatch(root, signature, own if pinned is None else pinned, signer, named)
    return SignatureCheck(failure is None, signer, is_pinned, failure)


def _mismatch(
    root: Path, signature: bytes, key: Ed25519PublicKey, signer: str, named: str | None
) -> str | None:
    """Return why the signature fails, or ``None`` when it holds."""
    if fingerprint(key) != signer:
        return f"signed by {signer}, not by the pinned key {fingerprint(key)}"
    try:
        key.verify(signature, (root / "manifest.json").read_bytes())
    except InvalidSignature:
        return (
            f"the signature by {signer} does not match manifest.json: the manifest was "
            "changed or re-sealed without the signing key"
        )
    if named != signer:
        return f"manifest.json names signer {named}, but {PUBLIC_KEY} is {signer}"
    return None


def _create_key(path: Path) -> None:
    """Write a new key to ``path`` (mode 0600); keep an existing one if another run won."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.chmod(tmp, 0o600)
        os.link(tmp, path)  # fails if another process created the key meanwhile
        logger.info("created the signing key %s", path)
    except FileExistsError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)


def _read(path: Path, *, where: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SigningError(_MSG_UNREADABLE.format(where=where, problem=_short(exc))) from None


def _private_from_pem(data: bytes, *, where: str) -> Ed25519PrivateKey:
    try:
        key: Any = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningError(_MSG_BAD_PRIVATE.format(where=where, problem=_short(exc))) from None
    if not isinstance(key, Ed25519PrivateKey):
        problem = f"a {type(key).__name__}"
        raise SigningError(_MSG_BAD_PRIVATE.format(where=where, problem=problem))
    return key


def _short(exc: BaseException) -> str:
    """First line of an exception's text, for one-line messages."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
