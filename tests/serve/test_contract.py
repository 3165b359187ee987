"""The input contract: types, canonical categories, policies, error locations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from crispml.data import normalise_text as training_normalise_text
from crispml.data._schema import _canonical_text
from crispml.serve import ColumnContract, ContractViolation, InputContract, canonical_text
from crispml.serve._column import normalise_text

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


@pytest.mark.parametrize("value", ["  Late\tPAYMENT\n twice ", "Élan İstanbul", "", 12])
def test_serving_text_normalisation_matches_training(value):
    assert normalise_text(value) == training_normalise_text(value)


def test_prepare_builds_typed_onnx_inputs():
    inputs, warnings = CONTRACT.prepare(
        [
            {"age": 35, "city": 1.0, "score": 0.5, "plan": "a"},
            {"age": None, "city": None, "score": 0.2, "plan": "b"},
        ]
    )
    assert inputs["age"].dtype == np.float64 and inputs["age"].shape == (2, 1)
    assert inputs["age"][0, 0] == 35.0 and math.isnan(inputs["age"][1, 0])
    assert inputs["city"].tolist() == [["1"], ["__missing__"]]
    assert warnings == [[], ["imputed (missing): age, city"]]


def test_accepted_surprises_come_back_as_warnings():
    _, warnings = CONTRACT.prepare([{"age": 150, "city": "south", "score": 0.1, "plan": "a"}])
    assert len(warnings[0]) == 2, warnings
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


STRICT = InputContract(
    (
        ColumnContract("ccs", "number", min=1.0, max=6.0, on_missing="reject"),
        ColumnContract("dmi", "category", categories=("no", "yes"), on_missing="reject"),
        ColumnContract("lvr", "number", min=0.0, max=2.0, on_missing="impute"),
    ),
    ignored={"black": "protected attribute, not a model input", "deny": "the target"},
)
FULL = {"ccs": 2, "dmi": "no", "lvr": 0.8}


def _errors(records, **options):
    with pytest.raises(ContractViolation) as info:
        STRICT.check(records, **options)
    return {(tuple(e["loc"]), e["type"]) for e in info.value.errors}


def test_required_fields_are_named_when_missing():
    assert _errors([{}]) == {((0, "ccs"), "missing"), ((0, "dmi"), "missing")}
    assert _errors([{"ccs": 6}]) == {((0, "dmi"), "missing")}
    assert _errors([{**FULL, "dmi": None}]) == {((0, "dmi"), "missing")}
    assert _errors([{**FULL, "ccs": float("nan")}]) == {((0, "ccs"), "missing")}


def test_a_column_missing_in_training_may_be_missing_but_is_named():
    checked = STRICT.check([{"ccs": 2, "dmi": "no"}])
    assert checked.imputed == [["lvr"]]
    assert checked.warnings == [["imputed (missing): lvr"]]


def test_impute_opt_in_scores_and_names_every_imputed_field():
    checked = STRICT.check([{}, {"ccs": 6}], impute=True)
    assert checked.imputed == [["ccs", "dmi", "lvr"], ["dmi", "lvr"]]
    assert checked.warnings[1] == ["imputed (missing): dmi, lvr"]
    assert np.isnan(checked.inputs["ccs"][0, 0]) and checked.inputs["ccs"][1, 0] == 6.0
    assert checked.inputs["dmi"].tolist() == [["__missing__"], ["__missing__"]]


def test_unknown_field_is_an_error_unless_warn():
    assert _errors([{**FULL, "DIR": 0.3}]) == {((0, "DIR"), "unknown_field")}
    checked = STRICT.check([{**FULL, "DIR": 0.3}], unknown="warn")
    assert checked.ignored == [["DIR"]]
    assert checked.warnings == [["DIR: unknown field; ignored (not scored, not logged)"]]


def test_protected_attribute_is_dropped_named_and_not_kept_for_the_log():
    checked = STRICT.check([{**FULL, "black": "yes"}])
    assert checked.ignored == [["black"]]
    assert checked.records == [FULL]
    assert "black: protected attribute" in checked.warnings[0][0]
    assert "yes" not in repr(checked.records) + repr(checked.inputs)


@pytest.mark.parametrize(
    ("field", "value"),
    [("dmi", True), ("dmi", 1), ("ccs", "6"), ("ccs", True), ("dmi", [1])],
)
def test_types_are_exactly_the_json_types_of_the_column(field, value):
    assert _errors([{**FULL, field: value}]) == {((0, field), "type_error")}


def test_json_types_follow_the_levels_seen_in_training():
    assert STRICT.columns[0].json_types() == ("number",)
    assert STRICT.columns[1].json_types() == ("string",)
    flag = ColumnContract("flag", "category", categories=("false", "true"))
    assert flag.json_types() == ("string", "boolean")
    assert CONTRACT.columns[1].json_types() == ("string", "number", "boolean")


def test_version_1_contract_reads_accept_as_impute():
    old = {"columns": [{"name": "x", "type": "number", "on_missing": "accept"}]}
    contract = InputContract.from_dict(old)
    assert contract.columns[0].on_missing == "impute" and contract.required == []
    assert contract.on_unknown == "reject" and dict(contract.ignored) == {}


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan"), None, ""])
def test_infinities_are_missing_as_in_training(value):
    assert _errors([{**FULL, "ccs": value}]) == {((0, "ccs"), "missing")}
    assert STRICT.check([{**FULL, "ccs": value}], impute=True).imputed == [["ccs"]]
