"""Opening a bundle: verify every file against the manifest, then load the contract.

Serving runtime only: standard library + numpy.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
MODEL_FILE = "model/model.onnx"
CONTRACT_FILE = "model/contract.json"
CONFORMAL_FILE = "evaluation/conformal.json"
"""Optional: the evaluation's conformal coverage, stated by ``/v1/metadata``."""
REQUIRED = (MODEL_FILE, CONTRACT_FILE)
"""Files a bundle must hold, each listed with its sha256 in the manifest."""

_MSG_NO_MANIFEST = (
    "{path}: no manifest.json. Serve a finished run folder (runs/<run-id>) or a bundle "
    "copied from one."
)
_MSG_NOT_LISTED = (
    "{path}: {file} is not listed in manifest.json; the bundle was not written by a "
    "finished crispml run. Re-run the engagement."
)
_MSG_MISSING = "{path}: {file} is missing from the bundle. Copy the whole run folder."
_MSG_TAMPERED = (
    "{path}: {file} does not match its sha256 in manifest.json (expected {expected}..., "
    "found {found}...). The bundle was modified after the run; refusing to serve it."
)


class BundleError(RuntimeError):
    """The bundle is incomplete or was modified after the run that wrote it."""


def sha256_file(path: Path) -> str:
    """Return the sha256 hex digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_bundle(path: str | Path) -> dict[str, Any]:
    """Check the bundle's files against ``manifest.json`` and return the manifest.

    Every artifact listed in the manifest that is present must match its hash; the
    serving files (``model/model.onnx``, ``model/contract.json``) must be present and
    listed. A bundle copied partially (e.g. into a container) still verifies.

    Parameters
    ----------
    path : str or Path
        A run folder, or a bundle with the same layout.

    Returns
    -------
    dict
        The manifest.

    Raises
    ------
    BundleError
        If the manifest is absent, a required file is missing or unlisted, or any
        listed file's hash differs.
    """
    root = Path(path)
    if not (root / MANIFEST).is_file():
        raise BundleError(_MSG_NO_MANIFEST.format(path=root))
    manifest: dict[str, Any] = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    artifacts: dict[str, str] = manifest.get("artifacts", {})
    for file in REQUIRED:
        if file not in artifacts:
            raise BundleError(_MSG_NOT_LISTED.format(path=root, file=file))
        if not (root / file).is_file():
            raise BundleError(_MSG_MISSING.format(path=root, file=file))
    for file, expected in sorted(artifacts.items()):
        target = root / file
        if not target.is_file():
            continue
        found = sha256_file(target)
        if found != expected:
            raise BundleError(
                _MSG_TAMPERED.format(
                    path=root, file=file, expected=expected[:12], found=found[:12]
                )
            )
    return manifest


def read_json(path: Path) -> dict[str, Any]:
    """Load a JSON object from ``path``."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
