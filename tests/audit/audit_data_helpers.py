"""Data the audit tests make: a clean table and helpers to plant problems in it.

A uniquely named module (not ``conftest``) so that ``from audit_data_helpers import ...``
cannot pick up another package's conftest.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crispml.data import Dataset, Split, load_table, make_split, prepare_dataset
from crispml.spec import ProjectSpec, spec_from_dict


def clean_frame(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Six numeric and two categorical features; a binary target with strong signal
    (labels follow the features up to ~1% irreducible noise, as clean labels should)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(6)})
    frame["colour"] = rng.choice(["red", "green", "blue"], size=n)
    frame["size"] = rng.choice(["s", "m", "l", "xl"], size=n)
    logit = 2.0 * frame["x0"] - 1.5 * frame["x1"] + frame["x2"] + (frame["colour"] == "red")
    frame["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-4 * logit)), "yes", "no")
    return frame


def make_spec(task: str = "binary", target: str = "y", **sections: Any) -> ProjectSpec:
    raw: dict[str, Any] = {
        "name": "audit-test",
        "problem": {"task": task, "target": target},
        "data": {"source": "data.csv"},
        "tracking": {"enabled": False},
    }
    if task != "regression":
        raw["problem"]["positive_label"] = "yes" if task == "binary" else None
    raw.update(sections)
    return spec_from_dict(raw, source="test spec").resolved()


def prepare(frame: pd.DataFrame, spec: ProjectSpec) -> tuple[Dataset, Split]:
    dataset = prepare_dataset(load_table(frame), spec)
    split = make_split(
        dataset.frame, spec.split, target=spec.problem.target, id_column=spec.data.id_column
    )
    return dataset, split
