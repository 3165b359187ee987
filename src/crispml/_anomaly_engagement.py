"""The engagement of an anomaly-detection project (``problem.task: anomaly``).

The same phases, budget plan and run folder as the other tasks, with the anomaly variant
of each: loading, splitting and the audit are the shared steps (:mod:`crispml._steps`;
the audit runs its label-free checks, and the target checks when labels exist), the
search chooses a detector on the validation rows within what the plan leaves it, the
evaluation scores the locked test rows once, the detector is exported to ONNX with a
parity check and served like any model (score + flag), the card and the HTML report read
the typed anomaly result, and ``budget.json``, ``env/`` and ``reproduce.sh`` are written
as for the other tasks. This module orchestrates; the logic lives in the phase packages.
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
    deployment_inputs,
    document_and_seal,
    latency_figures,
    model_contract,
    write_candidates,
    write_leaderboard,
)
from crispml.deploy import DeploymentResult, package_anomaly_deployment
from crispml.evaluate import AnomalyEvaluation, Verdict, evaluate_anomaly, verdict
from crispml.models import save_pipeline
from crispml.report import write_anomaly_report
from crispml.search import AnomalySearch, EngagementBudget, search_detectors
from crispml.spec import ProjectSpec
from crispml.tracking import EngagementTracker

if TYPE_CHECKING:
    from crispml._steps import StepReporter

    Manifest = Callable[[str], dict[str, Any]]


def anomaly_phases(
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
    """Run the anomaly variant of the phases after the audit into ``folder`` and seal it.

    Parameters
    ----------
    spec : ProjectSpec
        The resolved spec (``problem.task`` is ``anomaly``).
    dataset : Dataset
        The loaded, checked and audited data.
    split : Split
        Its split (locked test set).
    folder : RunFolder
        The run folder being staged.
    plan : EngagementBudget
        The engagement's budget: the detector search gets what the other phases'
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
    search_s = plan.search_s()
    with step(f"Choosing a detector ({search_s:.0f} s of the budget)"), plan.phase("search"):
        search = _search(spec, dataset, split, search_s)
        _write_search(folder, dataset, search)
    with step("Evaluating on the test set"), plan.phase("evaluation"):
        result = _evaluate(spec, dataset, split, search, folder)
    deployed = None
    if spec.deployment.format == "onnx":
        with step("Exporting to ONNX and checking parity"), plan.phase("deployment"):
            deployed = _deploy(spec, dataset, split, search, result, folder)
    with step("Deciding the verdict"), plan.phase("verdict"):
        decision = decide_anomaly_verdict(spec, result, deployed)
        folder.write_text(Verdict.FILE, decision.to_json())
        folder.write_json("metrics.json", _metrics_record(spec, search, result, decision))
    return document_and_seal(
        folder,
        spec,
        dataset,
        documents=(
            "Writing the model card and report",
            lambda staging, record: write_anomaly_report(staging, manifest=record),
        ),
        search=search,
        search_stage=(
            search_s,
            "detector configurations fitted and scored on the validation rows",
        ),
        test=result.test,
        plan=plan,
        base_dir=base_dir,
        store=store,
        tracker=tracker,
        step=step,
        manifest=manifest,
    )


def _deploy(
    spec: ProjectSpec,
    dataset: cdata.Dataset,
    split: cdata.Split,
    search: AnomalySearch,
    result: AnomalyEvaluation,
    folder: RunFolder,
) -> DeploymentResult:
    return package_anomaly_deployment(
        folder,
        search.best.pipeline,
        card=_card(spec, result),
        **deployment_inputs(spec, dataset, split, folder),
    )


def _search(
    spec: ProjectSpec, dataset: cdata.Dataset, split: cdata.Split, time_budget_s: float
) -> AnomalySearch:
    return search_detectors(
        dataset.features(split.train),
        dataset.features(split.valid),
        dataset.y[split.valid] if dataset.labelled else None,
        schema=dataset.schema,
        detectors=spec.search.families,
        contamination=spec.problem.anomaly_share,
        metric=spec.problem.primary_metric,
        seed=spec.split.seed,
        time_budget_s=time_budget_s,
        max_trials=spec.search.max_trials,
        deterministic=spec.search.deterministic,
    )


def _evaluate(
    spec: ProjectSpec,
    dataset: cdata.Dataset,
    split: cdata.Split,
    search: AnomalySearch,
    folder: RunFolder,
) -> AnomalyEvaluation:
    best = search.best
    result, frame = evaluate_anomaly(
        best.pipeline,
        name=best.name,
        detector=best.family,
        X_train=dataset.features(split.train),
        X_test=dataset.features(split.test),
        test_ids=split.test_ids,
        y_test=dataset.y[split.test] if dataset.labelled else None,
        contamination=search.contamination,
        primary_metric=search.metric,
        n_resamples=spec.evaluation.bootstrap,
        seed=spec.split.seed,
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    folder.write_bytes(result.predictions, buffer.getvalue())
    folder.write_text(AnomalyEvaluation.FILE, result.to_json())
    write_leaderboard(folder, _leaderboard(search, result))
    return result


def decide_anomaly_verdict(
    spec: ProjectSpec, result: AnomalyEvaluation, deployed: DeploymentResult | None
) -> Verdict:
    """Check ``problem.success_criteria`` on the anomaly figures and the measured latency.

    Parameters
    ----------
    spec : ProjectSpec
        The spec whose criteria are checked.
    result : AnomalyEvaluation
        Test metrics (labelled), stability and the share flagged.
    deployed : DeploymentResult or None
        The measured latency (``None`` when the run did not deploy).

    Returns
    -------
    Verdict
    """
    measured = {k: v.model_dump() for k, v in result.measured().items()}
    sources = {k: f"{AnomalyEvaluation.FILE}: test.{k}" for k in result.test}
    sources.update(
        {
            "rank_stability": f"{AnomalyEvaluation.FILE}: stability.spearman_min",
            "top_k_overlap": f"{AnomalyEvaluation.FILE}: stability.top_k_overlap_min",
            "flagged_share": f"{AnomalyEvaluation.FILE}: distribution.flagged_share",
        }
    )
    latency, latency_sources, measured_on = latency_figures(deployed)
    measured.update(latency)
    sources.update(latency_sources)
    return verdict(
        spec.problem.success_criteria, measured, sources=sources, latency_measured_on=measured_on
    )


def _leaderboard(search: AnomalySearch, result: AnomalyEvaluation) -> pd.DataFrame:
    rows = [
        {
            "model": c.name,
            "family": c.family,
            "valid_score": c.valid_score,
            "rank_agreement_with_delivered": c.info.get("rank_agreement_with_delivered"),
            "fit_s": round(c.fit_s, 3),
            "selected": c is search.best,
        }
        for c in search.candidates
    ]
    board = pd.DataFrame(rows)
    board["valid_metric"] = search.metric
    test = result.test.get(search.metric or "")
    chosen = np.nan if test is None or test.estimate is None else test.estimate
    board["test_score"] = np.where(board["selected"], chosen, np.nan)
    return board


def _write_search(folder: RunFolder, dataset: cdata.Dataset, search: AnomalySearch) -> None:
    best = search.best
    write_candidates(folder, search.candidates)
    save_pipeline(best.pipeline, folder.path("model/pipeline.skops"))
    contract = model_contract(dataset, family=best.family, params=best.params)
    contract.update(contamination=search.contamination, decision_threshold=0.0)
    folder.write_json("model/schema.json", contract)


def _metrics_record(
    spec: ProjectSpec, search: AnomalySearch, result: AnomalyEvaluation, decision: Verdict
) -> dict[str, Any]:
    return {
        "task": "anomaly",
        "primary_metric": search.metric,
        "selected_model": search.best.name,
        "delivered_model": result.model,
        "detector": result.detector,
        "contamination": result.contamination,
        "decision_threshold": result.threshold,
        "labelled": result.labelled,
        "valid": {search.metric: search.best.valid_score} if search.metric else {},
        "test": {k: v.estimate for k, v in result.test.items()},
        "stability": result.stability.model_dump(),
        "flagged_share": result.distribution.flagged_share,
        "verdict": decision.overall,
        "search": {"budget_s": search.budget_s, "elapsed_s": round(search.elapsed_s, 3)},
        "sources": {
            "test": AnomalyEvaluation.FILE,
            "predictions": result.predictions,
            "verdict": Verdict.FILE,
        },
    }


def _card(spec: ProjectSpec, result: AnomalyEvaluation) -> dict[str, Any]:
    """Card summary served by ``/v1/metadata``."""
    return {
        "project": spec.name,
        "model": result.model,
        "detector": result.detector,
        "contamination": result.contamination,
        "primary_metric": result.primary_metric,
        "decision_threshold": result.threshold,
        "test_metrics": {k: v.estimate for k, v in result.test.items()},
        "test_metrics_source": AnomalyEvaluation.FILE,
        "intended_use": spec.problem.intended_use,
        "out_of_scope": spec.problem.out_of_scope,
    }
