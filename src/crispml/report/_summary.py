"""The report's first screen: the verdict and why, the key figures, the main risks.

Written for a client who reads nothing else: every criterion in one sentence, the
fairness finding whether or not the spec made it a criterion, four figures with their
intervals, and the first risks of :func:`crispml.report._risks.risks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from crispml.evaluate import EvaluationResult
from crispml.report._blocks import Show
from crispml.report._card import criterion_source, metric_rows
from crispml.report._claims import Source, fmt
from crispml.report._record import RunRecord
from crispml.report._risks import FOUR_FIFTHS, risks

FIRST_RISKS = 3
_OPS = {">=": "at least", "<=": "at most", ">": "above", "<": "below"}


@dataclass
class Tile:
    """One key figure: what it is, the value, its interval and a one-line reading."""

    label: str
    value: str
    interval: str = ""
    note: str = ""


@dataclass
class FirstScreen:
    """What the top of the report shows."""

    verdict: str
    rule: str
    why: list[tuple[str, str]] = field(default_factory=list)
    """(result, sentence) per criterion, then the fairness finding."""
    tiles: list[Tile] = field(default_factory=list)
    risks: list[str] = field(default_factory=list)
    more_risks: int = 0


def first_screen(record: RunRecord, show: Show) -> FirstScreen:
    """Build the first screen from the typed results, figures through ``show``."""
    found = risks(record, show)
    return FirstScreen(
        verdict=record.verdict.overall,
        rule=record.verdict.rule,
        why=[*_criteria(record, show), *_fairness(record, show)],
        tiles=_tiles(record, show),
        risks=found[:FIRST_RISKS],
        more_risks=max(len(found) - FIRST_RISKS, 0),
    )


def _criteria(record: RunRecord, show: Show) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    gaps = record.evaluation.fairness_gaps
    protected = ", ".join(record.spec.fairness.protected)
    for i, c in enumerate(record.verdict.criteria):
        est = show(c.estimate, criterion_source(record, i, "estimate"), f"why {c.name}")
        ci = ""
        if c.low is not None:
            low = show(c.low, criterion_source(record, i, "low"), f"why {c.name} low")
            high = show(c.high, criterion_source(record, i, "high"), f"why {c.name} high")
            ci = f" (95% CI {low} to {high})"
        need = f"{_OPS.get(c.op, c.op)} {fmt(c.threshold)}"
        name = c.name.replace("_", " ")
        if c.name in gaps:
            name = f"Fairness ({protected}): {name}"
        out.append((c.result, f"{name} is {est}{ci}; the spec asks for {need}: {c.result}."))
    if not out:
        out.append(("inconclusive", "The spec sets no success criteria: nothing to pass."))
    return out


def _fairness(record: RunRecord, show: Show) -> list[tuple[str, str]]:
    protected = list(record.spec.fairness.protected)
    if not protected:
        return [("inconclusive", "Fairness: the spec names no protected attribute.")]
    gaps = record.evaluation.fairness_gaps
    if any(c.name in gaps for c in record.verdict.criteria):
        return []  # the criteria above are the fairness verdict
    judged = "not a success criterion in the spec"
    air = gaps.get("adverse_impact_ratio")
    if air is None or air.estimate is None:
        return [("inconclusive", f"Fairness ({', '.join(protected)}): see the Fairness section.")]
    path = "fairness_gaps.adverse_impact_ratio"
    est = show(air.estimate, Source(EvaluationResult.FILE, f"{path}.estimate"), "why AIR")
    ci = ""
    if air.low is not None:
        low = show(air.low, Source(EvaluationResult.FILE, f"{path}.low"), "why AIR low")
        high = show(air.high, Source(EvaluationResult.FILE, f"{path}.high"), "why AIR high")
        ci = f" (95% CI {low} to {high})"
    below = air.estimate < FOUR_FIFTHS
    side = "below" if below else "at or above"
    return [
        (
            "fail" if below else "pass",
            f"Fairness ({', '.join(protected)}): adverse impact ratio {est}{ci}, {side} the "
            f"four-fifths rule ({judged}).",
        )
    ]


def _tiles(record: RunRecord, show: Show) -> list[Tile]:
    ev = record.evaluation
    tiles: list[Tile] = []
    rows = sorted(metric_rows(record), key=lambda r: not r["primary"])
    for row in rows:
        if row["primary"] or (row["metric"] in ("accuracy", "r2") and len(tiles) < 2):
            src, name = row["sources"], row["metric"]
            value = show(row["estimate"], src["estimate"], f"tile {name}")
            interval = ""
            if row["low"] is not None:
                low = show(row["low"], src["low"], f"tile {name} low")
                high = show(row["high"], src["high"], f"tile {name} high")
                interval = f"95% CI {low} to {high}"
            tiles.append(Tile(f"test {name}", value, interval, row["basis"]))
    if ev.threshold is not None:
        thr = show(ev.threshold, Source(EvaluationResult.FILE, "threshold"), "tile threshold")
        tiles.append(
            Tile("decision threshold", thr, "", f"chosen on validation ({ev.threshold_objective})")
        )
    if record.deployment is not None:
        lat = record.deployment.latency
        mode = "http" if lat.http is not None else "in_process"
        measured = getattr(lat, mode)
        if measured is not None:
            src = Source("deploy/deployment.json", f"latency.{mode}.single_row.p99_ms")
            p99 = show(measured.single_row.p99_ms, src, "tile latency p99")
            sla = lat.sla_ms.get("p99")
            note = f"SLA {sla:g} ms: {'met' if lat.meets_sla else 'NOT met'}" if sla else ""
            tiles.append(Tile("one-row latency p99 (ms)", p99, mode.replace("_", "-"), note))
    n = show(ev.n_test, Source(EvaluationResult.FILE, "n_test", {"kind": "count"}), "tile n")
    tiles.append(Tile("locked test rows", n, "", "never seen in selection or tuning"))
    return tiles
