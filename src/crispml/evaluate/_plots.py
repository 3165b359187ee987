"""Plots of the evaluation files as SVG, drawn on matplotlib ``Figure`` objects.

No pyplot: no global figure state and no backend switch, so importing or calling these
functions changes nothing for a user's own matplotlib session.
"""

from __future__ import annotations

import io
from typing import Any

MAX_BARS = 15


def _svg(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    return buf.getvalue()


def plot_importance(record: dict[str, Any]) -> bytes:
    """Horizontal bar chart of the raw-column importance in ``importance.json``."""
    from matplotlib.figure import Figure

    items = [(r["column"], r["importance"]) for r in record.get("importance", [])]
    items = items[:MAX_BARS][::-1]
    fig = Figure(figsize=(5.5, 0.3 * max(len(items), 3) + 1))
    ax = fig.subplots()
    ax.barh([k for k, _ in items], [v for _, v in items], color="#4c72b0")
    ax.set_xlabel("mean |contribution|" if "shap" in record.get("method", "") else "importance")
    ax.set_title(f"Importance by input column ({record.get('method', '')})", fontsize=9)
    return _svg(fig)


def plot_fairness(record: dict[str, Any]) -> bytes:
    """Draw the selection rate per group with its interval, one panel per protected attribute.

    ``record`` is the content of ``fairness.json``; attributes without selection rates
    (regression, multiclass) are drawn with their primary metric instead.
    """
    from matplotlib.figure import Figure

    attributes = record.get("attributes", {})
    fig = Figure(figsize=(5 * max(len(attributes), 1), 3))
    axes = fig.subplots(1, max(len(attributes), 1))
    axes = list(axes) if hasattr(axes, "__len__") else [axes]
    for ax, (column, report) in zip(axes, attributes.items(), strict=False):
        groups = list(report["by_group"])
        first = report["by_group"][groups[0]]
        measured = [k for k, v in first.items() if isinstance(v, dict) and "estimate" in v]
        key = "selection_rate" if "selection_rate" in measured else measured[0]
        values = [report["by_group"][g][key] for g in groups]
        est = [v["estimate"] or 0.0 for v in values]
        low = [
            e - (v["low"] if v["low"] is not None else e) for e, v in zip(est, values, strict=True)
        ]
        high = [
            (v["high"] if v["high"] is not None else e) - e
            for e, v in zip(est, values, strict=True)
        ]
        ax.bar(groups, est, yerr=[low, high], capsize=4, color="#55a868")
        ax.set_title(f"{column}: {key.replace('_', ' ')} (95% CI)", fontsize=9)
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    return _svg(fig)
