"""A ranking target is graded relevance; the query column is checked and never a feature."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crispml.data import load_table, prepare_dataset
from crispml.exceptions import DataError, SpecError
from crispml.spec import spec_from_dict


def _spec(target="rel", group="qid"):
    return spec_from_dict(
        {
            "name": "r",
            "data": {"source": "t.csv"},
            "problem": {"task": "ranking", "target": target, "group_column": group},
        },
        source="test",
    ).resolved()


def _frame(rel):
    return pd.DataFrame({"qid": [1, 1, 2, 2], "x": [0.1, 0.4, 0.2, 0.3], "rel": rel})


def test_graded_target_is_encoded_as_integers_and_the_query_is_no_feature():
    ds = prepare_dataset(load_table(_frame([0, 3, 1, 0])), _spec())
    assert ds.target.task == "ranking" and ds.target.classes == (0, 1, 3)
    assert ds.y.dtype == np.int64 and ds.y.tolist() == [0, 3, 1, 0]
    assert ds.target.positive_label is None
    assert "qid" in ds.schema.dropped and list(ds.features().columns) == ["x"]


@pytest.mark.parametrize(
    ("rel", "message"),
    [
        ([0.5, 1.0, 0.0, 2.0], "not a graded relevance \\(e.g. 0.5\\)"),
        ([0, -1, 1, 2], "not a graded relevance \\(e.g. -1\\)"),
        (["a", "b", "a", "b"], "not a graded relevance"),
        ([1, 1, 1, 1], "single relevance level \\(1\\)"),
    ],
)
def test_target_that_is_not_graded_is_refused(rel, message):
    with pytest.raises(DataError, match=message):
        prepare_dataset(load_table(_frame(rel)), _spec())


def test_query_column_must_exist():
    with pytest.raises(SpecError, match=r"problem\.group_column names 'query'"):
        prepare_dataset(load_table(_frame([0, 1, 0, 1])), _spec(group="query"))
