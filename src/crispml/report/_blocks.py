"""Pieces of the HTML report: titled blocks of plots, tables and facts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crispml.report._claims import Source
from crispml.report._plots import data_uri
from crispml.report._record import RunRecord

MAX_ROWS = 25
Show = Callable[[Any, Source, str], str]
"""Print a figure through the claims ledger: ``show(value, source, label) -> text``."""
Table = tuple[str, list[str], list[list[str]]]


@dataclass
class Block:
    """One titled piece of a section: plots, tables and key/value facts."""

    title: str
    svgs: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)


def table(caption: str, cols: list[str], rows: list[list[str]]) -> Table:
    """Build a table, keeping the first :data:`MAX_ROWS` rows (the caption says so)."""
    if len(rows) > MAX_ROWS:
        caption = f"{caption} (first {MAX_ROWS} of {len(rows)})"
    return caption, cols, rows[:MAX_ROWS]


def images(record: RunRecord, *names: str) -> list[str]:
    """Return the named plots of the run as ``data:`` URIs (those that exist)."""
    return [data_uri(record.images[rel]) for rel in names if rel in record.images]
