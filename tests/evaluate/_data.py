"""Synthetic data with known answers for the evaluation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crispml.data import infer_schema
from crispml.features import build_preprocessor


def driver_frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Outcome driven by ``driver`` (numeric) and ``risk`` (categorical), not ``noise``."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "driver": rng.normal(size=n),
            "noise": rng.normal(size=n),
            "risk": rng.choice(["low", "mid", "high"], size=n),
        }
    )
    logit = 3.0 * frame["driver"] + frame["risk"].map({"low": -0.5, "mid": 0.0, "high": 0.5})
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, np.asarray(y)


def fitted_pipeline(frame: pd.DataFrame, y: np.ndarray, estimator, flavour: str = "tree"):
    from sklearn.pipeline import Pipeline

    schema = infer_schema(frame.assign(y=y), target="y")
    pre = build_preprocessor(schema, flavour=flavour)
    return Pipeline([("features", pre), ("model", estimator)]).fit(frame, y)
