"""The engagement of a ranking project (``problem.task: ranking``).

The same phases and run folder as the other tasks, with the ranking variant of each:
the split keeps every query (``problem.group_column``) in one part, the audit checks
the queries, the search chooses a ranker on the validation queries' NDCG@k, the
evaluation scores the locked test queries once (NDCG@k and MAP with intervals over
queries, beside the baselines), the ranker is exported to ONNX with a parity check on
scores and per-query orderings and served per query (``/v1/rank``), and the card reads
the typed ranking result. This module orchestrates; the logic lives in the phase packages.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crispml import data as cdata
from crispml._runfolder import RunFolder
from crispml._steps import (
    StepReporter,
    deployment_inputs,
    document_and_seal,
    latency_figures,
    write_candidates,
)
from crispml.deploy import DeploymentResult, package_ranking_deployment
from crispml.evaluate import RankingEvaluation, Verdict, evaluate_ranking, verdict
from crispml.models import save_pipeline
from crispml.report import write_ranking_report
from crispml.search import EngagementBudget, RankingSearch, search_rankers
from crispml.spec import ProjectSpec
from crispml.tracking import EngagementTracker

if TYPE_CHECKING:
    Manifest = Callable[[str], dict[str, Any]]


def ranking_phases(
    spec: ProjectSpec,
    dataset: cdata.Dataset,
    split: cdata.Split,
    folder: RunFolder,
    *,
    plan: EngagementBudget,
    base_dir: Path,
    store: Path,
    tracker: EngagementTracker | None,
    step: StepReporter,
    manifest: Manifest,
) -> Path:
    """Run the ranking variant of the phases after the audit into ``folder`` and seal it.

    Parameters
    ----------
    spec : ProjectSpec
        The resolved spec (``problem.task`` is ``ranking``).
    dataset : Dataset
        The loaded, checked and audited data.
    split : Split
        Its split: every query in one part (locked test queries).
    folder : RunFolder
        The run folder being staged.
    plan : EngagementBudget
        The engagement's budget: the ranker search gets what the other phases'
        predicted costs leave; ``budget.json`` records planned vs used per phase.
    base_dir, store : Path
        The project folder and its ``.crispml`` folder.
    tracker : EngagementTracker or None
        MLflow tracking, when enabled.
    step : callable
        Step reporter (CLI progress).
    manifest : callable
        ``manifest(run_id)`` builds the run's manifest.

    Returns
    -------
    Path
        The sealed run folder.
    """
    groups = dataset.frame[spec.problem.group_column or ""].astype(str).to_numpy()
    search_s = plan.search_s()
    with step(f"Choosing a ranker ({search_s:.0f} s of the budget)"), plan.phase("search"):
        search = _search(spec, dataset, split, groups, search_s)
        write_candidates(folder, search.candidates)
        _write_model(folder, dataset, search)
    with step("Evaluating on the test queries"), plan.phase("evaluation"):
        result = _evaluate(spec, dataset, split, groups, search, folder)
    deployed = None
    if spec.deployment.format == "onnx":
        with step("Exporting to ONNX and checking parity"), plan.phase("deployment"):
            deployed = package_ranking_deployment(
                folder,
                search.best.pipeline,
                test_groups=groups[split.test],
                card=_card(spec, result),
                **deployment_inputs(spec, dataset, split, folder),
            )
    with step("Deciding the verdict"), plan.phase("verdict"):
        decision = decide_ranking_verdict(spec, result, deployed)
        folder.write_text(Verdict.FILE, decision.to_json())
        folder.write_json("metrics.json", _metrics_record(search, result, decision))
    return document_and_seal(
        folder,
        spec,
        dataset,
        documents=(
            "Writing the model card",
            lambda staging, record: write_ranking_report(staging, run_id=record["run_id"]),
        ),
        search=search,
        search_stage=(search_s, "rankers fitted and scored on the validation queries"),
        test=result.test,
        plan=plan,
        base_dir=base_dir,
        store=store,
        tracker=tracker,
        step=step,
        manifest=manifest,
    )


def _search(
    spec: ProjectSpec,
    dataset: cdata.Dataset,
    split: cdata.Split,
    groups: np.ndarray,
    time_budget_s: float,
) -> RankingSearch:
    return search_rankers(
        dataset.features(split.train),
        dataset.y[split.train],
        groups[split.train],
        dataset.features(split.valid),
        dataset.y[split.valid],
        groups[split.valid],
        schema=dataset.schema,
        rankers=spec.search.families,
        k=spec.problem.ndcg_k,
        metric=spec.problem.primary_metric,
        baselines=spec.search.baselines,
        seed=spec.split.seed,
        time_budget_s=time_budget_s,
        max_trials=spec.search.max_trials,
        deterministic=spec.search.deterministic,
        n_jobs=spec.search.n_jobs,
    )


def _evaluate(
    spec: ProjectSpec,
    dataset: cdata.Dataset,
    split: cdata.Split,
    groups: np.ndarray,
    search: RankingSearch,
    folder: RunFolder,
) -> RankingEvaluation:
    best = search.best
    result, frame = evaluate_ranking(
        best.pipeline,
        name=best.name,
        ranker=best.family,
        X_test=dataset.features(split.test),
        test_ids=split.test_ids,
        groups=groups[split.test],
        relevance=dataset.y[split.test],
        k=search.k,
        primary_metric=search.metric,
        baselines={c.family: c.pipeline for c in search.candidates if c.baseline},
        floor=None if search.floor is None else search.floor.family,
        n_resamples=spec.evaluation.bootstrap,
        seed=spec.split.seed,
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    folder.write_bytes(result.predictions, buffer.getvalue())
    folder.write_text(RankingEvaluation.FILE, result.to_json())
    board = _leaderboard(search, result)
    folder.write_text("search/leaderboard.csv", board.to_csv(index=False))
    folder.write_text("leaderboard.csv", board.to_csv(index=False))
    return result


def decide_ranking_verdict(
    spec: ProjectSpec, result: RankingEvaluation, deployed: DeploymentResult | None
) -> Verdict:
    """Check ``problem.success_criteria`` on NDCG@k, MAP and the measured latency.

    Parameters
    ----------
    spec : ProjectSpec
        The spec whose criteria are checked.
    result : RankingEvaluation
        Test figures with their intervals over queries.
    deployed : DeploymentResult or None
        The measured latency (``None`` when the run did not deploy).

    Returns
    -------
    Verdict
    """
    figures = result.measured()
    measured: dict[str, Any] = {k: v.model_dump() for k, v in figures.items()}
    sources = {
        k: f"{RankingEvaluation.FILE}: {f'test.{k}' if k in result.test else 'vs_floor'}"
        for k in figures
    }
    extra, extra_sources, measured_on = latency_figures(deployed)
    measured.update(extra)
    sources.update(extra_sources)
    return verdict(
        spec.problem.success_criteria, measured, sources=sources, latency_measured_on=measured_on
    )


def _leaderboard(search: RankingSearch, result: RankingEvaluation) -> pd.DataFrame:
    board = pd.DataFrame(
        [
            {
                "model": c.name,
                "family": c.family,
                "baseline": c.baseline,
                "valid_score": c.valid_score,
                "fit_s": round(c.fit_s, 3),
                "selected": c is search.best,
            }
            for c in search.candidates
        ]
    )
    board["valid_metric"] = f"ndcg@{search.k}" if search.metric == "ndcg" else search.metric
    tested = {c: f[search.metric].estimate for c, f in result.baselines.items()}
    tested[search.best.name] = result.test[search.metric].estimate
    board["test_score"] = [
        tested.get(name, np.nan) if sel or base else np.nan
        for name, sel, base in zip(
            board["model"], board["selected"], board["baseline"], strict=True
        )
    ]
    return board


def _write_model(folder: RunFolder, dataset: cdata.Dataset, search: RankingSearch) -> None:
    best = search.best
    save_pipeline(best.pipeline, folder.path("model/pipeline.skops"))
    folder.write_json(
        "model/schema.json",
        {
            "format": "skops",
            "file": "pipeline.skops",
            "family": best.family,
            "params": best.params,
            "features": [c for c in dataset.schema.features if c not in dataset.schema.dropped],
            "target": dataset.target.to_dict(),
            "schema": dataset.schema.to_dict(),
            "ndcg_k": search.k,
        },
    )


def _metrics_record(
    search: RankingSearch, result: RankingEvaluation, decision: Verdict
) -> dict[str, Any]:
    return {
        "task": "ranking",
        "primary_metric": search.metric,
        "k": result.k,
        "selected_model": search.best.name,
        "delivered_model": result.model,
        "ranker": result.ranker,
        "valid": {search.metric: search.best.valid_score},
        "test": {k: v.estimate for k, v in result.test.items()},
        "baselines": {
            b: {k: v.estimate for k, v in f.items()} for b, f in result.baselines.items()
        },
        "verdict": decision.overall,
        "search": {"budget_s": search.budget_s, "elapsed_s": round(search.elapsed_s, 3)},
        "sources": {
            "test": RankingEvaluation.FILE,
            "predictions": result.predictions,
            "verdict": Verdict.FILE,
        },
    }


def _card(spec: ProjectSpec, result: RankingEvaluation) -> dict[str, Any]:
    """Card summary served by ``/v1/metadata``."""
    return {
        "project": spec.name,
        "model": result.model,
        "ranker": result.ranker,
        "primary_metric": f"ndcg@{result.k}" if result.primary_metric == "ndcg" else "map",
        "query_column": spec.problem.group_column,
        "test_metrics": {k: v.estimate for k, v in result.test.items()},
        "test_metrics_source": RankingEvaluation.FILE,
        "intended_use": spec.problem.intended_use,
        "out_of_scope": spec.problem.out_of_scope,
        "endpoint": "/v1/rank: one query's candidates in, their scores and ranks out",
    }
