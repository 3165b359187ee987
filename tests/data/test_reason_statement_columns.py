from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crispml.data import load_table, prepare_dataset
from crispml.exceptions import SpecError
from crispml.spec import spec_from_dict


def _spec(statements):
    return spec_from_dict(
        {
            "name": "r",
            "problem": {"task": "binary", "target": "y"},
            "data": {"source": "inline"},
            "explain": {"reason_statements": statements},
        },
        source="test",
    )


def test_reason_statements_must_name_columns_of_the_data():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"debt": rng.uniform(size=40), "y": rng.integers(0, 2, 40)})
    table = load_table(frame)
    assert prepare_dataset(table, _spec({"debt": "High debt ({value})"})).schema["debt"]
    with pytest.raises(SpecError, match=r"explain\.reason_statements names 'dept'"):
        prepare_dataset(table, _spec({"dept": "High debt"}))
