"""The data audit as one call: every check, in order, into one report."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from crispml import data as cdata
from crispml.audit._canary import canary_findings
from crispml.audit._common import AuditSample, build_sample
from crispml.audit._findings import AUDIT_FILE, AuditReport, Finding, make_report
from crispml.audit._inventory import inventory_findings, row_hashes
from crispml.audit._labels import label_findings
from crispml.audit._leakage import leakage_findings
from crispml.audit._proxies import proxy_findings
from crispml.audit._ranking import ranking_findings
from crispml.audit._shift import shift_findings
from crispml.audit._target import target_findings

if TYPE_CHECKING:
    from crispml.spec import ProjectSpec

logger = logging.getLogger(__name__)
"""Where the report goes in a run folder."""


class _JsonWriter(Protocol):
    def write_json(self, rel: str, payload: Any) -> Any: ...


def audit_data(
    dataset: cdata.Dataset,
    split: cdata.Split,
    spec: ProjectSpec,
    *,
    folder: _JsonWriter | None = None,
    enforce: bool = False,
) -> AuditReport:
    """Run every check of the data audit; the data is only read, never changed.

    Model-based checks (leakage, labels, proxies, canary) use the train and validation
    rows only, capped at ``spec.audit.sample_rows``; the test set's labels are never read.
    The shift check uses test features (not labels).

    Parameters
    ----------
    dataset : Dataset
        From :func:`crispml.data.prepare_dataset`.
    split : Split
        From :func:`crispml.data.make_split` on ``dataset.frame``.
    spec : ProjectSpec
        The resolved spec (protected columns, time column, ``audit`` section).
    folder : RunFolder, optional
        When given, the report is written to ``audit/audit.json`` in it.
    enforce : bool, default=False
        Raise when a blocking finding is not listed in ``spec.audit.accept``
        (after writing the report).

    Returns
    -------
    AuditReport

    Raises
    ------
    AuditBlockedError
        If ``enforce`` and a blocking finding is not accepted.

    Examples
    --------
    >>> from crispml.data import load_table, make_split, prepare_dataset
    >>> from crispml.spec import ProjectSpec
    >>> spec = ProjectSpec(name="iris", problem={"task": "multiclass", "target": "target"},
    ...                    data={"source": "sklearn:iris"}).resolved()
    >>> ds = prepare_dataset(load_table("sklearn:iris"), spec)
    >>> report = audit_data(ds, make_split(ds.frame, spec.split, target="target"), spec)
    >>> report.blocking
    []
    """
    settings, seed = spec.audit, spec.split.seed
    timings: dict[str, float] = {}
    findings: list[Finding] = []

    def timed(name: str, check: Callable[[], list[Finding]]) -> None:
        start = time.monotonic()
        findings.extend(check())
        timings[name] = time.monotonic() - start
        logger.debug("audit check %s took %.2f s", name, timings[name])

    start = time.monotonic()
    hashes = row_hashes(dataset.frame, dataset.schema)
    if dataset.target.task == "anomaly":  # label-free checks; the classes when labelled
        timed("inventory", lambda: inventory_findings(dataset, hashes))
        if dataset.labelled:
            timed("target", lambda: target_findings(dataset, split))
        timed("shift", lambda: shift_findings(dataset, split, cap=settings.sample_rows, seed=seed))
        summary = _summary(dataset, settings.accept, labelled=None, sample=None)
        summary["rows_by_check"] = None
        return _finish(findings, settings.accept, summary, timings, folder, enforce=enforce)
    if dataset.target.task == "ranking":  # query checks; no class-based model checks
        group = spec.problem.group_column or ""
        timed("inventory", lambda: inventory_findings(dataset, hashes))
        timed("ranking", lambda: ranking_findings(dataset, group))
        timed("shift", lambda: shift_findings(dataset, split, cap=settings.sample_rows, seed=seed))
        summary = _summary(dataset, settings.accept, labelled=None, sample=None)
        summary["rows_by_check"] = None
        return _finish(findings, settings.accept, summary, timings, folder, enforce=enforce)
    sample = build_sample(dataset, split, cap=settings.sample_rows, seed=seed)
    timings["prepare"] = time.monotonic() - start
    timed("inventory", lambda: inventory_findings(dataset, hashes))
    timed("target", lambda: target_findings(dataset, split))
    time_column = spec.split.time_column
    timed(
        "leakage",
        lambda: leakage_findings(
            dataset, split, sample, hashes, time_column=time_column, seed=seed
        ),
    )
    protected = tuple(spec.fairness.protected)
    timed("labels", lambda: label_findings(dataset, sample, seed, protected))
    threshold = settings.proxy_threshold
    timed(
        "proxies",
        lambda: proxy_findings(dataset, sample, protected, threshold=threshold, seed=seed),
    )
    timed("shift", lambda: shift_findings(dataset, split, cap=settings.sample_rows, seed=seed))
    timed("canary", lambda: canary_findings(sample, seed=seed))
    summary = _summary(dataset, settings.accept, labelled=sample.n_labelled, sample=sample)
    summary["rows_by_check"] = _rows_by_check(dataset, split, sample, findings)
    return _finish(findings, settings.accept, summary, timings, folder, enforce=enforce)


def _summary(
    dataset: cdata.Dataset,
    accept: tuple[str, ...],
    *,
    labelled: int | None,
    sample: AuditSample | None,
) -> dict[str, Any]:
    """Summarise the audit; anomaly audits have no sample (no model-based checks)."""
    return {
        "rows": len(dataset.frame),
        "columns": dataset.frame.shape[1],
        "task": dataset.target.task,
        "labelled_rows": labelled,
        "sample_rows": None if sample is None else len(sample.positions),
        "sampled": False if sample is None else sample.capped,
        "test_labels_read": False,
        "positions": "0-based rows of the table after rows without a target are removed",
        "accepted": list(accept),
    }


def _finish(
    findings: list[Finding],
    accept: tuple[str, ...],
    summary: dict[str, Any],
    timings: dict[str, float],
    folder: _JsonWriter | None,
    *,
    enforce: bool,
) -> AuditReport:
    findings += _unused_accepts(accept, findings)
    report = make_report(findings, accept=accept, summary=summary, timings_s=timings)
    if folder is not None:
        folder.write_json(AUDIT_FILE, report.to_dict())  # the text of report.to_json()
    if enforce:
        report.raise_if_blocked()
    return report


def _rows_by_check(
    dataset: cdata.Dataset, split: cdata.Split, sample: Any, findings: list[Finding]
) -> dict[str, dict[str, Any]]:
    """Rows each check read, and whether that was a sample: exact where counts matter.

    The inventory and the target checks count over every row (duplicates, missing
    values, class shares are exact, and cheap); the model-based checks use the audit
    sample (``audit.sample_rows``), and the checks that sample further say so in their
    evidence (``rows_checked``).
    """
    n_rows, labelled = len(dataset.frame), len(split.train) + len(split.valid)
    out: dict[str, dict[str, Any]] = {
        "inventory": {"rows": n_rows, "sampled": False},
        "target": {"rows": n_rows, "sampled": False},
    }
    for name in ("leakage", "proxies", "canary"):
        out[name] = {"rows": len(sample.positions), "sampled": len(sample.positions) < labelled}
    for finding in findings:
        rows = finding.evidence.get("rows_checked", finding.evidence.get("rows_used"))
        if finding.check in ("labels", "shift") and rows is not None:
            sampled = bool(finding.evidence.get("sampled", False))
            out[finding.check] = {"rows": int(rows), "sampled": sampled}
    return out


def _unused_accepts(accept: tuple[str, ...], findings: list[Finding]) -> list[Finding]:
    """Report ``audit.accept`` entries that match no blocking finding (a typo or stale)."""
    blocking = {f.id for f in findings if f.severity == "blocking"}
    unused = [a for a in accept if a not in blocking]
    if not unused:
        return []
    return [
        Finding(
            "audit:unused-accept",
            "audit",
            "info",
            f"audit.accept lists {', '.join(map(repr, unused))}, which match no blocking finding",
            {"unused": unused, "blocking_ids": sorted(blocking)},
            "Remove stale entries; check the spelling against the ids in this report.",
        )
    ]


def audit_spec(spec: ProjectSpec, *, base_dir: str | Path = ".") -> AuditReport:
    """Load the spec's data, split it, and audit it, writing nothing anywhere.

    Parameters
    ----------
    spec : ProjectSpec
        The project spec (resolved here).
    base_dir : str or Path, default="."
        The spec's folder (relative data paths start here).

    Returns
    -------
    AuditReport

    Raises
    ------
    DataError, SpecError
        If the data cannot be loaded, split or does not fit the spec.

    Examples
    --------
    >>> from crispml.spec import spec_from_dict
    >>> spec = spec_from_dict({"name": "wine", "data": {"source": "sklearn:wine"},
    ...                        "problem": {"task": "multiclass", "target": "target"}})
    >>> report = audit_spec(spec)
    >>> report.summary["rows"], report["target:balance"].evidence["counts"]["class_0"]
    (178, 59)
    """
    spec = spec.resolved()
    table = cdata.load_table(spec.data.source, base_dir=base_dir)
    dataset = cdata.prepare_dataset(table, spec)
    split = cdata.make_split(
        dataset.frame, spec.split, target=spec.problem.target or "", id_column=spec.data.id_column
    )
    return audit_data(dataset, split, spec)
