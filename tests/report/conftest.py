"""Fixtures of the report tests: one small real run, copied per test when mutated."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crispml import Project
from crispml.spec import spec_from_dict

SPEC = {
    "name": "bc-report",
    "problem": {
        "task": "binary",
        "target": "target",
        "success_criteria": {"roc_auc": ">= 0.9"},
        "intended_use": "Test fixture: rank breast-cancer biopsies.",
        "out_of_scope": "Any clinical use.",
    },
    "data": {"source": "sklearn:breast_cancer"},
    "search": {"time_budget_s": 30, "families": ["lightgbm"]},
    "tracking": {"enabled": False},
}


@pytest.fixture(scope="session")
def run_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real finished run (baselines + LightGBM on breast_cancer); never mutate it."""
    base = tmp_path_factory.mktemp("project")
    spec = spec_from_dict(SPEC)
    return Project(spec, base_dir=base).run(command=["pytest"]).path


@pytest.fixture
def run_copy(run_project: Path, tmp_path: Path) -> Path:
    """A copy of the run, under <tmp>/project/runs/<id>, safe to modify."""
    target = tmp_path / "project" / "runs" / run_project.name
    shutil.copytree(run_project, target)
    return target


def add_phase_outputs(run: Path) -> dict[str, object]:
    """Write audit, evaluation and deploy files like the other phases would; return them."""
    test = json.loads((run / "metrics.json").read_text())["test"]
    outputs: dict[str, object] = {
        "audit/audit.json": {
            "version": 1,
            "findings": [
                {
                    "severity": "warning",
                    "check": "proxy",
                    "title": "'mean area' predicts the protected column (Cramer's V 0.6123)",
                    "action": "Review whether 'mean area' may stand in for the group.",
                },
                {"severity": "info", "check": "inventory", "title": "569 rows, 31 columns"},
                {
                    "severity": "blocking",
                    "check": "leakage",
                    "title": "'worst area' alone scores AUC 0.9987",
                    "action": "Accept with audit.accept or drop the column.",
                },
            ],
        },
        "evaluation/metrics.json": {
            name: {"value": value, "ci_low": value - 0.0123, "ci_high": min(value + 0.0071, 1.0)}
            for name, value in test.items()
        },
        "evaluation/fairness.json": {
            "by_group": {
                "group_a": {"selection_rate": 0.3141, "tpr": 0.9265, "count": 61},
                "group_b": {"selection_rate": 0.4271, "tpr": 0.8813, "count": 53},
            },
            "demographic_parity_difference": {
                "value": 0.1130,
                "ci_low": 0.0417,
                "ci_high": 0.1843,
            },
        },
        "evaluation/slices.json": {
            "worst_slices": [
                {"slice": "mean radius > 17.2", "size": 23, "roc_auc": 0.8123},
                {"slice": "mean texture <= 14.1", "size": 17, "roc_auc": 0.8456},
            ]
        },
        "evaluation/importance.json": {
            "importance": [
                {"column": "worst radius", "importance": 0.4321},
                {"column": "mean concave points", "importance": 0.2109},
            ]
        },
        "evaluation/threshold.json": {"threshold": 0.4123, "confusion_matrix": [[61, 3], [2, 48]]},
        "evaluation/calibration.json": {"ece": 0.0345, "method": "isotonic"},
        "deploy/latency.json": {
            "single_row": {"p50_ms": 0.0412, "p95_ms": 0.0533, "p99_ms": 61.7},
            "batch_1000": {"p99_ms": 12.3456},
        },
        "deploy/parity.json": {"max_abs_diff": 2.1e-07, "decision_agreement": 1.0, "passed": True},
    }
    for rel, content in outputs.items():
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_text(json.dumps(content))
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.35 * y + rng.uniform(0, 0.65, 200), 0, 1)
    pd.DataFrame({"y_true": y, "proba_0": 1 - p, "proba_1": p}).to_csv(
        run / "evaluation/test_predictions.csv", index=False
    )
    (run / "evaluation/reliability.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
        '<rect width="40" height="20" fill="#123456"/></svg>'
    )
    return outputs


def reseal(run: Path) -> None:
    """Re-hash every file into the manifest, as if the phases had written them in the run."""
    from crispml._runfolder import hash_tree, read_manifest, seal_manifest
    from crispml._utils._io import write_json

    manifest = read_manifest(run)
    manifest["artifacts"] = hash_tree(run)
    write_json(run / "manifest.json", seal_manifest(manifest))


@pytest.fixture
def rich_run(run_copy: Path) -> tuple[Path, dict[str, object]]:
    """A run copy that also holds audit, evaluation and deploy outputs (manifest updated)."""
    outputs = add_phase_outputs(run_copy)
    reseal(run_copy)
    return run_copy, outputs
