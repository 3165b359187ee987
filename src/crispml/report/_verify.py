"""``crispml verify``: re-hash a run folder against its manifest, and replay the run."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crispml._runfolder import MANIFEST, hash_tree, seal_manifest
from crispml.exceptions import ReportError
from crispml.spec import ProjectSpec, load_spec

_MSG_NO_MANIFEST = (
    "{path} has no manifest.json, so there is nothing to verify against. "
    "Pass a finished run folder (runs/<run-id>)."
)


@dataclass(frozen=True)
class Verification:
    """Result of re-hashing a run folder.

    Attributes
    ----------
    checked : int
        Files listed in the manifest.
    differing, missing, extra : list of str
        Files whose sha256 differs, listed files that are gone, and files the
        manifest does not list. ``manifest.json`` appears in ``differing`` when its
        own seal (``manifest_sha256``) does not match or it cannot be read.
    """

    checked: int
    differing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every file matches and nothing is missing or extra."""
        return not (self.differing or self.missing or self.extra)


def verify_run(run_dir: str | Path) -> Verification:
    """Re-hash every artifact of a run folder and compare with ``manifest.json``.

    Parameters
    ----------
    run_dir : str or Path
        A finished run folder.

    Returns
    -------
    Verification

    Raises
    ------
    ReportError
        If the folder has no ``manifest.json``.

    Examples
    --------
    >>> import tempfile
    >>> verify_run(tempfile.mkdtemp())  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ReportError: ... has no manifest.json ...
    """
    root = Path(run_dir)
    if not (root / MANIFEST).is_file():
        raise ReportError(_MSG_NO_MANIFEST.format(path=root))
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        listed: dict[str, str] = dict(manifest["artifacts"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError):
        return Verification(checked=0, differing=[MANIFEST])
    actual = hash_tree(root)
    differing = sorted(rel for rel, sha in listed.items() if rel in actual and actual[rel] != sha)
    stored_seal = manifest.get("manifest_sha256")
    if stored_seal is not None and seal_manifest(manifest)["manifest_sha256"] != stored_seal:
        differing.insert(0, MANIFEST)
    return Verification(
        checked=len(listed),
        differing=differing,
        missing=sorted(rel for rel in listed if rel not in actual),
        extra=sorted(rel for rel in actual if rel not in listed),
    )


@dataclass(frozen=True)
class Replay:
    """Result of re-running an engagement from its spec and comparing predictions.

    Attributes
    ----------
    identical : bool
        The replayed model's test predictions equal the original's bit for bit.
    n_rows : int
        Test rows compared.
    max_abs_diff : float
        Largest absolute difference of the predictions.
    data_matches : bool
        The data loaded for the replay has the table hash recorded in the manifest.
    replay_path : Path
        The replayed run folder.
    """

    identical: bool
    n_rows: int
    max_abs_diff: float
    data_matches: bool
    replay_path: Path


def replay_run(
    run_dir: str | Path,
    *,
    project_dir: str | Path | None = None,
    workdir: str | Path | None = None,
) -> Replay:
    """Re-run the engagement from the run's ``spec.yaml`` and compare test predictions.

    The replay uses the run's own resolved spec (tracking off) and writes into
    ``workdir``; both models then predict the raw test rows listed in
    ``data/split.json``. Predictions are identical only when the original run was
    deterministic: seeded, and a search bounded by trials (``search.deterministic``)
    or one that finished inside its time budget.

    Parameters
    ----------
    run_dir : str or Path
        A finished run folder.
    project_dir : str or Path, optional
        The folder ``data.source`` is relative to (default: two levels up, the
        project holding ``runs/``).
    workdir : str or Path, optional
        Where the replayed run folder goes (default: a new temporary folder).

    Returns
    -------
    Replay
    """
    from crispml import data as cdata
    from crispml._engagement import Project, Run  # the engagement sits above the report

    root = Path(run_dir)
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    spec = _replay_spec(root)
    base = Path(project_dir) if project_dir is not None else root.resolve().parent.parent
    runs = (
        Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix="crispml-replay-"))
    )
    replayed = Project(spec, base_dir=base).run(runs_dir=runs, command=["crispml", "verify"])
    table = cdata.load_table(spec.data.source, base_dir=base)
    dataset = cdata.prepare_dataset(table, spec.resolved(), store=None)
    positions = json.loads((root / "data/split.json").read_text(encoding="utf-8"))["test"]
    rows = dataset.frame.iloc[positions]
    before = Run(root).predict_output(rows)
    after = replayed.predict_output(rows)
    diff = float(np.max(np.abs(before - after))) if before.size else 0.0
    recorded = manifest.get("inputs", {}).get("data", {}).get("table_sha256")
    return Replay(
        identical=bool(before.shape == after.shape and np.array_equal(before, after)),
        n_rows=len(rows),
        max_abs_diff=diff,
        data_matches=recorded == dataset.snapshot.table_sha256,
        replay_path=replayed.path,
    )


def _replay_spec(root: Path) -> ProjectSpec:
    """Return the run's own spec with tracking off (a replay is a check, not an experiment)."""
    spec = load_spec(root / "spec.yaml")
    return spec.model_copy(
        update={"tracking": spec.tracking.model_copy(update={"enabled": False})}
    )
