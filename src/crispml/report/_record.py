"""Reading a run folder into the typed results the handoff documents are built from.

The documents read the phases' typed results (:class:`EvaluationResult`,
:class:`Verdict`, :class:`DeploymentResult`, :class:`AuditReport`) and the detailed
evaluation reports by their documented file names; nothing is found by guessing keys.
A result of another schema version is refused with a message, not half-read.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from crispml.audit import AUDIT_FILE, AuditReport
from crispml.data import Schema
from crispml.deploy import DeploymentResult
from crispml.evaluate import EvaluationResult, Verdict
from crispml.exceptions import ReportError
from crispml.features import FeatureDocumentation
from crispml.search import RunBudget, SizeCap
from crispml.spec import ProjectSpec, load_spec

_MSG_NOT_RUN = (
    "{path} is not a run folder (no {missing}). Pass the folder a run wrote, e.g. runs/<run-id>."
)
IMAGE_SUFFIXES = {".svg": "image/svg+xml", ".png": "image/png"}
DETAIL_FILES = ("calibration", "threshold", "conformal", "fairness", "slices", "importance")


@dataclass(frozen=True)
class RunRecord:
    """Everything the handoff documents are built from, read from one run folder.

    Attributes
    ----------
    path : Path
        The run folder (staged or finished).
    manifest : dict
        ``manifest.json`` (or the manifest about to be written, during a run).
    spec : ProjectSpec
        The resolved spec of the run.
    evaluation : EvaluationResult
        The delivered model's test figures.
    verdict : Verdict
        The success-criteria decision.
    deployment : DeploymentResult or None
        Parity and latency, when the run deployed.
    audit : AuditReport or None
        The data audit.
    leaderboard : pandas.DataFrame
        ``leaderboard.csv``.
    schema : Schema
        The inferred input schema.
    split : dict
        ``data/split.json`` without row positions (``sizes``, ``sha256``...).
    details : dict
        The detailed evaluation reports (calibration, threshold, conformal,
        fairness, slices, importance, interpretability) by file stem.
    budget : RunBudget or None
        ``budget.json``: planned vs used seconds per phase (absent while the run
        writes its documents: it is written after them, before sealing).
    images : dict
        Plots other phases wrote, by run-folder path.
    size_cap : SizeCap or None
        ``search/size_cap.json``: the largest model the search could select, and why
        (absent from runs written before it).
    features : FeatureDocumentation or None
        The feature engineering of the delivered model, set by the report writer
        (:func:`crispml.report._features.feature_documentation`).
    """

    path: Path
    manifest: dict[str, Any]
    spec: ProjectSpec
    evaluation: EvaluationResult
    verdict: Verdict
    deployment: DeploymentResult | None
    audit: AuditReport | None
    leaderboard: pd.DataFrame
    schema: Schema
    split: dict[str, Any]
    details: dict[str, dict[str, Any]] = field(default_factory=dict)
    budget: RunBudget | None = None
    images: dict[str, Path] = field(default_factory=dict)
    features: FeatureDocumentation | None = None
    size_cap: SizeCap | None = None

    @property
    def run_id(self) -> str:
        """The run id (from the manifest, else the folder name)."""
        return str(self.manifest.get("run_id") or self.path.name.removeprefix(".staging-"))

    @property
    def task(self) -> str:
        """binary, multiclass or regression."""
        return self.evaluation.task

    def detail(self, name: str) -> dict[str, Any] | None:
        """One detailed evaluation report (``evaluation/<name>.json``), if written."""
        return self.details.get(name)


def read_run(path: str | Path, *, manifest: dict[str, Any] | None = None) -> RunRecord:
    """Read a run folder into a :class:`RunRecord`.

    Parameters
    ----------
    path : str or Path
        A finished run folder, or the staged folder during a run.
    manifest : dict, optional
        The manifest to use instead of ``manifest.json`` (during a run it is not yet
        written).

    Returns
    -------
    RunRecord

    Raises
    ------
    ReportError
        If the folder lacks the results every run writes (spec, evaluation, verdict),
        or one of them is of another schema version.
    """
    root = Path(path)
    for name in ("spec.yaml", EvaluationResult.FILE, Verdict.FILE):
        if not (root / name).is_file():
            raise ReportError(_MSG_NOT_RUN.format(path=root, missing=name))
    if manifest is None:
        manifest = _json(root / "manifest.json") or {}
    split = _json(root / "data/split.json") or {}
    names = (*DETAIL_FILES, "interpretability")
    return RunRecord(
        path=root,
        manifest=manifest,
        spec=load_spec(root / "spec.yaml"),
        evaluation=EvaluationResult.read(root),
        verdict=Verdict.read(root),
        deployment=DeploymentResult.read_optional(root),
        audit=AuditReport.read(root) if (root / AUDIT_FILE).is_file() else None,
        leaderboard=_csv(root / "leaderboard.csv"),
        schema=Schema.from_dict(_json(root / "data/schema.json") or {"columns": []}),
        split={k: v for k, v in split.items() if k not in ("train", "valid", "test", "test_ids")},
        details={n: d for n in names if (d := _json(root / f"evaluation/{n}.json")) is not None},
        budget=RunBudget.read_optional(root),
        size_cap=SizeCap.read_optional(root),
        images={
            p.relative_to(root).as_posix(): p
            for sub in ("evaluation", "audit", "deploy")
            for p in sorted((root / sub).rglob("*"))
            if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
        },
    )


def _json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: not valid JSON ({exc}). Restore it from the run.") from None


def _csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    return pd.read_csv(io.StringIO(path.read_text(encoding="utf-8")))
