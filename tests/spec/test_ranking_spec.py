"""The ranking task in the spec: its query column, metrics and resolved split."""

from __future__ import annotations

import pytest

from crispml.exceptions import SpecError
from crispml.spec import spec_from_dict


def _spec(problem=None, **sections):
    raw = {
        "name": "r",
        "data": {"source": "t.csv"},
        "problem": {"task": "ranking", "target": "rel", "group_column": "qid", **(problem or {})},
        **sections,
    }
    return spec_from_dict(raw, source="test")


def test_ranking_resolves_to_a_query_split_and_the_rankers():
    spec = _spec().resolved()
    assert spec.split.strategy == "group" and spec.split.group_column == "qid"
    assert spec.problem.metric == "ndcg" and spec.problem.ndcg_k == 10
    assert spec.search.families == ("lightgbm_ranker", "xgboost_ranker")
    assert spec.search.validation == "holdout" and not spec.search.ensemble
    assert _spec({"metric": "map", "ndcg_k": 5}).resolved().problem.ndcg_k == 5


@pytest.mark.parametrize(
    ("problem", "sections", "message"),
    [
        ({"group_column": None}, {}, "problem.group_column is required for task 'ranking'"),
        ({"metric": "roc_auc"}, {}, "metric 'roc_auc' does not fit task 'ranking'"),
        ({}, {"split": {"strategy": "random"}}, "task 'ranking' splits by problem.group_column"),
        ({}, {"split": {"strategy": "group", "group_column": "user"}}, "splits by problem"),
        ({}, {"features": {"monotone": {"x": 1}}}, "features.monotone is not supported"),
        ({"ndcg_k": 0}, {}, "ndcg_k"),
    ],
)
def test_ranking_spec_errors_say_what_to_do(problem, sections, message):
    with pytest.raises(SpecError, match=message):
        _spec(problem, **sections)


def test_group_column_belongs_to_ranking_only():
    with pytest.raises(SpecError, match="applies to task: ranking only"):
        spec_from_dict(
            {
                "name": "b",
                "data": {"source": "t.csv"},
                "problem": {"task": "binary", "target": "y", "group_column": "qid"},
            },
            source="test",
        )
