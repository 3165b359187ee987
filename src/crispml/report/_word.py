"""The text of the Word report: what a validator reads, section by section.

The report is written in the Markdown subset of :mod:`crispml.report._docx` and built
from the run's typed results with the card's own helpers, so it prints each figure
the way the card does, through the claims ledger (document ``report_docx``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crispml.deploy import DeploymentResult
from crispml.report._card import (
    _audit_rows,
    _md_quantitative,
    _md_threshold,
    caveats,
    metric_table_md,
    selection_note,
    verdict_lines,
)
from crispml.report._claims import Source, fmt
from crispml.report._compliance import IMPORTANCE, read_explanations
from crispml.report._record import RunRecord

Show = Callable[[Any, Source, str], str]
TOP_COLUMNS = 10


def report_markdown(record: RunRecord, compliance: dict[str, Any], show: Show) -> str:
    """Write the report's text (verdict first, then the evidence a validator checks).

    Parameters
    ----------
    record : RunRecord
        The run folder's typed results.
    compliance : dict
        The compliance map (:func:`crispml.report.build_compliance_map`).
    show : callable
        Formats a figure and records it in the claims ledger.

    Returns
    -------
    str
        Markdown-subset text for :func:`crispml.report._docx.render_docx`.
    """
    ev = record.evaluation
    lines = [
        f"# Evaluation report: {record.spec.name}",
        "",
        f"Run `{record.run_id}`; delivered model `{ev.model}` for a {ev.task} task "
        f"(target `{record.spec.problem.target}`).",
        "",
        "## Verdict",
        "",
        *verdict_lines(record, show),
        "",
        "## Test figures",
        "",
        selection_note(record, show),
        "",
        *metric_table_md(record, show, why=False),
        "",
        *_md_threshold(record, show),
        "",
        "## Fairness and worst slices",
        "",
        *_md_quantitative(record, show),
        "",
        "## Explanations",
        "",
        *_explanations(record, show),
        "",
        "## Deployment",
        "",
        *_deployment(record, show),
        "",
        "## Data audit",
        "",
        *_audit(record),
        "",
        "## Compliance map",
        "",
        *compliance_lines(compliance),
        "",
        "## Caveats and recommendations",
        "",
        *[f"- {item}" for item in caveats(record, show)],
        "",
        "## Reproduction",
        "",
        *_reproduction(record),
    ]
    return "\n".join(lines).rstrip() + "\n"


def _explanations(record: RunRecord, show: Show) -> list[str]:
    found = read_explanations(record.path)
    if found is None:
        return ["The run wrote no explanations."]
    out = [
        f"Global importance by raw input column ({found.method}), the top {TOP_COLUMNS}:",
        "",
        "| column | importance |",
        "|---|---|",
    ]
    for i, entry in enumerate(found.importance[:TOP_COLUMNS]):
        column = str(entry.get("column"))
        source = Source(IMPORTANCE, f"importance.{i}.importance")
        out.append(f"| {column} | {show(entry.get('importance'), source, column)} |")
    out.append("")
    if found.reason_codes:
        out.append(
            f"Per-row reason codes are recorded for {len(found.reason_codes)} test rows "
            f"(`{IMPORTANCE}`, field `reason_codes`); serving returns them per request."
        )
    else:
        out.append(
            "No per-row reason codes: this model family has global importance only, so "
            "individual decisions are not explained."
        )
    return out


def _deployment(record: RunRecord, show: Show) -> list[str]:
    dep = record.deployment
    if dep is None:
        return ["The run did not export a deployable model: parity and latency untested."]
    art, parity, lat = DeploymentResult.FILE, dep.parity, dep.latency
    diff = "max_rel_diff" if parity.task == "regression" else "max_abs_prob_diff"
    shown = show(parity.max_diff, Source(art, f"parity.{diff}"), f"parity {diff}")
    tol = show(parity.tolerance, Source(art, "parity.tolerance"), "parity tolerance")
    out = [
        f"- ONNX parity: {'passed' if parity.passed else 'FAILED'} ({diff} {shown}, "
        f"tolerance {tol}, {parity.n_test_rows} test rows and {parity.n_edge_cases} edge cases)."
    ]
    mode = "http" if lat.http is not None else "in_process"
    single = lat.checked_single_row
    cells = [
        show(getattr(single, p), Source(art, f"latency.{mode}.single_row.{p}"), f"latency {p}")
        for p in ("p50_ms", "p95_ms", "p99_ms")
    ]
    sla = ", ".join(f"{k} {fmt(v)} ms" for k, v in lat.sla_ms.items() if v is not None)
    out.append(
        f"- Single-row latency ({lat.checked}): p50 {cells[0]} ms, p95 {cells[1]} ms, "
        f"p99 {cells[2]} ms; SLA {sla or 'none'}: {'met' if lat.meets_sla else 'NOT met'}."
    )
    return out


def _audit(record: RunRecord) -> list[str]:
    if record.audit is None:
        return ["The run has no data audit."]
    rows = _audit_rows(record)
    if not rows:
        return ["The audit found no warnings."]
    out = ["| severity | finding | action |", "|---|---|---|"]
    out += [f"| {r['severity']} | {_cell(r['title'])} | {_cell(r['action'])} |" for r in rows]
    return out


def compliance_lines(compliance: dict[str, Any]) -> list[str]:
    """Write the compliance map as a table: item, covered, evidence, what is left to do."""
    out = [
        str(compliance["note"]),
        "",
        *[
            f"- {fw}: {s['covered']} of {s['total']} items covered by evidence in the run."
            for fw, s in compliance["summary"].items()
        ],
        "",
        "| framework | item | requirement | covered | evidence | left to the team |",
        "|---|---|---|---|---|---|",
    ]
    for it in compliance["items"]:
        evidence = "; ".join(
            f"`{e['artifact']}{'#' + e['field'] if e['field'] else ''}` ({e['holds']})"
            for e in it["evidence_detail"]
        )
        out.append(
            f"| {it['framework']} | {it['id']} | {_cell(it['requirement'])} | "
            f"{'yes' if it['covered'] else 'no'} | {evidence or '—'} | "
            f"{_cell(it['left_to_team'] or '')} |"
        )
    return out


def _reproduction(record: RunRecord) -> list[str]:
    signing = (record.manifest.get("signing") or {}).get("public_key_fingerprint")
    out = [
        "- `crispml verify RUN` re-hashes every artifact against `manifest.json`, checks its "
        "ed25519 signature and recomputes every figure of the documents.",
        "- `crispml verify RUN --replay` re-runs the engagement and compares predictions.",
        "- `bash reproduce.sh` installs the exact environment recorded in the run folder "
        "and re-runs the engagement.",
    ]
    if signing:
        out.append(f"- The manifest is signed by the key with fingerprint `{signing}`.")
    return out


def _cell(text: Any) -> str:
    return str(text).replace("|", "/").replace("\n", " ")
