"""Small regression tables: the ridge-on-products baseline joins the search, big ones skip it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crispml.search import search_models

from .conftest import split_frame


def _search(data, **kwargs):
    schema, Xt, yt, Xv, yv = data
    return search_models(
        Xt, yt, Xv, yv, schema=schema, task="regression", metric="rmse", seed=0,
        families=("lightgbm",), deterministic=True, max_trials=1, ensemble=False, **kwargs,
    )  # fmt: skip


def test_poly_ridge_is_a_selectable_baseline_of_a_small_regression_table():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    frame["y"] = frame["a"] ** 2 + frame["b"] * frame["c"] + rng.normal(scale=0.1, size=200)
    result = _search(split_frame(frame, 150))
    ridge = next(c for c in result.candidates if c.family == "poly_ridge")
    assert ridge.baseline and ridge.status == "ok"
    assert result.best.family == "poly_ridge"  # the planted curvature and product
    lgbm = next(c for c in result.candidates if c.family == "lightgbm")
    assert ridge.valid_score < lgbm.valid_score


def test_poly_ridge_is_not_fitted_on_a_wide_table():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(120, 45)), columns=[f"x{i}" for i in range(45)])
    frame["y"] = frame["x0"] + rng.normal(scale=0.1, size=120)
    result = _search(split_frame(frame, 90))
    assert "poly_ridge" not in {c.family for c in result.candidates}
    assert "linear" in {c.family for c in result.candidates}


def test_the_width_that_counts_is_the_linear_matrix_after_one_hot_encoding():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 2)), columns=["a", "b"])
    frame["shop"] = rng.choice([f"s{i}" for i in range(40)], 300)  # 40 one-hot columns
    frame["y"] = frame["a"] + rng.normal(scale=0.1, size=300)
    result = _search(split_frame(frame, 220))
    assert "poly_ridge" not in {c.family for c in result.candidates}
