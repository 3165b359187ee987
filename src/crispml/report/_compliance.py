"""Compliance map: NIST AI RMF (Map, Measure, Manage) and EU AI Act Annex IV items.

Each item lists the run artifacts that document it. An item is ``covered`` when at
least one of them exists in the run folder; otherwise it is left to the team, with
what they must add. The map records evidence, not legal conformity.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMPLIANCE_VERSION = 1
CARD = "report/model_card.md"
REPORT = "report/report.html"

# (framework, id, requirement, artifacts that document it, what the team adds otherwise)
_ITEMS: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    (
        "NIST AI RMF",
        "MAP 1.1",
        "Intended purpose, context and settings of use documented",
        ("spec.yaml#problem.intended_use",),
        "Write problem.intended_use in the spec.",
    ),
    (
        "NIST AI RMF",
        "MAP 2.1",
        "The task and the method implementing it are defined",
        ("spec.yaml", "model/schema.json"),
        "Define the task in the spec.",
    ),
    (
        "NIST AI RMF",
        "MAP 2.3",
        "TEVV considerations: data collection, selection, suitability",
        ("audit/audit.json", "data/schema.json", "data/split.json"),
        "Run the data audit.",
    ),
    (
        "NIST AI RMF",
        "MAP 5.1",
        "Likelihood and magnitude of impacts identified",
        (),
        "Impact assessment with domain owners and affected groups.",
    ),
    (
        "NIST AI RMF",
        "MEASURE 1.1",
        "Metrics for the mapped risks selected",
        ("spec.yaml#problem.success_criteria", "metrics.json"),
        "Set problem.success_criteria.",
    ),
    (
        "NIST AI RMF",
        "MEASURE 2.1",
        "Test sets, metrics and TEVV tools documented",
        ("data/split.json", "metrics.json", "manifest.json"),
        "Record the test set and metrics.",
    ),
    (
        "NIST AI RMF",
        "MEASURE 2.3",
        "Performance measured for conditions like deployment",
        ("evaluation/", "deploy/latency.json", "leaderboard.csv"),
        "Evaluate on deployment-like data.",
    ),
    (
        "NIST AI RMF",
        "MEASURE 2.5",
        "The system to be deployed is valid and reliable",
        ("deploy/parity.json", "evaluation/"),
        "Certify export parity and evaluation CIs.",
    ),
    (
        "NIST AI RMF",
        "MEASURE 2.9",
        "The model is explained and its output interpreted in context",
        ("evaluation/#importance", CARD),
        "Produce explanations and reason codes.",
    ),
    (
        "NIST AI RMF",
        "MEASURE 2.11",
        "Fairness and bias evaluated and documented",
        ("evaluation/#fairness", "audit/audit.json#prox"),
        "Set fairness.protected and evaluate.",
    ),
    (
        "NIST AI RMF",
        "MEASURE 3.1",
        "Emergent risks tracked in deployment (monitoring)",
        ("monitor/",),
        "Set up drift monitoring on live data.",
    ),
    (
        "NIST AI RMF",
        "MANAGE 1.1",
        "Decide whether development or deployment should proceed",
        ("evaluation/#verdict", REPORT),
        "Record a go / no-go against the success criteria.",
    ),
    (
        "NIST AI RMF",
        "MANAGE 2.4",
        "Mechanisms to supersede, disengage or deactivate the system",
        (),
        "Define rollback and shutdown procedures for the service.",
    ),
    (
        "NIST AI RMF",
        "MANAGE 4.1",
        "Post-deployment monitoring plan implemented",
        ("monitor/",),
        "Write the monitoring plan and its owner.",
    ),
    (
        "EU AI Act Annex IV",
        "1(a)",
        "General description: intended purpose, provider, version",
        ("spec.yaml#problem.intended_use", CARD, "manifest.json"),
        "Name the provider.",
    ),
    (
        "EU AI Act Annex IV",
        "1(c)",
        "Versions of relevant software",
        ("manifest.json", "deploy/requirements.txt"),
        "Pin the software versions.",
    ),
    (
        "EU AI Act Annex IV",
        "1(h)",
        "Instructions for use for the deployer",
        ("deploy/Dockerfile", "model/schema.json"),
        "Write deployment instructions.",
    ),
    (
        "EU AI Act Annex IV",
        "2(a)",
        "Methods and steps of development",
        ("search/candidates.json", "leaderboard.csv", "reproduce.sh"),
        "Describe the development.",
    ),
    (
        "EU AI Act Annex IV",
        "2(b)",
        "Design specifications, key choices, what is optimised",
        ("spec.yaml", "model/schema.json", CARD),
        "Document design choices.",
    ),
    (
        "EU AI Act Annex IV",
        "2(c)",
        "System architecture and computational resources",
        ("manifest.json", "budget.json"),
        "Describe the architecture.",
    ),
    (
        "EU AI Act Annex IV",
        "2(d)",
        "Training data: provenance, scope, characteristics, cleaning",
        ("manifest.json#inputs.data", "data/schema.json", "audit/audit.json"),
        "Write a datasheet.",
    ),
    (
        "EU AI Act Annex IV",
        "2(e)",
        "Human oversight measures (Article 14)",
        (),
        "Define who reviews decisions and how they override the model.",
    ),
    (
        "EU AI Act Annex IV",
        "2(g)",
        "Validation and testing: data, metrics, discriminatory impact",
        ("data/split.json", "metrics.json", "evaluation/", REPORT),
        "Document tests and results.",
    ),
    (
        "EU AI Act Annex IV",
        "2(h)",
        "Cybersecurity measures",
        (),
        "Threat model and security review of the serving stack.",
    ),
    (
        "EU AI Act Annex IV",
        "3",
        "Capabilities and limitations, accuracy for groups, input specs",
        (CARD, "evaluation/#fairness", "model/schema.json"),
        "Report accuracy per group.",
    ),
    (
        "EU AI Act Annex IV",
        "4",
        "Appropriateness of the performance metrics",
        (CARD,),
        "Justify the metrics.",
    ),
    (
        "EU AI Act Annex IV",
        "5",
        "Risk management system (Article 9)",
        (),
        "The provider's risk management process.",
    ),
    (
        "EU AI Act Annex IV",
        "6",
        "Changes made through the lifecycle",
        ("manifest.json", "reproduce.sh"),
        "Keep a change log of model versions.",
    ),
    (
        "EU AI Act Annex IV",
        "7",
        "Harmonised standards applied",
        (),
        "List the standards applied (e.g. ISO/IEC 42001).",
    ),
    (
        "EU AI Act Annex IV",
        "8",
        "EU declaration of conformity (Article 47)",
        (),
        "The provider signs the declaration.",
    ),
    (
        "EU AI Act Annex IV",
        "9",
        "Post-market monitoring plan (Article 72)",
        ("monitor/",),
        "Write the post-market monitoring plan.",
    ),
)


def build_compliance_map(
    run_dir: str | Path, *, will_write: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Map each NIST AI RMF / EU AI Act Annex IV item to the run artifacts covering it.

    Parameters
    ----------
    run_dir : str or Path
        The run folder.
    will_write : tuple of str
        Artifacts being written together with the map (the card, the report), counted
        as present.

    Returns
    -------
    dict
        ``items``: one entry per requirement with ``covered``, ``evidence`` (paths
        present) and ``left_to_team``; ``summary``: covered / total per framework.

    Examples
    --------
    >>> import tempfile
    >>> empty = build_compliance_map(tempfile.mkdtemp())
    >>> empty["summary"]["EU AI Act Annex IV"]
    {'covered': 0, 'total': 17}
    """
    root = Path(run_dir)
    items: list[dict[str, Any]] = []
    summary: dict[str, dict[str, int]] = {}
    for framework, ident, requirement, artifacts, todo in _ITEMS:
        evidence = [a for a in artifacts if _present(root, a, will_write)]
        items.append(
            {
                "framework": framework,
                "id": ident,
                "requirement": requirement,
                "covered": bool(evidence),
                "evidence": evidence,
                "left_to_team": None if evidence else todo,
            }
        )
        entry = summary.setdefault(framework, {"covered": 0, "total": 0})
        entry["total"] += 1
        entry["covered"] += int(bool(evidence))
    return {
        "compliance_version": COMPLIANCE_VERSION,
        "note": "Evidence map for reviewers; it does not by itself establish conformity.",
        "summary": summary,
        "items": items,
    }


def _present(root: Path, artifact: str, will_write: tuple[str, ...]) -> bool:
    """Tell whether an artifact exists (and, with ``#key``, holds that key)."""
    path, _, anchor = artifact.partition("#")
    if path in will_write:
        return True
    target = root / path
    if path.endswith("/"):
        files = [p for p in target.rglob("*") if p.is_file()] if target.is_dir() else []
        return bool(files) and (
            not anchor or any(anchor in p.name.lower() or _mentions(p, anchor) for p in files)
        )
    if not target.is_file():
        return False
    return not anchor or _mentions(target, anchor)


def _mentions(path: Path, anchor: str) -> bool:
    """Whether a JSON/YAML file holds the dotted key ``anchor`` (non-empty), or names it."""
    if path.suffix not in (".json", ".yaml", ".yml"):
        return False
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))  # YAML also reads JSON
    except (yaml.YAMLError, UnicodeDecodeError):
        return False
    if "." in anchor or "_" in anchor:
        value = dig(data, *anchor.split("."))
        if value not in (None, "", {}, []):
            return True
    return _names(data, anchor.lower())


def _names(obj: Any, token: str) -> bool:
    """Tell whether a key or a string value anywhere in ``obj`` contains ``token``."""
    if isinstance(obj, dict):
        return any(
            (token in str(k).lower() and v not in (None, "", {}, [])) or _names(v, token)
            for k, v in obj.items()
        )
    if isinstance(obj, list):
        return any(_names(v, token) for v in obj)
    return isinstance(obj, str) and token in obj.lower()


def dig(obj: Any, *keys: str) -> Any:
    """``obj[k1][k2]...`` or ``None`` when any level is missing."""
    for key in keys:
        if not isinstance(obj, dict) or key not in obj:
            return None
        obj = obj[key]
    return obj
