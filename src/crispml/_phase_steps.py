"""Steps shared by the engagements of the tasks with their own phase modules.

Anomaly detection and ranking run the same first phases (data, split, audit) and the
same last ones (latency figures in the verdict, tracking, sealing) as each other; only
the search, evaluation, deployment and card differ. This module holds the shared steps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crispml import data as cdata
from crispml._reproduction import pack_reproduction
from crispml._runfolder import RunFolder
from crispml.audit import audit_data
from crispml.deploy import DeploymentResult
from crispml.spec import ProjectSpec, spec_to_yaml
from crispml.tracking import EngagementTracker, flatten

if TYPE_CHECKING:
    import contextlib

    Step = Callable[[str], contextlib.AbstractContextManager[Any]]
    Manifest = Callable[[str, cdata.Dataset, cdata.Split], dict[str, Any]]


def prepare_split_audit(
    spec: ProjectSpec, table: cdata.LoadedTable, folder: RunFolder, *, store: Path, step: Step
) -> tuple[cdata.Dataset, cdata.Split]:
    """Check the data against the spec, split it (test locked), audit it; write each result.

    Returns
    -------
    tuple of (Dataset, Split)
    """
    dataset = cdata.prepare_dataset(table, spec, store=store)
    folder.write_text("spec.yaml", spec_to_yaml(spec))
    folder.write_json("data/schema.json", dataset.schema.to_dict())
    with step("Splitting (locked test set)"):
        split = cdata.make_split(
            dataset.frame,
            spec.split,
            target=spec.problem.target or "",
            id_column=spec.data.id_column,
        )
        folder.write_json("data/split.json", split.to_dict())
    with step("Auditing the data"):
        audit_data(dataset, split, spec, folder=folder, enforce=True)
    return dataset, split


def deployment_policies(spec: ProjectSpec) -> dict[str, Any]:
    """Return the serving contract's policies: missing, unknown and protected fields."""
    return {
        "on_missing": spec.deployment.on_missing,
        "on_unknown": spec.deployment.on_unknown,
        "protected": spec.fairness.protected,
    }


def latency_figures(
    deployed: DeploymentResult | None,
) -> tuple[dict[str, Any], dict[str, str], str | None]:
    """Latency figures a success criterion may name, their sources, and where measured.

    Returns
    -------
    tuple
        ``(measured, sources, measured_on)``; empty when the run did not deploy.
    """
    measured: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if deployed is None:
        return measured, sources, None
    where = "http" if deployed.latency.http is not None else "in_process"
    for name, value in deployed.latency.criteria_figures().items():
        measured[name] = {"estimate": value, "low": None, "high": None}
        key = name.removeprefix("latency_")
        sources[name] = f"{DeploymentResult.FILE}: latency.{where}.single_row.{key}"
    return measured, sources, f"{where} single_row"


def seal_run(
    folder: RunFolder,
    spec: ProjectSpec,
    dataset: cdata.Dataset,
    split: cdata.Split,
    *,
    store: Path,
    base_dir: Path,
    tracker: EngagementTracker | None,
    step: Step,
    manifest: Manifest,
    write_card: Callable[[Path, str], Any],
    model: tuple[str, dict[str, Any]],
    test_metrics: dict[str, float | None],
) -> Path:
    """Write the card, log to tracking, seal the folder and record the lineage.

    Parameters
    ----------
    write_card : callable
        ``write_card(staging, run_id)`` writes the model card into the staged folder.
    model : tuple of (str, dict)
        The delivered family and its parameters (tracked).
    test_metrics : dict
        Test figures (tracked as ``test_<name>``).

    Returns
    -------
    Path
        The sealed run folder.
    """
    with step("Writing the model card"):
        record = manifest(folder.run_id, dataset, split)
        record["reproduction"] = pack_reproduction(folder, dataset, spec, base_dir)
        write_card(folder.staging, folder.run_id)
    with step("Sealing the run folder"):
        if tracker is not None:
            params = flatten(json.loads(spec.model_dump_json()), "spec.")
            params.update(flatten(model[1], "model."))
            params["model.family"] = model[0]
            tracker.log(params, {f"test_{k}": v for k, v in test_metrics.items()})
            tracker.log_artifacts(folder.staging)
        path = folder.finish(record)
        cdata.append_lineage(store, dataset.snapshot, run_id=folder.run_id, event="run")
    return path


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
