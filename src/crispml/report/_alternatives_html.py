"""The documents' "less discriminatory alternatives" part, from ``evaluation/alternatives.json``.

The report gets a section with the accuracy-disparity plot (one panel per disparity
measure, the Pareto front of the lead measure drawn, the delivered model and the named
alternative marked), the table of every compared model and the test-set diagnostic;
the model card gets the same facts as Markdown. Every figure goes through the claims
ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from crispml.evaluate import AlternativesResult, Estimate
from crispml.evaluate._alternatives import RATIOS, disparity_value
from crispml.report._alternatives_check import alternatives_check
from crispml.report._blocks import Block, table
from crispml.report._claims import Source
from crispml.report._plots import svg
from crispml.report._record import RunRecord

ART = AlternativesResult.FILE
Show = Callable[[Any, Source, str], str]
_BLUE, _RED, _GREEN, _GREY, _ORANGE = "#2563eb", "#dc2626", "#16a34a", "#9ca3af", "#f59e0b"
_KIND = {"delivered": "delivered", "candidate": "search candidate", "mitigated": "mitigation"}
_TEST_CAPTION = (
    "diagnostic on the locked test set, computed after the choice (the choice used the "
    "held-out rows above only)"
)


def read_alternatives(record: RunRecord) -> AlternativesResult | None:
    """Load the run's alternatives result, if the evaluation wrote one."""
    return AlternativesResult.read_optional(record.path)


def _source(field: str) -> Source:
    """Where a figure is read, and its check: recomputed from the saved outputs table."""
    return Source(ART, field, alternatives_check(field))


def _interval(estimate: Estimate | None, path: str, label: str, show: Show) -> str:
    """``estimate [low, high]``, each figure through ``show``."""
    if estimate is None:
        return "—"
    text = show(estimate.estimate, _source(f"{path}.estimate"), label)
    if estimate.low is None or estimate.high is None:
        return text
    low = show(estimate.low, _source(f"{path}.low"), f"{label} CI low")
    high = show(estimate.high, _source(f"{path}.high"), f"{label} CI high")
    return f"{text} [{low}, {high}]"


def _point_rows(alt: AlternativesResult, show: Show) -> list[list[str]]:
    rows = []
    for i, p in enumerate(alt.points):
        mark = " (alternative)" if p.name == alt.alternative else ""
        label = f"alt {p.name}"
        threshold = (
            "—"
            if p.threshold is None
            else show(p.threshold, _source(f"points.{i}.threshold"), f"{label} threshold")
        )
        cells = [
            f"{p.name}{mark}",
            _KIND[p.kind],
            threshold,
            _interval(p.primary, f"points.{i}.primary", f"{label} {alt.primary_metric}", show),
        ]
        for m in alt.measures:
            path = f"points.{i}.disparity.{m}"
            cells.append(_interval(p.disparity.get(m), path, f"alt {p.name} {m}", show))
        cells += ["yes" if p.within_ci else "no", "yes" if p.pareto else "no"]
        rows.append(cells)
    return rows


def _test_rows(alt: AlternativesResult, show: Show) -> list[list[str]]:
    rows = []
    for i, t in enumerate(alt.test):
        label = f"alt test {t.name}"
        cells = [t.name, _interval(t.primary, f"test.{i}.primary", label, show)]
        for m in alt.measures:
            cells.append(_interval(t.disparity.get(m), f"test.{i}.disparity.{m}", label, show))
        rows.append(cells)
    return rows


def headline(alt: AlternativesResult, show: Show) -> str:
    """One sentence naming the alternative with its figures beside the delivered model's."""
    if alt.alternative is None:
        return alt.conclusion
    lead, metric = alt.lead_measure, alt.primary_metric
    index = {p.name: i for i, p in enumerate(alt.points)}
    parts = []
    for name in (alt.alternative, alt.delivered):
        i, p = index[name], alt.points[index[name]]
        score = _interval(p.primary, f"points.{i}.primary", f"headline alt {name} {metric}", show)
        gap = _interval(
            p.disparity.get(lead), f"points.{i}.disparity.{lead}", f"headline alt {name}", show
        )
        parts.append(f"{name}: {metric} {score}, {lead} {gap}")
    return (
        f"Less discriminatory alternative {parts[0]}; delivered {parts[1]} "
        f"(held-out rows: {alt.basis}). {alt.conclusion}"
    )


def agreement_on_test(alt: AlternativesResult) -> str | None:
    """Say whether the test diagnostic shows the same ordering on the lead disparity."""
    if len(alt.test) < 2:
        return None
    lead = alt.lead_measure
    delivered, chosen = (t.disparity.get(lead) for t in alt.test[:2])
    if delivered is None or chosen is None:
        return None
    lower = disparity_value(lead, chosen.estimate) < disparity_value(lead, delivered.estimate)
    verb = "also" if lower else "does NOT"
    return (
        f"On the test set the alternative {verb} {'shows' if lower else 'show'} a lower "
        f"{lead} disparity than the delivered model (a diagnostic on {delivered.n} rows, "
        "wide intervals; the choice rests on the held-out rows)."
    )


def alternatives_block(record: RunRecord, show: Show) -> Block | None:
    """Build the report's alternatives section, or ``None`` when the run has none."""
    alt = read_alternatives(record)
    if alt is None:
        return None
    block = Block(f"{len(alt.points)} models compared on {alt.basis}")
    block.facts.append(("finding", headline(alt, show)))
    block.facts.append(("lead disparity measure", alt.lead_measure))
    if svg := pareto_plot(alt):
        block.svgs.append(svg)
    # Readable, breakable headers: the table must fit an 800 px window without scrolling.
    cols = ["model", "kind", "threshold", f"{_words(alt.primary_metric)} [95% CI]"]
    cols += [f"{_words(m)} [95% CI]" for m in alt.measures] + ["within CI", "on the front"]
    caption = "every compared model as it would be delivered (worst group gap per measure)"
    block.tables.append(table(caption, cols, _point_rows(alt, show)))
    if alt.test:
        cols = ["model", f"{_words(alt.primary_metric)} [95% CI]"]
        cols += [f"{_words(m)} [95% CI]" for m in alt.measures]
        block.tables.append(table(_TEST_CAPTION, cols, _test_rows(alt, show)))
    if agreement := agreement_on_test(alt):
        block.facts.append(("test diagnostic", agreement))
    if alt.test_note:
        block.facts.append(("test diagnostic", alt.test_note))
    block.facts += [(f"{p.name} note", p.note) for p in alt.points if p.note]
    return block


def _words(name: str) -> str:
    return name.replace("_", " ")


def _axis_label(measure: str) -> str:
    words = _words(measure)
    return f"{words} (higher is fairer)" if measure in RATIOS else f"{words} (lower is fairer)"


def pareto_plot(alt: AlternativesResult) -> str | None:
    """Primary metric against each disparity measure, with 95% CIs as error bars."""
    measures = [m for m in alt.measures if any(m in p.disparity for p in alt.points)]
    if not measures:
        return None
    fig = Figure(figsize=(4.2 * len(measures), 3.8))
    for k, m in enumerate(measures):
        ax = fig.add_subplot(1, len(measures), k + 1)
        _panel(ax, alt, m)
        ax.set_xlabel(_axis_label(m), fontsize=9)
        if k == 0:
            ax.set_ylabel(f"{alt.primary_metric} (held-out rows)", fontsize=9)
    fig.suptitle("accuracy and disparity of the compared models, 95% CI", fontsize=10)
    fig.axes[0].legend(fontsize=7, loc="best")
    return svg(fig)


def _panel(ax: Any, alt: AlternativesResult, measure: str) -> None:
    pts = [p for p in alt.points if measure in p.disparity and p.primary.estimate is not None]
    named = (alt.delivered, alt.alternative)
    for p in sorted(pts, key=lambda p: (p.name in named, p.kind != "candidate")):
        gap, score = p.disparity[measure], p.primary
        color, marker, label = _style(alt, p.name, p.kind)
        faint = label is None
        ax.errorbar(
            gap.estimate, score.estimate, xerr=_err(gap), yerr=_err(score), fmt=marker,
            color=color, ecolor=color, elinewidth=0.8, capsize=2, markersize=5 if faint else 9,
            alpha=0.45 if faint else 1.0, label=label, zorder=2 if faint else 4,
        )  # fmt: skip
        if not faint or p.pareto:
            ax.annotate(p.name, (gap.estimate, score.estimate), fontsize=7, zorder=5,
                        xytext=(5, 5), textcoords="offset points")  # fmt: skip
    if measure == alt.lead_measure:
        front = sorted(
            (p.disparity[measure].estimate, p.primary.estimate) for p in pts if p.pareto
        )
        if len(front) > 1:
            xs, ys = zip(*front, strict=True)
            ax.plot(xs, ys, color=_GREY, linestyle="--", lw=1, label="Pareto front", zorder=3)
    if measure == "adverse_impact_ratio":
        ax.axvline(0.8, color=_RED, lw=0.8, linestyle=":", label="four-fifths line")
    delivered = alt.point(alt.delivered).primary
    bound = delivered.low if delivered.low is not None else delivered.estimate
    if bound is not None:
        ax.axhline(bound, color=_BLUE, lw=0.8, linestyle=":", label="delivered CI bound")


def _style(alt: AlternativesResult, name: str, kind: str) -> tuple[str, str, str | None]:
    if kind == "delivered":
        return _BLUE, "*", "delivered"
    if name == alt.alternative:
        return _GREEN, "D", "alternative"
    if kind == "mitigated":
        return _ORANGE, "s", "mitigation"
    return _GREY, "o", None


def _err(estimate: Estimate) -> Any:
    if estimate.low is None or estimate.high is None or estimate.estimate is None:
        return None
    below = max(estimate.estimate - estimate.low, 0.0)
    above = max(estimate.high - estimate.estimate, 0.0)
    return np.array([[below], [above]])


def alternatives_md(record: RunRecord, show: Show) -> list[str]:
    """Return the model card's lines on the less discriminatory alternative (or none)."""
    alt = read_alternatives(record)
    if alt is None:
        return []
    out = ["", "**Less discriminatory alternative**", "", f"- {headline(alt, show)}"]
    for i, t in enumerate(alt.test):
        label = f"card alt test {t.name}"
        score = _interval(t.primary, f"test.{i}.primary", label, show)
        gap = _interval(
            t.disparity.get(alt.lead_measure), f"test.{i}.disparity.{alt.lead_measure}",
            f"{label} {alt.lead_measure}", show,
        )  # fmt: skip
        out.append(
            f"- Test set (diagnostic, after the choice), {t.name}: "
            f"{alt.primary_metric} {score}, {alt.lead_measure} {gap}"
        )
    if agreement := agreement_on_test(alt):
        out.append(f"- {agreement}")
    if alt.test_note:
        out.append(f"- {alt.test_note}")
    return [*out, ""]
