from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crispml.data import encode_target, infer_task
from crispml.exceptions import DataError
from crispml.spec import ProblemSpec


def test_binary_positive_label_comes_last():
    frame = pd.DataFrame({"y": ["yes", "no", "no", "yes"]})
    enc = encode_target(frame, ProblemSpec(task="binary", target="y"))
    assert enc.classes == ("no", "yes")
    assert enc.encode(frame["y"]).tolist() == [1, 0, 0, 1]
    assert enc.decode(np.array([1, 0])).tolist() == ["yes", "no"]
    chosen = encode_target(frame, ProblemSpec(task="binary", target="y", positive_label="no"))
    assert chosen.classes == ("yes", "no")


def test_numeric_binary_target_accepts_spelled_label():
    frame = pd.DataFrame({"y": [0, 1, 1, 0]})
    enc = encode_target(frame, ProblemSpec(task="binary", target="y", positive_label="1"))
    assert enc.positive_label == 1


@pytest.mark.parametrize(
    ("values", "task", "pattern"),
    [
        (["a", "a", "a"], "binary", "single class"),
        (["a", "b", "c"], "binary", "has 3 classes"),
        (["1.5", "x", "2"], "regression", "not numeric"),
    ],
)
def test_target_errors(values, task, pattern):
    with pytest.raises(DataError, match=pattern):
        encode_target(pd.DataFrame({"y": values}), ProblemSpec(task=task, target="y"))


def test_missing_target_column_lists_columns():
    with pytest.raises(DataError, match=r"problem.target = 'label' is not a column.*Columns: y"):
        encode_target(pd.DataFrame({"y": [1, 0]}), ProblemSpec(task="binary", target="label"))


def test_bad_positive_label():
    with pytest.raises(DataError, match="positive_label = 'maybe' is not a class"):
        encode_target(
            pd.DataFrame({"y": ["a", "b"]}),
            ProblemSpec(task="binary", target="y", positive_label="maybe"),
        )


def test_infer_task():
    assert infer_task(pd.Series(["a", "b", "c"])) == "multiclass"
    assert infer_task(pd.Series(range(100))) == "regression"
    assert infer_task(pd.Series([0, 1, 1])) == "binary"
