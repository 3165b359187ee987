"""The risks a reader must know, written from the run's findings (not boilerplate).

Shared by the report's first screen (the first few), its caveats section and the
model card's caveats (all of them). Every figure goes through ``show`` (the claims
ledger) when one is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crispml.evaluate import EvaluationResult
from crispml.report._claims import Source, fmt
from crispml.report._record import RunRecord

Show = Callable[[Any, Source, str], str] | None
FOUR_FIFTHS = 0.8
DIFFERENCE = 0.1
"""A parity difference whose interval reaches above this is named as a risk."""
SLICES = "evaluation/slices.json"


def _printer(show: Show) -> Callable[[Any, Source, str], str]:
    def text(value: Any, source: Source, label: str) -> str:
        return show(value, source, label) if show else fmt(value)

    return text


def risks(record: RunRecord, show: Show = None) -> list[str]:
    """Return the run's risks, most serious first: what was found and what to do.

    Parameters
    ----------
    record : RunRecord
        The run folder.
    show : callable, optional
        Prints a figure through the claims ledger; plain formatting without it.

    Returns
    -------
    list of str
        Sentences, each naming the evidence and the action.
    """
    text = _printer(show)
    items = []
    failed = [c for c in record.verdict.criteria if c.result != "pass"]
    if failed:
        names = ", ".join(f"{c.name.replace('_', ' ')} ({c.result})" for c in failed)
        items.append(
            f"Criteria not passed: {names}. Do not deploy until they pass on more data, or "
            "revisit them with the client."
        )
    items += _deployment(record)
    items += _fairness(record, text)
    items += _slices(record, text)
    items += _audit(record)
    ev = record.evaluation
    if ev.n_test < 1000:
        rows = text(ev.n_test, Source(EvaluationResult.FILE, "n_test", {"kind": "count"}), "rows")
        items.append(
            f"The test set has {rows} rows: the intervals are wide; read them, not the point "
            "figures, and collect more labelled data before a high-stakes use."
        )
    return items


def _fairness(record: RunRecord, text: Callable[[Any, Source, str], str]) -> list[str]:
    gaps = record.evaluation.fairness_gaps
    out = []
    air = gaps.get("adverse_impact_ratio")
    if air is not None and air.estimate is not None and air.estimate < FOUR_FIFTHS:
        src = Source(EvaluationResult.FILE, "fairness_gaps.adverse_impact_ratio.estimate")
        value = text(air.estimate, src, "adverse impact ratio")
        out.append(
            f"Adverse impact: the least favoured group gets the favourable outcome at "
            f"{value} times the rate of the most favoured one (four-fifths rule: 0.8). "
            "Review the Fairness section and its threshold trade-off with counsel."
        )
    wide = [
        f"{gap.replace('_', ' ')} up to "
        + text(est.high, Source(EvaluationResult.FILE, f"fairness_gaps.{gap}.high"), gap)
        for gap, est in gaps.items()
        if gap.endswith("difference") and est.high is not None and est.high > DIFFERENCE
    ]
    if wide:
        out.append(
            f"Group gaps may be large (upper ends of 95% intervals): {'; '.join(wide)}. "
            "See Fairness before use."
        )
    for name in record.evaluation.fairness_underpowered:
        out.append(f"Too few rows to decide on {name}: collect more data for that group.")
    return out


def _deployment(record: RunRecord) -> list[str]:
    if record.deployment is None:
        return ["The run did not export a deployable model: parity and latency are untested."]
    lat, parity = record.deployment.latency, record.deployment.parity
    out = [f"Latency SLA not met: {v}. Profile or simplify the model." for v in lat.violations]
    if not parity.passed:
        out.append("The ONNX export did not pass its parity check: do not serve it.")
    return out


def _slices(record: RunRecord, text: Callable[[Any, Source, str], str]) -> list[str]:
    report = record.detail("slices") or {}
    overall = report.get("overall") or {}
    for i, s in enumerate(report.get("worst_slices") or []):
        if s.get("low") is None or overall.get("high") is None or s["low"] <= overall["high"]:
            continue
        est = text(s["estimate"], Source(SLICES, f"worst_slices.{i}.estimate"), s["slice"])
        base = text(overall["estimate"], Source(SLICES, "overall.estimate"), "overall error")
        return [
            f"Errors concentrate where {s['slice']} ({s['size']} test rows): "
            f"{report.get('error', 'error')} {est} against {base} overall. Tell the users, "
            "or collect more data there."
        ]
    return []


def _audit(record: RunRecord) -> list[str]:
    audit = record.audit
    if audit is None:
        return []
    out = [f"Blocking audit finding: {f.title}. {f.action}" for f in audit.blocking]
    shift = [f for f in audit.findings if f.check == "shift" and f.severity != "info"]
    if shift:
        out.append(
            f"Distribution shift between the split parts: {shift[0].title}. Monitor drift "
            "on live data (crispml monitor)."
        )
    warnings = [f for f in audit.by_severity("warning") if f.check != "shift"]
    if warnings:
        more = f" (and {len(warnings) - 1} more warning(s))" if len(warnings) > 1 else ""
        out.append(f"Data audit: {warnings[0].title}{more}. {warnings[0].action}".rstrip())
    return out
