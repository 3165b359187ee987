"""Data pipeline: typed loading, inferred schema, content-hashed snapshot, locked split."""

from __future__ import annotations

from crispml.data._dataset import Dataset, prepare_dataset
from crispml.data._load import LoadedTable, load_table
from crispml.data._schema import (
    FEATURE_ROLES,
    MISSING_LEVEL,
    ColumnInfo,
    Schema,
    conform,
    epoch_seconds,
    infer_role,
    infer_schema,
    normalise_text,
)
from crispml.data._snapshot import Snapshot, append_lineage, table_hash, take_snapshot
from crispml.data._split import Split, make_split
from crispml.data._target import (
    TargetEncoding,
    anomaly_encoding,
    encode_target,
    guess_positive_label,
    infer_task,
    ranking_encoding,
)

__all__ = [
    "FEATURE_ROLES",
    "MISSING_LEVEL",
    "ColumnInfo",
    "Dataset",
    "LoadedTable",
    "Schema",
    "Snapshot",
    "Split",
    "TargetEncoding",
    "anomaly_encoding",
    "append_lineage",
    "conform",
    "encode_target",
    "epoch_seconds",
    "guess_positive_label",
    "infer_role",
    "infer_schema",
    "infer_task",
    "load_table",
    "make_split",
    "normalise_text",
    "prepare_dataset",
    "ranking_encoding",
    "table_hash",
    "take_snapshot",
]
