"""Issue 12 item 7: Hypothesis property tests for the loaders and the input contract.

Whatever the bytes or the JSON, the loader returns a table or raises ``DataError``, and
the contract returns model inputs or raises ``ContractViolation`` naming the record and
field: never another exception. Example counts are bounded for CI.
"""

from __future__ import annotations

import gzip
import math
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crispml.data import load_table
from crispml.exceptions import DataError
from crispml.serve import ColumnContract, ContractViolation, InputContract

CONTRACT = InputContract(
    (
        ColumnContract("age", "number", min=18.0, max=90.0, on_missing="reject"),
        ColumnContract("score", "number", min=0.0, max=1.0),
        ColumnContract("city", "category", categories=("1", "north", "south")),
        ColumnContract("flag", "category", categories=("false", "true"), on_missing="reject"),
        ColumnContract("note", "text"),
    ),
    ignored={"sex": "protected attribute, not a model input"},
)
FIELDS = st.sampled_from(["age", "score", "city", "flag", "note", "sex", "Age", "ünï", ""])
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
RECORD = st.dictionaries(FIELDS, JSON, max_size=7)
LIMITS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@LIMITS
@given(records=st.lists(RECORD | JSON, max_size=4), impute=st.booleans())
def test_contract_returns_inputs_or_names_the_problem(records, impute):
    try:
        checked = CONTRACT.check(records, impute=impute)
    except ContractViolation as exc:
        assert exc.errors and str(exc).startswith("record ")
        for error in exc.errors:
            assert 0 <= error["loc"][0] < len(records) and error["msg"]
            if len(error["loc"]) > 1:
                name = error["loc"][1]
                assert name in CONTRACT.names or name not in CONTRACT.ignored
        return
    assert len(checked.records) == len(records)
    for name, array in checked.inputs.items():
        assert array.shape == (len(records), 1)
        if name in ("age", "score"):
            assert array.dtype == np.float64
            assert not np.isinf(array).any()
    for record, clean in zip(records, checked.records, strict=True):
        assert "sex" not in clean and set(clean) <= set(CONTRACT.names)
        if not impute:
            assert record.get("age") is not None and not (
                isinstance(record["age"], float) and math.isnan(record["age"])
            )


CELLS = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NA", "inf", "-inf", "1e999", '"', '""', "a,b", "\ufeff"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    rows=st.lists(st.lists(CELLS, min_size=1, max_size=4), min_size=0, max_size=6),
    suffix=st.sampled_from([".csv", ".csv.gz", ".parquet", ".tsv"]),
    raw=st.binary(max_size=64),
    use_raw=st.booleans(),
)
def test_loader_returns_a_table_or_a_data_error(rows, suffix, raw, use_raw):
    text = "\n".join(",".join(r) for r in rows).encode("utf-8", errors="surrogatepass")
    data = raw if use_raw else text
    if suffix == ".csv.gz" and not use_raw:
        data = gzip.compress(data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data{suffix}"
        path.write_bytes(data)
        try:
            table = load_table(path.name, base_dir=folder)
        except DataError as exc:
            assert str(exc) and "\n" not in str(exc).strip()
            return
        assert table.frame.shape[0] >= 1 and table.frame.shape[1] >= 2
