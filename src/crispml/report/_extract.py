"""Facts pulled out of the run record: intervals, tables, findings, latency, verdict.

Other phases write their JSON in parallel with this one, so the readers look for
the usual key names (``value``/``estimate``, ``ci_low``/``lower``...) anywhere in a
document instead of relying on one fixed layout.
"""

from __future__ import annotations

import math
from typing import Any

from crispml.report._record import RunRecord, dig, first
from crispml.spec import parse_criterion

_VALUE_KEYS = ("value", "estimate", "point", "mean", "score", "observed")
_LOW_KEYS = ("ci_low", "ci_lower", "lower", "low", "lo", "ci_lo")
_HIGH_KEYS = ("ci_high", "ci_upper", "upper", "high", "hi", "ci_hi")
_CI_KEYS = ("ci", "ci95", "ci_95", "interval", "confidence_interval")
_SEVERITY_ORDER = {"blocking": 0, "error": 0, "warning": 1, "warn": 1, "info": 2}
_MAX_SCALARS = 60


def fmt(value: Any) -> str:
    """Format a number for the documents: 4 decimals, or 1 for large magnitudes.

    Examples
    --------
    >>> fmt(0.876543), fmt(1234.56), fmt(3), fmt(None)
    ('0.8765', '1234.6', '3', '—')
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "—"
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.2e}"
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.4f}"
    return str(value)


def is_number(value: Any) -> bool:
    """Tell whether ``value`` is a finite int or float (not a bool)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def interval(obj: Any) -> tuple[float, float | None, float | None] | None:
    """``(value, low, high)`` when ``obj`` is a mapping holding an estimate (and a CI)."""
    if not isinstance(obj, dict):
        return None
    value = first(obj, *_VALUE_KEYS)
    if not is_number(value):
        return None
    low, high = first(obj, *_LOW_KEYS), first(obj, *_HIGH_KEYS)
    pair = first(obj, *_CI_KEYS)
    if isinstance(pair, list | tuple) and len(pair) == 2:
        low, high = pair
    if isinstance(pair, dict):
        low, high = first(pair, *_LOW_KEYS), first(pair, *_HIGH_KEYS)
    return (
        float(value),
        float(low) if is_number(low) else None,
        float(high) if is_number(high) else None,
    )


def intervals(obj: Any, prefix: str = "") -> list[tuple[str, float, float | None, float | None]]:
    """Every estimate with a confidence interval found in ``obj``, with its dotted path."""
    found = []
    hit = interval(obj)
    if hit is not None and (hit[1] is not None or hit[2] is not None):
        return [(prefix or "value", *hit)]
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += intervals(value, f"{prefix}.{key}" if prefix else str(key))
    return found


def tables(obj: Any, prefix: str = "") -> list[tuple[str, list[dict[str, Any]]]]:
    """Every list of records (or mapping of mappings) in ``obj``: ``(path, rows)``."""
    if isinstance(obj, list) and obj and all(isinstance(r, dict) for r in obj):
        return [(prefix, [_flat_row(r) for r in obj])]
    if not isinstance(obj, dict):
        return []
    values = list(obj.values())
    if len(values) >= 2 and all(_is_record(v) for v in values):
        return [(prefix, [{"name": k, **_flat_row(v)} for k, v in obj.items()])]
    found = []
    for key, value in obj.items():
        found += tables(value, f"{prefix}.{key}" if prefix else str(key))
    return found


def matrices(obj: Any, prefix: str = "") -> list[tuple[str, list[list[Any]]]]:
    """Find every list of equal-length numeric lists in ``obj`` (e.g. a confusion matrix)."""
    if (
        isinstance(obj, list)
        and obj
        and all(isinstance(r, list) and r for r in obj)
        and len({len(r) for r in obj}) == 1
        and all(is_number(x) for r in obj for x in r)
    ):
        return [(prefix, obj)]
    found = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            found += matrices(value, f"{prefix}.{key}" if prefix else str(key))
    return found


def scalars(obj: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Flattened ``(dotted path, scalar)`` pairs of ``obj`` outside tables, capped."""
    out: list[tuple[str, Any]] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            out += scalars(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(obj, list):
        if obj and all(not isinstance(v, dict | list) for v in obj) and len(obj) <= 10:
            out.append((prefix, ", ".join(fmt(v) for v in obj)))
    else:
        out.append((prefix, obj))
    return out[:_MAX_SCALARS]


def _is_record(obj: Any) -> bool:
    """Tell whether ``obj`` is a flat mapping (scalars or estimates), i.e. a table row."""
    return (
        isinstance(obj, dict)
        and bool(obj)
        and interval(obj) is None
        and all(not isinstance(x, dict | list) or interval(x) is not None for x in obj.values())
    )


def _flat_row(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        hit = interval(value)
        if hit is not None:
            out[key] = hit[0]
            if hit[1] is not None and hit[2] is not None:
                out[f"{key} 95% CI"] = f"[{fmt(hit[1])}, {fmt(hit[2])}]"
        elif isinstance(value, dict):
            out.update({f"{key}.{k}": v for k, v in value.items() if not isinstance(v, dict)})
        elif isinstance(value, list):
            out[key] = ", ".join(fmt(v) for v in value[:8])
        else:
            out[key] = value
    return out


def findings(audit: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Audit findings as ``{severity, title, action, evidence}``, most severe first."""
    if audit is None:
        return []
    raw = audit if isinstance(audit, list) else first(audit, "findings", "issues", "checks")
    rows = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        severity = str(first(item, "severity", "level") or "info").lower()
        rows.append(
            {
                "severity": severity,
                "check": str(first(item, "check", "code", "id", "kind", "category") or ""),
                "title": str(
                    first(item, "title", "message", "summary", "description", "name") or ""
                ),
                "action": str(first(item, "action", "recommendation", "recommended_action") or ""),
                "evidence": first(item, "evidence", "details", "columns", "column"),
            }
        )
    return sorted(rows, key=lambda r: _SEVERITY_ORDER.get(r["severity"], 3))


def severity_counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Count the findings per severity."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["severity"]] = counts.get(row["severity"], 0) + 1
    return counts


def latency_rows(record: RunRecord) -> list[dict[str, Any]]:
    """Measured latency percentiles next to the spec's SLA (single row, in ms)."""
    if not isinstance(record.latency, dict):
        return []
    sla = dig(record.spec, "deployment", "latency_sla_ms") or {}
    rows = []
    for path, value in scalars(record.latency):
        if path.split(".", 1)[0].lower() in ("sla_ms", "sla", "latency_sla_ms"):
            continue  # the targets themselves, not measurements
        leaf = path.rsplit(".", 1)[-1].lower().removesuffix("_ms")
        if leaf in ("p50", "p95", "p99", "p90", "mean", "max") and is_number(value):
            limit = sla.get(leaf) if "batch" not in path.lower() else None
            rows.append(
                {
                    "measure": path,
                    "ms": float(value),
                    "sla_ms": limit,
                    "meets_sla": None if limit is None else float(value) <= float(limit),
                }
            )
    return rows


def parity_summary(parity: dict[str, Any] | None) -> dict[str, Any] | None:
    """Max difference, decision agreement and pass flag of the ONNX parity check."""
    if not isinstance(parity, dict):
        return None
    flat = dict(scalars(parity))
    pick = {
        "max_abs_diff": (
            "max_abs_diff",
            "max_abs_difference",
            "max_diff",
            "max_abs_proba_diff",
            "max_abs_prob_diff",
        ),
        "decision_agreement": ("decision_agreement", "agreement", "label_agreement"),
        "passed": ("passed", "ok", "pass", "certified"),
        "tolerance": ("tolerance", "atol", "threshold"),
    }
    out: dict[str, Any] = {}
    for name, keys in pick.items():
        for path, value in flat.items():
            if path.rsplit(".", 1)[-1] in keys:
                out[name] = value
                break
    return out


def verdict(record: RunRecord) -> dict[str, Any]:
    """Return the success-criteria verdict: the evaluation's own, else a point-estimate check.

    Returns
    -------
    dict
        ``overall`` (go / no-go / inconclusive / not set), ``source`` and ``criteria``
        rows ``{criterion, threshold, observed, result}``.
    """
    produced = _evaluation_verdict(record)
    if produced is not None:
        return produced
    criteria = dig(record.spec, "problem", "success_criteria") or {}
    rows = []
    for name, text in criteria.items():
        observed = record.test_metrics.get(str(name))
        try:
            op, threshold = parse_criterion(str(text))
        except ValueError:
            rows.append(_criterion(name, text, observed, "inconclusive"))
            continue
        if observed is None:
            rows.append(_criterion(name, text, None, "inconclusive"))
            continue
        ok = {">=": observed >= threshold, "<=": observed <= threshold}.get(
            op, observed > threshold if op == ">" else observed < threshold
        )
        rows.append(_criterion(name, text, observed, "pass" if ok else "fail"))
    results = {r["result"] for r in rows}
    overall = (
        "not set"
        if not rows
        else "no-go"
        if "fail" in results
        else "inconclusive"
        if "inconclusive" in results
        else "go"
    )
    return {"overall": overall, "source": "test point estimates (metrics.json)", "criteria": rows}


def _criterion(name: Any, text: Any, observed: float | None, result: str) -> dict[str, Any]:
    return {"criterion": str(name), "threshold": str(text), "observed": observed, "result": result}


def _evaluation_verdict(record: RunRecord) -> dict[str, Any] | None:
    for path, content in record.section("verdict").items():
        data = content if isinstance(content, dict) else {"criteria": content}
        overall = first(data, "overall", "verdict", "decision", "go")
        if isinstance(overall, dict):
            overall = first(overall, "overall", "verdict", "decision", "result")
        if overall is None:
            continue
        rows = []
        raw = first(data, "criteria", "checks", "results")
        items = raw.items() if isinstance(raw, dict) else enumerate(raw or [])
        for key, item in items:
            if isinstance(item, dict):
                rows.append(
                    {
                        "criterion": str(first(item, "criterion", "name", "metric") or key),
                        "threshold": str(first(item, "threshold", "target", "rule") or ""),
                        "observed": first(item, "observed", "value", "estimate"),
                        "result": str(first(item, "result", "status", "outcome") or ""),
                    }
                )
        if isinstance(overall, bool):
            overall = "go" if overall else "no-go"
        return {"overall": str(overall), "source": f"evaluation/{path}", "criteria": rows}
    return None
