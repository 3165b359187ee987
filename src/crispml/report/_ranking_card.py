"""The model card of a ranking run, and the check of its figures.

The card reads the typed results only (``evaluation/ranking.json``, the verdict, the
deployment result) and prints every figure through the claims ledger; the test figures
of the ranker and of the baselines are recomputed by ``crispml verify`` from the saved
test scores (``evaluation/test_predictions.parquet``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from crispml._utils._io import atomic_write_text, to_json
from crispml.deploy import DeploymentResult
from crispml.evaluate import Estimate, RankingEvaluation, ranking_figures, ranking_improvement
from crispml.exceptions import ReportError
from crispml.report._anomaly_card import verdict_lines
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
_FILE = RankingEvaluation.FILE
_BASELINES = {
    "best_feature": "best single column (chosen on the training queries)",
    "random": "random order (seeded)",
}
Show = Callable[[Any, Source, str], str]
_MSG_REBUILD = (
    "{path} is a ranking run: its model card (report/model_card.md) is written by the run "
    "and cannot be rebuilt by crispml report yet. Use the card in the run folder, or "
    "re-run the engagement."
)


def write_ranking_report(run_dir: str | Path, *, run_id: str | None = None) -> list[Path]:
    """Write ``report/model_card.md`` and ``report/claims.json`` of a ranking run.

    Parameters
    ----------
    run_dir : str or Path
        The run folder (staged or finished) holding the typed ranking results.
    run_id : str, optional
        The run's id (default: the folder's name).

    Returns
    -------
    list of Path
        The files written.
    """
    root = Path(run_dir)
    result = RankingEvaluation.read(root)
    ledger = Ledger()
    text = render_ranking_card(root, result, ledger, run_id=run_id or root.name)
    claims = to_json(
        {
            "schema_version": CLAIMS_VERSION,
            "predictions": result.predictions,
            "task": "ranking",
            "k": result.k,
            "primary_metric": result.primary_metric,
            "n_resamples": result.n_resamples,
            "seed": result.seed,
            "claims": [asdict(c) for c in ledger.claims],
        }
    )
    return [
        atomic_write_text(root / DOCUMENTS[DOCUMENT], text),
        atomic_write_text(root / CLAIMS_FILE, claims),
    ]


def refuse_ranking_rebuild(root: Path) -> None:
    """Refuse to rebuild the documents of a ranking run (they are written by the run).

    Raises
    ------
    ReportError
        If ``root`` holds a ranking evaluation.
    """
    if (root / RankingEvaluation.FILE).is_file():
        raise ReportError(_MSG_REBUILD.format(path=root))


def render_ranking_card(
    root: Path, result: RankingEvaluation, ledger: Ledger, *, run_id: str
) -> str:
    """Render the ranking card as Markdown; every figure goes through ``ledger``."""
    spec = load_spec(root / "spec.yaml")

    def show(value: Any, source: Source, label: str) -> str:
        return ledger.show(value, source, document=DOCUMENT, label=label)

    k = show(result.k, Source(_FILE, "k"), "k")
    lines = [
        f"# Model card: {spec.name}",
        "",
        f"Run `{run_id}`.",
        "",
        "## Model details",
        "",
        f"- Task: ranking the candidates of each query (`{spec.problem.group_column}`) by "
        f"graded relevance (`{spec.problem.target}`).",
        f"- Ranker: `{result.ranker}` (candidate `{result.model}`), chosen on the "
        f"validation queries' NDCG@{k}.",
        "- Split: by query, so no query has candidates in both training and test.",
        "",
        "## Intended use",
        "",
        spec.problem.intended_use or "Not stated in the spec (problem.intended_use).",
        "",
        "## Quantitative analyses",
        "",
    ]
    lines += _metrics(result, show, k) + _deployment(root, show) + verdict_lines(root)
    return "\n".join(lines) + "\n"


def _metrics(result: RankingEvaluation, show: Show, k: str) -> list[str]:
    count = {"kind": "count"}
    rows = show(result.n_rows, Source(_FILE, "n_rows", {**count, "what": "rows"}), "rows")
    queries = show(
        result.n_queries, Source(_FILE, "n_queries", {**count, "what": "queries"}), "queries"
    )
    scored = show(
        result.n_queries_scored,
        Source(_FILE, "n_queries_scored", {**count, "what": "scored"}),
        "scored queries",
    )
    lines = [
        f"Locked test set: {rows} rows in {queries} queries; the figures average the "
        f"{scored} queries with two candidates or more and at least one relevant "
        "(grade > 0). 95% bootstrap intervals resample whole queries.",
        "",
        f"| model | NDCG@{k} | 95% interval | MAP | 95% interval |",
        "|---|---|---|---|---|",
        _row(f"delivered: `{result.model}`", "test", result.test, show),
    ]
    for name, figures in result.baselines.items():
        label = f"baseline: {_BASELINES.get(name, name)}"
        lines.append(_row(label, f"baselines.{name}", figures, show, column=f"score_{name}"))
    lines += ["", *_improvement(result, show)]
    lines += [
        "MAP counts a candidate as relevant when its grade is above 0. NDCG uses the grades.",
        "",
    ]
    return lines


def _improvement(result: RankingEvaluation, show: Show) -> list[str]:
    est = result.vs_floor
    if est is None or result.floor is None:
        return []
    check = {"kind": "ranking_improvement", "baseline": result.floor}
    cells = [
        show(getattr(est, stat), Source(_FILE, f"vs_floor.{stat}", {**check, "stat": stat}), stat)
        for stat in ("estimate", "low", "high")
    ]
    name = "NDCG" if result.primary_metric == "ndcg" else "MAP"
    return [
        f"Improvement of {name} over the baseline chosen on validation "
        f"({_BASELINES.get(result.floor, result.floor)}), query by query on the same test "
        f"queries: {cells[0]} (95% paired interval {cells[1]} to {cells[2]}).",
        "",
    ]


def _row(
    label: str, field: str, figures: dict[str, Estimate], show: Show, *, column: str = "score"
) -> str:
    cells = []
    for metric in ("ndcg", "map"):
        est = figures[metric]
        for stat in ("estimate", "low", "high"):
            check = {"kind": "ranking_metric", "column": column, "metric": metric, "stat": stat}
            cells.append(
                show(
                    getattr(est, stat),
                    Source(_FILE, f"{field}.{metric}.{stat}", check),
                    f"{label} {metric} {stat}",
                )
            )
    ndcg, ap = f"{cells[0]} | {cells[1]} to {cells[2]}", f"{cells[3]} | {cells[4]} to {cells[5]}"
    return f"| {label} | {ndcg} | {ap} |"


def _deployment(root: Path, show: Show) -> list[str]:
    deployed = DeploymentResult.read_optional(root)
    if deployed is None:
        return ["## Deployment", "", "Not exported (deployment.format: none).", ""]
    file = DeploymentResult.FILE
    parity = deployed.parity
    diff = show(parity.max_diff, Source(file, "parity.max_abs_prob_diff"), "parity")
    moved = show(parity.queries_reordered, Source(file, "parity.queries_reordered"), "reordered")
    n = show(parity.n_queries, Source(file, "parity.n_queries"), "parity queries")
    p99 = show(
        deployed.latency.checked_single_row.p99_ms, Source(file, "latency.p99_ms"), "p99 ms"
    )
    return [
        "## Deployment",
        "",
        f"ONNX graph of the whole pipeline (the ranker's booster converted as a sum of trees, "
        f"like a regressor); served score vs native on the test rows: max abs difference "
        f"{diff}; {moved} of {n} test queries ordered differently "
        f"({'passed' if parity.passed else 'failed'}). Single-row latency p99 {p99} ms. "
        'Served per query: `POST /v1/rank` with `{"candidates": [...]}` returns each '
        "candidate's score and rank.",
        "",
    ]


def check_ranking_claims(root: Path, ledger: dict[str, Any]) -> tuple[int, list[ClaimMismatch]]:
    """Recompute the card's checkable figures from the saved test scores.

    Returns
    -------
    tuple
        ``(claims checked, mismatches)``.
    """
    frame = pd.read_parquet(root / ledger["predictions"])
    path = root / DOCUMENTS[DOCUMENT]
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    cache: dict[str, dict[str, Estimate]] = {}
    checked, bad = 0, []
    for raw in ledger["claims"]:
        claim = Claim(**raw)
        if claim.shown not in text:
            bad.append(ClaimMismatch(claim.label, claim.document, claim.shown, "", "not in"))
        if claim.check is None:
            continue
        checked += 1
        expected = _recompute(claim.check, frame, ledger, cache)
        if fmt(expected) != claim.shown:
            why = "recomputed from the scores:"
            bad.append(ClaimMismatch(claim.label, claim.document, claim.shown, fmt(expected), why))
    return checked, bad


def _recompute(
    check: dict[str, Any],
    frame: pd.DataFrame,
    ledger: dict[str, Any],
    cache: dict[str, dict[str, Estimate]],
) -> Any:
    if check["kind"] == "ranking_improvement":
        est = ranking_improvement(
            frame,
            k=int(ledger["k"]),
            metric=ledger["primary_metric"],
            baseline=check["baseline"],
            n_resamples=int(ledger["n_resamples"]),
            seed=int(ledger["seed"]),
        )
        return getattr(est, check["stat"])
    if check["kind"] == "count":
        what = check["what"]
        if what == "rows":
            return len(frame)
        if what == "queries":
            return int(frame["group"].nunique())
        return _figures(frame, "score", ledger, cache)["ndcg"].n
    figures = _figures(frame, check["column"], ledger, cache)
    return getattr(figures[check["metric"]], check["stat"])


def _figures(
    frame: pd.DataFrame, column: str, ledger: dict[str, Any], cache: dict[str, dict[str, Estimate]]
) -> dict[str, Estimate]:
    if column not in cache:
        cache[column] = ranking_figures(
            frame,
            k=int(ledger["k"]),
            column=column,
            n_resamples=int(ledger["n_resamples"]),
            seed=int(ledger["seed"]),
        )
    return cache[column]
