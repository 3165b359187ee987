from __future__ import annotations

import pytest
from pydantic import ValidationError

from crispml.exceptions import SpecError
from crispml.spec import (
    ProjectSpec,
    SplitSpec,
    load_spec,
    parse_criterion,
    spec_from_dict,
    spec_to_yaml,
)

BASE = {"name": "p", "problem": {"task": "binary", "target": "y"}, "data": {"source": "d.csv"}}


def with_(section: str, **fields: object) -> dict:
    raw = {k: dict(v) if isinstance(v, dict) else v for k, v in BASE.items()}
    raw.setdefault(section, {})
    raw[section] = {**raw[section], **fields}
    return raw


def test_defaults_are_resolved():
    spec = spec_from_dict(BASE).resolved()
    assert spec.problem.metric == "roc_auc"
    assert spec.split.strategy == "stratified"
    reg = spec_from_dict(with_("problem", task="regression")).resolved()
    assert (reg.problem.metric, reg.split.strategy) == ("rmse", "random")


def test_unknown_task_names_field_value_and_choices():
    with pytest.raises(SpecError) as info:
        spec_from_dict(with_("problem", task="classification"), source="crispml.yaml")
    message = str(info.value)
    assert message.startswith("crispml.yaml -> problem.task = 'classification'")
    assert "'binary', 'multiclass', 'regression', 'anomaly' or 'ranking'" in message
    assert "\n" not in message


def test_unknown_field_is_refused():
    with pytest.raises(SpecError, match=r"problem.taget .*unknown field"):
        spec_from_dict(with_("problem", taget="y"))


def test_missing_field_is_named():
    with pytest.raises(SpecError, match=r"-> data is required but missing"):
        spec_from_dict({"name": "p", "problem": {"task": "binary", "target": "y"}})


@pytest.mark.parametrize(
    ("section", "fields", "pattern"),
    [
        ("split", {"test_size": 1.4}, r"split.test_size = 1.4: Input should be less than 1"),
        ("split", {"strategy": "group"}, r"group_column"),
        ("problem", {"metric": "rmse"}, r"metric 'rmse' does not fit task 'binary'"),
        ("problem", {"success_criteria": {"roc_auc": "about 0.8"}}, r"not a criterion"),
        ("split", {"strategy": "stratified"}, None),
    ],
)
def test_field_rules(section, fields, pattern):
    raw = with_(section, **fields)
    if pattern is None:
        spec_from_dict(raw)
        return
    with pytest.raises(SpecError, match=pattern):
        spec_from_dict(raw)


def test_stratified_regression_is_refused():
    raw = with_("problem", task="regression")
    raw["split"] = {"strategy": "stratified"}
    with pytest.raises(SpecError, match="use 'random' for regression"):
        spec_from_dict(raw)


def test_parse_criterion():
    assert parse_criterion("<= 1e-2") == ("<=", 0.01)
    with pytest.raises(ValueError):
        parse_criterion("=> 3")


def test_yaml_round_trip(tmp_path):
    spec = spec_from_dict(with_("fairness", protected=["sex"])).resolved()
    path = tmp_path / "s.yaml"
    path.write_text(spec_to_yaml(spec), encoding="utf-8")
    assert load_spec(path) == spec
    assert isinstance(load_spec(path), ProjectSpec)


def test_load_spec_errors(tmp_path):
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(SpecError, match="must be a YAML mapping"):
        load_spec(listy)


def test_gap_needs_a_time_split():
    with pytest.raises(ValidationError, match=r"gap_days = 3 needs split\.strategy: time"):
        SplitSpec(strategy="random", gap_days=3)
    assert SplitSpec(strategy="time", time_column="t", gap_days=3).gap_days == 3


def test_time_split_resolves_to_holdout_validation():
    spec = ProjectSpec(
        name="t",
        problem={"task": "binary", "target": "y"},
        data={"source": "d.csv"},
        split={"strategy": "time", "time_column": "when"},
    )
    assert spec.resolved().search.validation == "holdout"
    cv = spec.model_copy(update={"search": spec.search.model_copy(update={"validation": "cv"})})
    assert cv.resolved().search.validation == "cv"  # an explicit choice is kept


def _monotone_spec(task="binary", **extra):
    return {
        "name": "m",
        "problem": {"task": task, "target": "y"},
        "data": {"source": "d.csv", **extra},
        "features": {"monotone": {"income": 1, "debt": -1}},
    }


def test_monotone_constraints_are_validated():
    spec = ProjectSpec(**_monotone_spec())
    assert spec.features.monotone == {"income": 1, "debt": -1}
    with pytest.raises(ValidationError, match="binary or regression"):
        ProjectSpec(**_monotone_spec("multiclass"))
    with pytest.raises(ValidationError, match=r"names \['debt'\], which are the target or"):
        ProjectSpec(**_monotone_spec(drop=["debt"]))
    with pytest.raises(ValidationError, match="Input should be -1 or 1"):
        ProjectSpec(**{**_monotone_spec(), "features": {"monotone": {"income": 2}}})
