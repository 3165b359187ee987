"""Compliance map: NIST AI RMF, EU AI Act Annex IV and SR 11-7 items, with their evidence.

Each item names the evidence that documents it as ``artifact#field`` pairs, read from
the run's typed results (the spec, :class:`EvaluationResult`, :class:`Verdict`,
:class:`DeploymentResult`, :class:`AuditReport`, the explanations), never by searching
files for a key name. An item is ``covered`` when its evidence is present and not
empty (all of it for items marked so, e.g. local explanations need per-row reason
codes); otherwise it is left to the team, with what they must add. The map records
evidence, not legal conformity.

SR 11-7 is the US Federal Reserve / OCC supervisory guidance on model risk management
(2011): its items here follow the guidance's elements of model development and
validation (conceptual soundness, data, implementation, outcomes analysis, ongoing
monitoring, limitations and use, governance).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from crispml.audit import AUDIT_FILE, AuditReport
from crispml.deploy import DeploymentResult
from crispml.evaluate import EvaluationResult, Verdict
from crispml.report._claims import fmt
from crispml.spec import load_spec

COMPLIANCE_VERSION = 2
CARD = "report/model_card.md"
REPORT = "report/report.html"
IMPORTANCE = "evaluation/importance.json"
SPEC = "spec.yaml"
MANIFEST = "manifest.json"
EVAL, VERDICT, DEPLOY = EvaluationResult.FILE, Verdict.FILE, DeploymentResult.FILE
NIST, EU, SR = "NIST AI RMF", "EU AI Act Annex IV", "SR 11-7"


class Explanations(BaseModel):
    """The fields of ``evaluation/importance.json`` the map reads.

    ``reason_codes`` holds one entry per explained row; it is empty when the model
    family has no per-row attributions (permutation importance only).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    method: str
    importance: list[dict[str, Any]]
    reason_codes: list[dict[str, Any]] = []


@dataclass(frozen=True)
class Item:
    """One requirement, the evidence that documents it, and the team's task otherwise."""

    framework: str
    id: str
    requirement: str
    evidence: tuple[str, ...]
    todo: str
    needs_all: bool = False


# fmt: off
_ITEMS: tuple[Item, ...] = (
    Item(NIST, "MAP 1.1", "Intended purpose, context and settings of use documented",
         (f"{SPEC}#problem.intended_use",), "Write problem.intended_use in the spec."),
    Item(NIST, "MAP 2.1", "The task and the method implementing it are defined",
         (f"{SPEC}#problem.task", f"{EVAL}#selected_model"), "Define the task in the spec."),
    Item(NIST, "MAP 2.3", "TEVV considerations: data collection, selection, suitability",
         (f"{AUDIT_FILE}#findings", "data/schema.json", "data/split.json"), "Run the data audit."),
    Item(NIST, "MAP 5.1", "Likelihood and magnitude of impacts identified", (),
         "Impact assessment with domain owners and affected groups."),
    Item(NIST, "MEASURE 1.1", "Metrics for the mapped risks selected",
         (f"{SPEC}#problem.success_criteria", f"{VERDICT}#criteria"),
         "Set problem.success_criteria."),
    Item(NIST, "MEASURE 2.1", "Test sets, metrics and TEVV tools documented",
         ("data/split.json", f"{EVAL}#test", f"{EVAL}#predictions"),
         "Record the test set and metrics.", needs_all=True),
    Item(NIST, "MEASURE 2.3", "Performance measured for conditions like deployment",
         (f"{EVAL}#test", f"{DEPLOY}#latency"), "Evaluate on deployment-like data."),
    Item(NIST, "MEASURE 2.5", "The system to be deployed is valid and reliable",
         (f"{DEPLOY}#parity.passed", f"{EVAL}#test"),
         "Certify export parity and evaluation CIs.", needs_all=True),
    Item(NIST, "MEASURE 2.9", "The model is explained and its output interpreted in context",
         (f"{IMPORTANCE}#importance", f"{IMPORTANCE}#reason_codes"),
         "Produce per-row reason codes (a model family SHAP can explain), not only "
         "global importance.", needs_all=True),
    Item(NIST, "MEASURE 2.11", "Fairness and bias evaluated and documented",
         (f"{SPEC}#fairness.protected", f"{EVAL}#fairness_gaps"),
         "Set fairness.protected and evaluate.", needs_all=True),
    Item(NIST, "MEASURE 3.1", "Emergent risks tracked in deployment (monitoring)",
         ("monitor/",), "Set up drift monitoring on live data."),
    Item(NIST, "MANAGE 1.1", "Decide whether development or deployment should proceed",
         (f"{VERDICT}#overall", REPORT), "Record a go / no-go against the success criteria."),
    Item(NIST, "MANAGE 2.4", "Mechanisms to supersede, disengage or deactivate the system", (),
         "Define rollback and shutdown procedures for the service."),
    Item(NIST, "MANAGE 4.1", "Post-deployment monitoring plan implemented", ("monitor/",),
         "Write the monitoring plan and its owner."),
    Item(EU, "1(a)", "General description: intended purpose, provider, version",
         (f"{SPEC}#problem.intended_use", CARD, f"{MANIFEST}#run_id"), "Name the provider."),
    Item(EU, "1(c)", "Versions of relevant software",
         (f"{MANIFEST}#packages", "deploy/requirements.txt"), "Pin the software versions."),
    Item(EU, "1(h)", "Instructions for use for the deployer",
         ("deploy/Dockerfile", "model/schema.json"), "Write deployment instructions."),
    Item(EU, "2(a)", "Methods and steps of development",
         ("search/candidates.json", "leaderboard.csv", "reproduce.sh"),
         "Describe the development."),
    Item(EU, "2(b)", "Design specifications, key choices, what is optimised",
         (f"{SPEC}#problem.metric", "model/schema.json", CARD), "Document design choices."),
    Item(EU, "2(c)", "System architecture and computational resources",
         (f"{MANIFEST}#packages", "budget.json"), "Describe the architecture."),
    Item(EU, "2(d)", "Training data: provenance, scope, characteristics, cleaning",
         (f"{MANIFEST}#inputs.data", "data/schema.json", f"{AUDIT_FILE}#findings"),
         "Write a datasheet."),
    Item(EU, "2(e)", "Human oversight measures (Article 14)", (),
         "Define who reviews decisions and how they override the model."),
    Item(EU, "2(g)", "Validation and testing: data, metrics, discriminatory impact",
         ("data/split.json", f"{EVAL}#test", f"{EVAL}#fairness_gaps", REPORT),
         "Document tests and results."),
    Item(EU, "2(h)", "Cybersecurity measures", (),
         "Threat model and security review of the serving stack."),
    Item(EU, "3", "Capabilities and limitations, accuracy for groups, input specs",
         (CARD, f"{EVAL}#fairness_gaps", "model/schema.json"), "Report accuracy per group."),
    Item(EU, "4", "Appropriateness of the performance metrics", (f"{SPEC}#problem.metric", CARD),
         "Justify the metrics."),
    Item(EU, "5", "Risk management system (Article 9)", (),
         "The provider's risk management process."),
    Item(EU, "6", "Changes made through the lifecycle",
         (MANIFEST, "reproduce.sh"), "Keep a change log of model versions."),
    Item(EU, "7", "Harmonised standards applied", (),
         "List the standards applied (e.g. ISO/IEC 42001)."),
    Item(EU, "8", "EU declaration of conformity (Article 47)", (),
         "The provider signs the declaration."),
    Item(EU, "9", "Post-market monitoring plan (Article 72)", ("monitor/",),
         "Write the post-market monitoring plan."),
    Item(SR, "Conceptual soundness", "Design, theory and choices documented and compared "
         "with alternatives (baselines, candidates)",
         (f"{SPEC}#problem.metric", f"{EVAL}#selected_model", "leaderboard.csv", CARD),
         "Document the design choices and the alternatives considered.", needs_all=True),
    Item(SR, "Data", "Data quality, relevance and representativeness assessed",
         (f"{AUDIT_FILE}#findings", "data/schema.json", f"{MANIFEST}#inputs.data"),
         "Run the data audit and record the data's provenance.", needs_all=True),
    Item(SR, "Implementation", "The model as implemented matches the model developed",
         (f"{DEPLOY}#parity.passed", MANIFEST),
         "Certify the deployed model against the developed one (export parity).",
         needs_all=True),
    Item(SR, "Outcomes analysis", "Out-of-sample performance with its uncertainty, "
         "calibration and the decision rule",
         (f"{EVAL}#test", f"{EVAL}#ece", f"{VERDICT}#criteria"),
         "Evaluate on held-out data with intervals and record the decision rule."),
    Item(SR, "Sensitivity and explanations", "Drivers of the output and per-row reasons",
         (f"{IMPORTANCE}#importance", f"{IMPORTANCE}#reason_codes"),
         "Produce per-row reason codes, not only global importance.", needs_all=True),
    Item(SR, "Ongoing monitoring", "Performance and inputs tracked after deployment, "
         "with triggers for review", ("monitor/",),
         "Set up drift and performance monitoring with an owner and thresholds."),
    Item(SR, "Limitations and use", "Intended use, out-of-scope uses and known limitations",
         (f"{SPEC}#problem.intended_use", f"{SPEC}#problem.out_of_scope", CARD),
         "Write problem.intended_use and problem.out_of_scope.", needs_all=True),
    Item(SR, "Governance", "Inventory entry, documentation and independent validation", (),
         "Register the model in the inventory; have it validated by staff independent "
         "of its development (effective challenge)."),
)
# fmt: on


def build_compliance_map(
    run_dir: str | Path,
    *,
    will_write: tuple[str, ...] = (),
    manifest: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Map each NIST AI RMF / EU AI Act Annex IV / SR 11-7 item to its evidence.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.
    will_write : tuple of str
        Artifacts being written together with the map (the card, the report), counted
        as present.
    manifest : dict, optional
        The manifest about to be sealed (during a run ``manifest.json`` is not written
        yet).

    Returns
    -------
    dict
        ``items``: one entry per requirement with ``covered``, ``evidence`` (the
        ``artifact#field`` found), ``evidence_detail`` (what each one holds),
        ``missing`` and ``left_to_team``; ``summary``: covered / total per framework.

    .. versionchanged:: 0.1
       Evidence is read from the typed results; SR 11-7 added.

    Examples
    --------
    >>> import tempfile
    >>> empty = build_compliance_map(tempfile.mkdtemp())
    >>> empty["summary"]["SR 11-7"]
    {'covered': 0, 'total': 8}
    """
    root = Path(run_dir)
    sources = _sources(root, manifest)
    items: list[dict[str, Any]] = []
    summary: dict[str, dict[str, int]] = {}
    for item in _ITEMS:
        found = {e: d for e in item.evidence if (d := _found(root, sources, e, will_write))}
        missing = [e for e in item.evidence if e not in found]
        covered = bool(found) and not (item.needs_all and missing)
        items.append(
            {
                "framework": item.framework,
                "id": item.id,
                "requirement": item.requirement,
                "covered": covered,
                "evidence": list(found),
                "evidence_detail": [
                    {"artifact": e.partition("#")[0], "field": e.partition("#")[2], "holds": d}
                    for e, d in found.items()
                ],
                "missing": missing,
                "left_to_team": None if covered else item.todo,
            }
        )
        entry = summary.setdefault(item.framework, {"covered": 0, "total": 0})
        entry["total"] += 1
        entry["covered"] += int(covered)
    return {
        "compliance_version": COMPLIANCE_VERSION,
        "note": "Evidence map for reviewers; it does not by itself establish conformity.",
        "summary": summary,
        "items": items,
    }


def _sources(root: Path, manifest: dict[str, Any] | None) -> dict[str, Any]:
    """Load the typed results of the run that the evidence fields are read from."""
    if manifest is None and (root / MANIFEST).is_file():
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    return {
        SPEC: load_spec(root / SPEC) if (root / SPEC).is_file() else None,
        EVAL: EvaluationResult.read_optional(root),
        VERDICT: Verdict.read_optional(root),
        DEPLOY: DeploymentResult.read_optional(root),
        AUDIT_FILE: AuditReport.read(root) if (root / AUDIT_FILE).is_file() else None,
        IMPORTANCE: read_explanations(root),
        MANIFEST: manifest,
    }


def read_explanations(root: Path) -> Explanations | None:
    """Read ``evaluation/importance.json``, or ``None`` when absent or not of that form."""
    path = root / IMPORTANCE
    if not path.is_file():
        return None
    try:
        return Explanations.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError:
        return None


def _found(root: Path, sources: dict[str, Any], evidence: str, will_write: tuple[str, ...]) -> str:
    """Describe the evidence found (``""`` when absent or empty)."""
    artifact, _, field = evidence.partition("#")
    if not field:
        if artifact in will_write:
            return "present"  # as it will be once written: a rebuild must say the same
        target = root / artifact
        if artifact.endswith("/"):
            n = sum(1 for p in target.rglob("*") if p.is_file()) if target.is_dir() else 0
            return f"{n} files" if n else ""
        return "present" if target.is_file() else ""
    value = field_value(sources.get(artifact), field)
    return describe(value)


def field_value(obj: Any, field: str) -> Any:
    """``obj.a.b`` for a dotted ``field`` (attributes of typed results, keys of mappings)."""
    for key in field.split("."):
        if obj is None:
            return None
        obj = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
    return obj


def describe(value: Any) -> str:
    """Say in a few words what an evidence field holds; ``""`` when it is empty."""
    if value is None or value in ("", {}, [], ()):
        return ""
    if isinstance(value, dict | list | tuple):
        return f"{len(value)} entries"
    if isinstance(value, BaseModel):
        return "recorded"
    text = fmt(value)
    return text if len(text) <= 60 else text[:57] + "..."
