from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crispml.data import conform, infer_schema


def make_frame(n: int = 240, seed: int = 0, task: str = "binary") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round(1),
            "income": rng.lognormal(10, 0.5, n),
            "city": rng.choice(["north", "south", "east"], n),
            "score": rng.normal(0, 1, n),
        }
    )
    signal = 0.08 * (frame["age"] - 40) + frame["score"] + (frame["city"] == "north") * 0.8
    if task == "regression":
        frame["y"] = signal * 10 + rng.normal(0, 1, n)
    else:
        frame["y"] = (signal + rng.normal(0, 0.8, n) > 0.3).astype(int)
    frame.loc[rng.choice(n, 10, replace=False), "income"] = np.nan
    return frame


def split_frame(frame: pd.DataFrame, n_train: int):
    schema = infer_schema(frame, target="y")
    X = conform(frame, schema)
    y = frame["y"].to_numpy()
    return schema, X.iloc[:n_train], y[:n_train], X.iloc[n_train:], y[n_train:]


@pytest.fixture
def binary_data():
    return split_frame(make_frame(), 180)


@pytest.fixture
def regression_data():
    return split_frame(make_frame(task="regression"), 180)
