"""Checking ``features.monotone`` after training: ICE lines on the test rows.

For each constrained column, every sampled test row is predicted again with that column
set to each point of a grid spanning its training range (an individual conditional
expectation line). A step against the required direction is a violation; the counts go to
``evaluation/monotone.json``. Families that enforce constraints must show none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crispml.models import predict_output

SCHEMA_VERSION = 1
MAX_ROWS = 200
"""Test rows whose ICE lines are drawn (a seeded sample beyond that)."""
GRID_POINTS = 25
TOLERANCE = 1e-9
"""Steps against the direction smaller than this are float noise, not violations."""


def monotone_report(
    model: Any,
    X_test: pd.DataFrame,
    monotone: Mapping[str, int],
    *,
    task: str,
    X_train: pd.DataFrame | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Count the violations of monotone constraints along ICE lines.

    .. versionadded:: 0.2

    Parameters
    ----------
    model : object
        The fitted model over the conformed frame.
    X_test : pandas.DataFrame
        Conformed test rows.
    monotone : mapping of str to int
        Column -> 1 (prediction must not fall as it rises) or -1 (must not rise).
    task : {"binary", "regression"}
        What is predicted: the positive-class probability, or the value.
    X_train : pandas.DataFrame, optional
        Training rows, whose quantiles make the grid (the test rows' otherwise).
    seed : int, default=0
        Seed of the row sample.

    Returns
    -------
    dict
        ``columns``: per column its direction, ``rows``, ``grid_points``,
        ``violating_rows``, ``violating_steps`` and ``max_violation``; ``violations``
        (total steps) and ``passed``.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    >>> fit = LinearRegression().fit(X, [0.0, -1.0, -2.0, -3.0])
    >>> monotone_report(fit, X, {"x": 1}, task="regression")["columns"]["x"]["violating_rows"]
    4
    """
    rng = np.random.default_rng(seed)
    rows = X_test
    if len(rows) > MAX_ROWS:
        rows = rows.iloc[np.sort(rng.choice(len(rows), MAX_ROWS, replace=False))]
    reference = X_test if X_train is None else X_train
    columns = {}
    for column, sign in monotone.items():
        grid = _grid(reference[column])
        columns[column] = _ice(model, rows, column, int(sign), grid, task)
    total = sum(c["violating_steps"] for c in columns.values())
    return {
        "schema_version": SCHEMA_VERSION,
        "method": "ICE lines on test rows",
        "columns": columns,
        "violations": total,
        "passed": total == 0,
    }


def _grid(values: pd.Series) -> np.ndarray:
    finite = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=np.float64)
    if finite.size == 0:
        return np.zeros(1)
    return np.unique(np.quantile(finite, np.linspace(0.0, 1.0, GRID_POINTS)))


def _ice(
    model: Any, rows: pd.DataFrame, column: str, sign: int, grid: np.ndarray, task: str
) -> dict[str, Any]:
    lines = rows.loc[rows.index.repeat(len(grid))].reset_index(drop=True)
    lines[column] = np.tile(grid, len(rows))
    out = predict_output(model, lines, task)
    score = out[:, 1] if out.ndim == 2 else out
    steps = np.diff(score.reshape(len(rows), len(grid)), axis=1) * sign
    against = steps < -TOLERANCE
    return {
        "direction": sign,
        "rows": len(rows),
        "grid_points": len(grid),
        "violating_rows": int(against.any(axis=1).sum()),
        "violating_steps": int(against.sum()),
        "max_violation": float(max(0.0, -steps.min())) if steps.size else 0.0,
    }
