"""The validator formats: the card and the report as Word documents, the report as PDF.

``report.formats`` in the spec chooses them (``md`` and ``html`` are always written).
What was written, and why a format was not (no Chromium to print the PDF), is recorded
in ``report/documents.json`` (:class:`HandoffDocuments`), which the manifest seals with
the documents themselves.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from crispml._utils._io import sha256_file
from crispml._utils._result import PhaseResult
from crispml.report._claims import Ledger, Source
from crispml.report._docx import DEFAULT_TEMPLATE, render_docx, run_date, template_fields
from crispml.report._pdf import print_pdf
from crispml.report._record import RunRecord
from crispml.report._word import report_markdown

logger = logging.getLogger(__name__)

DOCUMENTS_FILE = "report/documents.json"
CARD_DOCX = "report/model_card.docx"
REPORT_DOCX = "report/report.docx"
REPORT_PDF = "report/report.pdf"
FORMAT_FILES: dict[str, tuple[str, ...]] = {
    "md": ("report/model_card.md",),
    "html": ("report/report.html",),
    "docx": (CARD_DOCX, REPORT_DOCX),
    "pdf": (REPORT_PDF,),
}
OPTIONAL_FILES = (CARD_DOCX, REPORT_DOCX, REPORT_PDF, DOCUMENTS_FILE)
"""Handoff files written only for some ``report.formats`` (or when a tool is there)."""


class DocumentEntry(BaseModel):
    """One handoff document: its format, its path, and why it is missing if it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["md", "html", "docx", "pdf"]
    path: str
    written: bool
    problem: str | None = None


class HandoffDocuments(PhaseResult):
    """The documents a run handed over, in the formats the spec asked for.

    Attributes
    ----------
    formats : list of str
        ``report.formats`` of the spec.
    template : str
        The Word template used (``crispml`` for the shipped one, else its file name).
    template_sha256 : str
        sha256 of that template.
    documents : list of DocumentEntry
        Every document asked for; ``written`` is false with a ``problem`` when it could
        not be made.

    .. versionadded:: 0.1
    """

    FILE = DOCUMENTS_FILE

    formats: list[str]
    template: str
    template_sha256: str
    documents: list[DocumentEntry]

    @property
    def missing(self) -> list[DocumentEntry]:
        """Documents asked for but not written."""
        return [d for d in self.documents if not d.written]


def word_documents(
    record: RunRecord,
    *,
    card_md: str,
    compliance: dict[str, Any],
    ledger: Ledger,
    template: Path,
) -> dict[str, bytes]:
    """Render the card and the report as ``.docx`` and record their figures as claims.

    The Word card is the Markdown card's own text, so each claim of ``model_card`` is
    also a claim of ``model_card_docx``; the Word report prints its figures through
    ``ledger`` (document ``report_docx``).

    Returns
    -------
    dict
        Run-folder path to the bytes of each document.
    """
    card_claims = [c for c in ledger.claims if c.document == "model_card"]
    ledger.claims += [dataclasses.replace(c, document="model_card_docx") for c in card_claims]

    def show(value: Any, source: Source, label: str) -> str:
        return ledger.show(value, source, document="report_docx", label=label)

    text = report_markdown(record, compliance, show)
    when = run_date(record)
    card_fields = template_fields(record, "Model card")
    report_fields = template_fields(record, "Evaluation report")
    return {
        CARD_DOCX: render_docx(card_md, template=template, fields=card_fields, when=when),
        REPORT_DOCX: render_docx(text, template=template, fields=report_fields, when=when),
    }


def print_report(root: Path, sealed: dict[str, str]) -> str | None:
    """Print ``report/report.html`` to ``report/report.pdf``; say why not if it fails.

    A PDF carries the time it was printed, so a rebuild keeps the sealed PDF when the
    HTML it was printed from is unchanged (``sealed``: the manifest's artifact hashes).
    """
    pdf, html = root / REPORT_PDF, root / "report/report.html"
    if (
        pdf.is_file()
        and sealed.get(REPORT_PDF) == sha256_file(pdf)
        and sealed.get("report/report.html") == sha256_file(html)
    ):
        return None
    problem = print_pdf(html, pdf)
    if problem:
        logger.info("%s not written: %s", REPORT_PDF, problem)  # the CLI prints it
    return problem


def documents_record(
    root: Path, formats: tuple[str, ...], template: Path, problems: dict[str, str]
) -> HandoffDocuments:
    """Record which documents were written and why any asked-for one was not."""
    entries = [
        DocumentEntry(
            format=fmt,
            path=rel,
            written=(root / rel).is_file() and rel not in problems,
            problem=problems.get(rel),
        )
        for fmt in formats
        for rel in FORMAT_FILES[fmt]
    ]
    return HandoffDocuments(
        formats=list(formats),
        template="crispml" if template == DEFAULT_TEMPLATE else template.name,
        template_sha256=sha256_file(template),
        documents=entries,
    )
