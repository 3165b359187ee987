from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from crispml.data import conform, infer_schema
from crispml.features import MAX_LEVELS, build_preprocessor


def test_linear_flavour_handles_missing_and_unseen(binary_frame):
    schema = infer_schema(binary_frame, target="y")
    X = conform(binary_frame, schema)
    pre = build_preprocessor(schema, flavour="linear").fit(X)
    out = pre.transform(X)
    assert not np.isnan(out).any()
    fresh = pd.DataFrame({"x1": [0.0], "x2": [np.nan], "city": ["atlantis"], "member": [None]})
    row = pre.transform(conform(fresh, schema))
    assert row.shape == (1, out.shape[1]) and not np.isnan(row).any()


def test_tree_flavour_keeps_missing_numbers(binary_frame):
    schema = infer_schema(binary_frame, target="y")
    out = build_preprocessor(schema, flavour="tree").fit_transform(conform(binary_frame, schema))
    assert np.isnan(out).any()  # trees take missing values as they are


def test_high_cardinality_is_capped():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"c": [f"L{i}" for i in rng.integers(0, 500, size=2000)], "y": rng.integers(0, 2, 2000)}
    )
    schema = infer_schema(frame, target="y")
    out = build_preprocessor(schema).fit_transform(conform(frame, schema))
    assert out.shape[1] == MAX_LEVELS


def test_plain_sklearn_pipeline(binary_frame):
    schema = infer_schema(binary_frame, target="y")
    pipe = Pipeline(
        [
            ("features", build_preprocessor(schema, flavour="linear")),
            ("model", LogisticRegression()),
        ]
    )
    pipe.fit(conform(binary_frame, schema), binary_frame["y"])
    modules = {type(step).__module__.split(".")[0] for _, step in pipe.steps}
    assert modules == {"sklearn"}
    assert pipe.score(conform(binary_frame, schema), binary_frame["y"]) > 0.7


def test_design_matrices_are_float32_and_keep_the_float32_numbers():
    rng = np.random.default_rng(1)
    n = 120
    frame = pd.DataFrame(
        {
            "amount": rng.normal(1000, 300, size=n),
            "city": rng.choice(["north", "south", "east"], size=n),
            "opened": pd.date_range("2022-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "note": [f"late payment number {i} again and again" for i in range(n)],
            "y": rng.integers(0, 2, size=n),
        }
    )
    frame.loc[::7, "amount"] = np.nan
    schema = infer_schema(frame, target="y")
    assert set(schema.names("numeric", "categorical", "datetime", "text")) == {
        "amount",
        "city",
        "opened",
        "note",
    }
    X = conform(frame, schema)
    assert X["amount"].dtype == np.float32
    for flavour in ("tree", "linear"):
        out = build_preprocessor(schema, flavour=flavour).fit_transform(X)
        assert out.dtype == np.float32, flavour  # half the bytes of float64, every block
    tree = build_preprocessor(schema, flavour="tree").fit_transform(X)
    np.testing.assert_array_equal(tree[:, 0], X["amount"].to_numpy())  # numbers unchanged
