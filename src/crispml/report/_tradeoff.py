"""Accuracy against size and latency for the top candidates (the deliverability trade-off).

The search keeps models under ``deployment.max_model_mb`` (or the smaller size the budget
can evaluate and export, ``search/size_cap.json``) and, by the latency predicted
from their trees, under ``deployment.latency_sla_ms``: this block shows, for the
candidates best on validation, the primary metric, the serialized size the search
measured, the predicted latency of the trees, and, for the delivered model, the
single-row latency the deployment measured (other candidates are not exported, so
their latency is not measured).
"""

from __future__ import annotations

import pandas as pd

from crispml.deploy import DeploymentResult
from crispml.report._blocks import Block, Show, table
from crispml.report._claims import Source, fmt
from crispml.report._record import RunRecord
from crispml.search import SizeCap

SECTION = ("deliverability", "Accuracy, size and latency", "What does accuracy cost to ship?")
TOP = 10
"""Candidates shown (best on validation first)."""


def tradeoff_blocks(record: RunRecord, show: Show) -> dict[str, list[Block]]:
    """Return the deliverability block keyed by :data:`SECTION`'s key (empty if no sizes).

    Parameters
    ----------
    record : RunRecord
        The run; its leaderboard carries ``model_mb`` and ``excluded`` per candidate.
    show : callable
        Prints a figure through the claims ledger.

    Returns
    -------
    dict
    """
    board = record.leaderboard
    metric = record.evaluation.primary_metric
    valid, test = f"valid_{metric}", f"test_{metric}"
    if board.empty or "model_mb" not in board.columns or valid not in board.columns:
        return {}
    cap = (
        f"deployment.max_model_mb = {record.spec.deployment.max_model_mb:g} MB"
        if record.size_cap is None or record.size_cap.source == SizeCap.SPEC
        else f"{record.size_cap.max_model_mb:.3g} MB, {record.size_cap.source}"
    )
    rows = []
    for i, row in board[board[valid].notna()].head(TOP).iterrows():
        name = str(row["model"])
        selected = bool(row.get("selected", False))
        cells = [f"{name}{' *' if selected else ''}"]
        for column in (valid, test, "model_mb", "predicted_ms"):
            value = row.get(column)  # None for a leaderboard written before the column
            if value is None or pd.isna(value):
                cells.append(fmt(None))
            else:
                source = Source("leaderboard.csv", f"{i}.{column}")
                cells.append(show(float(value), source, f"{name} {column}"))
        cells.append(_latency(record, show) if selected else "not exported")
        excluded = row.get("excluded")
        cells.append(str(excluded) if isinstance(excluded, str) else "selectable")
        rows.append(cells)
    words = metric.replace("_", " ")  # headers that wrap: no sideways scroll at 800 px
    cols = ["model", f"validation {words}", f"test {words} (diagnostic)", "size MB"]
    cols += ["trees ms (predicted)", "single-row p99 ms", "size cap and SLA"]
    caption = (
        f"top {len(rows)} candidates by validation {metric}; size = serialized model as "
        f"measured by the search (cap {cap}); trees ms = "
        "single-row time of the model's trees once served, predicted from their depths (the "
        "trees only, without call overhead or preprocessing; checked against the tightest "
        "deployment.latency_sla_ms target); "
        "latency measured for the delivered model (*) only"
    )
    return {SECTION[0]: [Block(SECTION[1], tables=[table(caption, cols, rows)])]}


def _latency(record: RunRecord, show: Show) -> str:
    """Return the delivered model's single-row p99 measured in process, if it deployed."""
    if record.deployment is None or record.deployment.latency.in_process is None:
        return "not deployed"
    p99 = record.deployment.latency.in_process.single_row.p99_ms
    source = Source(DeploymentResult.FILE, "latency.in_process.single_row.p99_ms")
    return show(p99, source, "delivered single-row p99 ms")
