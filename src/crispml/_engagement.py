"""The engagement: runs every phase in order and writes the run folder.

This module orchestrates; the logic lives in the phase packages.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crispml import data as cdata
from crispml._anomaly_engagement import anomaly_phases
from crispml._ranking_engagement import ranking_phases
from crispml._reproduction import pack_reproduction
from crispml._runfolder import RunFolder, base_manifest
from crispml._steps import (
    StepReporter,
    deployment_inputs,
    latency_figures,
    load_split_audit,
    model_contract,
    seal,
    tracked_params,
    write_leaderboard,
)
from crispml._utils._io import sha256_bytes
from crispml._utils._threads import configure_threads
from crispml.deploy import DeploymentResult, package_deployment
from crispml.evaluate import (
    EngagementEvaluation,
    EvaluationResult,
    Verdict,
    evaluate_engagement,
    verdict,
)
from crispml.evaluate._engagement import reason_policy
from crispml.exceptions import NotFittedError, SpecError
from crispml.features import check_embeddings
from crispml.models import anomaly_scores, get_family, get_ranker, load_pipeline, save_pipeline
from crispml.report import check_template, write_report
from crispml.search import (
    Candidate,
    EngagementBudget,
    SearchProgress,
    SearchResult,
    SizeCap,
    record_search,
    search_models,
)
from crispml.search._ray import check_backend
from crispml.spec import FAIRNESS_CRITERIA, ProjectSpec, load_spec, spec_to_yaml
from crispml.tracking import EngagementTracker, default_tracking_uri


@contextlib.contextmanager
def _quiet(_title: str) -> Iterator[None]:
    yield


_MSG_NO_PROBA = (
    "{path} is a regression, anomaly or ranking run: it has no class probabilities. Use "
    "Run.predict (anomaly: flags) or Run.predict_output (anomaly or ranking: scores)."
)

_MSG_BUDGET_CAP = (
    "models capped at {cap:.2f} MB, below deployment.max_model_mb: the time a {budget:g} s "
    "budget keeps for evaluation, export and parity covers no larger model (raise "
    "search.time_budget_s for larger ones)"
)


class Project:
    """An engagement defined by a spec, run from the folder the spec lives in.

    Parameters
    ----------
    spec : ProjectSpec
        The problem definition.
    base_dir : str or Path, default="."
        The project folder: relative data paths start here, and ``runs/`` and
        ``.crispml/`` are created here.
    data : pandas.DataFrame, optional
        In-memory data, used instead of ``spec.data.source``.
    """

    def __init__(
        self, spec: ProjectSpec, *, base_dir: str | Path = ".", data: pd.DataFrame | None = None
    ) -> None:
        self.spec = spec.resolved()
        self.base_dir = Path(base_dir)
        self.data = data

    @classmethod
    def from_yaml(cls, path: str | Path) -> Project:
        """Load ``crispml.yaml`` and use its folder as the project folder."""
        path = Path(path)
        return cls(load_spec(path), base_dir=path.parent)

    @property
    def store(self) -> Path:
        """The project's ``.crispml`` folder (snapshots, lineage, MLflow store)."""
        return self.base_dir / ".crispml"

    def run(
        self,
        *,
        runs_dir: str | Path | None = None,
        progress: StepReporter | None = None,
        command: list[str] | None = None,
        on_candidate: Callable[[Candidate], None] | None = None,
        on_progress: Callable[[SearchProgress], None] | None = None,
        resume: bool = False,
        spent_s: float = 0.0,
    ) -> Run:
        """Run the engagement and return the finished :class:`Run`.

        Parameters
        ----------
        runs_dir : str or Path, optional
            Where run folders go (default ``<project>/runs``).
        progress : callable, optional
            Step reporter (see :data:`StepReporter`).
        command : list of str, optional
            The command line recorded in the manifest (default ``sys.argv``).
        on_candidate : callable, optional
            Called with each fitted candidate of the search.
        on_progress : callable, optional
            Called after each search trial (trials done, best so far, time left).
        resume : bool, default=False
            Continue an interrupted search: keep the finished trials of its Optuna study
            (``.crispml/optuna.db``) when the data and search settings are the same.
        spent_s : float, default=0.0
            Seconds of ``search.time_budget_s`` already spent before this call (the
            command line passes its process's start-up).

            .. versionadded:: 0.1

        Returns
        -------
        Run
        """
        step = progress or _quiet
        spec = self.spec
        self._template = check_template(self._template_path())  # refuse before any work
        check_backend(spec.search.backend, spec.search.ray_address)
        if spec.problem.task == "ranking":
            for name in spec.search.families:  # a misnamed ranker fails before any work
                get_ranker(name)
        if spec.features.text.method == "embeddings":
            check_embeddings()  # the extra is missing: say so before any work
        plan = EngagementBudget(
            spec.search.time_budget_s,
            deterministic=spec.search.deterministic,
            bootstrap=spec.evaluation.bootstrap,
            formats=tuple(spec.report.formats),
            alternatives=spec.problem.task == "binary" and bool(spec.fairness.protected),
            attributes=len(spec.fairness.protected) + (len(spec.fairness.protected) > 1),
            spent_s=spent_s,
        )
        configure_threads(spec.search.n_jobs)  # passive OpenMP waits, before models load
        self._on_progress, self._resume = on_progress, resume
        with plan.phase("setup"):
            folder = RunFolder(
                Path(runs_dir) if runs_dir else self.base_dir / "runs", _new_run_id(spec)
            )
            tracker = self._tracker()
        try:
            if tracker is not None:
                with plan.phase("setup"):
                    tracker.start(folder.run_id, tags={"crispml.run_id": folder.run_id})
            path = self._phases(folder, tracker, step, on_candidate, command, plan)
            if tracker is not None:
                tracker.finish()
        except BaseException:
            folder.abandon()
            if tracker is not None:
                tracker.finish("FAILED")
            raise
        return Run(path)

    def _phases(
        self,
        folder: RunFolder,
        tracker: EngagementTracker | None,
        step: StepReporter,
        on_candidate: Callable[[Candidate], None] | None,
        command: list[str] | None,
        plan: EngagementBudget,
    ) -> Path:
        """Every phase in lifecycle order; each writes its artifacts into ``folder``.

        ``search.time_budget_s`` is the budget of all of them: the plan
        (:class:`~crispml.search.EngagementBudget`) gives the search what the other
        phases' predicted costs leave, and ``budget.json`` records planned vs used.
        """
        spec = self.spec
        source = self.data if self.data is not None else spec.data.source
        dataset, split = load_split_audit(
            spec, source, folder, base_dir=self.base_dir, store=self.store, step=step, plan=plan
        )
        if spec.problem.task in ("anomaly", "ranking"):
            phases = ranking_phases if spec.problem.task == "ranking" else anomaly_phases
            return phases(
                spec,
                dataset,
                split,
                folder,
                plan=plan,
                base_dir=self.base_dir,
                store=self.store,
                tracker=tracker,
                step=step,
                manifest=lambda run_id: self._manifest(run_id, dataset, split, tracker, command),
            )
        search_s = plan.search_s()
        cap = self._size_cap(plan)
        with step(f"Searching models ({search_s:.0f} s of the budget)"), plan.phase("search"):
            result = self._search(dataset, split, on_candidate, search_s, cap)
            folder.write_text(SizeCap.FILE, cap.to_json())
            record_search(result, folder, tracker=tracker, top_k=spec.search.tracked_top_k)
            _write_search(folder, dataset, result)
        # its serialized size, measured by the search (the file is written once, below)
        plan.model_mb = float(result.best.info.get("delivered_mb", plan.model_mb))
        work = plan.evaluation_work()  # bounded by the time left (budget.json says if reduced)
        reduced = "" if work.effort == 1.0 else f" ({plan.reductions['evaluation']})"
        with step(f"Evaluating on the test set{reduced}"), plan.phase("evaluation"):
            evaluation = evaluate_engagement(
                folder, dataset=dataset, split=split, result=result, spec=spec, work=work
            )
            write_leaderboard(folder, evaluation.holdout.leaderboard)
            _write_final_model(folder, dataset, result, evaluation)
        deployed = None
        if spec.deployment.format == "onnx":
            with step("Exporting to ONNX and checking parity"), plan.phase("deployment"):
                deployed = self._deploy(folder, dataset, split, evaluation)
        with step("Deciding the verdict"), plan.phase("verdict"):
            decision = decide_verdict(spec, evaluation.result, deployed)
            folder.write_text(Verdict.FILE, decision.to_json())
            folder.write_json("metrics.json", _metrics_record(spec, result, evaluation, decision))
        left_out = plan.report_formats()  # documents the time left does not cover
        reduced = f" ({plan.reductions['report']})" if left_out else ""
        with step(f"Writing the model card and report{reduced}"), plan.phase("report"):
            manifest = self._manifest(folder.run_id, dataset, split, tracker, command)
            manifest["reproduction"] = pack_reproduction(folder, dataset, spec, self.base_dir)
            write_report(
                folder.staging,
                manifest=manifest,
                template=self._template,
                leave_out=left_out,
                model=evaluation.model,
            )
        with step("Sealing the run folder"):
            budget = plan.result(
                result.budget["stages"], result.budget["trials"], study=result.study
            )
            params = tracked_params(spec, family=result.best.family, params=result.best.params)
            return seal(
                folder,
                manifest,
                budget,
                dataset=dataset,
                store=self.store,
                tracker=tracker,
                tracked=(params, _tracked_metrics(result, evaluation.result)),
            )

    def _deploy(
        self,
        folder: RunFolder,
        dataset: cdata.Dataset,
        split: cdata.Split,
        evaluation: EngagementEvaluation,
    ) -> DeploymentResult:
        spec = self.spec
        return package_deployment(
            folder,
            evaluation.model,
            card=_card(spec, evaluation.result),
            threshold=evaluation.threshold,
            explain=reason_policy(spec, dataset, split, None).document(),
            **deployment_inputs(spec, dataset, split, folder),
        )

    def _size_cap(self, plan: EngagementBudget) -> SizeCap:
        """Return the largest model the search may select, and where that cap comes from.

        ``deployment.max_model_mb``, or less when the time the plan keeps for the phases
        after the search could not evaluate and export a model that large (the plan's
        :meth:`~crispml.search.EngagementBudget.affordable_mb`; ``budget.json`` says so).
        A deterministic run reduces no late work, and keeps the spec's cap.
        """
        spec = self.spec
        cap = SizeCap(max_model_mb=spec.deployment.max_model_mb)
        if spec.search.deterministic or spec.deployment.format == "none":
            return cap
        affordable = plan.affordable_mb()
        if affordable >= cap.max_model_mb:
            return cap
        budget = spec.search.time_budget_s
        plan.notes["search"] = _MSG_BUDGET_CAP.format(cap=affordable, budget=budget)
        return SizeCap(
            max_model_mb=round(affordable, 3),
            source=f"the largest model a {budget:g} s budget can evaluate and export",
        )

    def _search(
        self,
        dataset: cdata.Dataset,
        split: cdata.Split,
        on_candidate: Callable[[Candidate], None] | None,
        time_budget_s: float,
        cap: SizeCap,
    ) -> SearchResult:
        spec = self.spec
        return search_models(
            dataset.features(split.train),
            dataset.y[split.train],
            dataset.features(split.valid),
            dataset.y[split.valid],
            schema=dataset.schema,
            task=spec.problem.task,
            metric=spec.problem.primary_metric,
            families=_families(spec),
            time_budget_s=time_budget_s,
            seed=spec.split.seed,
            baselines=spec.search.baselines,
            on_candidate=on_candidate,
            on_progress=getattr(self, "_on_progress", None),
            validation=spec.search.validation,
            deterministic=spec.search.deterministic,
            max_trials=spec.search.max_trials,
            n_jobs=spec.search.n_jobs,
            ensemble=spec.search.ensemble,
            portfolio=spec.search.portfolio,
            study_dir=self.store,
            resume=getattr(self, "_resume", False),
            monotone=dict(spec.features.monotone),
            max_model_mb=cap.max_model_mb,
            size_cap_why=cap.source,
            latency_sla_ms=_tightest_sla(spec),
            backend=spec.search.backend,
            ray_address=spec.search.ray_address,
        )

    def _template_path(self) -> Path | None:
        """``report.template`` resolved against the project folder, if the spec sets one."""
        name = self.spec.report.template
        return None if name is None else self.base_dir / name

    def _tracker(self) -> EngagementTracker | None:
        if not self.spec.tracking.enabled:
            return None
        uri = self.spec.tracking.uri or default_tracking_uri(self.base_dir)
        root = self.store / "mlartifacts" if self.spec.tracking.uri is None else None
        return EngagementTracker(uri, self.spec.name, artifact_root=root)

    def _manifest(
        self,
        run_id: str,
        dataset: cdata.Dataset,
        split: cdata.Split,
        tracker: EngagementTracker | None,
        command: list[str] | None,
    ) -> dict[str, Any]:
        manifest = base_manifest(run_id, seed=self.spec.split.seed, command=command)
        manifest["spec_sha256"] = sha256_bytes(spec_to_yaml(self.spec).encode())
        snap = dataset.snapshot
        manifest["inputs"] = {
            "data": {
                "source": snap.source,
                "raw_sha256": snap.raw_sha256,
                "table_sha256": snap.table_sha256,
                "n_rows": snap.n_rows,
                "n_columns": snap.n_columns,
                "rows_without_target": dataset.n_missing_target,
            },
            "split_sha256": split.sha256,
            "test_ids_sha256": sha256_bytes("\n".join(split.test_ids).encode()),
        }
        if tracker is not None:
            manifest["tracking"] = {
                "uri": tracker.uri,
                "experiment": tracker.experiment,
                "mlflow_run_id": tracker.run_id,
            }
        return manifest


def _write_search(folder: RunFolder, dataset: cdata.Dataset, result: SearchResult) -> None:
    """Record the search; the model file is written once, after the evaluation."""
    folder.write_json("search/candidates.json", [_candidate_record(c) for c in result.candidates])
    folder.write_json("model/schema.json", _model_contract(dataset, result.best))


def decide_verdict(
    spec: ProjectSpec, evaluation: EvaluationResult, deployed: DeploymentResult | None
) -> Verdict:
    """Decide the verdict once, from the evaluation's and the deployment's results.

    Parameters
    ----------
    spec : ProjectSpec
        Its ``problem.success_criteria`` are checked.
    evaluation : EvaluationResult
        Test figures of the delivered model, ECE and parity gaps, with intervals.
    deployed : DeploymentResult or None
        The measured single-row latency (``None`` when the run did not deploy).

    Returns
    -------
    Verdict
    """
    measured = {k: v.model_dump() for k, v in evaluation.measured().items()}
    if evaluation.fairness_underpowered:
        reason = "too few positives or negatives: " + "; ".join(evaluation.fairness_underpowered)
        for name in set(FAIRNESS_CRITERIA) & set(measured):
            measured[name]["inconclusive"] = reason
    sources = {k: f"{EvaluationResult.FILE}: test.{k}" for k in evaluation.test}
    if evaluation.ece is not None:
        sources["ece"] = f"{EvaluationResult.FILE}: ece"
    sources.update(
        {k: f"{EvaluationResult.FILE}: fairness_gaps.{k}" for k in evaluation.fairness_gaps}
    )
    if evaluation.vs_baseline is not None:
        comparison = evaluation.vs_baseline
        note = (
            f"improvement over baseline {comparison.baseline!r} "
            f"(its test {comparison.metric}: {comparison.baseline_estimate})"
        )
        measured[f"{comparison.metric}_vs_baseline"]["note"] = note
        sources[f"{comparison.metric}_vs_baseline"] = (
            f"{EvaluationResult.FILE}: vs_baseline.improvement"
        )
    latency, latency_sources, measured_on = latency_figures(deployed)
    measured.update(latency)
    sources.update(latency_sources)
    criteria = {**spec.problem.success_criteria, **spec.fairness.criteria}
    return verdict(criteria, measured, sources=sources, latency_measured_on=measured_on)


def _write_final_model(
    folder: RunFolder,
    dataset: cdata.Dataset,
    result: SearchResult,
    evaluation: EngagementEvaluation,
) -> None:
    """Save the delivered model (the calibrated one when calibration was kept), once."""
    contract = _model_contract(dataset, result.best)
    contract["decision_threshold"] = evaluation.threshold
    contract["calibration"] = evaluation.result.calibration
    save_pipeline(evaluation.model, folder.path("model/pipeline.skops"))
    folder.write_json("model/schema.json", contract)


def _tightest_sla(spec: ProjectSpec) -> float | None:
    """Return the smallest single-row latency target set (a model's trees must fit under it)."""
    if spec.deployment.format == "none":
        return None  # nothing is served: no SLA to keep
    targets = [v for v in spec.deployment.latency_sla_ms.model_dump().values() if v is not None]
    return min(targets, default=None)


def _families(spec: ProjectSpec) -> tuple[str, ...]:
    """Return the families to search; only glass-box ones when ``search.interpretable_only``."""
    if not spec.search.interpretable_only:
        return spec.search.families
    kept = tuple(f for f in spec.search.families if get_family(f).glass_box)
    if not kept and not spec.search.baselines:
        raise SpecError(
            f"search.interpretable_only is true but none of search.families "
            f"{list(spec.search.families)} is a glass-box family and baselines are off. "
            "Add 'linear' or 'tree' to search.families, or set search.baselines: true."
        )
    return kept


def _candidate_record(cand: Candidate) -> dict[str, Any]:
    return {
        "name": cand.name,
        "family": cand.family,
        "params": cand.params,
        "status": cand.status,
        "valid_score": cand.valid_score,
        "fit_s": cand.fit_s,
        "info": {k: v for k, v in cand.info.items() if k != "trace"},
    }


def _metrics_record(
    spec: ProjectSpec, result: SearchResult, evaluation: EngagementEvaluation, decision: Verdict
) -> dict[str, Any]:
    """``metrics.json``: the delivered model's test figures (from the typed results)."""
    figures = evaluation.result
    return {
        "task": spec.problem.task,
        "primary_metric": result.metric,
        "selected_model": result.best.name,
        "delivered_model": figures.model,
        "decision_threshold": figures.threshold,
        "valid": {result.metric: result.best.valid_score},
        "test": {k: v.estimate for k, v in figures.test.items()},
        "test_basis": dict(figures.basis),
        "test_at_0_5": {k: v.estimate for k, v in figures.test_at_0_5.items()},
        "verdict": decision.overall,
        "search": {"budget_s": result.budget_s, "elapsed_s": round(result.elapsed_s, 3)},
        "sources": {
            "test": EvaluationResult.FILE,
            "predictions": figures.predictions,
            "verdict": Verdict.FILE,
        },
    }


def _model_contract(dataset: cdata.Dataset, best: Candidate) -> dict[str, Any]:
    return model_contract(dataset, family=best.family, params=best.params)


def _card(spec: ProjectSpec, evaluation: EvaluationResult) -> dict[str, Any]:
    """Card summary served by ``/v1/metadata``: the delivered model's test figures."""
    return {
        "project": spec.name,
        "model": evaluation.selected_model,
        "delivered_model": evaluation.model,
        "primary_metric": evaluation.primary_metric,
        "decision_threshold": evaluation.threshold,
        "test_metrics": {k: v.estimate for k, v in evaluation.test.items()},
        "test_metrics_basis": dict(evaluation.basis),
        "test_metrics_source": EvaluationResult.FILE,
        # refit: all_rows: the test metrics are of the model before the served refit
        "final_refit": None
        if evaluation.final_refit is None
        else evaluation.final_refit.model_dump(),
        "intended_use": spec.problem.intended_use,
        "out_of_scope": spec.problem.out_of_scope,
    }


def _tracked_metrics(
    result: SearchResult, evaluation: EvaluationResult
) -> dict[str, float | None]:
    out: dict[str, float | None] = {f"test_{k}": v.estimate for k, v in evaluation.test.items()}
    out[f"valid_{result.metric}"] = result.best.valid_score
    out["search_elapsed_s"] = result.elapsed_s
    return out


def _new_run_id(spec: ProjectSpec) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    digest = hashlib.sha256(f"{spec_to_yaml(spec)}|{stamp}".encode()).hexdigest()[:6]
    return f"{stamp[:15]}-{digest}"


@dataclass
class Run:
    """A finished run folder, opened for reading and prediction.

    Parameters
    ----------
    path : str or Path
        The run folder (``runs/<run-id>``).

    Attributes
    ----------
    metrics : dict
        Test metrics of the selected model.
    leaderboard : pandas.DataFrame
        Validation and test scores of every candidate.
    """

    path: Path
    metrics: dict[str, float] = field(init=False)
    leaderboard: pd.DataFrame = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not (self.path / "manifest.json").is_file():
            raise NotFittedError(f"{self.path} is not a finished run folder (no manifest.json).")
        record = json.loads((self.path / "metrics.json").read_text(encoding="utf-8"))
        self.metrics = record["test"]
        self.leaderboard = pd.read_csv(self.path / "leaderboard.csv")
        self._contract = json.loads((self.path / "model/schema.json").read_text(encoding="utf-8"))
        self._pipeline: Any = None

    @property
    def run_id(self) -> str:
        """The run's id (its folder name)."""
        return self.path.name

    @property
    def selected_model(self) -> str:
        """Name of the model chosen on validation."""
        return str(self.leaderboard.loc[self.leaderboard["selected"], "model"].iloc[0])

    def predict_output(self, frame: pd.DataFrame) -> np.ndarray:
        """Class probabilities (n, k), regression values, anomaly or ranking scores for rows."""
        features = cdata.conform(frame, cdata.Schema.from_dict(self._contract["schema"]))
        pipeline = self._load()
        if self._contract["target"]["task"] == "anomaly":
            return anomaly_scores(pipeline, features)
        if self._contract["target"]["task"] in ("regression", "ranking"):
            return np.asarray(pipeline.predict(features), dtype=np.float64)
        return np.asarray(pipeline.predict_proba(features), dtype=np.float64)

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Class probabilities (n, k) of the delivered model for raw rows (scikit-learn's name).

        Raises
        ------
        NotFittedError
            If the run is a regression (it has no probabilities; use :meth:`predict`).
        """
        if self._contract["target"]["task"] in ("regression", "anomaly", "ranking"):
            raise NotFittedError(_MSG_NO_PROBA.format(path=self.path))
        return self.predict_output(frame)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Predict raw rows: class labels, values, or anomaly flags.

        Binary labels are decided at the decision threshold; anomaly flags mark a score
        above the detector's threshold.
        """
        output = self.predict_output(frame)
        encoding = cdata.TargetEncoding(**self._contract["target"])
        if encoding.task == "anomaly":
            return np.asarray(output > self._contract["decision_threshold"], dtype=bool)
        if encoding.task in ("regression", "ranking"):
            return output
        threshold = self._contract.get("decision_threshold")
        if encoding.task == "binary" and threshold is not None:
            return encoding.decode((output[:, 1] >= threshold).astype(np.int64))
        return encoding.decode(output.argmax(axis=1))

    @property
    def verdict(self) -> Verdict | None:
        """The success-criteria verdict (``evaluation/verdict.json``), if the run has one."""
        return Verdict.read_optional(self.path)

    @property
    def evaluation(self) -> EvaluationResult:
        """The typed evaluation result (``evaluation/evaluation.json``)."""
        return EvaluationResult.read(self.path)

    def _load(self) -> Any:
        if self._pipeline is None:
            self._pipeline = load_pipeline(self.path / "model" / "pipeline.skops")
        return self._pipeline
