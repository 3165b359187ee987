"""The verdict: every success criterion checked against its confidence interval.

A criterion such as ``roc_auc: ">= 0.80"`` passes when the whole 95% interval satisfies
it, fails when none of it does, and is inconclusive otherwise (the test set cannot tell).
The engagement is a go only when every criterion passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crispml.spec import parse_criterion

SCHEMA_VERSION = 1
PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
LATENCY_CRITERIA = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
_MSG_UNKNOWN = (
    "success_criteria.{name}: crispml does not measure {name!r}. Known here: {known}. "
    "Rename the criterion or remove it."
)


def _holds(op: str, value: float, threshold: float) -> bool:
    return {
        ">=": value >= threshold,
        ">": value > threshold,
        "<=": value <= threshold,
        "<": value < threshold,
    }[op]


def check_criterion(op: str, threshold: float, interval: Mapping[str, Any]) -> str:
    """Return pass / fail / inconclusive for one criterion and its interval.

    Parameters
    ----------
    op : str
        ``>=``, ``>``, ``<=`` or ``<``.
    threshold : float
        The value the criterion names.
    interval : mapping
        ``estimate``, ``low``, ``high`` (``low``/``high`` None when no interval exists:
        then the estimate alone decides).

    Returns
    -------
    str

    Examples
    --------
    >>> check_criterion(">=", 0.8, {"estimate": 0.85, "low": 0.82, "high": 0.88})
    'pass'
    >>> check_criterion(">=", 0.8, {"estimate": 0.81, "low": 0.77, "high": 0.85})
    'inconclusive'
    >>> check_criterion("<=", 0.1, {"estimate": 0.2, "low": 0.15, "high": 0.25})
    'fail'
    """
    est, low, high = interval.get("estimate"), interval.get("low"), interval.get("high")
    if est is None:
        return INCONCLUSIVE
    if low is None or high is None:
        return PASS if _holds(op, est, threshold) else FAIL
    # the interval's end that is hardest to satisfy decides a pass, the easiest a fail
    worst, best = (low, high) if op in (">=", ">") else (high, low)
    if _holds(op, worst, threshold):
        return PASS
    if not _holds(op, best, threshold):
        return FAIL
    return INCONCLUSIVE


def verdict(
    criteria: Mapping[str, str], measured: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """Check every criterion against the measured intervals; overall go / no-go.

    Parameters
    ----------
    criteria : mapping
        ``problem.success_criteria``: name -> ``"<op> <number>"``.
    measured : mapping
        Name -> ``{estimate, low, high}`` (test metrics, ``ece``, fairness gaps...).

    Returns
    -------
    dict
        ``criteria`` (one entry per criterion: name, op, threshold, estimate, low, high,
        result, note), ``overall`` (``go`` / ``no-go``), ``counts`` per result.

    Examples
    --------
    >>> auc = {"estimate": 0.9, "low": 0.85, "high": 0.93}
    >>> verdict({"roc_auc": ">= 0.8"}, {"roc_auc": auc})["overall"]
    'go'
    """
    rows = []
    for name, text in criteria.items():
        op, threshold = parse_criterion(text)
        row: dict[str, Any] = {"name": name, "op": op, "threshold": threshold}
        if name in measured:
            interval = measured[name]
            row.update({k: interval.get(k) for k in ("estimate", "low", "high")})
            row["result"] = check_criterion(op, threshold, interval)
        elif name in LATENCY_CRITERIA:
            row.update(result=INCONCLUSIVE, note="latency is measured at deployment, not here")
        else:
            known = ", ".join(sorted([*measured, *LATENCY_CRITERIA]))
            row.update(result=INCONCLUSIVE, note=_MSG_UNKNOWN.format(name=name, known=known))
        rows.append(row)
    counts = {r: sum(1 for row in rows if row["result"] == r) for r in (PASS, FAIL, INCONCLUSIVE)}
    go = all(row["result"] == PASS for row in rows)
    return {
        "schema_version": SCHEMA_VERSION,
        "criteria": rows,
        "counts": counts,
        "overall": "go" if go else "no-go",
        "rule": "go when every criterion's 95% interval lies on the right side of its threshold",
    }


def revise_verdict(
    decision: Mapping[str, Any],
    criteria: Mapping[str, str],
    latency_ms: Mapping[str, float],
) -> dict[str, Any]:
    """Re-check a verdict once latency has been measured (at deployment, after evaluation).

    Parameters
    ----------
    decision : mapping
        A verdict from :func:`verdict` (``evaluation/verdict.json``).
    criteria : mapping
        ``problem.success_criteria``.
    latency_ms : mapping
        Measured single-row latency percentiles, keyed like the criteria
        (``latency_p50_ms``, ``latency_p95_ms``, ``latency_p99_ms``). Percentiles of
        many requests are point figures: they pass or fail, never inconclusive.

    Returns
    -------
    dict
        The new verdict; criteria measured before keep their intervals.

    Examples
    --------
    >>> first = verdict({"latency_p99_ms": "<= 30"}, {})
    >>> first["overall"], revise_verdict(first, {"latency_p99_ms": "<= 30"},
    ...                                  {"latency_p99_ms": 12.5})["overall"]
    ('no-go', 'go')
    """
    measured: dict[str, dict[str, Any]] = {
        row["name"]: {k: row.get(k) for k in ("estimate", "low", "high")}
        for row in decision.get("criteria", [])
        if row.get("estimate") is not None
    }
    for name, value in latency_ms.items():
        measured[name] = {"estimate": float(value), "low": None, "high": None}
    return verdict(criteria, measured)
