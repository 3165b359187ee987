"""Pieces of the HTML report: titled blocks of plots, tables and facts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


def table(caption: str, cols: list[str], rows: list[list[str]], total: int | None = None) -> Table:
    """Build a table of all ``rows``, its caption saying when they are the first of ``total``.

    A table never drops rows itself: its cells hold figures already printed through the
    claims ledger, and a claim must be in the document. A long source is cut before its
    figures are printed, with :func:`first`.

    Examples
    --------
    >>> table("groups", ["group"], [["a"], ["b"]], total=40)[0]
    'groups (first 2 of 40)'
    """
    if total is not None and total > len(rows):
        caption = f"{caption} (first {len(rows)} of {total})"
    return caption, cols, rows


def first(items: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Return the first :data:`MAX_ROWS` entries of ``items``, the rows a table shows."""
    return list(items.items())[:MAX_ROWS]


def images(record: RunRecord, *names: str) -> list[str]:
    """Return the named plots of the run as ``data:`` URIs (those that exist)."""
    return [data_uri(record.images[rel]) for rel in names if rel in record.images]
