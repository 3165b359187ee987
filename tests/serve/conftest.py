"""One finished run folder (a real engagement) shared by the serving tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crispml import Project
from crispml.spec import spec_from_dict


def make_loans(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.uniform(10, 200, size=n).round(1)
    debt = rng.uniform(0, 1, size=n).round(3)
    region = rng.choice(["north", "south", "east"], size=n)
    owner = rng.choice(["yes", "no"], size=n)
    logit = -income / 60 + 3 * debt + (region == "north") * 0.8
    deny = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    frame = pd.DataFrame(
        {"income": income, "debt": debt, "region": region, "owner": owner, "deny": deny}
    )
    frame.loc[rng.choice(n, size=n // 20, replace=False), "debt"] = np.nan
    return frame


@pytest.fixture(scope="session")
def loans() -> pd.DataFrame:
    return make_loans()


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory, loans) -> Path:
    spec = spec_from_dict(
        {
            "name": "loans",
            "problem": {"task": "binary", "target": "deny", "positive_label": "yes"},
            "data": {"source": "loans.csv"},
            "search": {"time_budget_s": 10, "families": ["lightgbm"]},
            "tracking": {"enabled": False},
        },
        source="test",
    )
    base = tmp_path_factory.mktemp("project")
    return Project(spec, base_dir=base, data=loans).run().path
