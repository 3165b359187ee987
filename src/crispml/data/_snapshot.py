"""Content-hashed snapshots of the input table, and the lineage record."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from crispml._utils._io import atomic_write_bytes


@dataclass(frozen=True)
class Snapshot:
    """Identity of the data an engagement used.

    Attributes
    ----------
    source : str
        Where the table came from.
    raw_sha256 : str or None
        sha256 of the raw file's bytes (``None`` for in-memory or packaged data).
    table_sha256 : str
        sha256 of the canonical table: column names, dtypes and every cell, in order.
    n_rows, n_columns : int
        Shape of the table.
    path : str or None
        Where the Parquet copy is stored under ``.crispml/snapshots``.
    """

    source: str
    raw_sha256: str | None
    table_sha256: str
    n_rows: int
    n_columns: int
    path: str | None = None


def table_hash(frame: pd.DataFrame) -> str:
    """Return a sha256 that changes when any name, dtype, cell or row order changes.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1, 2]})
    >>> table_hash(a) == table_hash(a.copy()), table_hash(a) == table_hash(a[::-1])
    (True, False)
    """
    digest = hashlib.sha256()
    header = json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()])
    digest.update(header.encode("utf-8"))
    rows = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=True)
    digest.update(rows.to_numpy().tobytes())
    return digest.hexdigest()


def take_snapshot(
    frame: pd.DataFrame, *, source: str, raw_sha256: str | None, store: Path | None
) -> Snapshot:
    """Hash ``frame`` and, when ``store`` is given, keep one Parquet copy per content hash.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table as loaded.
    source : str
        Its source.
    raw_sha256 : str or None
        Hash of the raw bytes, when there were any.
    store : Path or None
        The project's ``.crispml`` folder. The copy is written once; a later snapshot
        with the same content reuses it.

    Returns
    -------
    Snapshot
    """
    digest = table_hash(frame)
    path = None
    if store is not None:
        target = store / "snapshots" / f"{digest}.parquet"
        if not target.exists():
            atomic_write_bytes(target, _to_parquet_bytes(frame))
        path = str(target)
    return Snapshot(source, raw_sha256, digest, int(frame.shape[0]), int(frame.shape[1]), path)


def _to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    clean = frame.copy()
    clean.columns = [str(c) for c in clean.columns]
    for name in clean.columns:  # mixed-type object columns cannot be written as-is
        if clean[name].dtype == object:
            clean[name] = clean[name].map(lambda v: v if v is None or v != v else str(v))
    result: bytes = clean.to_parquet(index=False)
    return result


def append_lineage(store: Path, snapshot: Snapshot, *, run_id: str, event: str) -> None:
    """Append one line to ``.crispml/lineage.jsonl``: which run used which data.

    Parameters
    ----------
    store : Path
        The project's ``.crispml`` folder.
    snapshot : Snapshot
        The data the run used.
    run_id : str
        The run.
    event : str
        What happened (``run``, ``audit``...).
    """
    store.mkdir(parents=True, exist_ok=True)
    entry = {
        "at": datetime.now(UTC).isoformat(),
        "run_id": run_id,
        "event": event,
        **asdict(snapshot),
    }
    with open(store / "lineage.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, sort_keys=True) + "\n")
