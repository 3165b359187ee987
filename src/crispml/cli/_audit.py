"""Terminal rendering of an audit report (the ``crispml audit`` command)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crispml.audit import AuditReport

EXIT_BLOCKING = 3
"""Exit code of ``crispml audit`` when a blocking finding is not accepted by the spec."""
_STYLE = {"blocking": "bold red", "warning": "yellow", "info": "dim"}


def print_report(report: AuditReport, console: Console) -> None:
    """Print the findings as a table, most serious first, then a one-line verdict."""
    summary = report.summary
    table = Table(
        title=(
            f"Data audit: {summary.get('rows', 0):,} rows, {summary.get('columns', 0)} columns "
            f"(model-based checks on {summary.get('sample_rows', 0):,} train/valid rows)"
        )
    )
    table.add_column("severity")
    table.add_column("id", overflow="fold")
    table.add_column("finding", overflow="fold")
    table.add_column("action", overflow="fold")
    for finding in report.findings:
        severity = finding.severity + (" (accepted)" if finding.accepted else "")
        cells = (severity, finding.id, finding.title, finding.action)
        table.add_row(*map(escape, cells), style=_STYLE[finding.severity])
    console.print(table)
    counts = {s: len(report.by_severity(s)) for s in ("blocking", "warning", "info")}
    line = ", ".join(f"{n} {s}" for s, n in counts.items())
    blocked = report.blocking
    if blocked:
        ids = ", ".join(f"'{f.id}'" for f in blocked)
        console.print(
            f"[bold red]{line}.[/] crispml run stops on: {escape(ids)}. Fix the data, or "
            f"after review add to the spec: audit: {{accept: [{escape(ids)}]}}",
            highlight=False,
        )
    else:
        console.print(f"{line}.", highlight=False)
