"""Shared tiny datasets (fixed seed) and a project folder fixture."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from crispml._utils._threads import configure_threads

# The test session is an entry point, like the CLI: passive OpenMP waiting before any OpenMP
# runtime loads (crispml itself sets nothing at import). Spinning threads on a busy machine
# make the time-budgeted searches of the tests slower and their trial counts vary more.
configure_threads()


@pytest.fixture(scope="session", autouse=True)
def _signing_key_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Runs sign with a key made in a temporary config folder, never the user's own.

    Session-scoped and autouse, so it is set before any session fixture runs an engagement.
    """
    folder = tmp_path_factory.mktemp("crispml-config")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CRISPML_CONFIG_DIR", str(folder))
        patch.delenv("CRISPML_SIGNING_KEY", raising=False)
        yield folder


@pytest.fixture(autouse=True)
def _crisp_warnings_are_errors() -> Iterator[None]:
    """Our own warnings are errors in tests; third-party ones are not."""
    from crispml.exceptions import CrispWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", CrispWarning)
        yield


def make_binary(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A binary problem with numeric, categorical, boolean and missing values; `y` is yes/no."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    city = rng.choice(["north", "south", "east", "west"], size=n)
    member = rng.choice(["yes", "no"], size=n)
    logit = 1.5 * x1 - x2 + (city == "north") * 1.0 + (member == "yes") * 0.5
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    frame = pd.DataFrame({"x1": x1, "x2": x2, "city": city, "member": member, "y": y})
    frame.loc[rng.choice(n, size=n // 20, replace=False), "x2"] = np.nan
    frame.loc[rng.choice(n, size=n // 30, replace=False), "city"] = np.nan
    return frame


def make_regression(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A regression problem: `price` depends on `size` and `grade`."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(20, 200, size=n)
    grade = rng.choice(["a", "b", "c"], size=n)
    price = 3.0 * size + np.select([grade == "a", grade == "b"], [100.0, 50.0], 0.0)
    return pd.DataFrame({"size": size, "grade": grade, "price": price + rng.normal(0, 10, size=n)})


def make_multiclass(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Three classes separated by two numeric features."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0], [3, 0], [0, 3]])
    label = rng.integers(0, 3, size=n)
    points = centres[label] + rng.normal(size=(n, 2))
    return pd.DataFrame(
        {"a": points[:, 0], "b": points[:, 1], "kind": np.array(["red", "green", "blue"])[label]}
    )


def write_project(folder: Path, frame: pd.DataFrame, spec: dict) -> Path:
    """Write `data.csv` and `crispml.yaml` into `folder`; return the spec path."""
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "data.csv", index=False)
    path = folder / "crispml.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def binary_spec(**overrides: object) -> dict:
    """A small, fast spec for the binary dataset (tracking off unless asked)."""
    spec = {
        "name": "tiny-binary",
        "problem": {"task": "binary", "target": "y", "positive_label": "yes"},
        "data": {"source": "data.csv"},
        "split": {"test_size": 0.25, "valid_size": 0.2, "seed": 0},
        "search": {
            "time_budget_s": 20,
            "families": ["lightgbm"],
            "deterministic": True,
            "max_trials": 2,
        },
        "tracking": {"enabled": False},
    }
    spec.update(overrides)
    return spec


@pytest.fixture
def binary_frame() -> pd.DataFrame:
    return make_binary()


@pytest.fixture
def tmp_project(tmp_path: Path) -> Path:
    """A project folder with a binary dataset and its spec; returns the spec path."""
    return write_project(tmp_path / "project", make_binary(), binary_spec())
