"""Feature documentation in the handoff: ``report/features.json``, the report, the card.

Generated from the delivered model's fitted preprocessing (``model/pipeline.skops``,
loaded with crispml's trust list) and the inferred schema; see
:func:`crispml.features.document_features`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crispml.features import FeatureDocumentation, document_features, find_preprocessors
from crispml.models import load_pipeline
from crispml.report._blocks import Block, Show
from crispml.report._claims import Source
from crispml.report._record import RunRecord

PIPELINE = "model/pipeline.skops"
_SHOWN = 6
"""Levels or derived inputs listed per cell before ``+ n more``."""


def feature_documentation(
    record: RunRecord, model: Any | None = None
) -> FeatureDocumentation | None:
    """Document the delivered model's feature engineering, or ``None`` without a model file.

    ``model``: the delivered model when the caller holds it (the engagement, which has just
    written it to ``model/pipeline.skops``); otherwise it is read back from that file.
    """
    path = record.path / PIPELINE
    if not path.is_file():
        return None
    preprocessors = find_preprocessors(load_pipeline(path) if model is None else model)
    return document_features(
        record.schema, preprocessors, protected=tuple(record.spec.fairness.protected)
    )


def _some(items: list[str], total: int | None = None) -> str:
    total = len(items) if total is None else total
    text = ", ".join(items[:_SHOWN])
    return f"{text} + {total - min(len(items), _SHOWN)} more" if total > _SHOWN else text


def feature_rows(
    doc: FeatureDocumentation, show: Callable[[Any, Source, str], str]
) -> list[list[str]]:
    """One row per raw column: column, role, missing, reaches the model, imputation, encoding."""
    rows = []
    for i, c in enumerate(doc.columns):
        missing = show(c.missing_rate, Source(doc.FILE, f"columns.{i}.missing_rate"), c.column)
        encoding = c.encoding
        if c.levels_kept:
            encoding += f" (levels: {_some(c.levels_kept)})"
        if c.infrequent_levels:
            encoding += f"; pooled as infrequent: {_some(c.infrequent_levels)}"
        if c.n_derived > 1:
            encoding += f"; model inputs: {_some(c.derived, c.n_derived)}"
        reaches = "yes" if c.reaches_model else f"no: {c.status}"
        rows.append([c.column, c.role, missing, reaches, c.imputation or "—", encoding or "—"])
    return rows


COLUMNS = ["column", "role", "missing", "reaches the model", "imputation", "encoding"]


def features_block(record: RunRecord, show: Show) -> Block | None:
    """Build the report's feature engineering section from ``record.features``."""
    doc = record.features
    if doc is None:
        return None
    used = len(doc.used)
    block = Block(
        f"{used} of {len(doc.columns)} raw columns reach the model as {doc.n_model_inputs} "
        f"inputs ({', '.join(doc.flavours) or 'no'} preprocessing)"
    )
    caption = "every raw column (missing: share of the whole table); also in report/features.json"
    block.tables.append((caption, COLUMNS, feature_rows(doc, show)))  # every column, uncut
    return block


def features_md(record: RunRecord, show: Callable[[Any, Source, str], str]) -> list[str]:
    """Write the model card's feature engineering section (Markdown lines)."""
    doc = record.features
    if doc is None:
        return ["No fitted pipeline in the run: feature engineering not documented."]
    out = [
        f"{len(doc.used)} of {len(doc.columns)} raw columns reach the model as "
        f"{doc.n_model_inputs} inputs. Missing: share of the whole table. "
        "Machine-readable: `report/features.json`.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in feature_rows(doc, show):
        out.append("| " + " | ".join(cell.replace("|", "/") for cell in row) + " |")
    return out
