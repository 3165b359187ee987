"""Plots for the HTML report, drawn with matplotlib (no pyplot state) as inline SVG."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from crispml.evaluate import PREDICTIONS_FILE
from crispml.report._record import IMAGE_SUFFIXES

_BLUE, _ORANGE, _GREY, _RED = "#2563eb", "#f59e0b", "#9ca3af", "#dc2626"


def svg(fig: Figure) -> str:
    """Serialise ``fig`` as an inline ``<svg>`` element (text as text, stable ids)."""
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "crispml"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def figure(width: float = 6.4, height: float = 3.2) -> tuple[Figure, Any]:
    """Return a figure (no pyplot state) and its one axes."""
    fig = Figure(figsize=(width, height))
    return fig, fig.add_subplot()


def bar_plot(
    labels: list[str], values: list[float], title: str, *, limit: float | None = None
) -> str | None:
    """Horizontal bars, with an optional vertical limit line (e.g. an SLA)."""
    if not values:
        return None
    fig, ax = figure(6.4, 0.35 * len(values) + 1.2)
    pos = np.arange(len(values))[::-1]
    colors = [_RED if limit is not None and v > limit else _BLUE for v in values]
    ax.barh(pos, values, color=colors)
    ax.set_yticks(pos, labels)
    if limit is not None:
        ax.axvline(limit, color=_RED, linestyle="--", label=f"limit {limit:g}")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title, fontsize=10)
    return svg(fig)


def prediction_plots(root: Path, task: str) -> list[tuple[str, str]]:
    """ROC and precision-recall (binary) or residuals (regression).

    The reliability diagram is the calibration section's (``evaluation/reliability.svg``).

    Drawn from the delivered model's saved test predictions
    (``evaluation/test_predictions.parquet``); multiclass runs get none.
    """
    path = root / PREDICTIONS_FILE
    if not path.is_file():
        return []
    frame = pd.read_parquet(path)
    if task == "regression":
        return [("Residuals", _residuals(frame["y_true"], frame["prediction"]))]
    if task != "binary":
        return []
    y = frame["y_true"].to_numpy(dtype=int)
    p = frame["probability"].to_numpy(dtype=float)
    return [("ROC and precision-recall", _roc_pr(y, p))]


def _roc_pr(y: np.ndarray, p: np.ndarray) -> str:
    fig = Figure(figsize=(8, 3.4))
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    fpr, tpr, _ = roc_curve(y, p)
    left.plot(fpr, tpr, color=_BLUE, label="delivered model")
    left.plot([0, 1], [0, 1], color=_GREY, linestyle=":")
    left.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    left.legend(loc="lower right", fontsize=8)
    precision, recall, _ = precision_recall_curve(y, p)
    right.plot(recall, precision, color=_ORANGE)
    right.axhline(float(np.mean(y)), color=_GREY, linestyle=":")
    right.set(xlabel="recall", ylabel="precision", title="Precision-recall")
    return svg(fig)


def _residuals(y: pd.Series, pred: pd.Series) -> str:
    fig, ax = figure(6.4, 3.4)
    ax.scatter(pred, y - pred, s=6, alpha=0.5, color=_BLUE)
    ax.axhline(0, color=_GREY)
    ax.set(xlabel="prediction", ylabel="residual (true - predicted)")
    return svg(fig)


def data_uri(path: Path) -> str:
    """Return a plot file of another phase as a ``data:`` URI (no external request)."""
    mime = IMAGE_SUFFIXES[path.suffix.lower()]
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def tradeoff_plot(rows: list[dict[str, Any]], column: str) -> str | None:
    """Adverse impact ratio and group error rates across thresholds, delivered one marked."""
    if not rows:
        return None
    fig, ax = figure(6.4, 3.4)
    thresholds = [r["threshold"] for r in rows]
    ax.plot(thresholds, [r["adverse_impact_ratio"] for r in rows], color=_BLUE, lw=2.2,
            label="adverse impact ratio")  # fmt: skip
    for key in (k for k in rows[0] if k.endswith((": fpr", ": fnr"))):
        group, rate = key.rsplit(": ", 1)
        style = "--" if rate == "fpr" else ":"
        name = "false positive rate" if rate == "fpr" else "false negative rate"
        label = f"{name}, {column} = {group}"
        ax.plot(thresholds, [r[key] for r in rows], linestyle=style, label=label)
    ax.axhline(0.8, color=_GREY, lw=1, label="four-fifths line")
    delivered = [r["threshold"] for r in rows if r["delivered"]]
    for t in delivered:
        ax.axvline(t, color=_RED, lw=1.2, label=f"delivered threshold {t:.3g}")
    ax.set(xlabel="decision threshold", ylabel="rate / ratio", ylim=(0, 1.05))
    ax.set_title(f"{column}: fairness across thresholds (test set)", fontsize=10)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2)
    return svg(fig)
