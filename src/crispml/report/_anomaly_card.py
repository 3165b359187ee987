"""The model card of an anomaly-detection run, and the check of its figures.

The card reads the typed results only (``evaluation/anomaly.json``, the verdict, the
deployment result) and prints every figure through the claims ledger; the test
figures and the flagged count are recomputed by ``crispml verify`` from the saved
test scores (``evaluation/anomaly_scores.parquet``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from crispml._utils._io import atomic_write_text, to_json
from crispml.deploy import DeploymentResult
from crispml.evaluate import AnomalyEvaluation, Verdict, anomaly_figures
from crispml.exceptions import ReportError
from crispml.report._claims import (
    CLAIMS_FILE,
    CLAIMS_VERSION,
    DOCUMENTS,
    Claim,
    ClaimMismatch,
    Ledger,
    Source,
    fmt,
)
from crispml.spec import load_spec

DOCUMENT = "model_card"
_FILE = AnomalyEvaluation.FILE
_LABELS = {
    "roc_auc": "ROC AUC",
    "average_precision": "PR AUC (average precision)",
    "precision_at_k": "precision@k",
}
Show = Callable[[Any, Source, str], str]
_MSG_REBUILD = (
    "{path} is an anomaly-detection run: its model card (report/model_card.md) is written "
    "by the run and cannot be rebuilt by crispml report yet. Use the card in the run "
    "folder, or re-run the engagement."
)


def write_anomaly_report(run_dir: str | Path, *, run_id: str | None = None) -> list[Path]:
    """Write ``report/model_card.md`` and ``report/claims.json`` of an anomaly run.

    Parameters
    ----------
    run_dir : str or Path
        The run folder (staged or finished) holding the typed anomaly results.
    run_id : str, optional
        The run's id (default: the folder's name).

    Returns
    -------
    list of Path
        The files written.
    """
    root = Path(run_dir)
    result = AnomalyEvaluation.read(root)
    ledger = Ledger()
    text = render_anomaly_card(root, result, ledger, run_id=run_id or root.name)
    claims = to_json(
        {
            "schema_version": CLAIMS_VERSION,
            "predictions": result.predictions,
            "task": "anomaly",
            "k": result.k,
            "n_resamples": result.n_resamples,
            "seed": result.seed,
            "claims": [asdict(c) for c in ledger.claims],
        }
    )
    return [
        atomic_write_text(root / DOCUMENTS[DOCUMENT], text),
        atomic_write_text(root / CLAIMS_FILE, claims),
    ]


def refuse_anomaly_rebuild(root: Path) -> None:
    """Refuse to rebuild the documents of an anomaly run (they are written by the run).

    Raises
    ------
    ReportError
        If ``root`` holds an anomaly evaluation.
    """
    if (root / AnomalyEvaluation.FILE).is_file():
        raise ReportError(_MSG_REBUILD.format(path=root))


def render_anomaly_card(
    root: Path, result: AnomalyEvaluation, ledger: Ledger, *, run_id: str
) -> str:
    """Render the anomaly card as Markdown; every figure goes through ``ledger``."""
    spec = load_spec(root / "spec.yaml")

    def show(value: Any, source: Source, label: str) -> str:
        return ledger.show(value, source, document=DOCUMENT, label=label)

    share = show(result.contamination, Source(_FILE, "contamination"), "contamination")
    lines = [
        f"# Model card: {spec.name}",
        "",
        f"Run `{run_id}`.",
        "",
        "## Model details",
        "",
        f"- Task: anomaly detection ({'with' if result.labelled else 'without'} known anomalies).",
        f"- Detector: `{result.detector}` (candidate `{result.model}`), chosen "
        + (
            f"on validation {_LABELS.get(result.primary_metric or '', '')}."
            if result.labelled
            else "as the first of search.families: without labels no detector can be scored."
        ),
        f"- Contamination {share}: the detector flags that share of the training rows, "
        f"those whose anomaly score is above "
        f"{show(result.threshold, Source(_FILE, 'threshold'), 'threshold')}.",
        "",
        "## Intended use",
        "",
        spec.problem.intended_use or "Not stated in the spec (problem.intended_use).",
        "",
        "## Quantitative analyses",
        "",
    ]
    lines += _metrics(result, show) + _distribution(result, show) + _stability(result, show)
    lines += _top_rows(result, show) + _deployment(root, show) + verdict_lines(root)
    return "\n".join(lines) + "\n"


def _metrics(result: AnomalyEvaluation, show: Show) -> list[str]:
    if not result.labelled:
        return ["No known anomalies: no detection rate can be measured.", ""]
    n = show(result.distribution.n, Source(_FILE, "distribution.n", {"kind": "count"}), "rows")
    lines = [f"Locked test set, {n} rows; 95% bootstrap intervals.", ""]
    lines += ["| metric | estimate | 95% interval |", "|---|---|---|"]
    for name, est in result.test.items():
        cells = [
            show(
                getattr(est, stat),
                Source(_FILE, f"test.{name}.{stat}", {"kind": "anomaly_metric", "stat": stat}),
                f"{name} {stat}",
            )
            for stat in ("estimate", "low", "high")
        ]
        label = _LABELS.get(name, name)
        if name == "precision_at_k":
            label += f" (k = {show(result.k, Source(_FILE, 'k'), 'k')})"
        lines.append(f"| {label} | {cells[0]} | {cells[1]} to {cells[2]} |")
    return [*lines, ""]


def _distribution(result: AnomalyEvaluation, show: Show) -> list[str]:
    dist = result.distribution
    flagged = show(
        dist.flagged, Source(_FILE, "distribution.flagged", {"kind": "flagged"}), "flagged"
    )
    lines = [f"Score distribution on the test rows ({flagged} flagged):", ""]
    lines += ["| quantile | score |", "|---|---|"]
    for key, value in dist.quantiles.items():
        shown = show(value, Source(_FILE, f"distribution.quantiles.{key}"), key)
        lines.append(f"| {key} | {shown} |")
    return [*lines, ""]


def _stability(result: AnomalyEvaluation, show: Show) -> list[str]:
    st = result.stability

    def fig(name: str, label: str) -> str:
        return show(getattr(st, name), Source(_FILE, f"stability.{name}"), label)

    return [
        f"Stability: refitted with {len(st.seeds)} other seeds, each on a seeded "
        f"{round(st.subsample * 100)}% subsample of the training rows. Spearman's rho with "
        f"the delivered scores: mean {fig('spearman_mean', 'rho mean')}, "
        f"min {fig('spearman_min', 'rho min')}; overlap of the top-{st.k} rows: "
        f"mean {fig('top_k_overlap_mean', 'overlap mean')}, "
        f"min {fig('top_k_overlap_min', 'overlap min')}.",
        "",
    ]


def _top_rows(result: AnomalyEvaluation, show: Show) -> list[str]:
    lines = ["## Most anomalous test rows", ""]
    lines += ["| row | score | driving columns |", "|---|---|---|"]
    for i, row in enumerate(result.top_rows):
        score = show(row.score, Source(_FILE, f"top_rows.{i}.score"), f"row {row.row_id} score")
        drivers = "; ".join(
            f"{d.column} = {d.value} (typical {d.reference})"
            for d in row.drivers
            if d.contribution > 0
        )
        lines.append(f"| {row.row_id} | {score} | {drivers} |")
    lines += [
        "",
        "Driving columns: the score drop when the column is set to its training reference "
        "(median or most frequent level), largest first.",
        "",
    ]
    return lines


def _deployment(root: Path, show: Show) -> list[str]:
    deployed = DeploymentResult.read_optional(root)
    if deployed is None:
        return ["## Deployment", "", "Not exported (deployment.format: none).", ""]
    file = DeploymentResult.FILE
    diff = show(deployed.parity.max_diff, Source(file, "parity.max_abs_prob_diff"), "parity")
    p99 = show(
        deployed.latency.checked_single_row.p99_ms, Source(file, "latency.p99_ms"), "p99 ms"
    )
    return [
        "## Deployment",
        "",
        f"ONNX graph of the whole pipeline; served anomaly score vs native: max abs "
        f"difference {diff} ({'passed' if deployed.parity.passed else 'failed'}); "
        f"single-row latency p99 {p99} ms. Served as score + flag (`/v1/predict`).",
        "",
    ]


def verdict_lines(root: Path) -> list[str]:
    """Return the verdict section of a card: each criterion and the overall decision."""
    decision = Verdict.read_optional(root)
    if decision is None or not decision.criteria:
        return ["## Verdict", "", "No success criteria in the spec.", ""]
    rows = [f"- {c.name} {c.op} {c.threshold:g}: {c.result}" for c in decision.criteria]
    return ["## Verdict", "", f"Overall: {decision.overall}.", "", *rows, ""]


def check_anomaly_claims(root: Path, ledger: dict[str, Any]) -> tuple[int, list[ClaimMismatch]]:
    """Recompute the card's checkable figures from the saved test scores.

    Returns
    -------
    tuple
        ``(claims checked, mismatches)``.
    """
    frame = pd.read_parquet(root / ledger["predictions"])
    test, dist = anomaly_figures(
        frame, k=int(ledger["k"]), n_resamples=int(ledger["n_resamples"]), seed=int(ledger["seed"])
    )
    path = root / DOCUMENTS[DOCUMENT]
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    checked, bad = 0, []
    for raw in ledger["claims"]:
        claim = Claim(**raw)
        if claim.shown not in text:
            bad.append(ClaimMismatch(claim.label, claim.document, claim.shown, "", "not in"))
        if claim.check is None:
            continue
        checked += 1
        expected = _recompute(claim, test, dist, len(frame))
        if fmt(expected) != claim.shown:
            why = "recomputed from the scores:"
            bad.append(ClaimMismatch(claim.label, claim.document, claim.shown, fmt(expected), why))
    return checked, bad


def _recompute(claim: Claim, test: dict[str, Any], dist: Any, n_rows: int) -> Any:
    kind = (claim.check or {})["kind"]
    if kind == "count":
        return n_rows
    if kind == "flagged":
        return dist.flagged
    name = claim.field.split(".")[1]
    return getattr(test[name], (claim.check or {})["stat"])
