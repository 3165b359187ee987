"""Replaying an engagement: re-run it from the run's own spec and compare predictions.

Replay belongs to the orchestration (it runs the whole engagement), so it lives beside
:mod:`crispml._engagement`, not in the report, which only reads run folders.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crispml import data as cdata
from crispml._engagement import Project, Run
from crispml._runfolder import MANIFEST
from crispml.spec import ProjectSpec, load_spec


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
