"""Deterministic train / validation / test splits with a locked, hashed test set."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, train_test_split

from crispml.data._schema import epoch_seconds
from crispml.exceptions import DataError
from crispml.spec import SplitSpec

_MSG_SMALL_CLASS = (
    "target class {label!r} has {count} row(s); a stratified split needs at least 2 per class. "
    "Merge rare classes, drop them, or set split.strategy: random."
)
_MSG_NO_TIMES = "split.time_column = {column!r} holds no readable date or time. Check the column."
_MSG_GAP = (
    "split.gap_days = {gap:g} leaves no rows to train on before the held-out period of "
    "{column!r}. Use a shorter gap or a smaller test_size / valid_size."
)
_MSG_NO_COLUMN = "split.{field} = {column!r} is not a column of the data. Use one of: {known}."


@dataclass(frozen=True)
class Split:
    """Row positions of the three parts, and the ids that lock the test set.

    Attributes
    ----------
    train, valid, test : numpy.ndarray
        Positional row indices into the table (sorted).
    test_ids : list of str
        Row ids of the test set (the ``id_column`` values, else row positions).
    sha256 : str
        Hash of the strategy, seed and the three sets of ids.
    embargoed : numpy.ndarray
        Positions left out of every part by a time split's gap (``split.gap_days``).
    """

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    test_ids: list[str]
    sha256: str
    embargoed: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record of the split (positions of every part)."""
        return {
            "sha256": self.sha256,
            "sizes": {
                "train": len(self.train),
                "valid": len(self.valid),
                "test": len(self.test),
                "embargoed": len(self.embargoed),
            },
            "train": self.train.tolist(),
            "valid": self.valid.tolist(),
            "test": self.test.tolist(),
            "test_ids": self.test_ids,
            "embargoed": self.embargoed.tolist(),
        }


def make_split(
    frame: pd.DataFrame,
    spec: SplitSpec,
    *,
    target: str,
    id_column: str | None = None,
) -> Split:
    """Split ``frame`` into train, validation and a locked test set.

    The same frame, spec and seed always give the same split. ``stratified`` keeps the
    class shares, ``group`` keeps every group in one part, ``time`` puts the latest rows
    in the test set and the next latest in validation: rows sharing a time stay in one
    part, rows less than ``spec.gap_days`` before a held-out part are left out of every
    part (``Split.embargoed``), and rows without a time stay in training.

    .. versionchanged:: 0.2
       Time splits keep ties together and honour ``gap_days``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The whole table, target included.
    spec : SplitSpec
        Sizes, strategy and seed (strategy must be resolved, not ``None``).
    target : str
        Target column (for stratification).
    id_column : str, optional
        Column whose values identify rows; row positions are used when absent.

    Returns
    -------
    Split

    Raises
    ------
    DataError
        If a split column is missing or a class is too small to stratify.

    Examples
    --------
    >>> from crispml.spec import SplitSpec
    >>> df = pd.DataFrame({"x": range(100), "y": [0, 1] * 50})
    >>> s = make_split(df, SplitSpec(strategy="stratified", test_size=0.2), target="y")
    >>> len(s.test), len(s.valid) + len(s.train)
    (20, 80)
    """
    positions = np.arange(len(frame))
    strategy = spec.strategy or "random"
    rest, test = _cut(frame, positions, spec.test_size, strategy, spec, target)
    valid_share = spec.valid_size / (1.0 - spec.test_size)
    train, valid = _cut(frame, rest, min(valid_share, 0.5), strategy, spec, target)
    used = np.concatenate([train, valid, test])
    embargoed = np.setdiff1d(positions, used)
    ids = _row_ids(frame, id_column)
    test_ids = [ids[i] for i in np.sort(test)]
    digest = hashlib.sha256(f"{strategy}|{spec.seed}".encode())
    for part in (train, valid, test):
        digest.update(("|" + ",".join(ids[i] for i in np.sort(part))).encode())
    parts = (np.sort(train), np.sort(valid), np.sort(test))
    return Split(*parts, test_ids, digest.hexdigest(), embargoed)


def _cut(
    frame: pd.DataFrame,
    positions: np.ndarray,
    share: float,
    strategy: str,
    spec: SplitSpec,
    target: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``positions`` into (kept, held-out) with ``share`` held out."""
    if strategy == "time":
        return _cut_time(frame, positions, share, spec)
    if strategy == "group":
        groups = _column(frame, spec.group_column, "group_column").iloc[positions].astype(str)
        cutter = GroupShuffleSplit(n_splits=1, test_size=share, random_state=spec.seed)
        kept, out = next(cutter.split(positions, groups=groups))
        return positions[kept], positions[out]
    stratify = None
    if strategy == "stratified":
        labels = frame[target].iloc[positions].astype(str)
        _check_class_sizes(labels)
        stratify = labels.to_numpy()
    kept, out = train_test_split(
        positions, test_size=share, random_state=spec.seed, stratify=stratify
    )
    return np.asarray(kept), np.asarray(out)


def _cut_time(
    frame: pd.DataFrame, positions: np.ndarray, share: float, spec: SplitSpec
) -> tuple[np.ndarray, np.ndarray]:
    """Latest ``share`` of the timed rows held out (ties with them too); the gap dropped."""
    column = _column(frame, spec.time_column, "time_column").iloc[positions]
    times = epoch_seconds(column).to_numpy()
    known = ~np.isnan(times)
    if not known.any():
        raise DataError(_MSG_NO_TIMES.format(column=spec.time_column))
    ordered = np.sort(times[known])
    n_out = min(max(1, round(share * len(ordered))), len(ordered))
    cutoff = ordered[-n_out]
    held = known & (times >= cutoff)
    kept = ~known | (times < cutoff - spec.gap_days * 86_400.0)
    if not kept.any():
        raise DataError(_MSG_GAP.format(gap=spec.gap_days, column=spec.time_column))
    return positions[kept], positions[held]


def _column(frame: pd.DataFrame, name: str | None, field: str) -> pd.Series:
    if name is None or name not in frame.columns:
        known = ", ".join(map(str, frame.columns[:20]))
        raise DataError(_MSG_NO_COLUMN.format(field=field, column=name, known=known))
    return frame[name]


def _check_class_sizes(labels: pd.Series) -> None:
    counts = labels.value_counts()
    if counts.min() < 2:
        raise DataError(_MSG_SMALL_CLASS.format(label=counts.idxmin(), count=int(counts.min())))


def _row_ids(frame: pd.DataFrame, id_column: str | None) -> list[str]:
    if id_column is not None and id_column in frame.columns:
        return [str(v) for v in frame[id_column].astype(str)]
    return [str(i) for i in range(len(frame))]
