"""Steps every engagement shares, whatever the task: data in, audit, verdict inputs, seal.

:mod:`crispml._engagement` (classification and regression),
:mod:`crispml._anomaly_engagement` and :mod:`crispml._ranking_engagement` all run these,
each phase measured by the one budget plan (:class:`~crispml.search.EngagementBudget`)
that ``budget.json`` records.
This module orchestrates; the logic lives in the phase packages.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from crispml import data as cdata
from crispml._reproduction import pack_reproduction
from crispml._runfolder import RunFolder
from crispml.audit import audit_data
from crispml.deploy import DeploymentResult
from crispml.search import EngagementBudget, RunBudget
from crispml.spec import ProjectSpec, spec_to_yaml
from crispml.tracking import EngagementTracker, flatten

StepReporter = Callable[[str], contextlib.AbstractContextManager[Any]]
"""Called with a step's title; the returned context wraps the step (CLI progress)."""


def load_split_audit(
    spec: ProjectSpec,
    source: str | pd.DataFrame,
    folder: RunFolder,
    *,
    base_dir: Path,
    store: Path,
    step: StepReporter,
    plan: EngagementBudget,
) -> tuple[cdata.Dataset, cdata.Split]:
    """Load and check the data, make the plan, split (locked test set), audit.

    Writes ``spec.yaml``, ``data/schema.json``, ``data/split.json`` and the audit.

    Returns
    -------
    tuple
        The dataset and its split.
    """
    with step("Loading and checking the data"), plan.phase("load"):
        table = cdata.load_table(source, base_dir=base_dir)
        dataset = cdata.prepare_dataset(table, spec, store=store)
        folder.write_text("spec.yaml", spec_to_yaml(spec))
        folder.write_json("data/schema.json", dataset.schema.to_dict())
    plan.set_table(*dataset.frame.shape)
    with step(plan.plan_line()):
        pass
    with step("Splitting (locked test set)"), plan.phase("split"):
        split = cdata.make_split(
            dataset.frame,
            spec.split,
            target=spec.problem.target or "",
            id_column=spec.data.id_column,
        )
        folder.write_json("data/split.json", split.to_dict())
    plan.set_split(len(split.test))
    with step("Auditing the data"), plan.phase("audit"):
        audit_data(dataset, split, spec, folder=folder, enforce=True)
    return dataset, split


def latency_figures(
    deployed: DeploymentResult | None,
) -> tuple[dict[str, dict[str, Any]], dict[str, str], str | None]:
    """Return the measured latency as verdict figures: ``(measured, sources, measured_on)``."""
    if deployed is None:
        return {}, {}, None
    where = "http" if deployed.latency.http is not None else "in_process"
    measured: dict[str, dict[str, Any]] = {}
    sources: dict[str, str] = {}
    for name, value in deployed.latency.criteria_figures().items():
        measured[name] = {"estimate": value, "low": None, "high": None}
        key = name.removeprefix("latency_")
        sources[name] = f"{DeploymentResult.FILE}: latency.{where}.single_row.{key}"
    return measured, sources, f"{where} single_row"


def deployment_inputs(
    spec: ProjectSpec, dataset: cdata.Dataset, split: cdata.Split, folder: RunFolder
) -> dict[str, Any]:
    """Keyword arguments every deployment takes: data, contract policies, SLA, run id."""
    return {
        "schema": dataset.schema,
        "target": dataset.target,
        "X_train": dataset.features(split.train),
        "test_frame": dataset.frame.iloc[split.test],
        "sla_ms": spec.deployment.latency_sla_ms.model_dump(),
        "run_id": folder.run_id,
        "policies": {
            "on_missing": spec.deployment.on_missing,
            "on_unknown": spec.deployment.on_unknown,
            "protected": spec.fairness.protected,
        },
    }


def model_contract(
    dataset: cdata.Dataset, *, family: str, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Describe what a caller needs to use the saved pipeline: columns, types, classes."""
    return {
        "format": "skops",
        "file": "pipeline.skops",
        "family": family,
        "params": dict(params),
        "features": [c for c in dataset.schema.features if c not in dataset.schema.dropped],
        "target": dataset.target.to_dict(),
        "schema": dataset.schema.to_dict(),
    }


def write_leaderboard(folder: RunFolder, board: pd.DataFrame) -> None:
    """Write the leaderboard where the search and the run's root keep it."""
    text = board.to_csv(index=False)
    folder.write_text("search/leaderboard.csv", text)
    folder.write_text("leaderboard.csv", text)


def write_candidates(folder: RunFolder, candidates: list[Any]) -> None:
    """Write ``search/candidates.json``: every configuration tried and its score."""
    folder.write_json(
        "search/candidates.json",
        [
            {
                "name": c.name,
                "family": c.family,
                "params": c.params,
                "status": c.status,
                "valid_score": c.valid_score,
                "fit_s": c.fit_s,
                "info": c.info,
            }
            for c in candidates
        ],
    )


def search_stages(
    search: Any, planned_s: float, note: str
) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """Return a task's own search as ``budget.json``'s search stages and trial outcomes.

    ``search`` has ``elapsed_s`` and ``candidates`` (each with a ``status``), as the
    detector and ranker searches do.
    """
    stages = {
        "trials": {
            "planned_s": round(planned_s, 3),
            "actual_s": round(search.elapsed_s, 3),
            "note": note,
        }
    }
    counts = Counter(c.status for c in search.candidates)
    return stages, dict(sorted(counts.items()))


def tracked_params(spec: ProjectSpec, *, family: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """MLflow parameters of a run: the resolved spec and the delivered model's settings."""
    out = flatten(json.loads(spec.model_dump_json()), "spec.")
    out.update(flatten(dict(params), "model."))
    out["model.family"] = family
    return out


def document_and_seal(
    folder: RunFolder,
    spec: ProjectSpec,
    dataset: cdata.Dataset,
    *,
    documents: tuple[str, Callable[[Path, dict[str, Any]], Any]],
    search: Any,
    search_stage: tuple[float, str],
    test: Mapping[str, Any],
    plan: EngagementBudget,
    base_dir: Path,
    store: Path,
    tracker: EngagementTracker | None,
    step: StepReporter,
    manifest: Callable[[str], dict[str, Any]],
) -> Path:
    """Write a task's documents, then :func:`seal` with its search in ``budget.json``.

    For the tasks with their own search (anomaly, ranking).

    Parameters
    ----------
    documents : tuple
        ``(title, write)``: the step's title and ``write(staging, manifest)``.
    search : object
        The task's search result (``best``, ``candidates``, ``elapsed_s``).
    search_stage : tuple
        ``(planned_s, note)`` of the search in ``budget.json``.
    test : mapping
        Test figures by name (each with an ``estimate``), tracked as ``test_<name>``.

    Returns
    -------
    Path
        The sealed run folder.
    """
    title, write = documents
    with step(title), plan.phase("report"):
        record = manifest(folder.run_id)
        record["reproduction"] = pack_reproduction(folder, dataset, spec, base_dir)
        write(folder.staging, record)
    with step("Sealing the run folder"):
        budget = plan.result(*search_stages(search, *search_stage), study=None)
        params = tracked_params(spec, family=search.best.family, params=search.best.params)
        metrics = {f"test_{k}": v.estimate for k, v in test.items()}
        return seal(
            folder,
            record,
            budget,
            dataset=dataset,
            store=store,
            tracker=tracker,
            tracked=(params, metrics),
        )


def seal(
    folder: RunFolder,
    manifest: dict[str, Any],
    budget: RunBudget,
    *,
    dataset: cdata.Dataset,
    store: Path,
    tracker: EngagementTracker | None,
    tracked: tuple[dict[str, Any], Mapping[str, float | None]],
) -> Path:
    """Write ``budget.json``, log to MLflow, seal the folder, append the lineage entry.

    Parameters
    ----------
    tracked : tuple
        ``(params, metrics)`` logged to the MLflow run, when tracking is on.

    Returns
    -------
    Path
        The sealed run folder.
    """
    folder.write_text(RunBudget.FILE, budget.to_json())
    if tracker is not None:
        tracker.log(*tracked)
        tracker.log_artifacts(folder.staging)
    path = folder.finish(manifest)
    cdata.append_lineage(store, dataset.snapshot, run_id=folder.run_id, event="run")
    return path
