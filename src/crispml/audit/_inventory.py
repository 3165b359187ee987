"""Inventory: what is in the table, and the defects a careful reader spots by eye."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crispml.audit._findings import Finding, Severity
from crispml.data import ColumnInfo, Dataset, Schema

NUMERIC_SENTINELS = frozenset({-999999, -99999, -9999, -999, -99, 999, 9999, 99999, 999999})
"""Numbers commonly used to mean "missing" when they sit at the edge of a column's range."""
TEXT_SENTINELS = frozenset({"?", "-", "--", "na", "n/a", "null", "none", "nan", "missing", ""})
"""Strings commonly used to mean "missing" (compared stripped and lower-cased)."""
HIGH_CARDINALITY = 1000
"""Distinct levels above which a categorical column is reported."""
NEAR_CONSTANT = 0.99
"""Share of the most frequent value above which a column is near-constant."""
_TYPE_SAMPLE = 10_000


@dataclass(frozen=True)
class RowHashes:
    """One 64-bit hash per row, of the whole row and of its feature values.

    Id columns are left out of both (an id makes every row unique), and so is the
    target from ``features``.
    """

    rows: np.ndarray
    features: np.ndarray


def row_hashes(frame: pd.DataFrame, schema: Schema) -> RowHashes:
    """Hash every row of ``frame`` (pandas' stable row hashing)."""
    content = [c for c in frame.columns if c not in schema.names("id")]
    feats = [c for c in content if c != schema.target]
    rows = pd.util.hash_pandas_object(frame[content], index=False).to_numpy()
    features = pd.util.hash_pandas_object(frame[feats], index=False).to_numpy()
    return RowHashes(rows, features)


def inventory_findings(dataset: Dataset, hashes: RowHashes) -> list[Finding]:
    """Overview, missingness, constants, identifiers, cardinality, duplicates, types, etc.

    Parameters
    ----------
    dataset : Dataset
        The rows with a target, and their schema.
    hashes : RowHashes
        From :func:`row_hashes` on ``dataset.frame``.

    Returns
    -------
    list of Finding
    """
    frame, schema = dataset.frame, dataset.schema
    findings = [_overview(dataset)]
    findings += _missing(frame, schema)
    findings += _constants(frame, schema)
    findings += _duplicate_rows(frame, schema, hashes)
    findings += _duplicate_columns(frame, schema)
    findings += [f for col in schema.columns if (f := _identifier(col)) is not None]
    for col in schema.columns:
        if col.role == "target":
            continue
        series = frame[col.name]
        findings += _cardinality(col.name, col.role, col.n_unique, len(frame))
        findings += _types(series, col.role, col.note)
        findings += _sentinels(series)
        findings += _infinite(series)
    findings += _outliers(frame, schema)
    return findings


def _overview(dataset: Dataset) -> Finding:
    frame, schema = dataset.frame, dataset.schema
    roles: dict[str, int] = {}
    for col in schema.columns:
        roles[col.role] = roles.get(col.role, 0) + 1
    memory_mb = float(frame.memory_usage(deep=True).sum()) / 2**20
    evidence = {
        "rows": len(frame),
        "columns": frame.shape[1],
        "roles": roles,
        "memory_mb": round(memory_mb, 1),
        "excluded_from_features": list(schema.dropped) + schema.names("id"),
        "rows_without_target": dataset.n_missing_target,
        "per_column": {
            c.name: {
                "role": c.role,
                "dtype": c.dtype,
                "missing": c.n_missing,
                "distinct": c.n_unique,
            }
            for c in schema.columns
        },
    }
    title = f"{len(frame):,} rows x {frame.shape[1]} columns, {memory_mb:.1f} MB in memory"
    return Finding("inventory:overview", "inventory", "info", title, evidence)


def _missing(frame: pd.DataFrame, schema: Schema) -> list[Finding]:
    n = len(frame)
    shares = {c.name: c.n_missing / n for c in schema.columns if c.n_missing}
    out = []
    for name, share in shares.items():
        if share == 1.0:
            out.append(
                Finding(
                    f"all-missing:{name}",
                    "inventory",
                    "warning",
                    f"column {name!r} is empty in every row",
                    {"column": name, "missing": n},
                    "Drop it (data.drop) or fix the extract that should fill it.",
                )
            )
        elif share >= 0.5:
            out.append(
                Finding(
                    f"missing:{name}",
                    "inventory",
                    "warning",
                    f"column {name!r} is missing in {share:.0%} of rows",
                    {"column": name, "missing_share": round(share, 4)},
                    "Check why it is missing; missingness may itself carry signal or bias.",
                )
            )
    if shares:
        top = dict(sorted(shares.items(), key=lambda kv: -kv[1])[:20])
        worst = max(top.items(), key=lambda kv: kv[1])[0]
        title = f"{len(shares)} column(s) have missing values (worst: {worst!r})"
        evidence = {"missing_share": {k: round(v, 4) for k, v in top.items()}}
        out.append(
            Finding(
                "inventory:missing",
                "inventory",
                "info",
                title,
                evidence,
                "Missing values are imputed by the feature pipeline.",
            )
        )
    return out


def _constants(frame: pd.DataFrame, schema: Schema) -> list[Finding]:
    out = []
    for col in schema.columns:
        if col.role in ("target", "id") or col.n_missing == len(frame):
            continue
        if col.role == "constant":
            out.append(
                Finding(
                    f"constant:{col.name}",
                    "inventory",
                    "info",
                    f"column {col.name!r} has a single value; it is not used as a feature",
                    {"column": col.name, "distinct": col.n_unique},
                )
            )
            continue
        if col.n_unique > (1 - NEAR_CONSTANT) * len(frame) + 1:
            continue  # too many distinct values for one of them to fill 99% of rows
        counts = frame[col.name].value_counts(dropna=False)
        top_share = float(counts.iloc[0]) / len(frame)
        if top_share >= NEAR_CONSTANT:
            out.append(
                Finding(
                    f"near-constant:{col.name}",
                    "inventory",
                    "info",
                    f"column {col.name!r} has one value in {top_share:.1%} of rows",
                    {"column": col.name, "top_value": str(counts.index[0]), "share": top_share},
                    "Little information; fine to keep, check it is not a broken extract.",
                )
            )
    return out


def _duplicate_rows(frame: pd.DataFrame, schema: Schema, hashes: RowHashes) -> list[Finding]:
    dup_rows = pd.Series(hashes.rows).duplicated()
    n_dup = int(dup_rows.sum())
    feats = pd.DataFrame({"h": hashes.features, "y": hashes.rows})
    multi = feats.groupby("h")["y"].nunique()
    conflicting = int(feats["h"].isin(multi.index[multi > 1]).sum())
    if not n_dup and not conflicting:
        return []
    share = n_dup / len(frame)
    examples = [int(i) for i in np.flatnonzero(dup_rows.to_numpy())[:5]]
    evidence = {
        "duplicate_rows": n_dup,
        "share": round(share, 4),
        "rows_in_conflicting_groups": conflicting,
        "example_positions": examples,
        "ignored_columns": schema.names("id"),
    }
    title = f"{n_dup:,} duplicated row(s) ({share:.1%})"
    if conflicting:
        title += f"; {conflicting:,} rows share features but not the target"
    severity: Severity = "warning" if share >= 0.01 or conflicting / len(frame) >= 0.01 else "info"
    action = (
        "Check whether duplicates are real repeat events or an extract error; duplicates "
        "across train and test inflate test scores (see the leakage findings)."
    )
    return [Finding("duplicates:rows", "inventory", severity, title, evidence, action)]


def _duplicate_columns(frame: pd.DataFrame, schema: Schema) -> list[Finding]:
    seen: dict[str, str] = {}
    out = []
    for col in schema.columns:
        if col.role == "constant":
            continue
        values = pd.util.hash_pandas_object(frame[col.name], index=False).to_numpy()
        digest = hashlib.sha256(values.tobytes()).hexdigest()
        if digest in seen:
            first = seen[digest]
            out.append(
                Finding(
                    f"duplicate-column:{col.name}",
                    "inventory",
                    "warning",
                    f"column {col.name!r} is an exact copy of {first!r}",
                    {"column": col.name, "copy_of": first},
                    f"Drop one of them (data.drop: [{col.name}]).",
                )
            )
        else:
            seen[digest] = col.name
    return out


def _identifier(col: ColumnInfo) -> Finding | None:
    """Report a column taken for an identifier (not a feature), or kept by data.keep_ids."""
    if "data.keep_ids" in col.note:
        title = (
            f"column {col.name!r} looks like an identifier; data.keep_ids keeps it as a feature"
        )
        evidence = {"column": col.name, "distinct": col.n_unique, "role": col.role}
        return Finding(f"identifier:{col.name}", "inventory", "info", title, evidence)
    if col.role != "id" or col.note == "data.id_column":
        return None
    title = f"column {col.name!r} looks like an identifier ({col.note}); kept out of the features"
    evidence = {"column": col.name, "distinct": col.n_unique, "reason": col.note}
    action = (
        f"If {col.name!r} only numbers or names the rows, nothing to do (set data.id_column: "
        f"{col.name} to name test rows by it). If it is a real measurement, list it in "
        f"data.keep_ids: [{col.name}] to use it as a feature."
    )
    return Finding(f"identifier:{col.name}", "inventory", "warning", title, evidence, action)


def _cardinality(name: str, role: str, n_unique: int, n_rows: int) -> list[Finding]:
    if role != "categorical" or n_unique <= HIGH_CARDINALITY:
        return []
    title = f"categorical column {name!r} has {n_unique:,} levels"
    evidence = {"column": name, "levels": n_unique, "rows": n_rows}
    action = (
        "Group rare levels, use a target or hashing encoder, or drop it if it is an identifier."
    )
    return [Finding(f"high-cardinality:{name}", "inventory", "warning", title, evidence, action)]


def _types(series: pd.Series, role: str, note: str) -> list[Finding]:
    name = str(series.name)
    if note == "numbers stored as text":
        title = f"column {name!r} holds numbers stored as text"
        action = "Read as numbers; crispml already treats it as numeric."
        return [Finding(f"numbers-as-text:{name}", "inventory", "info", title, {}, action)]
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return []
    values = series.dropna().head(_TYPE_SAMPLE)
    types = sorted({type(v).__name__ for v in values})
    text = values.astype(str)
    numeric = pd.to_numeric(text, errors="coerce").notna()
    share = float(numeric.mean()) if len(values) else 0.0
    if len(types) <= 1 and not (0.5 <= share < 1.0 and role == "categorical"):
        return []
    examples = text[~numeric].unique()[:5].tolist()
    evidence = {"python_types": types, "numeric_share": round(share, 4), "non_numeric": examples}
    title = f"column {name!r} mixes types ({', '.join(types)}; {share:.0%} numeric)"
    action = "Clean the column: decide whether it is numeric and map the odd values to missing."
    return [Finding(f"mixed-types:{name}", "inventory", "warning", title, evidence, action)]


def _sentinels(series: pd.Series) -> list[Finding]:
    name = str(series.name)
    if pd.api.types.is_bool_dtype(series):
        return []
    if pd.api.types.is_numeric_dtype(series):
        values = series.dropna()
        if values.empty:
            return []
        edges = {values.min(), values.max()}
        hits: dict[str, int] = {
            str(v): int((values == v).sum()) for v in NUMERIC_SENTINELS if v in edges
        }
    else:
        levels = series.value_counts()  # normalise the distinct levels, not every row
        keys = pd.Series(levels.index.astype(str), index=levels.index).str.strip().str.lower()
        matched = levels[keys.isin(TEXT_SENTINELS).to_numpy()]
        hits = {}
        for level, n in matched.items():
            key = str(level).strip().lower()
            hits[key] = hits.get(key, 0) + int(n)
    hits = {k: v for k, v in hits.items() if v}
    if not hits:
        return []
    total = sum(hits.values())
    shown = ", ".join(repr(k) for k in hits)
    title = f"column {name!r} uses {shown} for {total:,} value(s), probably meaning missing"
    evidence = {"column": name, "values": {str(k): v for k, v in hits.items()}}
    action = "Map these values to missing when loading (or confirm they are real values)."
    return [Finding(f"sentinel:{name}", "inventory", "warning", title, evidence, action)]


def _infinite(series: pd.Series) -> list[Finding]:
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return []
    n_inf = int(np.isinf(series.to_numpy(dtype=np.float64, na_value=np.nan)).sum())
    if not n_inf:
        return []
    name = str(series.name)
    title = f"column {name!r} holds {n_inf:,} infinite value(s)"
    action = "They are treated as missing by the feature pipeline; fix the computation upstream."
    return [Finding(f"infinite:{name}", "inventory", "warning", title, {"count": n_inf}, action)]


def _outliers(frame: pd.DataFrame, schema: Schema) -> list[Finding]:
    """Far-out values beyond 3 IQR from the quartiles (Tukey's outer fences)."""
    found: dict[str, dict[str, Any]] = {}
    for name in schema.names("numeric"):
        values = pd.to_numeric(frame[name], errors="coerce").replace([np.inf, -np.inf], np.nan)
        q1, q3 = values.quantile([0.25, 0.75])
        iqr = q3 - q1
        if not iqr > 0:
            continue
        far = (values < q1 - 3 * iqr) | (values > q3 + 3 * iqr)
        if far.any():
            found[name] = {
                "count": int(far.sum()),
                "share": round(float(far.mean()), 4),
                "fences": [float(q1 - 3 * iqr), float(q3 + 3 * iqr)],
                "range": [float(values.min()), float(values.max())],
            }
    if not found:
        return []
    top = dict(sorted(found.items(), key=lambda kv: -kv[1]["share"])[:10])
    title = f"{len(found)} numeric column(s) have far-out values (worst: {next(iter(top))!r})"
    action = "Check the extremes are real; tree models are robust, linear ones may need clipping."
    return [Finding("inventory:outliers", "inventory", "info", title, {"columns": top}, action)]
