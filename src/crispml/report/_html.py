"""The self-contained HTML evaluation report (Jinja2 template shipped with the package).

Every section is built from a typed result or a documented evaluation file; every
figure goes through the claims ledger (see :mod:`crispml.report._claims`).
"""

from __future__ import annotations

from typing import Any

import jinja2
import pandas as pd

from crispml.evaluate import EvaluationResult
from crispml.report._alternatives_html import alternatives_block
from crispml.report._blocks import MAX_ROWS, Block, Show, Table, images, table
from crispml.report._card import (
    caveats,
    criterion_source,
    interval_text,
    metric_rows,
    selection_note,
)
from crispml.report._charts import candidates_plot, slices_plot
from crispml.report._claims import Ledger, Source, decisions_source, fmt
from crispml.report._fairness_html import fairness_block
from crispml.report._features import features_block
from crispml.report._plots import bar_plot, data_uri, prediction_plots
from crispml.report._record import RunRecord
from crispml.report._summary import first_screen
from crispml.report._tradeoff import SECTION as TRADEOFF_SECTION
from crispml.report._tradeoff import tradeoff_blocks

DOCUMENT = "report"
# (section key, title, what the section answers) in reading order after the metrics.
EVALUATION_SECTIONS = (
    ("threshold", "Decision threshold and confusion matrix", "What happens at the cut-off?"),
    ("calibration", "Calibration", "Do predicted probabilities match observed frequencies?"),
    ("curves", "ROC / precision-recall / residuals", "How does quality vary with the cut-off?"),
    ("fairness", "Fairness", "Does the model treat the protected groups alike?"),
    ("alternatives", "Less discriminatory alternatives", "Would another model be fairer?"),
    ("slices", "Worst slices", "Where does the model fail most?"),
    ("features", "Feature engineering", "How does each raw column reach the model?"),
    ("importance", "Importance", "Which input columns drive the predictions?"),
    ("interpretability", "Price of interpretability", "What does a glass-box model cost?"),
    ("conformal", "Prediction intervals / sets", "How certain is each prediction?"),
    TRADEOFF_SECTION,
)


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


def _metrictable(record: RunRecord, show: Show) -> list[dict[str, Any]]:
    rows = []
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
    return rows


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
    if sel.get("temperature") is not None:
        where = Source(art, "selection.temperature")
        block.facts.append(("temperature", show(sel["temperature"], where, "temperature")))
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


def segment_name(column: str, level: str) -> str:
    """``dir > 0.378``, ``dir 0.3 to 0.378``, ``dir missing``, or ``dmi = yes`` for levels."""
    numeric = level.startswith(("<=", ">")) or " to " in level or level == "missing"
    return f"{column} {level}" if numeric else f"{column} = {level}"


def _slices_block(record: RunRecord, show: Show) -> Block | None:
    report = record.detail("slices") or {}
    worst = report.get("worst_slices") or []
    segments = [
        {**seg, "slice": segment_name(column, seg["slice"]), "path": f"segments.{column}.{i}"}
        for column, found in (report.get("segments") or {}).items()
        for i, seg in enumerate(found)
    ]
    ranked = [{**s, "path": f"worst_slices.{i}"} for i, s in enumerate(worst)] + segments
    if not ranked:
        return None
    ranked.sort(key=lambda s: -(s["low"] if s.get("low") is not None else s["estimate"] or 0.0))
    error = str(report.get("error", "error"))
    block = Block(f"segments and found slices, ranked by the lower end of the {error}'s 95% CI")
    if svg := slices_plot(ranked, report.get("overall") or {}, error):
        block.svgs.append(svg)
    art = "evaluation/slices.json"
    rows = [  # only the rows shown: every figure printed is a claim
        [
            str(s["slice"]) + (" (few rows)" if s.get("small") else ""),
            fmt(s.get("size")),
            interval_text(s, art, s["path"], str(s["slice"]), show),
        ]
        for s in ranked[: MAX_ROWS - 1]
    ]
    overall = report.get("overall")
    if overall:
        rows.insert(
            0,
            [
                "all test rows",
                fmt(overall.get("size")),
                interval_text(overall, art, "overall", "overall", show),
            ],
        )
    block.tables.append(
        table(
            f"test set, worst first ({len(rows)} of {len(ranked) + 1} rows; all in "
            "evaluation/slices.json)",
            ["slice", "rows", f"{error} [95% CI]"],
            rows,
        )
    )
    return block


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
        "alternatives": alternatives_block,
        "slices": _slices_block,
        "features": features_block,
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
    """Tabulate the candidates' primary metric on validation and test, and their fit time.

    The other diagnostic test metrics stay in ``leaderboard.csv``: a narrow table reads
    on any screen.
    """
    board = record.leaderboard
    if board.empty or "model" not in board.columns:
        return None
    metric = record.evaluation.primary_metric
    wanted = ("model", "family", f"valid_{metric}", f"test_{metric}", "fit_s", "status")
    cols = [c for c in wanted if c in board.columns]
    rows = []
    for i, row in board.head(MAX_ROWS).iterrows():
        mark = " *" if bool(row.get("selected", False)) else ""
        base = " (baseline)" if bool(row.get("baseline", False)) else ""
        cells = []
        for c in cols:
            value = row[c]
            if c == "model":
                cells.append(f"{value}{base}{mark}")
            elif isinstance(value, float) and not pd.isna(value):
                cells.append(
                    show(value, Source("leaderboard.csv", f"{i}.{c}"), f"{row['model']} {c}")
                )
            else:
                cells.append(fmt(None if pd.isna(value) else value))
        rows.append(cells)
    names = {
        f"valid_{metric}": f"validation {metric}",
        f"test_{metric}": f"test {metric} (diagnostic)",
        "fit_s": "fit s",
    }
    header = [names.get(c, c) for c in cols]
    caption = (
        f"leaderboard, first {len(rows)} of {len(board)}. The test column scores each "
        "candidate's own uncalibrated probabilities, a diagnostic; the delivered model's "
        "figures are under Metrics. Other test metrics: leaderboard.csv."
    )
    return table(caption, header, rows)


def _candidates_svg(record: RunRecord) -> str | None:
    decisions = record.evaluation.decisions
    n_pos = n_neg = None
    if decisions is not None:
        n_pos, n_neg = decisions.tp + decisions.fn, decisions.tn + decisions.fp
    return candidates_plot(
        record.leaderboard, record.evaluation.primary_metric, n_pos=n_pos, n_neg=n_neg
    )


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
    audit = record.audit
    return env.get_template("report.html.j2").render(
        record=record,
        card=card,
        compliance=compliance,
        verdict=record.verdict,
        screen=first_screen(record, show),
        criteria=criteria_rows(record, show),
        selection=selection_note(record, show),
        leaderboard_svg=_candidates_svg(record),
        leaderboard=_leaderboardtable(record, show),
        audit_rows=[] if audit is None else list(audit.findings),
        audit_counts={}
        if audit is None
        else {s: len(audit.by_severity(s)) for s in ("blocking", "warning", "info")},
        audit_images=[data_uri(p) for r, p in record.images.items() if r.startswith("audit/")],
        metric_rows=_metrictable(record, show),
        sections=EVALUATION_SECTIONS,
        blocks=evaluation_blocks(record, show),
        latency=latency_block(record, show),
        caveats=caveats(record, show),
    )
