"""What a run folder carries so that ``reproduce.sh`` works anywhere: environment and data.

:func:`pack_reproduction` writes, into the staged run folder,

- ``env/lock.json``: every installed distribution with its version, installer, source
  (``direct_url.json``) and the sha256 of its ``RECORD`` (the list of its installed files,
  each with its own sha256): the exact environment that ran;
- ``env/requirements.txt``: the same versions as pip pins (all but pip, setuptools and
  wheel, which belong to the installer, and crispml itself);
- ``env/crispml-<version>-py3-none-any.whl``: the crispml that ran, zipped from the
  imported package's files (so uncommitted or editable code is captured as it ran; no
  build backend, no network);
- ``data/snapshot/<name>``: the raw data file (or, for packaged data, the Parquet snapshot
  of the table from the project's ``.crispml/snapshots``) when it is no larger than
  ``data.snapshot_max_mb``; otherwise only its sha256 and where to fetch it.

It returns the manifest's ``reproduction`` entry, which ``reproduce.sh`` is written from.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import site
import sys
import zipfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import crispml
from crispml._utils._io import sha256_bytes, sha256_file, to_json

if TYPE_CHECKING:
    from crispml._runfolder import RunFolder
    from crispml.data import Dataset, Snapshot
    from crispml.spec import ProjectSpec

LOCK = "env/lock.json"
REQUIREMENTS = "env/requirements.txt"
SNAPSHOT_DIR = "data/snapshot"
INSTALLER_OWN = frozenset({"pip", "setuptools", "wheel"})
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed zip timestamps: the same code gives the same wheel
_WHEEL = "Wheel-Version: 1.0\nGenerator: crispml\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def pack_reproduction(
    folder: RunFolder, dataset: Dataset, spec: ProjectSpec, base_dir: Path
) -> dict[str, Any]:
    """Write the lock file, crispml's wheel and the data copy; return the manifest entry.

    Parameters
    ----------
    folder : RunFolder
        The run being staged.
    dataset : Dataset
        The data the run used (its snapshot: source, hashes, Parquet copy in the store).
    spec : ProjectSpec
        Its ``data.snapshot_max_mb`` caps the size of the data copy.
    base_dir : Path
        The project folder relative data sources start at.

    Returns
    -------
    dict
        ``python``, ``lock``, ``requirements`` and ``wheel`` (run-folder paths), the
        sha256 of the last two, and ``data`` (see :func:`copy_data`).
    """
    lock = lock_environment()
    folder.write_text(LOCK, to_json(lock))
    folder.write_text(REQUIREMENTS, requirements_text(lock))
    wheel = build_wheel(folder.path("env"))
    return {
        "python": lock["python"],
        "lock": LOCK,
        "requirements": REQUIREMENTS,
        "requirements_sha256": sha256_file(folder.path(REQUIREMENTS)),
        "wheel": f"env/{wheel.name}",
        "wheel_sha256": sha256_file(wheel),
        "data": copy_data(folder, dataset.snapshot, base_dir, max_mb=spec.data.snapshot_max_mb),
    }


def canonical(name: str) -> str:
    """Return the PEP 503 normalised name of a distribution.

    Examples
    --------
    >>> canonical("Scikit_Learn"), canonical("ruamel.yaml")
    ('scikit-learn', 'ruamel-yaml')
    """
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_environment() -> dict[str, Any]:
    """Describe every distribution installed for this interpreter, first one found wins.

    Folders that another package put on ``sys.path`` from inside site-packages (Ray
    adds its vendored ``ray/thirdparty_files``) are left out: what they hold came with
    that package, and pip could not install it by name.

    Returns
    -------
    dict
        ``lock_version``, ``python``, ``implementation``, ``platform`` and
        ``packages``: name -> ``version``, ``installer``, ``record_sha256``
        (sha256 of the ``RECORD`` text, ``None`` when the installer wrote none) and
        ``direct_url`` (how it was installed when not from an index).
    """
    packages: dict[str, dict[str, Any]] = {}
    for dist in metadata.distributions(path=installed_paths()):
        name = canonical(dist.metadata["Name"] or "")
        if not name or name in packages:
            continue
        record = dist.read_text("RECORD")
        packages[name] = {
            "version": dist.version,
            "installer": (dist.read_text("INSTALLER") or "").strip() or None,
            "record_sha256": sha256_bytes(record.encode("utf-8")) if record else None,
            "direct_url": _direct_url(dist),
        }
    return {
        "lock_version": 1,
        "python": sys.version.split()[0],
        "implementation": sys.implementation.name,
        "platform": sys.platform,
        "packages": dict(sorted(packages.items())),
    }


def installed_paths(entries: list[str] | None = None) -> list[str]:
    """``sys.path`` without the folders nested inside a site-packages folder.

    .. versionadded:: 0.3

    Parameters
    ----------
    entries : list of str, optional
        Path entries to filter (default: ``sys.path``).

    Returns
    -------
    list of str
    """
    sites = [os.path.realpath(p) for p in [*site.getsitepackages(), site.getusersitepackages()]]
    kept = []
    for entry in sys.path if entries is None else entries:
        real = os.path.realpath(entry or ".")
        if any(real.startswith(s + os.sep) for s in sites):
            continue  # vendored by a package, e.g. ray/thirdparty_files
        kept.append(entry)
    return kept


def requirements_text(lock: dict[str, Any]) -> str:
    """Return pip pins of the locked packages (without the installer's own and crispml)."""
    lines = [
        f"# The exact environment of the run (Python {lock['python']}), from {LOCK}.",
        "# pip, setuptools and wheel (the installer's own) and crispml (installed from the",
        "# wheel beside this file) are left out; env/lock.json lists them too.",
    ]
    for name, entry in lock["packages"].items():
        if name not in INSTALLER_OWN and name != "crispml":
            lines.append(f"{name}=={entry['version']}")
    return "\n".join(lines) + "\n"


def build_wheel(dest: Path) -> Path:
    """Zip the imported crispml package into a pure-Python wheel in ``dest``.

    The files are those of the package that is running (``crispml.__file__``), without
    byte code; the metadata and entry points come from the installed distribution.
    Timestamps are fixed, so the same code always gives the same bytes.

    Parameters
    ----------
    dest : Path
        The folder to write ``crispml-<version>-py3-none-any.whl`` into.

    Returns
    -------
    Path
        The wheel.
    """
    package = Path(crispml.__file__).parent
    version, meta, entry_points = _own_metadata()
    info = f"crispml-{version}.dist-info"
    files: dict[str, bytes] = {
        f"crispml/{path.relative_to(package).as_posix()}": path.read_bytes()
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    files[f"{info}/METADATA"] = meta.encode("utf-8")
    files[f"{info}/WHEEL"] = _WHEEL.encode("utf-8")
    if entry_points:
        files[f"{info}/entry_points.txt"] = entry_points.encode("utf-8")
    record = [f"{name},sha256={_b64_sha256(data)},{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode("utf-8")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=_EPOCH)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / f"crispml-{version}-py3-none-any.whl"
    target.write_bytes(buffer.getvalue())
    return target


def copy_data(
    folder: RunFolder, snapshot: Snapshot, base_dir: Path, *, max_mb: float
) -> dict[str, Any]:
    """Copy the run's data into ``data/snapshot/`` when it is at most ``max_mb``.

    A file source is copied as its raw bytes (``sha256`` is the manifest's
    ``raw_sha256``); packaged or in-memory data as the table's Parquet snapshot from the
    project's store (``sha256`` of that file; the table hash is ``table_sha256``).

    Returns
    -------
    dict
        ``source``, ``kind`` (``raw`` or ``table``), ``sha256``, ``size_bytes``,
        ``max_mb``, ``copy`` (run-folder path, or ``None``) and ``fetch`` (where the
        data is found when it was not copied).
    """
    origin, kind = _data_origin(snapshot, base_dir)
    entry: dict[str, Any] = {"source": snapshot.source, "kind": kind, "max_mb": max_mb}
    if origin is None or not origin.is_file():
        missing = "no stored copy of the data (in-memory data without a store)"
        return {**entry, "sha256": None, "size_bytes": None, "copy": None, "fetch": missing}
    size = origin.stat().st_size
    entry.update(sha256=sha256_file(origin), size_bytes=size, fetch=str(origin.resolve()))
    if size > max_mb * 1_000_000:
        return {**entry, "copy": None}
    name = origin.name if kind == "raw" else f"{snapshot.table_sha256}.parquet"
    rel = f"{SNAPSHOT_DIR}/{name}"
    folder.path(SNAPSHOT_DIR).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(origin, folder.path(rel))
    return {**entry, "copy": rel}


def _data_origin(snapshot: Snapshot, base_dir: Path) -> tuple[Path | None, str]:
    """Where the data to copy lies: the raw file, else the store's Parquet snapshot."""
    if snapshot.raw_sha256 is not None:
        path = Path(snapshot.source)
        return (path if path.is_absolute() else base_dir / path), "raw"
    return (Path(snapshot.path) if snapshot.path else None), "table"


def _own_metadata() -> tuple[str, str, str]:
    """Version, METADATA text and entry points of the installed crispml distribution.

    An ``.egg-info`` found first on ``sys.path`` (a source checkout) has ``PKG-INFO``
    instead of ``METADATA``; without either, a minimal METADATA is written.
    """
    version = str(getattr(crispml, "__version__", "0"))
    entry_points = "[console_scripts]\ncrispml = crispml.cli:main\n"
    try:
        dist = metadata.distribution("crispml")
    except metadata.PackageNotFoundError:  # run from a source tree on sys.path
        dist = None
    meta = (dist.read_text("METADATA") or dist.read_text("PKG-INFO")) if dist else None
    if dist is None or not meta or "\nName: crispml" not in f"\n{meta}":
        return version, f"Metadata-Version: 2.1\nName: crispml\nVersion: {version}\n", entry_points
    return dist.version, meta, dist.read_text("entry_points.txt") or entry_points


def _direct_url(dist: metadata.Distribution) -> dict[str, Any] | None:
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    try:
        found: dict[str, Any] = json.loads(text)
    except ValueError:
        return None
    return found


def _b64_sha256(data: bytes) -> str:
    """Return the wheel RECORD's hash form: urlsafe base64 of the sha256, without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
