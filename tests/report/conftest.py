"""Fixtures of the report tests: one small real engagement, copied per test when mutated.

The run has a protected attribute (fairness), a cost-based threshold and is deployed
(ONNX, parity, latency), so every section of the documents is built from files a real
engagement writes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crispml import Project
from crispml.spec import spec_from_dict

SPEC = {
    "name": "loans-report",
    "problem": {
        "task": "binary",
        "target": "outcome",
        "positive_label": "bad",
        "success_criteria": {"roc_auc": ">= 0.7", "latency_p99_ms": "<= 500"},
        "costs": {"fp": 1, "fn": 3},
        "intended_use": "Test fixture: rank synthetic loan applications.",
        "out_of_scope": "Any real lending decision.",
    },
    "data": {"source": "loans.csv"},
    "fairness": {"protected": ["group"]},
    "search": {
        "time_budget_s": 30,
        "families": ["lightgbm"],
        "deterministic": True,
        "max_trials": 3,
    },
    "evaluation": {"bootstrap": 300},
    "tracking": {"enabled": False},
}


def loans(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """A binary table with numbers, a category, missing values and a protected group."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["g1", "g2"], size=n, p=[0.7, 0.3])
    x1 = rng.normal(size=n) + np.where(group == "g2", 0.6, 0.0)
    x2 = rng.normal(size=n)
    city = rng.choice(["a", "b", "c"], size=n)
    logit = 1.8 * x1 - 1.0 * x2 + np.where(city == "c", 1.0, 0.0) - 0.8
    y = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)), "bad", "good")
    frame = pd.DataFrame({"x1": x1, "x2": x2, "city": city, "group": group, "outcome": y})
    frame.loc[rng.choice(n, size=n // 25, replace=False), "x2"] = np.nan
    return frame


@pytest.fixture(scope="session")
def run_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real finished run (baselines + LightGBM, fairness, deployment); never mutate it."""
    base = tmp_path_factory.mktemp("project")
    loans().to_csv(base / "loans.csv", index=False)
    return Project(spec_from_dict(SPEC), base_dir=base).run(command=["pytest"]).path


@pytest.fixture
def run_copy(run_project: Path, tmp_path: Path) -> Path:
    """A copy of the run and its data, under <tmp>/project/runs/<id>, safe to modify."""
    project = tmp_path / "project"
    target = project / "runs" / run_project.name
    shutil.copytree(run_project, target)
    shutil.copy(run_project.parent.parent / "loans.csv", project / "loans.csv")
    return target
