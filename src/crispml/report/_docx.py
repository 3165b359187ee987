"""Editable Word versions of the handoff documents, built on a template the client owns.

The Word documents start from a ``.docx`` template (``report.template`` in the spec, else
the one shipped in ``crispml/report/templates/crispml.docx``): its styles, page set-up,
headers and footers, and its body (a cover page, a disclaimer) are kept; placeholders
such as ``{{ title }}`` or ``{{ verdict }}`` in it are filled in; the document's own
content follows. The content is written in a small Markdown subset (headings, tables,
bullets, paragraphs with ``**bold**`` and ``code``), the same text the Markdown card
prints, so both say exactly the same figures.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from crispml.exceptions import ReportError

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.text.paragraph import Paragraph

    from crispml.report._record import RunRecord

DEFAULT_TEMPLATE = Path(__file__).parent / "templates" / "crispml.docx"
_MSG_NO_TEMPLATE = (
    "report.template: {path} does not exist. Name a .docx relative to the project "
    "folder, or remove report.template to use crispml's own template."
)
_MSG_NOT_DOCX = (
    "report.template: {path} is not a Word document (.docx): {problem}. Save the "
    "template from Word as .docx, or remove report.template."
)
_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_INLINE = re.compile(r"(\*\*[^*]+\*\*|`[^`]+`)")
_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)
_STYLES = {"bullet": "List Bullet", "table": "Table Grid", "title": "Title"}


def check_template(path: str | Path | None) -> Path:
    """Return the template to use, refusing a path that is not a readable ``.docx``.

    Parameters
    ----------
    path : str or Path or None
        The client's template, or ``None`` for the one shipped with crispml.

    Returns
    -------
    Path

    Raises
    ------
    ReportError
        If the file is missing or not a Word document.

    Examples
    --------
    >>> check_template(None).name
    'crispml.docx'
    """
    if path is None:
        return DEFAULT_TEMPLATE
    target = Path(path)
    if not target.is_file():
        raise ReportError(_MSG_NO_TEMPLATE.format(path=target))
    problem = _docx_problem(target)
    if problem:
        raise ReportError(_MSG_NOT_DOCX.format(path=target, problem=problem))
    return target


def _docx_problem(path: Path) -> str | None:
    """Say why ``path`` is not a Word document, or return ``None``."""
    if not zipfile.is_zipfile(path):
        return "not a zip package"
    with zipfile.ZipFile(path) as package:
        if "word/document.xml" not in package.namelist():
            return "no word/document.xml in the package"
    try:
        _open(path)
    except Exception as exc:  # python-docx raises several kinds on a damaged package
        return f"python-docx cannot open it ({type(exc).__name__})"
    return None


def _open(path: Path) -> DocxDocument:
    from docx import Document

    return Document(str(path))


def render_docx(
    markdown: str,
    *,
    template: Path,
    fields: Mapping[str, str],
    when: datetime | None = None,
) -> bytes:
    """Write Markdown-subset text into a copy of ``template`` and return the ``.docx``.

    Parameters
    ----------
    markdown : str
        Headings (``#`` to ``###``), pipe tables, ``- `` bullets and paragraphs.
    template : Path
        A ``.docx`` checked by :func:`check_template`.
    fields : mapping of str to str
        Values of the template's ``{{ name }}`` placeholders.
    when : datetime, optional
        The document's date (the run's): its created and modified properties and
        the time stamp of every part, so the same run always gives the same bytes.

    Returns
    -------
    bytes
    """
    doc = _open(template)
    if fill_placeholders(doc, fields):
        doc.add_page_break()  # type: ignore[no-untyped-call]  # the template's pages first
    props = doc.core_properties
    props.title = fields.get("title", "")
    props.subject = fields.get("document", "")
    props.author = "crispml"
    props.keywords = fields.get("run_id", "")
    stamp = when or _EPOCH
    props.created = props.modified = stamp
    styles = {s.name for s in doc.styles}
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            _table(doc, rows, styles)
            continue
        _block(doc, line, styles)
        i += 1
    out = io.BytesIO()
    doc.save(out)
    return _stable_zip(out.getvalue(), stamp)


def _stable_zip(data: bytes, when: datetime) -> bytes:
    """Rewrite a zip package with every part stamped ``when`` (python-docx uses now)."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            part = zipfile.ZipInfo(info.filename, date_time=stamp)
            part.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(part, src.read(info.filename))
    return out.getvalue()


def fill_placeholders(doc: DocxDocument, fields: Mapping[str, str]) -> bool:
    """Fill ``{{ name }}`` in the template's paragraphs; tell whether its body has text."""
    paragraphs = list(_all_paragraphs(doc))
    for paragraph in paragraphs:
        if "{{" not in paragraph.text:
            continue
        text = _PLACEHOLDER.sub(lambda m: fields.get(m.group(1), m.group(0)), paragraph.text)
        runs = paragraph.runs
        if runs:  # keep the first run's formatting for the whole filled text
            runs[0].text = text
            for run in runs[1:]:
                run.text = ""
    return any(p.text.strip() for p in doc.paragraphs) or bool(doc.tables)


def _all_paragraphs(doc: DocxDocument) -> Iterable[Paragraph]:
    yield from doc.paragraphs
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from cell.paragraphs
    for section in doc.sections:
        for part in (section.header, section.footer):
            yield from part.paragraphs


def _block(doc: DocxDocument, line: str, styles: set[str]) -> None:
    stripped = line.strip()
    if not stripped:
        return
    heading = re.match(r"^(#{1,3}) (.*)$", stripped)
    if heading:
        level, text = len(heading.group(1)), _plain(heading.group(2))
        if f"Heading {level}" in styles:
            doc.add_heading(text, level=level)
        else:  # a client template without heading styles: bold text still reads as one
            doc.add_paragraph().add_run(text).bold = True
        return
    if stripped.startswith("- "):
        style = _STYLES["bullet"] if _STYLES["bullet"] in styles else None
        _inline(doc.add_paragraph(style=style), stripped[2:])
        return
    _inline(doc.add_paragraph(), stripped)


def _table(doc: DocxDocument, rows: list[str], styles: set[str]) -> None:
    cells = [_cells(r) for r in rows if not re.fullmatch(r"\|[\s|:-]*\|", r.strip())]
    width = max(len(r) for r in cells)
    table = doc.add_table(rows=len(cells), cols=width)
    if _STYLES["table"] in styles:
        table.style = _STYLES["table"]
    for r, values in enumerate(cells):
        for c, value in enumerate(values):
            paragraph = table.cell(r, c).paragraphs[0]
            _inline(paragraph, value, bold=r == 0)


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _inline(paragraph: Paragraph, text: str, *, bold: bool = False) -> None:
    """Add ``text`` as runs: ``**bold**`` in bold, ``code`` in a monospace font."""
    for part in _INLINE.split(text):
        if not part:
            continue
        if part.startswith("**") and part.endswith("**"):
            paragraph.add_run(part[2:-2]).bold = True
        elif part.startswith("`") and part.endswith("`"):
            run = paragraph.add_run(part[1:-1])
            run.font.name = "Courier New"
            run.bold = bold or None
        else:
            paragraph.add_run(part).bold = bold or None


def _plain(text: str) -> str:
    return _INLINE.sub(lambda m: m.group(0).strip("*`"), text)


def docx_text(path: str | Path) -> str:
    """Return the text of a ``.docx``: paragraphs, then table cells, one per line.

    Parameters
    ----------
    path : str or Path
        A Word document.

    Returns
    -------
    str
        Empty when the file is missing or unreadable.
    """
    target = Path(path)
    if not target.is_file():
        return ""
    try:
        doc = _open(target)
    except Exception:  # an unreadable document shows no claim, so each one mismatches
        return ""
    lines = [p.text for p in doc.paragraphs]
    lines += [cell.text for table in doc.tables for row in table.rows for cell in row.cells]
    return "\n".join(lines)


def run_date(record: RunRecord) -> datetime | None:
    """Return the run's creation time from its manifest, if recorded."""
    try:
        return datetime.fromisoformat(str(record.manifest["created_at"]))
    except (KeyError, ValueError):
        return None


def template_fields(record: RunRecord, document: str) -> dict[str, str]:
    """Values of the template placeholders for one document of a run."""
    name = record.spec.name
    return {
        "title": f"{document}: {name}",
        "document": document,
        "project": name,
        "run_id": record.run_id,
        "verdict": record.verdict.overall,
        "date": str(record.manifest.get("created_at") or "")[:10],
        "model": record.evaluation.model,
    }
