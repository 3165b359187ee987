"""A loaded table checked against the spec: schema, encoded target, snapshot."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from crispml.data._load import LoadedTable
from crispml.data._schema import Schema, conform, infer_schema
from crispml.data._snapshot import Snapshot, take_snapshot
from crispml.data._target import (
    TargetEncoding,
    anomaly_encoding,
    encode_target,
    ranking_encoding,
)
from crispml.exceptions import SpecError
from crispml.spec import ProjectSpec

_MSG_NO_COLUMN = "{field} names {column!r}, which is not a column of the data. Columns: {known}."
_MSG_MONOTONE = (
    "features.monotone names {column!r}, whose role is {role}; monotone constraints apply to "
    "numeric input columns. Remove it, or make the column numeric in the data."
)
_MSG_NOT_TEXT = (
    "features.text.columns names {column!r}, which is not a text column used as a feature "
    "(its role: {role}). Text columns: {text}."
)
_MSG_NO_TEXT = (
    "features.text.method is embeddings but the data has no text column used as a feature; "
    "remove features.text or check the column roles in data/schema.json."
)
_MSG_NO_FEATURES = (
    "no feature columns are left after dropping {dropped}. Keep at least one input column."
)


@dataclass(frozen=True)
class Dataset:
    """The engagement's data: rows with a target, their schema and encoded target.

    Attributes
    ----------
    frame : pandas.DataFrame
        Rows whose target is present (index reset to positions).
    schema : Schema
        Inferred column roles; protected columns are excluded from the features
        unless the spec allows them.
    target : TargetEncoding
        Class order (binary: negative, positive) or regression.
    y : numpy.ndarray
        Encoded target (empty for anomaly detection without labels).
    snapshot : Snapshot
        Hashes of the table as loaded.
    n_missing_target : int
        Rows dropped because their target was missing.
    """

    frame: pd.DataFrame
    schema: Schema
    target: TargetEncoding
    y: np.ndarray
    snapshot: Snapshot
    n_missing_target: int

    @property
    def labelled(self) -> bool:
        """Whether the rows carry a target (always, except unlabelled anomaly data)."""
        return bool(self.schema.target)

    def features(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """Conformed feature frame of ``rows`` (positions), or of every row."""
        part = self.frame if rows is None else self.frame.iloc[rows]
        return conform(part, self.schema)


def prepare_dataset(
    table: LoadedTable, spec: ProjectSpec, *, store: Path | None = None
) -> Dataset:
    """Check ``table`` against ``spec`` and build the :class:`Dataset`.

    Parameters
    ----------
    table : LoadedTable
        From :func:`crispml.data.load_table`.
    spec : ProjectSpec
        The resolved spec.
    store : Path, optional
        The project's ``.crispml`` folder, where the snapshot copy is kept.

    Returns
    -------
    Dataset

    Raises
    ------
    SpecError
        If a column named in the spec is not in the data.
    DataError
        If the target does not fit the task.
    """
    frame = table.frame
    _check_columns(frame, spec)
    target = spec.problem.target or ""
    encoding = _encoding(frame, spec)
    snapshot = take_snapshot(frame, source=table.source, raw_sha256=table.raw_sha256, store=store)
    present = frame[target].notna().to_numpy() if target else np.ones(len(frame), dtype=bool)
    kept = frame.loc[present].reset_index(drop=True)
    exclude = () if spec.fairness.use_as_features else tuple(spec.fairness.protected)
    schema = infer_schema(
        kept,
        target=target,
        id_column=spec.data.id_column,
        drop=(*spec.data.drop, *_query_column(spec)),
        exclude=exclude,
        keep=tuple(spec.data.keep_ids),
    )
    if not [c for c in schema.features if c not in schema.dropped]:
        raise SpecError(
            _MSG_NO_FEATURES.format(dropped=list(schema.dropped) or "id and constant columns")
        )
    for column in spec.features.monotone:
        role = schema[column].role
        if role != "numeric" or column in schema.dropped:
            shown = f"{role} (excluded)" if column in schema.dropped else role
            raise SpecError(_MSG_MONOTONE.format(column=column, role=shown))
    schema = dataclasses.replace(schema, embedded=_embedded_columns(schema, spec))
    y = encoding.encode(kept[target]) if target else np.empty(0, dtype=np.int64)
    return Dataset(kept, schema, encoding, y, snapshot, int((~present).sum()))


def _encoding(frame: pd.DataFrame, spec: ProjectSpec) -> TargetEncoding:
    if spec.problem.task == "anomaly":
        return anomaly_encoding(frame, spec.problem)
    if spec.problem.task == "ranking":
        return ranking_encoding(frame, spec.problem)
    return encode_target(frame, spec.problem)


def _query_column(spec: ProjectSpec) -> tuple[str, ...]:
    """Return the query id of a ranking task: it groups the rows, never a feature."""
    group = spec.problem.group_column
    return (group,) if group is not None and group not in spec.data.drop else ()


def _embedded_columns(schema: Schema, spec: ProjectSpec) -> tuple[str, ...]:
    """Text columns encoded as sentence embeddings (``features.text``)."""
    text = spec.features.text
    if text.method != "embeddings":
        return ()
    used = [c for c in schema.names("text") if c not in schema.dropped]
    for column in text.columns:
        if column not in used:
            role = {c.name: c.role for c in schema.columns}.get(column, "not in the data")
            raise SpecError(_MSG_NOT_TEXT.format(column=column, role=role, text=used))
    if not used:
        raise SpecError(_MSG_NO_TEXT)
    return tuple(c for c in used if not text.columns or c in text.columns)


def _check_columns(frame: pd.DataFrame, spec: ProjectSpec) -> None:
    known = ", ".join(map(str, frame.columns[:30]))
    named = [
        ("data.id_column", spec.data.id_column),
        ("problem.group_column", spec.problem.group_column),  # before the split's copy of it
        ("split.group_column", spec.split.group_column),
        ("split.time_column", spec.split.time_column),
        *[("data.drop", c) for c in spec.data.drop],
        *[("data.keep_ids", c) for c in spec.data.keep_ids],
        *[("fairness.protected", c) for c in spec.fairness.protected],
        *[("features.monotone", c) for c in spec.features.monotone],
        *[("explain.reason_statements", c) for c in spec.explain.reason_statements],
    ]
    for field, column in named:
        if column is not None and column not in frame.columns:
            raise SpecError(_MSG_NO_COLUMN.format(field=field, column=column, known=known))
