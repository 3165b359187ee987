"""The engagement of an anomaly-detection project (``problem.task: anomaly``).

The same phases and run folder as the other tasks, with the anomaly variant of each:
the audit runs its label-free checks (and the target checks when labels exist), the
search chooses a detector on the validation rows, the evaluation scores the locked
test rows once, the detector is exported to ONNX with a parity check and served like
any model (score + flag), and the card reads the typed anomaly result.
This module orchestrates; the logic lives in the phase packages.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crispml import data as cdata
from crispml._phase_steps import (
    deployment_policies,
    latency_figures,
    prepare_split_audit,
    seal_run,
    write_candidates,
)
from crispml._runfolder import RunFolder
from crispml.deploy import DeploymentResult, package_anomaly_deployment
from crispml.evaluate import AnomalyEvaluation, Verdict, evaluate_anomaly, verdict
from crispml.models import save_pipeline
from crispml.report import write_anomaly_report
from crispml.search import AnomalySearch, search_detectors
from crispml.spec import ProjectSpec
from crispml.tracking import EngagementTracker

if TYPE_CHECKING:
    import contextlib

    Step = Callable[[str], contextlib.AbstractContextManager[Any]]
    Manifest = Callable[[str, cdata.Dataset, cdata.Split], dict[str, Any]]


def anomaly_phases(
    spec: ProjectSpec,
    table: cdata.LoadedTable,
    folder: RunFolder,
    *,
    store: Path,
    base_dir: Path,
    tracker: EngagementTracker | None,
    step: Step,
    manifest: Manifest,
) -> Path:
    """Run every phase of an anomaly engagement into ``folder`` and seal it.

    Parameters
    ----------
    spec : ProjectSpec
        The resolved spec (``problem.task`` is ``anomaly``).
    table : LoadedTable
        The loaded data.
    folder : RunFolder
        The run folder being staged.
    store, base_dir : Path
        The project's ``.crispml`` folder and the project folder.
    tracker : EngagementTracker or None
        MLflow tracking, when enabled.
    step : callable
        Step reporter (CLI progress).
    manifest : callable
        ``manifest(run_id, dataset, split)`` builds the run's manifest.

    Returns
    -------
    Path
        The sealed run folder.
    """
    dataset, split = prepare_split_audit(spec, table, folder, store=store, step=step)
    with step(f"Choosing a detector (budget {spec.search.time_budget_s:g} s)"):
        search = _search(spec, dataset, split)
        _write_search(folder, dataset, search)
    with step("Evaluating on the test set"):
        result = _evaluate(spec, dataset, split, search, folder)
    deployed = None
    if spec.deployment.format == "onnx":
        with step("Exporting to ONNX and checking parity"):
            deployed = package_anomaly_deployment(
                folder,
                search.best.pipeline,
                schema=dataset.schema,
                target=dataset.target,
                X_train=dataset.features(split.train),
                test_frame=dataset.frame.iloc[split.test],
                sla_ms=spec.deployment.latency_sla_ms.model_dump(),
                run_id=folder.run_id,
                card=_card(spec, result),
                policies=deployment_policies(spec),
            )
    with step("Deciding the verdict"):
        decision = decide_anomaly_verdict(spec, result, deployed)
        folder.write_text(Verdict.FILE, decision.to_json())
        folder.write_json("metrics.json", _metrics_record(spec, search, result, decision))
    return seal_run(
        folder, spec, dataset, split, store=store, base_dir=base_dir, tracker=tracker,
        step=step, manifest=manifest,
        write_card=lambda staging, run_id: write_anomaly_report(staging, run_id=run_id),
        model=(search.best.family, search.best.params),
        test_metrics={k: v.estimate for k, v in result.test.items()},
    )  # fmt: skip


def _search(spec: ProjectSpec, dataset: cdata.Dataset, split: cdata.Split) -> AnomalySearch:
    return search_detectors(
        dataset.features(split.train),
        dataset.features(split.valid),
        dataset.y[split.valid] if dataset.labelled else None,
        schema=dataset.schema,
        detectors=spec.search.families,
        contamination=spec.problem.anomaly_share,
        metric=spec.problem.primary_metric,
        seed=spec.split.seed,
        time_budget_s=spec.search.time_budget_s,
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
    board = _leaderboard(search, result)
    folder.write_text("search/leaderboard.csv", board.to_csv(index=False))
    folder.write_text("leaderboard.csv", board.to_csv(index=False))
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
    extra, extra_sources, measured_on = latency_figures(deployed)
    measured.update(extra)
    sources.update(extra_sources)
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
            "contamination": search.contamination,
            "decision_threshold": 0.0,
        },
    )


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
