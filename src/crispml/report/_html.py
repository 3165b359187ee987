"""The self-contained HTML evaluation report (Jinja2 template shipped with the package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jinja2
import pandas as pd

from crispml.report._card import not_produced, test_metric_rows
from crispml.report._extract import (
    findings,
    fmt,
    intervals,
    is_number,
    latency_rows,
    matrices,
    parity_summary,
    scalars,
    severity_counts,
    tables,
)
from crispml.report._plots import (
    bar_plot,
    data_uri,
    interval_plot,
    leaderboard_plot,
    prediction_plots,
    table_bars,
)
from crispml.report._record import RunRecord, dig

_MAX_ROWS = 25
# (section key, title, what the section answers) in reading order after the verdict.
EVALUATION_SECTIONS = (
    ("calibration", "Calibration", "Do predicted probabilities match observed frequencies?"),
    ("curves", "ROC / precision-recall / residuals", "How does quality vary with the cut-off?"),
    ("threshold", "Decision threshold and confusion matrix", "What happens at the cut-off?"),
    ("fairness", "Fairness", "Does the model treat the protected groups alike?"),
    ("slices", "Worst slices", "Where does the model fail most?"),
    ("importance", "Importance", "Which input columns drive the predictions?"),
    ("interpretability", "Price of interpretability", "What does a glass-box model cost?"),
    ("conformal", "Prediction intervals / sets", "How certain is each prediction?"),
    ("other", "Other evaluation results", "Further results of the evaluation phase."),
)


@dataclass
class Block:
    """One titled piece of a section: plots, tables and key/value facts."""

    title: str
    svgs: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    facts: list[tuple[str, str]] = field(default_factory=list)


def content_block(title: str, content: Any, *, plot: bool = False) -> Block:
    """Turn any JSON content into a block: CI table, record tables, remaining scalars."""
    block = Block(title)
    cis = intervals(content)
    if cis:
        rows = [{"label": p, "value": v, "ci_low": lo, "ci_high": hi} for p, v, lo, hi in cis]
        block.tables.append(_table("estimates with 95% CI", rows))
        if plot and (svg := interval_plot(rows, title)):
            block.svgs.append(svg)
    for path, matrix in matrices(content):
        rows = [
            {"": f"row {i}", **{f"col {j}": v for j, v in enumerate(r)}}
            for i, r in enumerate(matrix)
        ]
        block.tables.append(
            _table(f"{path or title} (rows: true class, columns: predicted)", rows)
        )
    for path, rows in tables(content):
        block.tables.append(_table(path or title, rows))
        if plot and (svg := table_bars(rows, path or title)):
            block.svgs.append(svg)
    if not cis and not block.tables and not matrices(content):
        block.facts = [(k, fmt(v)) for k, v in scalars(content)]
    elif isinstance(content, dict):
        flat = {k: v for k, v in content.items() if not isinstance(v, dict | list)}
        block.facts = [(k, fmt(v)) for k, v in flat.items()]
    return block


def _table(caption: str, rows: list[dict[str, Any]]) -> tuple[str, list[str], list[list[str]]]:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    body = [[fmt(r.get(c)) for c in cols] for r in rows[:_MAX_ROWS]]
    if len(rows) > _MAX_ROWS:
        caption = f"{caption} (first {_MAX_ROWS} of {len(rows)})"
    return caption, cols, body


def three_facts(record: RunRecord, verdict: dict[str, Any]) -> list[str]:
    """Return the three facts a manager reads first: the model, then problems, then context."""
    facts: list[tuple[int, str]] = [(0, _model_fact(record))]  # (rank: 1 = a problem, 2 = info)
    failed = [c for c in verdict["criteria"] if c["result"] == "fail"]
    if failed:
        facts.append((1, f"Failed criterion: {failed[0]['criterion']} {failed[0]['threshold']}."))
    audit = severity_counts(findings(record.audit))
    if record.audit is not None:
        text = (
            f"Data audit: {audit.get('blocking', 0)} blocking and "
            f"{audit.get('warning', 0)} warning finding(s)."
        )
        facts.append((1 if audit.get("blocking") else 2, text))
    lat = [r for r in latency_rows(record) if r["sla_ms"] is not None]
    if lat:
        r = max(lat, key=lambda row: row["ms"] / float(row["sla_ms"]))
        state = "within" if r["meets_sla"] else "OVER"
        text = (
            f"Latency {r['measure']}: {fmt(r['ms'])} ms, {state} the SLA of {fmt(r['sla_ms'])} ms."
        )
        facts.append((2 if r["meets_sla"] else 1, text))
    fair = intervals(record.section("fairness"))
    if fair:
        name, value, low, high = max(fair, key=lambda r: abs(r[1]))
        facts.append((2, f"Fairness: {name} = {fmt(value)} (95% CI {fmt(low)} to {fmt(high)})."))
    missing = not_produced(record, short=True)
    if missing:
        facts.append((2, f"Not produced by this run: {', '.join(missing)}."))
    sizes = record.split.get("sizes") or {}
    rows = fmt(dig(record.manifest, "inputs", "data", "n_rows"))
    facts.append(
        (3, f"Data: {rows} rows; test set of {fmt(sizes.get('test'))} rows locked first.")
    )
    return [text for _, text in sorted(facts, key=lambda f: f[0])[:3]]


def _model_fact(record: RunRecord) -> str:
    metric = record.primary_metric
    row = next((r for r in test_metric_rows(record) if r["primary"]), None)
    text = f"Selected model {record.selected_model}"
    if row is None:
        return text + "."
    text += f": test {metric} = {fmt(row['value'])}"
    if row["ci_low"] is not None:
        text += f" (95% CI {fmt(row['ci_low'])} to {fmt(row['ci_high'])})"
    board = record.leaderboard
    col = f"test_{metric}"
    if not {"baseline", "model", col}.issubset(board.columns):
        return text + "."
    base = board.loc[board["baseline"].astype(bool)].dropna(subset=[col])
    if record.selected_model in set(base["model"]):
        return text + "; it is a baseline: no searched family beat it on validation."
    if not base.empty:
        best = base.iloc[0]
        text += f"; best baseline {best['model']} {fmt(float(best[col]))}"
    return text + "."


def _leaderboard_table(board: pd.DataFrame) -> tuple[str, list[str], list[list[str]]] | None:
    """Return the leaderboard, compact: the selected model marked *, redundant columns dropped."""
    if board.empty:
        return None
    board = board.copy()
    if {"model", "selected"}.issubset(board.columns):
        marks = board["selected"].astype(bool).map({True: " *", False: ""})
        board["model"] = board["model"].astype(str) + marks
        board = board.drop(columns="selected")
    if "family" in board.columns and (board["family"] == board["model"].str.rstrip(" *")).all():
        board = board.drop(columns="family")
    return _table("leaderboard", board.to_dict("records"))


def evaluation_blocks(record: RunRecord) -> dict[str, list[Block]]:
    """Blocks of every evaluation section, with the plots routed to it."""
    out: dict[str, list[Block]] = {}
    for key, _title, _q in EVALUATION_SECTIONS:
        blocks = [
            content_block(path, content, plot=key in ("fairness", "importance", "slices"))
            for path, content in record.section(key).items()
        ]
        images = [data_uri(record.images[rel]) for rel in record.section_images(key)]
        if key == "curves":
            blocks += [Block(t, svgs=[s]) for t, s in prediction_plots(record.path, record.task)]
        if images:
            blocks.append(Block("plots from the evaluation", images=images))
        if blocks:
            out[key] = blocks
    return out


def latency_block(record: RunRecord) -> Block | None:
    """Latency percentiles against the SLA, and the ONNX parity certificate."""
    rows = latency_rows(record)
    parity = parity_summary(record.parity)
    if not rows and parity is None:
        return None
    block = Block("latency and parity")
    if rows:
        block.tables.append(_table("latency (ms)", rows))
        single = [r for r in rows if r["sla_ms"] is not None]
        limit = min((float(r["sla_ms"]) for r in single), default=None)
        if svg := bar_plot(
            [r["measure"] for r in rows], [r["ms"] for r in rows], "latency (ms)", limit=limit
        ):
            block.svgs.append(svg)
    if parity is not None:
        block.facts = [(f"parity {k}", fmt(v)) for k, v in parity.items()]
    return block


def render_html(
    record: RunRecord,
    *,
    card: dict[str, Any],
    compliance: dict[str, Any],
    verdict: dict[str, Any],
) -> str:
    """Render ``report/report.html`` from the record, the card and the compliance map.

    Parameters
    ----------
    record : RunRecord
        The run folder.
    card : dict
        The model card (:func:`crispml.report.build_model_card`).
    compliance : dict
        The compliance map (:func:`crispml.report.build_compliance_map`).
    verdict : dict
        The success-criteria verdict.

    Returns
    -------
    str
        One HTML document: inline CSS and SVG, images as ``data:`` URIs, and a
        Content-Security-Policy that forbids any network request.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("crispml.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = fmt
    board = record.leaderboard
    audit_rows = findings(record.audit)
    return env.get_template("report.html.j2").render(
        record=record,
        card=card,
        compliance=compliance,
        verdict=verdict,
        facts=three_facts(record, verdict),
        leaderboard_svg=leaderboard_plot(board, record.primary_metric),
        leaderboard=_leaderboard_table(board),
        audit_rows=audit_rows,
        audit_counts=severity_counts(audit_rows),
        audit_block=content_block("audit", record.audit)
        if record.audit and not audit_rows
        else None,
        audit_images=[data_uri(record.images[r]) for r in record.images if r.startswith("audit/")],
        metric_rows=test_metric_rows(record),
        metric_svg=interval_plot(
            [{"label": r["metric"], **r} for r in test_metric_rows(record)], "test metrics, 95% CI"
        ),
        metric_blocks=[  # estimates with CIs are already in the metrics table
            content_block(p, c) for p, c in record.section("metrics").items() if not intervals(c)
        ],
        sections=EVALUATION_SECTIONS,
        blocks=evaluation_blocks(record),
        latency=latency_block(record),
        budget=content_block("search budget", record.budget) if record.budget else None,
        numeric=is_number,
    )
