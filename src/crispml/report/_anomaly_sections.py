"""The content of an anomaly run's documents, once, for the Markdown card and the HTML report.

Each section is a title and a list of items (paragraphs, bullet lists, tables, SVG plots)
built from the typed results only (``evaluation/anomaly.json``, the verdict, the
deployment result, the leaderboard); every figure is printed through ``show``, which
records it in the claims ledger under the document being written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crispml.deploy import DeploymentResult
from crispml.evaluate import AnomalyEvaluation, Verdict
from crispml.report._claims import Source
from crispml.report._plots import figure, svg
from crispml.spec import ProjectSpec

Show = Callable[[Any, Source, str], str]
FILE = AnomalyEvaluation.FILE
LABELS = {
    "roc_auc": "ROC AUC",
    "average_precision": "PR AUC (average precision)",
    "precision_at_k": "precision@k",
}


@dataclass(frozen=True)
class Table:
    """A table: caption (may be empty), column headers, rows of shown text."""

    caption: str
    columns: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Bullets:
    """A bullet list."""

    items: list[str]


@dataclass(frozen=True)
class Plot:
    """An inline SVG plot (the HTML report only)."""

    svg: str


Item = str | Bullets | Table | Plot


@dataclass
class Section:
    """A titled part of a document (``level`` 2: ``##``; 0: text before any title)."""

    title: str
    items: list[Item] = field(default_factory=list)
    level: int = 2


def anomaly_sections(
    root: Path, spec: ProjectSpec, result: AnomalyEvaluation, show: Show, *, plots: bool
) -> list[Section]:
    """Return the sections of an anomaly run's documents, figures shown through ``show``.

    Parameters
    ----------
    root : Path
        The run folder (staged or finished).
    spec : ProjectSpec
        The run's spec (name, intended use).
    result : AnomalyEvaluation
        The typed evaluation.
    show : callable
        ``show(value, source, label) -> text``: formats and records a figure.
    plots : bool
        Add the score histogram and the detectors compared (the HTML report).

    Returns
    -------
    list of Section
    """
    analyses = _metrics(result, show) + _distribution(result, show, root if plots else None)
    analyses.append(_stability(result, show))
    sections = [
        Section("Model details", [_details(result, show)]),
        Section(
            "Intended use",
            [spec.problem.intended_use or "Not stated in the spec (problem.intended_use)."],
        ),
        Section("Quantitative analyses", analyses),
        Section("Most anomalous test rows", _top_rows(result, show)),
    ]
    if plots and (board := _detectors(root, show)) is not None:
        sections.append(Section("Detectors compared", [board]))
    return [*sections, _deployment(root, show), verdict_section(root)]


def _details(result: AnomalyEvaluation, show: Show) -> Bullets:
    share = show(result.contamination, Source(FILE, "contamination"), "contamination")
    chosen = (
        f"on validation {LABELS.get(result.primary_metric or '', '')}."
        if result.labelled
        else "as the first of search.families: without labels no detector can be scored."
    )
    threshold = show(result.threshold, Source(FILE, "threshold"), "threshold")
    return Bullets(
        [
            f"Task: anomaly detection ({'with' if result.labelled else 'without'} "
            "known anomalies).",
            f"Detector: `{result.detector}` (candidate `{result.model}`), chosen {chosen}",
            f"Contamination {share}: the detector flags that share of the training rows, "
            f"those whose anomaly score is above {threshold}.",
        ]
    )


def _metrics(result: AnomalyEvaluation, show: Show) -> list[Item]:
    if not result.labelled:
        return ["No known anomalies: no detection rate can be measured."]
    n = show(result.distribution.n, Source(FILE, "distribution.n", {"kind": "count"}), "rows")
    rows = []
    for name, est in result.test.items():
        cells = [
            show(
                getattr(est, stat),
                Source(FILE, f"test.{name}.{stat}", {"kind": "anomaly_metric", "stat": stat}),
                f"{name} {stat}",
            )
            for stat in ("estimate", "low", "high")
        ]
        label = LABELS.get(name, name)
        if name == "precision_at_k":
            label += f" (k = {show(result.k, Source(FILE, 'k'), 'k')})"
        rows.append([label, cells[0], f"{cells[1]} to {cells[2]}"])
    return [
        f"Locked test set, {n} rows; 95% bootstrap intervals.",
        Table("", ["metric", "estimate", "95% interval"], rows),
    ]


def _distribution(result: AnomalyEvaluation, show: Show, root: Path | None) -> list[Item]:
    dist = result.distribution
    flagged = show(
        dist.flagged, Source(FILE, "distribution.flagged", {"kind": "flagged"}), "flagged"
    )
    rows = [
        [key, show(value, Source(FILE, f"distribution.quantiles.{key}"), key)]
        for key, value in dist.quantiles.items()
    ]
    items: list[Item] = [
        f"Score distribution on the test rows ({flagged} flagged):",
        Table("", ["quantile", "score"], rows),
    ]
    if root is not None and (root / result.predictions).is_file():
        items.append(Plot(_histogram(pd.read_parquet(root / result.predictions), result)))
    return items


def _histogram(frame: pd.DataFrame, result: AnomalyEvaluation) -> str:
    """Histogram of the test scores, by known label when there are labels."""
    fig, ax = figure(6.4, 2.8)
    scores = frame["score"].to_numpy(np.float64)
    bins = np.histogram_bin_edges(scores, bins=30)
    if "y_true" in frame:
        known = frame["y_true"].to_numpy() == 1
        ax.hist(scores[~known], bins=bins, alpha=0.7, label="normal (known)")
        ax.hist(scores[known], bins=bins, alpha=0.7, label="anomaly (known)")
        ax.legend(frameon=False)
    else:
        ax.hist(scores, bins=bins)
    ax.axvline(result.threshold, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel("anomaly score (dashed: flag threshold)")
    ax.set_ylabel("test rows")
    return svg(fig)


def _stability(result: AnomalyEvaluation, show: Show) -> str:
    st = result.stability

    def fig(name: str, label: str) -> str:
        return show(getattr(st, name), Source(FILE, f"stability.{name}"), label)

    return (
        f"Stability: refitted with {len(st.seeds)} other seeds, each on a seeded "
        f"{round(st.subsample * 100)}% subsample of the training rows. Spearman's rho with "
        f"the delivered scores: mean {fig('spearman_mean', 'rho mean')}, "
        f"min {fig('spearman_min', 'rho min')}; overlap of the top-{st.k} rows: "
        f"mean {fig('top_k_overlap_mean', 'overlap mean')}, "
        f"min {fig('top_k_overlap_min', 'overlap min')}."
    )


def _top_rows(result: AnomalyEvaluation, show: Show) -> list[Item]:
    rows = []
    for i, row in enumerate(result.top_rows):
        score = show(row.score, Source(FILE, f"top_rows.{i}.score"), f"row {row.row_id} score")
        drivers = "; ".join(
            f"{d.column} = {d.value} (typical {d.reference})"
            for d in row.drivers
            if d.contribution > 0
        )
        rows.append([row.row_id, score, drivers])
    return [
        Table("", ["row", "score", "driving columns"], rows),
        "Driving columns: the score drop when the column is set to its training reference "
        "(median or most frequent level), largest first.",
    ]


def _detectors(root: Path, show: Show) -> Table | None:
    path = root / "leaderboard.csv"
    if not path.is_file():
        return None
    board = pd.read_csv(path)
    rows = []
    for i, row in board.iterrows():
        score = None if pd.isna(row["valid_score"]) else float(row["valid_score"])
        shown = show(score, Source("leaderboard.csv", f"{i}.valid_score"), f"{row['model']} valid")
        rows.append(
            [str(row["model"]), str(row["family"]), shown, "yes" if row["selected"] else ""]
        )
    metric = str(board["valid_metric"].iloc[0]) if len(board) else ""
    caption = f"Validation {LABELS.get(metric, metric or 'score (none without labels)')}"
    return Table(caption, ["candidate", "detector", "validation", "selected"], rows)


def _deployment(root: Path, show: Show) -> Section:
    deployed = DeploymentResult.read_optional(root)
    if deployed is None:
        return Section("Deployment", ["Not exported (deployment.format: none)."])
    file = DeploymentResult.FILE
    diff = show(deployed.parity.max_diff, Source(file, "parity.max_abs_prob_diff"), "parity")
    p99 = show(
        deployed.latency.checked_single_row.p99_ms, Source(file, "latency.p99_ms"), "p99 ms"
    )
    return Section(
        "Deployment",
        [
            f"ONNX graph of the whole pipeline; served anomaly score vs native: max abs "
            f"difference {diff} ({'passed' if deployed.parity.passed else 'failed'}); "
            f"single-row latency p99 {p99} ms. Served as score + flag (`/v1/predict`)."
        ],
    )


def verdict_section(root: Path) -> Section:
    """Return the verdict section of a run: each criterion and the overall decision."""
    decision = Verdict.read_optional(root)
    if decision is None or not decision.criteria:
        return Section("Verdict", ["No success criteria in the spec."])
    rows = [f"{c.name} {c.op} {c.threshold:g}: {c.result}" for c in decision.criteria]
    return Section("Verdict", [f"Overall: {decision.overall}.", Bullets(rows)])


def markdown(sections: list[Section]) -> list[str]:
    """Render sections as Markdown lines (plots are left out)."""
    lines: list[str] = []
    for section in sections:
        lines += [f"{'#' * section.level} {section.title}", ""]
        for item in section.items:
            lines += _markdown_item(item)
    return lines


def _markdown_item(item: Item) -> list[str]:
    if isinstance(item, str):
        return [item, ""]
    if isinstance(item, Bullets):
        return [*(f"- {text}" for text in item.items), ""]
    if isinstance(item, Table):
        head = [f"{item.caption}:", ""] if item.caption else []
        return [
            *head,
            "| " + " | ".join(item.columns) + " |",
            "|" + "---|" * len(item.columns),
            *("| " + " | ".join(row) + " |" for row in item.rows),
            "",
        ]
    return []
