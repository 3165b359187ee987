"""The report's fairness section, from ``evaluation/fairness.json``.

Per protected column (and their intersection): group rates with intervals on the test
set and, with more rows, out of fold over train + valid; the gaps, including the adverse
impact ratio on the favourable outcome; calibration per group; and the threshold
trade-off with the delivered threshold marked.
"""

from __future__ import annotations

from typing import Any

from crispml.report._blocks import MAX_ROWS, Block, Show, first, table
from crispml.report._card import interval_text
from crispml.report._charts import GAP_NAMES, group_plot
from crispml.report._claims import Source, fmt
from crispml.report._plots import tradeoff_plot
from crispml.report._record import RunRecord

ART = "evaluation/fairness.json"
_RATES = ("favourable_rate", "selection_rate", "tpr", "fpr")
_COLS = ["group", "rows", "positives", "favourable rate", "selection rate", "TPR", "FPR"]


def _rates(report: dict[str, Any], path: str, label: str, show: Show) -> list[list[str]]:
    rows = []
    column = label.removesuffix(" oof")
    for group, stats in first(report.get("by_group", {})):
        where = f"{path}.by_group.{group}"
        cells = [
            interval_text(stats.get(k), ART, f"{where}.{k}", f"{label} {group} {k}", show)
            for k in _RATES
        ]
        name = f"{column} = {group}"
        rows.append([name, fmt(stats.get("count")), fmt(stats.get("positives")), *cells])
    return rows


def _gaps(report: dict[str, Any], path: str, label: str, show: Show) -> list[list[str]]:
    return [
        [
            GAP_NAMES.get(name, name.replace("_", " ")),
            interval_text(v, ART, f"{path}.gaps.{name}", f"{label} {name}", show),
        ]
        for name, v in report.get("gaps", {}).items()
    ]


def _calibration(report: dict[str, Any], path: str, column: str, show: Show) -> list[list[str]]:
    rows = []
    for group, stats in first(report.get("calibration_by_group") or {}):
        where = f"{path}.calibration_by_group.{group}"
        cells = [
            show(stats[k], Source(ART, f"{where}.{k}"), f"{column} {group} {k}")
            for k in ("mean_predicted", "observed", "difference")
        ]
        rows.append([f"{column} = {group}", fmt(stats["count"]), *cells])
    return rows


def _tradeoff(report: dict[str, Any], path: str, column: str, show: Show) -> list[list[str]]:
    rows = []
    for i, row in enumerate((report.get("tradeoff") or [])[:MAX_ROWS]):
        keys = ["adverse_impact_ratio", "accuracy"] + [
            k for k in row if k.endswith((": fpr", ": fnr"))
        ]
        cells = [
            show(row[k], Source(ART, f"{path}.tradeoff.{i}.{k}"), f"{column} t={i} {k}")
            for k in keys
        ]
        mark = " (delivered)" if row["delivered"] else ""
        rows.append([f"{row['threshold']:.4g}{mark}", *cells])
    return rows


def fairness_block(record: RunRecord, show: Show) -> Block | None:
    """Build the fairness section, or ``None`` when no protected column was evaluated."""
    fairness = record.detail("fairness") or {}
    attributes = fairness.get("attributes") or {}
    if not attributes:
        return None
    block = Block(
        f"groups at the delivered threshold {fmt(fairness.get('threshold'))}; favourable "
        f"outcome: {fairness.get('favourable_label')}"
    )
    for column, report in attributes.items():
        path = f"attributes.{column}"
        if svg := group_plot(column, report.get("by_group", {})):
            block.svgs.append(svg)
        block.tables.append(
            table(
                f"{column}: rates with 95% CI (locked test set)",
                _COLS,
                _rates(report, path, column, show),
                len(report.get("by_group", {})),
            )
        )
        oof = report.get("out_of_fold")
        if oof:
            block.tables.append(
                table(
                    f"{column}: rates with 95% CI, {oof['basis']}",
                    _COLS,
                    _rates(oof, f"{path}.out_of_fold", f"{column} oof", show),
                    len(oof.get("by_group", {})),
                )
            )
        gaps = _gaps(report, path, column, show)
        if oof:
            gaps += [
                [f"{name} (out of fold)", text]
                for name, text in _gaps(oof, f"{path}.out_of_fold", f"{column} oof", show)
            ]
        block.tables.append(table(f"{column}: gaps with 95% CI", ["gap", "value"], gaps))
        calibration = _calibration(report, path, column, show)
        if calibration:
            cols = ["group", "rows", "mean predicted", "observed rate", "difference"]
            block.tables.append(
                table(
                    f"{column}: calibration in the large (test)",
                    cols,
                    calibration,
                    len(report.get("calibration_by_group") or {}),
                )
            )
        trade = report.get("tradeoff") or []
        if trade:
            cols = ["threshold", "adverse impact ratio", "accuracy"] + [
                f"{k.rsplit(': ', 1)[1].upper()} {column} = {k.rsplit(': ', 1)[0]}"
                for k in trade[0]
                if k.endswith((": fpr", ": fnr"))
            ]
            caption = f"{column}: what each threshold would give (test)"
            rows = _tradeoff(report, path, column, show)
            block.tables.append(table(caption, cols, rows, len(trade)))
            if svg := tradeoff_plot(trade, column):
                block.svgs.append(svg)
        block.facts += [(f"{column} warning", str(w)) for w in report.get("warnings", [])]
        block.facts += [(f"{column} too small", str(w)) for w in report.get("underpowered", [])]
    return block
