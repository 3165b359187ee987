from __future__ import annotations

import numpy as np
import pandas as pd

from crispml.data import MISSING_LEVEL, Schema, conform, infer_schema


def test_roles_are_inferred():
    n = 60
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "row_id": np.arange(n),
            "age": rng.integers(18, 80, size=n),
            "income": rng.normal(50, 10, size=n),
            "colour": rng.choice(["r", "g", "b"], size=n),
            "flag": rng.choice([True, False], size=n),
            "yesno": rng.choice(["Yes", "No"], size=n),
            "when": pd.date_range("2020-01-01", periods=n).astype(str),
            "note": [f"the customer said thing number {i} today" for i in range(n)],
            "code": [f"C{i:04d}" for i in range(n)],
            "const": 1,
            "numstr": [str(v) for v in rng.normal(size=n)],
            "y": rng.choice([0, 1], size=n),
        }
    )
    schema = infer_schema(frame, target="y")
    roles = {c.name: c.role for c in schema.columns}
    assert roles == {
        "row_id": "id",
        "age": "numeric",
        "income": "numeric",
        "colour": "categorical",
        "flag": "boolean",
        "yesno": "boolean",
        "when": "datetime",
        "note": "text",
        "code": "id",
        "const": "constant",
        "numstr": "numeric",
        "y": "target",
    }
    expected = ["age", "income", "colour", "flag", "yesno", "when", "note", "numstr"]
    assert schema.features == expected
    assert schema["colour"].categories == ("b", "g", "r")
    assert schema["age"].min >= 18 and schema["age"].max < 80


def test_conform_canonical_types_and_round_trip():
    frame = pd.DataFrame(
        {
            "x": ["1.5", "2", None, "inf"],
            "c": ["a", None, "b", "a"],
            "b": [True, False, None, True],
            "y": [0, 1, 0, 1],
        }
    )
    schema = infer_schema(frame, target="y")
    out = conform(frame, schema)
    assert out["x"].dtype == np.float32  # the design matrices are float32
    assert np.isnan(out["x"].iloc[2]) and np.isnan(out["x"].iloc[3])  # inf -> missing
    assert out["c"].tolist() == ["a", MISSING_LEVEL, "b", "a"]
    assert out["b"].tolist() == ["true", "false", MISSING_LEVEL, "true"]
    assert Schema.from_dict(schema.to_dict()) == schema


def test_excluded_columns_are_not_features():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "g": ["m", "f", "m"], "y": [0, 1, 0]})
    schema = infer_schema(frame, target="y", exclude=("g",))
    assert list(conform(frame, schema).columns) == ["a"]


def test_string_and_categorical_columns_conform_like_object_columns():
    import numpy as np
    import pandas as pd

    from crispml.data import conform, infer_schema

    rng = np.random.default_rng(0)
    levels = np.array(["north", "south", "1", "1.0", "east"], dtype=object)
    raw = pd.Series(levels[rng.integers(0, 5, 400)], dtype=object)
    raw[rng.random(400) < 0.1] = None
    frames = {
        "object": pd.DataFrame({"city": raw, "y": rng.integers(0, 2, 400)}),
        "str": pd.DataFrame({"city": raw.astype("str"), "y": rng.integers(0, 2, 400)}),
        "category": pd.DataFrame({"city": raw.astype("category"), "y": rng.integers(0, 2, 400)}),
    }
    frames["str"].loc[raw.isna(), "city"] = None
    out = {k: conform(f, infer_schema(f, target="y"))["city"] for k, f in frames.items()}
    schemas = {k: infer_schema(f, target="y")["city"] for k, f in frames.items()}
    assert out["str"].tolist() == out["object"].tolist() == out["category"].tolist()
    assert out["str"].dtype == object and "__missing__" in set(out["str"])
    assert (
        schemas["str"].categories == schemas["object"].categories == schemas["category"].categories
    )
