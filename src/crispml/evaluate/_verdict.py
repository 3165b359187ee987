"""The verdict: every success criterion checked against its confidence interval.

A criterion such as ``roc_auc: ">= 0.80"`` passes when the whole 95% interval satisfies
it, fails when none of it does, and is inconclusive otherwise (the test set cannot tell).
The engagement is a go only when every criterion passes.

The verdict is its own step of the engagement, decided once after deployment from the
evaluation's result (test figures of the delivered model, ECE, parity gaps) and the
deployment's measured latency; nothing rewrites it afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from crispml._utils._result import PhaseResult
from crispml.evaluate._result import VS_BASELINE
from crispml.spec import BEATS_BASELINE, parse_criterion

SCHEMA_VERSION = 1
Outcome = Literal["pass", "fail", "inconclusive"]
PASS: Outcome = "pass"
FAIL: Outcome = "fail"
INCONCLUSIVE: Outcome = "inconclusive"
LATENCY_CRITERIA = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
RULE = "go when every criterion's 95% interval lies on the right side of its threshold"
_MSG_UNKNOWN = (
    "success_criteria.{name}: crispml does not measure {name!r}. Known here: {known}. "
    "Rename the criterion or remove it."
)
_MSG_NO_LATENCY = "latency is measured at deployment, and this run has no deployment"
_MSG_NO_BASELINE = (
    "beats_baseline needs the baselines; this run fitted none (search.baselines: false)"
)
BEATS_OP = "beats the best baseline by >"
"""How a ``beats_baseline`` criterion reads: its figures are the improvement, threshold 0."""


class CriterionResult(BaseModel):
    """One success criterion, the figure it was checked against, and the outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    op: str
    threshold: float
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    result: Outcome
    source: str | None = None
    note: str | None = None


class Verdict(PhaseResult):
    """The go / no-go decision over every success criterion (``evaluation/verdict.json``).

    Attributes
    ----------
    criteria : list of CriterionResult
        One row per criterion of the spec, in spec order.
    counts : dict of str to int
        How many criteria passed, failed, were inconclusive.
    overall : str
        ``go`` when every criterion passes, else ``no-go``.
    rule : str
        The decision rule, in words.
    latency_measured_on : str or None
        Which latency measurement the latency criteria used.
    """

    FILE = "evaluation/verdict.json"

    criteria: list[CriterionResult]
    counts: dict[str, int]
    overall: Literal["go", "no-go"]
    rule: str = RULE
    latency_measured_on: str | None = None


def _holds(op: str, value: float, threshold: float) -> bool:
    return {
        ">=": value >= threshold,
        ">": value > threshold,
        "<=": value <= threshold,
        "<": value < threshold,
    }[op]


def check_criterion(op: str, threshold: float, interval: Mapping[str, Any]) -> Outcome:
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


def _beats_baseline(
    name: str, measured: Mapping[str, Mapping[str, Any]], sources: Mapping[str, str]
) -> CriterionResult:
    """Decide ``<metric>: beats_baseline`` on the improvement's paired interval.

    The row is named ``<metric>_vs_baseline``: its figures are the improvement over
    the best baseline (positive is better), not the metric itself.
    """
    key = f"{name}{VS_BASELINE}"
    if key not in measured:
        return CriterionResult(
            name=key, op=BEATS_OP, threshold=0.0, result=INCONCLUSIVE, note=_MSG_NO_BASELINE
        )
    interval = measured[key]
    return CriterionResult(
        name=key,
        op=BEATS_OP,
        threshold=0.0,
        estimate=interval.get("estimate"),
        low=interval.get("low"),
        high=interval.get("high"),
        result=check_criterion(">", 0.0, interval),
        source=sources.get(key),
        note=interval.get("note"),
    )


def verdict(
    criteria: Mapping[str, str],
    measured: Mapping[str, Mapping[str, Any]],
    *,
    sources: Mapping[str, str] | None = None,
    latency_measured_on: str | None = None,
) -> Verdict:
    """Check every criterion against the measured intervals; overall go / no-go.

    Parameters
    ----------
    criteria : mapping
        ``problem.success_criteria``: name -> ``"<op> <number>"``, or
        ``beats_baseline`` (decided on ``measured["<name>_vs_baseline"]``, the
        improvement over the best baseline: pass when its whole interval is above 0).
    measured : mapping
        Name -> ``{estimate, low, high}`` (test metrics, ``ece``, fairness gaps, and
        measured latency percentiles, which are point figures). An entry with a
        ``inconclusive`` reason (e.g. a group too small to tell) is inconclusive.
    sources : mapping, optional
        Name -> where the figure was read (artifact and field), recorded per criterion.
    latency_measured_on : str, optional
        Which latency measurement fed the latency criteria (``None``: not measured).

    Returns
    -------
    Verdict

    Examples
    --------
    >>> auc = {"estimate": 0.9, "low": 0.85, "high": 0.93}
    >>> verdict({"roc_auc": ">= 0.8"}, {"roc_auc": auc}).overall
    'go'
    >>> verdict({"latency_p99_ms": "<= 30"}, {"latency_p99_ms": {"estimate": 12.5}}).overall
    'go'
    """
    sources = sources or {}
    rows = []
    for name, text in criteria.items():
        if str(text).strip() == BEATS_BASELINE:
            rows.append(_beats_baseline(name, measured, sources))
            continue
        op, threshold = parse_criterion(text)
        if name in measured:
            interval = measured[name]
            reason = interval.get("inconclusive")
            rows.append(
                CriterionResult(
                    name=name,
                    op=op,
                    threshold=threshold,
                    estimate=interval.get("estimate"),
                    low=interval.get("low"),
                    high=interval.get("high"),
                    result=INCONCLUSIVE if reason else check_criterion(op, threshold, interval),
                    source=sources.get(name),
                    note=reason,
                )
            )
            continue
        if name in LATENCY_CRITERIA:
            note = _MSG_NO_LATENCY
        else:
            known = ", ".join(sorted({*measured, *LATENCY_CRITERIA}))
            note = _MSG_UNKNOWN.format(name=name, known=known)
        rows.append(
            CriterionResult(name=name, op=op, threshold=threshold, result=INCONCLUSIVE, note=note)
        )
    counts = {r: sum(1 for row in rows if row.result == r) for r in (PASS, FAIL, INCONCLUSIVE)}
    go = all(row.result == PASS for row in rows)
    return Verdict(
        criteria=rows,
        counts=counts,
        overall="go" if go else "no-go",
        latency_measured_on=latency_measured_on,
    )
