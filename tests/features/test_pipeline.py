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
