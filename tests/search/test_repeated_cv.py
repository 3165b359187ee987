"""Repeated cross-validation on small tables: the plan, the out-of-fold mean, the search."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crispml.models import get_family
from crispml.search import plan_validation, search_models
from crispml.search._deadline import Deadline
from crispml.search._trial import FoldData, run_trial
from crispml.search._validation import REPEAT_MAX_ROWS, REPEAT_MIN_SEARCH_S, cv_repeats

from .conftest import make_frame, split_frame


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_each_split_of_a_repeated_plan_holds_every_row_out_once(task):
    y = np.array([0, 1, 1] * 40) if task == "binary" else np.arange(120.0)
    plan = plan_validation(y, 96, task=task, repeats=2)
    assert plan.mode == "cv" and plan.repeats == 2 and len(plan.folds) == 10
    for split in (plan.folds[:5], plan.folds[5:]):
        held = np.sort(np.concatenate([h for _, h in split]))
        assert held.tolist() == list(range(120))
    # the second split is reshuffled, not the first one again
    assert any(
        not np.array_equal(a[1], b[1]) for a, b in zip(plan.folds[:5], plan.folds[5:], strict=True)
    )
    record = plan.to_dict()
    assert record["repeats"] == 2 and record["n_folds"] == 10
    assert set(record["fold_of_row"]) == set(range(5))


def test_one_split_is_the_plain_k_fold_plan():
    y = np.array([0, 1] * 60)
    plain, once = (
        plan_validation(y, 96, task="binary"),
        plan_validation(y, 96, task="binary", repeats=1),
    )
    assert plain.repeats == 1
    for (fa, ha), (fb, hb) in zip(plain.folds, once.folds, strict=True):
        assert np.array_equal(fa, fb) and np.array_equal(ha, hb)


def test_repeats_only_for_few_rows_and_enough_search_time():
    assert cv_repeats(REPEAT_MAX_ROWS, REPEAT_MIN_SEARCH_S) == 2
    assert cv_repeats(REPEAT_MAX_ROWS + 1, 600.0) == 1
    assert cv_repeats(500, REPEAT_MIN_SEARCH_S - 1) == 1
    assert cv_repeats(500, None) == 1  # deterministic: a trial costs what it did


def test_out_of_fold_prediction_is_the_mean_over_the_splits():
    schema, Xt, yt, Xv, yv = split_frame(make_frame(160), 128)
    X, y = pd.concat([Xt, Xv], ignore_index=True), np.concatenate([yt, yv])
    plan = plan_validation(y, len(Xt), task="binary", repeats=2)
    data = FoldData(X, y, plan, schema, "binary")
    outcome = run_trial(
        get_family("linear"), {}, data, metric="roc_auc", seed=0, time_left=lambda: None
    )
    assert outcome.status == "ok"
    members = outcome.model.members_
    assert len(members) == 10
    expected = np.zeros((len(y), 2))
    for member, (_, held) in zip(members, plan.folds, strict=True):
        expected[held] += member.predict_proba(X.iloc[held]) / 2
    np.testing.assert_allclose(outcome.output, expected, rtol=1e-12)


def test_a_small_table_with_search_time_is_searched_on_repeated_folds():
    schema, Xt, yt, Xv, yv = split_frame(make_frame(200), 160)
    now = [0.0]

    def clock():  # every look at the clock costs a second: the search ends by itself
        now[0] += 1.0
        return now[0]

    budget = REPEAT_MIN_SEARCH_S + 20.0  # the search's share is above the threshold
    result = search_models(
        Xt, yt, Xv, yv, schema=schema, task="binary", metric="roc_auc", seed=0,
        families=("elastic_net",), baselines=False, ensemble=False,
        time_budget_s=budget, deadline=Deadline(budget, clock=clock),
    )  # fmt: skip
    assert result.validation["repeats"] == 2
    assert result.validation["n_folds"] == 10
    assert len(result.best.pipeline.members_) == 10
