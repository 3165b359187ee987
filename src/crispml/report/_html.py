"""The self-contained HTML evaluation report (Jinja2 template shipped with the package).

Every section is built from a typed result or a documented evaluation file; every
figure goes through the claims ledger (see :mod:`crispml.report._claims`).
"""

from __future__ import annotations

from typing import Any

import jinja2
import pandas as pd

from crispml.evaluate import EvaluationResult
from crispml.report._blocks import MAX_ROWS, Block, Show, Table, images, table
from crispml.report._card import (
    caveats,
    criterion_source,
    interval_text,
    metric_rows,
    selection_note,
)
from crispml.report._claims import Ledger, Source, decisions_source, fmt
from crispml.report._fairness_html import fairness_block
from crispml.report._plots import (
    bar_plot,
    data_uri,
    interval_plot,
    leaderboard_plot,
    prediction_plots,
)
from crispml.report._record import RunRecord
from crispml.report._tradeoff import SECTION as TRADEOFF_SECTION
from crispml.report._tradeoff import tradeoff_blocks

DOCUMENT = "report"
# (section key, title, what the section answers) in reading order after the metrics.
EVALUATION_SECTIONS = (
    ("threshold", "Decision threshold and confusion matrix", "What happens at the cut-off?"),
    ("calibration", "Calibration", "Do predicted probabilities match observed frequencies?"),
    ("curves", "ROC / precision-recall / residuals", "How does quality vary with the cut-off?"),
    ("fairness", "Fairness", "Does the model treat the protected groups alike?"),
    ("slices", "Worst slices", "Where does the model fail most?"),
    ("importance", "Importance", "Which input columns drive the predictions?"),
    ("interpretability", "Price of interpretability", "What does a glass-box model cost?"),
    ("conformal", "Prediction intervals / sets", "How certain is each prediction?"),
    TRADEOFF_SECTION,
)


def three_facts(record: RunRecord, show: Show) -> list[str]:
    """Return the three facts a manager reads first: the model, problems, context."""
    ev = record.evaluation
    primary = next(r for r in metric_rows(record) if r["primary"])
    src = primary["sources"]
    facts = [
        f"Delivered model {ev.selected_model} ({ev.model}): test {ev.primary_metric} "
        f"{show(primary['estimate'], src['estimate'], 'headline ' + ev.primary_metric)} "
        f"(95% CI {show(primary['low'], src['low'], 'headline CI low')} to "
        f"{show(primary['high'], src['high'], 'headline CI high')})."
    ]
    failed = [c for c in record.verdict.criteria if c.result != "pass"]
    if failed:
        names = ", ".join(f"{c.name} ({c.result})" for c in failed)
        facts.append(f"Criteria not passed: {names}.")
    if record.audit is not None:
        warn, block = len(record.audit.by_severity("warning")), len(record.audit.blocking)
        facts.append(f"Data audit: {block} unaccepted blocking and {warn} warning finding(s).")
    if record.deployment is not None and len(facts) < 3:
        lat = record.deployment.latency
        state = "meets" if lat.meets_sla else "does NOT meet"
        facts.append(f"The served model {state} its latency SLA ({lat.checked}).")
    return facts[:3]


def criteria_rows(record: RunRecord, show: Show) -> list[dict[str, str]]:
    """Return the verdict's criteria as table rows, figures through the ledger."""
    rows = []
    for i, c in enumerate(record.verdict.criteria):
        est = show(c.estimate, criterion_source(record, i, "estimate"), f"criterion {c.name}")
        ci = "—"
        if c.low is not None:
            low = show(c.low, criterion_source(record, i, "low"), f"criterion {c.name} CI low")
            high = show(c.high, criterion_source(record, i, "high"), f"criterion {c.name} CI high")
            ci = f"{low} to {high}"
        rows.append(
            {
                "name": c.name,
                "rule": f"{c.op} {fmt(c.threshold)}",
                "estimate": est,
                "ci": ci,
                "result": c.result,
                "source": c.source or c.note or "",
            }
        )
    return rows


def _metrictable(record: RunRecord, show: Show) -> tuple[list[dict[str, Any]], str | None]:
    rows, plot = [], []
    for r in metric_rows(record):
        src, name = r["sources"], r["metric"]
        rows.append(
            {
                "metric": name,
                "primary": r["primary"],
                "value": show(r["estimate"], src["estimate"], f"test {name}"),
                "ci": f"{show(r['low'], src['low'], f'test {name} CI low')} to "
                f"{show(r['high'], src['high'], f'test {name} CI high')}",
                "basis": r["basis"],
                "why": r["why"],
            }
        )
        plot.append(
            {"label": name, "value": r["estimate"], "ci_low": r["low"], "ci_high": r["high"]}
        )
    return rows, interval_plot(plot, "test metrics of the delivered model, 95% CI")


def _threshold_block(record: RunRecord, show: Show) -> Block | None:
    ev = record.evaluation
    if ev.decisions is None:
        return None
    thr = show(ev.threshold, Source(EvaluationResult.FILE, "threshold"), "threshold")
    block = Block(f"threshold {thr}, chosen on validation ({ev.threshold_objective})")
    cells = ("tn", "fp", "fn", "tp", "precision", "recall", "selection_rate")
    body = []
    for at_half, decisions, name in (
        (False, ev.decisions, f"delivered {thr}"),
        (True, ev.decisions_at_0_5, "0.5 (comparison)"),
    ):
        if decisions is not None:
            body.append(
                [name]
                + [
                    show(
                        getattr(decisions, c), decisions_source(c, at_half=at_half), f"{c} {name}"
                    )
                    for c in cells
                ]
            )
    block.tables.append(table("confusion counts on the test set", ["cut-off", *cells], body))
    return block


def _calibration_block(record: RunRecord, show: Show) -> Block | None:
    calib = record.detail("calibration")
    if calib is None:
        return None
    art = "evaluation/calibration.json"
    sel = calib["selection"]
    block = Block("calibration on validation, checked on test")
    block.facts.append(("map kept", str(sel.get("kept") or "none")))
    if sel.get("reason"):
        block.facts.append(("why", str(sel["reason"])))
    for name, value in (sel.get("valid_log_loss") or {}).items():
        block.facts.append(
            (
                f"validation log loss, {name}",
                show(value, Source(art, f"selection.valid_log_loss.{name}"), f"valid ll {name}"),
            )
        )
    for part in ("uncalibrated", "calibrated"):
        if part in calib:
            text = interval_text(calib[part]["ece_ci"], art, f"{part}.ece_ci", f"ECE {part}", show)
            block.facts.append((f"test ECE, {part} [95% CI]", text))
    block.images += images(record, "evaluation/reliability.svg")
    return block


def _slices_block(record: RunRecord, show: Show) -> Block | None:
    worst = (record.detail("slices") or {}).get("worst_slices") or []
    if not worst:
        return None
    rows = [
        [
            str(s["slice"]),
            fmt(s.get("size")),
            interval_text(s, "evaluation/slices.json", f"worst_slices.{i}", s["slice"], show),
        ]
        for i, s in enumerate(worst)
    ]
    cols = ["slice", "rows", "error [95% CI]"]
    return Block("worst slices", tables=[table("test set", cols, rows)])


def _importance_block(record: RunRecord, show: Show) -> Block | None:
    imp = record.detail("importance")
    if imp is None:
        return None
    art = "evaluation/importance.json"
    ranked = imp.get("importance", [])
    rows = [
        [str(r["column"]), show(r["importance"], Source(art, f"importance.{i}"), r["column"])]
        for i, r in enumerate(ranked[:MAX_ROWS])
    ]
    block = Block(f"{imp.get('method', '')} on {fmt(imp.get('n_rows'))} test rows")
    caption = f"importance by input column (top {len(rows)} of {len(ranked)})"
    block.tables.append(table(caption, ["column", "importance"], rows))
    if imp.get("note"):
        block.facts.append(("note", str(imp["note"])))
    block.images += images(record, "evaluation/importance.svg")
    return block


def _interpretability_block(record: RunRecord, show: Show) -> Block | None:
    interp = record.detail("interpretability")
    if interp is None or interp.get("price") is None:
        return None
    art = "evaluation/interpretability.json"
    block = Block(f"best model vs best glass-box model ({interp.get('metric')})")
    for key in ("best", "glass_box"):
        part = interp.get(key) or {}
        value = show(part.get("test"), Source(art, f"{key}.test"), f"{key} test")
        block.facts.append((f"{key}: {part.get('name')}", f"test {value} (diagnostic)"))
    price = interval_text(interp["price"], art, "price", "price of interpretability", show)
    block.facts.append(("price [95% CI]", price))
    block.facts.append(("meaning", str(interp.get("price_meaning", ""))))
    return block


def _conformal_block(record: RunRecord, show: Show) -> Block | None:
    ev = record.evaluation
    if ev.conformal_nominal is None:
        return None
    conformal = record.detail("conformal") or {}
    block = Block(f"{conformal.get('kind', 'conformal')} ({conformal.get('method', '')})")
    for key, label in (("conformal_nominal", "nominal coverage"), ("conformal_test", "test")):
        value = getattr(ev, key)
        block.facts.append((label, show(value, Source(EvaluationResult.FILE, key), label)))
    return block


def evaluation_blocks(record: RunRecord, show: Show) -> dict[str, list[Block]]:
    """Blocks of every evaluation section that the run produced."""
    builders = {
        "threshold": _threshold_block,
        "calibration": _calibration_block,
        "fairness": fairness_block,
        "slices": _slices_block,
        "importance": _importance_block,
        "interpretability": _interpretability_block,
        "conformal": _conformal_block,
    }
    out: dict[str, list[Block]] = {}
    for key, build in builders.items():
        block = build(record, show)
        if block is not None:
            out[key] = [block]
    out.update(tradeoff_blocks(record, show))
    curves = prediction_plots(record.path, record.task)
    if curves:
        out["curves"] = [Block(t, svgs=[s]) for t, s in curves]
    return out


def latency_block(record: RunRecord, show: Show) -> Block | None:
    """Latency percentiles against the SLA, and the ONNX parity certificate."""
    if record.deployment is None:
        return None
    dep, art = record.deployment, "deploy/deployment.json"
    lat = dep.latency
    block = Block("latency and parity")
    rows, labels, values = [], [], []
    for mode in ("in_process", "http"):
        measured = getattr(lat, mode)
        if measured is None:
            continue
        for kind in ("single_row", "batch_1000"):
            pct = getattr(measured, kind)
            cells = [
                show(
                    getattr(pct, p),
                    Source(art, f"latency.{mode}.{kind}.{p}"),
                    f"{mode} {kind} {p}",
                )
                for p in ("p50_ms", "p95_ms", "p99_ms")
            ]
            target = lat.sla_ms.get("p99") if kind == "single_row" else None
            rows.append([f"{mode} {kind}", *cells, fmt(target)])
            if kind == "single_row":
                labels.append(f"{mode} p99")
                values.append(pct.p99_ms)
    cols = ["measure", "p50 ms", "p95 ms", "p99 ms", "p99 SLA ms"]
    block.tables.append(table(f"latency (SLA checked on {lat.checked})", cols, rows))
    if svg := bar_plot(labels, values, "single-row p99 (ms)", limit=lat.sla_ms.get("p99")):
        block.svgs.append(svg)
    parity = dep.parity
    diff = "max_rel_diff" if parity.task == "regression" else "max_abs_prob_diff"
    block.facts += [
        ("parity", "passed" if parity.passed else "FAILED"),
        (f"parity {diff}", show(parity.max_diff, Source(art, f"parity.{diff}"), diff)),
        ("parity tolerance", show(parity.tolerance, Source(art, "parity.tolerance"), "tol")),
        ("parity rows", f"{parity.n_test_rows} test rows + {parity.n_edge_cases} edge cases"),
    ]
    return block


def _leaderboardtable(record: RunRecord, show: Show) -> Table | None:
    board = record.leaderboard
    if board.empty:
        return None
    cols = [c for c in board.columns if c not in ("selected", "family")]
    rows = []
    for i, row in board.head(MAX_ROWS).iterrows():
        mark = " *" if bool(row.get("selected", False)) else ""
        cells = []
        for c in cols:
            value = row[c]
            if c == "model":
                cells.append(f"{value}{mark}")
            elif isinstance(value, float) and not pd.isna(value):
                cells.append(
                    show(value, Source("leaderboard.csv", f"{i}.{c}"), f"{row['model']} {c}")
                )
            else:
                cells.append(fmt(None if pd.isna(value) else value))
        rows.append(cells)
    header = [c.replace("test_", "diagnostic test_") for c in cols]
    caption = (
        f"leaderboard, first {len(rows)} of {len(board)}. Diagnostic test columns score each "
        "candidate's own uncalibrated probabilities, decisions at 0.5; the delivered model's "
        "figures are under Metrics."
    )
    return table(caption, header, rows)


def render_html(
    record: RunRecord, *, card: dict[str, Any], compliance: dict[str, Any], ledger: Ledger
) -> str:
    """Render ``report/report.html`` from the record, the card and the compliance map.

    Parameters
    ----------
    record : RunRecord
        The run folder's typed results.
    card : dict
        The model card (:func:`crispml.report.build_model_card`).
    compliance : dict
        The compliance map (:func:`crispml.report.build_compliance_map`).
    ledger : Ledger
        Records every figure the report prints.

    Returns
    -------
    str
        One HTML document: inline CSS and SVG, images as ``data:`` URIs, and a
        Content-Security-Policy that forbids any network request.
    """

    def show(value: Any, source: Source, label: str) -> str:
        return ledger.show(value, source, document=DOCUMENT, label=label)

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("crispml.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fmt"] = fmt
    metric_table, metric_svg = _metrictable(record, show)
    audit = record.audit
    return env.get_template("report.html.j2").render(
        record=record,
        card=card,
        compliance=compliance,
        verdict=record.verdict,
        facts=three_facts(record, show),
        criteria=criteria_rows(record, show),
        selection=selection_note(record, show),
        leaderboard_svg=leaderboard_plot(record.leaderboard, record.evaluation.primary_metric),
        leaderboard=_leaderboardtable(record, show),
        audit_rows=[] if audit is None else list(audit.findings),
        audit_counts={}
        if audit is None
        else {s: len(audit.by_severity(s)) for s in ("blocking", "warning", "info")},
        audit_images=[data_uri(p) for r, p in record.images.items() if r.startswith("audit/")],
        metric_rows=metric_table,
        metric_svg=metric_svg,
        sections=EVALUATION_SECTIONS,
        blocks=evaluation_blocks(record, show),
        latency=latency_block(record, show),
        caveats=caveats(record, show),
    )
