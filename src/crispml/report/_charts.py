"""The report's plots, each drawn for one question a reader asks.

- Which candidates are really better? :func:`candidates_plot` (top candidates, 95% CI
  whiskers, a zoomed axis, baselines marked);
- where does the model fail most? :func:`slices_plot` (every segment and found slice on
  one chart, ranked by the lower end of the error's interval, with row counts);
- does the model treat the groups alike? :func:`group_plot` (one panel per metric, the
  groups with their intervals, readable names).

Every plot draws figures that the tables next to it print through the claims ledger.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import Any

import numpy as np

from crispml.report._plots import figure, svg

_BLUE, _GREY, _RED, _DARK = "#2563eb", "#9ca3af", "#dc2626", "#374151"
TOP_CANDIDATES = 8
TOP_SLICES = 12
GROUP_METRICS = {
    "selection_rate": "Selection rate (share predicted positive)",
    "favourable_rate": "Favourable-outcome rate",
    "tpr": "True positive rate (recall)",
    "fpr": "False positive rate",
    "roc_auc": "ROC AUC within the group",
    "accuracy": "Accuracy within the group",
    "rmse": "RMSE within the group",
    "mae": "MAE within the group",
}
GAP_NAMES = {
    "adverse_impact_ratio": "adverse impact ratio (favourable rate, lowest / highest group)",
    "demographic_parity_difference": "selection-rate gap (highest - lowest group)",
    "demographic_parity_ratio": "selection-rate ratio (lowest / highest group)",
    "equalized_odds_difference": "error-rate gap (largest TPR or FPR difference)",
}


@dataclass(frozen=True)
class Point:
    """One row of an interval chart: a label, an estimate and its 95% interval."""

    label: str
    value: float
    low: float | None = None
    high: float | None = None
    kind: str = "candidate"
    """candidate, baseline, delivered, small or overall: how the row is drawn."""


def auc_interval(auc: float, n_pos: int, n_neg: int) -> tuple[float, float]:
    """Approximate 95% interval of a ROC AUC from its value and the class counts.

    Hanley and McNeil (1982). Written here because the other candidates' test
    predictions are not kept (only the delivered model's are), so their AUCs cannot be
    bootstrapped; the width is what the test set's size allows, and the plot says it
    is approximate.

    Examples
    --------
    >>> [round(v, 3) for v in auc_interval(0.8, 100, 100)]
    [0.739, 0.861]
    """
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (
        n_pos * n_neg
    )
    half = 1.96 * math.sqrt(max(var, 0.0))
    return max(auc - half, 0.0), min(auc + half, 1.0)


def interval_chart(
    points: list[Point], *, xlabel: str, title: str, reference: float | None = None
) -> str | None:
    """Dots with 95% whiskers on an axis zoomed to the intervals, first point on top.

    Points far left or right of the others (a dummy baseline) are drawn as an arrow at
    the edge, with their value, so they do not squash the axis.
    """
    if not points:
        return None
    fig, ax = figure(7.2, 0.34 * len(points) + 1.1)
    lo, hi = _zoom(points, reference)
    pos = np.arange(len(points))[::-1]
    for y, p in zip(pos, points, strict=True):
        colour = {"baseline": _GREY, "delivered": _RED, "small": _GREY}.get(p.kind, _BLUE)
        if p.value < lo or p.value > hi:  # off the zoomed axis: say where it is
            left = p.value < lo
            text = f"\u25c0 {p.value:.3g}, off the axis" if left else f"{p.value:.3g} \u25b6"
            ax.text(lo if left else hi, y, text, va="center", ha="left" if left else "right",
                    fontsize=8, color=colour)  # fmt: skip
            continue
        if p.low is not None and p.high is not None:
            ax.plot([max(p.low, lo), min(p.high, hi)], [y, y], color=colour, lw=1.6)
        face = colour if p.kind != "small" else "white"
        ax.plot([p.value], [y], marker="o", color=colour, mfc=face, ms=6)
    if reference is not None:
        ax.axvline(reference, color=_DARK, lw=1, ls=":")
    ax.set_yticks(pos, [p.label for p in points], fontsize=8)
    for tick, p in zip(ax.get_yticklabels(), points, strict=True):
        tick.set_color({"baseline": "#6b7280", "delivered": _RED}.get(p.kind, "#111827"))
    ax.set_xlim(lo, hi)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_title(textwrap.fill(title, 90), fontsize=9, loc="left")
    ax.grid(axis="x", color="#e5e7eb", lw=0.6)
    ax.set_axisbelow(True)
    return svg(fig)


def _zoom(points: list[Point], reference: float | None) -> tuple[float, float]:
    """Axis limits around the non-baseline intervals (and the best baseline)."""
    core = [p for p in points if p.kind != "baseline"] or points
    values = [v for p in core for v in (p.value, p.low, p.high) if v is not None]
    baselines = sorted((p.value for p in points if p.kind == "baseline"), reverse=True)
    span = (max(values) - min(values)) or abs(max(values)) or 1.0
    if baselines and min(values) - baselines[0] <= 2 * span:
        values.append(baselines[0])
    if reference is not None:
        values.append(reference)
    low, high = min(values), max(values)
    pad = 0.08 * ((high - low) or 1.0)
    return low - pad, high + pad


def candidates_plot(
    board: Any, metric: str, *, n_pos: int | None = None, n_neg: int | None = None
) -> str | None:
    """Plot the top candidates' diagnostic test score with whiskers; baselines marked grey.

    Whiskers are Hanley-McNeil intervals (ROC AUC with known class counts); for other
    metrics the dots stand alone. The selected model is red.
    """
    column = f"test_{metric}" if f"test_{metric}" in board.columns else f"valid_{metric}"
    if board.empty or column not in board.columns or "model" not in board.columns:
        return None
    rows = board.dropna(subset=[column])
    is_base = rows["baseline"].astype(bool) if "baseline" in rows else rows["model"] == ""
    chosen = rows[~is_base].head(TOP_CANDIDATES)
    shown = [*chosen.itertuples(index=False), *rows[is_base].itertuples(index=False)]
    if not shown:
        return None
    points = []
    for row in shown:
        data = row._asdict()
        value = float(data[column])
        low = high = None
        if metric == "roc_auc" and n_pos and n_neg:
            low, high = auc_interval(value, n_pos, n_neg)
        kind = "baseline" if bool(data.get("baseline", False)) else "candidate"
        if bool(data.get("selected", False)):
            kind = "delivered"
        suffix = {"delivered": " (selected)", "baseline": " [baseline]"}.get(kind, "")
        points.append(Point(f"{data['model']}{suffix}", value, low, high, kind))
    where = "test, diagnostic" if column.startswith("test_") else "validation"
    whiskers = "approx. 95% CI (Hanley-McNeil)" if points[0].low is not None else "no interval"
    title = (
        f"Top {len(chosen)} of {int((~is_base).sum())} candidates (validation order) and the "
        f"baselines (grey): {metric}, {where}; {whiskers}"
    )
    return interval_chart(points, xlabel=metric, title=title)


def slices_plot(segments: list[dict[str, Any]], overall: dict[str, Any], error: str) -> str | None:
    """Segments ranked by the lower end of their error interval, worst first, with counts.

    ``segments`` carry ``slice``, ``size``, ``estimate``, ``low``, ``high`` and ``small``;
    the overall error is the dotted line.
    """
    ranked = sorted(
        (s for s in segments if s.get("estimate") is not None),
        key=lambda s: -(s["low"] if s.get("low") is not None else s["estimate"]),
    )[:TOP_SLICES]
    if not ranked:
        return None
    points = [
        Point(
            f"{s['slice']}  (n={s['size']})",
            float(s["estimate"]),
            s.get("low"),
            s.get("high"),
            "small" if s.get("small") else "candidate",
        )
        for s in ranked
    ]
    title = (
        f"The {len(points)} worst segments, ranked by the lower end of the 95% CI; "
        "dotted line: all test rows; hollow dot: few rows"
    )
    return interval_chart(points, xlabel=error, title=title, reference=overall.get("estimate"))


def group_plot(column: str, by_group: dict[str, Any]) -> str | None:
    """One small panel per group metric, each group with its 95% interval."""
    metrics = [
        m for m in GROUP_METRICS if any(isinstance(g.get(m), dict) for g in by_group.values())
    ]
    if not metrics or not by_group:
        return None
    groups = list(by_group)
    cols = min(len(metrics), 2)
    nrows = math.ceil(len(metrics) / cols)
    fig, _ = figure(7.2, (0.3 * len(groups) + 0.9) * nrows + 0.3)
    fig.clear()
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        pos = np.arange(len(groups))[::-1]
        for y, group in zip(pos, groups, strict=True):
            stats = by_group[group].get(metric) or {}
            if stats.get("estimate") is None:
                continue
            if stats.get("low") is not None:
                ax.plot([stats["low"], stats["high"]], [y, y], color=_BLUE, lw=1.6)
            ax.plot([stats["estimate"]], [y], "o", color=_BLUE, ms=5)
        ax.set_yticks(pos, [f"{column} = {g}" for g in groups], fontsize=8)
        ax.set_ylim(-0.6, len(groups) - 0.4)
        ax.set_title(GROUP_METRICS[metric], fontsize=8.5, loc="left")
        if metric not in ("rmse", "mae"):
            ax.set_xlim(-0.02, 1.02)
        ax.tick_params(axis="x", labelsize=7)
        ax.grid(axis="x", color="#e5e7eb", lw=0.6)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle(f"{column}: group metrics on the test set, 95% CI", fontsize=9, x=0.02, ha="left")
    fig.tight_layout()
    return svg(fig)
