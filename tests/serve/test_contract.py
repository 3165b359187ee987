"""The input contract: types, canonical categories, policies, error locations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crispml.data._schema import _canonical_text
from crispml.serve import ColumnContract, ContractViolation, InputContract, canonical_text

CONTRACT = InputContract(
    (
        ColumnContract("age", "number", min=18.0, max=90.0, reference=40.0),
        ColumnContract("city", "category", categories=("1", "north", "true"), reference="north"),
        ColumnContract(
            "score", "number", min=0.0, max=1.0, on_missing="reject", on_out_of_range="reject"
        ),
        ColumnContract("plan", "category", categories=("a", "b"), on_unseen="reject"),
    )
)


@pytest.mark.parametrize("value", [True, False, 1, 1.0, 2.5, "x", np.float64(3.0), np.int64(4)])
def test_serving_canonical_text_matches_training(value):
    assert canonical_text(value) == _canonical_text(value)


def test_prepare_builds_typed_onnx_inputs():
    inputs, warnings = CONTRACT.prepare(
        [
            {"age": "35", "city": 1.0, "score": 0.5, "plan": "a"},
            {"age": None, "city": None, "score": 0.2, "plan": "b", "extra": "ignored"},
        ]
    )
    assert inputs["age"].dtype == np.float64 and inputs["age"].shape == (2, 1)
    assert inputs["age"][0, 0] == 35.0 and math.isnan(inputs["age"][1, 0])
    assert inputs["city"].tolist() == [["1"], ["__missing__"]]
    assert warnings == [[], []]


def test_accepted_surprises_come_back_as_warnings():
    _, warnings = CONTRACT.prepare([{"age": 150, "city": "south", "score": 0.1, "plan": "a"}])
    assert len(warnings[0]) == 2
    assert warnings[0][0].startswith("age: 150.0 is outside the observed range [18.0, 90.0]")
    assert "city: category 'south' was not seen in training" in warnings[0][1]


def test_violations_name_record_column_and_problem():
    with pytest.raises(ContractViolation) as info:
        CONTRACT.prepare(
            [
                {"age": "old", "city": "north", "score": 0.5, "plan": "a"},
                {"age": 30, "city": ["x"], "score": None, "plan": "z"},
                {"age": 30, "city": "north", "score": 3.0, "plan": "a"},
                "not a record",
            ]
        )
    errors = {(tuple(e["loc"]), e["type"]) for e in info.value.errors}
    assert errors == {
        ((0, "age"), "type_error"),
        ((1, "city"), "type_error"),
        ((1, "score"), "missing"),
        ((1, "plan"), "unseen_category"),
        ((2, "score"), "out_of_range"),
        ((3,), "type_error"),
    }
    assert str(info.value).startswith("record 0.age: expected a number, got 'old' (and 5 more)")


def test_contract_round_trips_through_json_form():
    again = InputContract.from_dict(CONTRACT.to_dict())
    assert again == CONTRACT
    assert again.columns[3].on_unseen == "reject"


def test_missing_level_matches_training():
    from crispml.data import MISSING_LEVEL as TRAINING_LEVEL
    from crispml.serve import MISSING_LEVEL

    assert MISSING_LEVEL == TRAINING_LEVEL
