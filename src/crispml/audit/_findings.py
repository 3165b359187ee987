"""Findings of the data audit and the report that collects them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crispml._utils._io import to_json
from crispml._utils._result import check_version
from crispml.exceptions import AuditBlockedError

Severity = Literal["info", "warning", "blocking"]
SEVERITIES: tuple[Severity, ...] = ("blocking", "warning", "info")
"""Severities, most serious first (the order of the report)."""

AUDIT_SCHEMA_VERSION = 1
"""Version of the ``audit.json`` layout; bumped when a field changes meaning."""
AUDIT_FILE = "audit/audit.json"

_MSG_BLOCKED = (
    "the data audit found {n} blocking problem(s): {first}. Fix the data, or after review "
    "acknowledge it in the spec with audit: {{accept: [{ids}]}}."
)


@dataclass(frozen=True)
class Finding:
    """One observation of the audit, with its evidence and what to do about it.

    Attributes
    ----------
    id : str
        Stable identifier, ``<kind>:<subject>`` (e.g. ``leakage:colname``); blocking
        findings are acknowledged in ``audit.accept`` by this id.
    check : str
        The check that produced it: inventory, target, leakage, labels, proxies, shift
        or canary.
    severity : str
        ``info``, ``warning`` or ``blocking``.
    title : str
        One line saying what was found.
    evidence : dict
        The numbers, column names or example rows behind the finding (JSON-ready).
    action : str
        The recommended action.
    accepted : bool
        True when the spec acknowledges this (blocking) finding.
    """

    id: str
    check: str
    severity: Severity
    title: str
    evidence: dict[str, Any] = field(default_factory=dict)
    action: str = ""
    accepted: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (numpy scalars become Python numbers)."""
        return _plain(asdict(self))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class AuditReport:
    """Every finding of one audit, most serious first.

    Attributes
    ----------
    findings : tuple of Finding
        Sorted by severity (blocking, warning, info), then by check order.
    summary : dict
        Rows, columns and which rows the model-based checks used.
    timings_s : dict
        Wall time of each check, in seconds.
    """

    findings: tuple[Finding, ...]
    summary: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def blocking(self) -> list[Finding]:
        """Blocking findings that the spec does not accept."""
        return [f for f in self.findings if f.severity == "blocking" and not f.accepted]

    def by_severity(self, severity: Severity) -> list[Finding]:
        """Return the findings of one severity."""
        return [f for f in self.findings if f.severity == severity]

    def __getitem__(self, finding_id: str) -> Finding:
        for finding in self.findings:
            if finding.id == finding_id:
                return finding
        raise KeyError(finding_id)

    def ids(self) -> list[str]:
        """Ids of every finding, in report order."""
        return [f.id for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form with ``schema_version`` (what ``audit/audit.json`` holds)."""
        counts = {s: len(self.by_severity(s)) for s in SEVERITIES}
        return {
            "schema_version": AUDIT_SCHEMA_VERSION,
            "summary": _plain(self.summary),
            "counts": counts,
            "blocking_unaccepted": [f.id for f in self.blocking],
            "timings_s": {k: round(v, 3) for k, v in self.timings_s.items()},
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self) -> str:
        """Return :meth:`to_dict` as stable, indented JSON (``audit/audit.json``)."""
        return to_json(self.to_dict())

    @classmethod
    def from_json(cls, text: str, *, source: str = "<text>") -> AuditReport:
        """Read a report written by :meth:`to_json`.

        Raises
        ------
        ReportError
            If the text is of another schema version.
        """
        raw = json.loads(text)
        check_version(raw, AUDIT_SCHEMA_VERSION, source=source)
        findings = tuple(Finding(**item) for item in raw["findings"])
        return cls(findings, dict(raw["summary"]), dict(raw["timings_s"]))

    @classmethod
    def read(cls, run_dir: str | Path) -> AuditReport:
        """Load ``audit/audit.json`` from a run folder."""
        path = Path(run_dir) / AUDIT_FILE
        return cls.from_json(path.read_text(encoding="utf-8"), source=str(path))

    def raise_if_blocked(self) -> None:
        """Raise :class:`AuditBlockedError` if a blocking finding is not accepted.

        Raises
        ------
        AuditBlockedError
            Naming the first blocking finding and how to accept it.
        """
        blocked = self.blocking
        if blocked:
            first = f"{blocked[0].id} ({blocked[0].title})"
            ids = ", ".join(f"'{f.id}'" for f in blocked)
            raise AuditBlockedError(_MSG_BLOCKED.format(n=len(blocked), first=first, ids=ids))


def make_report(
    findings: Iterable[Finding],
    *,
    accept: Iterable[str] = (),
    summary: dict[str, Any] | None = None,
    timings_s: dict[str, float] | None = None,
) -> AuditReport:
    """Sort ``findings`` by severity and mark the blocking ones listed in ``accept``.

    Parameters
    ----------
    findings : iterable of Finding
        In check order; the order is kept within a severity.
    accept : iterable of str, default=()
        Ids of blocking findings the spec acknowledges (``audit.accept``).
    summary : dict, optional
        Rows, columns and sample sizes, stored in the report.
    timings_s : dict, optional
        Wall time of each check.

    Returns
    -------
    AuditReport

    Examples
    --------
    >>> report = make_report(
    ...     [Finding("inventory:overview", "inventory", "info", "10 rows"),
    ...      Finding("leakage:x", "leakage", "blocking", "x alone predicts the target")],
    ...     accept=["leakage:x"],
    ... )
    >>> report.ids(), report["leakage:x"].accepted, report.blocking
    (['leakage:x', 'inventory:overview'], True, [])
    """
    accepted = set(accept)
    order = {s: i for i, s in enumerate(SEVERITIES)}
    marked = [
        replace(f, accepted=True) if f.severity == "blocking" and f.id in accepted else f
        for f in findings
    ]
    ranked = sorted(enumerate(marked), key=lambda p: (order[p[1].severity], p[0]))
    return AuditReport(tuple(f for _, f in ranked), summary or {}, timings_s or {})


def _plain(value: Any) -> Any:
    """Make ``value`` JSON-ready: numpy scalars, arrays and tuples become plain Python."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return None if number != number or number in (float("inf"), float("-inf")) else number
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)
