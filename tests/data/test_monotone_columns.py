from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crispml.data import load_table, prepare_dataset
from crispml.exceptions import SpecError
from crispml.spec import spec_from_dict


def _spec(monotone):
    return spec_from_dict(
        {
            "name": "m",
            "problem": {"task": "regression", "target": "y"},
            "data": {"source": "inline"},
            "features": {"monotone": monotone},
        },
        source="test",
    )


def test_monotone_columns_must_be_numeric_inputs():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"income": rng.normal(size=40), "region": rng.choice(["n", "s"], 40), "y": range(40)}
    )
    table = load_table(frame)
    assert prepare_dataset(table, _spec({"income": 1})).schema["income"].role == "numeric"
    with pytest.raises(SpecError, match="'region', whose role is categorical"):
        prepare_dataset(table, _spec({"region": 1}))
    with pytest.raises(SpecError, match=r"features\.monotone names 'salary'"):
        prepare_dataset(table, _spec({"salary": -1}))
