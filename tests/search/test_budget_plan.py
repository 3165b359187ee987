"""One budget for the engagement; refit never skipped; size cap; no configuration twice."""

from __future__ import annotations

import pytest

from crispml.search import (
    Deadline,
    EngagementBudget,
    PhaseCost,
    RunBudget,
    phase_costs,
    search_models,
)
from crispml.search._plan import MIN_SEARCH_S, PHASES


def _search(data, **kwargs):
    schema, Xt, yt, Xv, yv = data
    options = {"task": "binary", "metric": "roc_auc", "seed": 0, **kwargs}
    return search_models(Xt, yt, Xv, yv, schema=schema, **options)


def test_the_search_gets_what_the_other_phases_leave():
    now = [0.0]
    plan = EngagementBudget(300.0, clock=lambda: now[0])
    with plan.phase("load"):
        now[0] = 2.0
    plan.set_table(40_000, 10)
    others = sum(plan.predicted(p) for p in PHASES if p not in ("load", "search"))
    assert plan.planned["search"] == pytest.approx(300.0 - 2.0 - others)
    first = plan.search_s()
    with plan.phase("audit"):
        now[0] += 10.0  # the audit took longer than predicted: the search gets less
    assert plan.search_s() == pytest.approx(first - 10.0 + plan.predicted("audit"))
    assert "search" in plan.plan_line() and "300 s" in plan.plan_line()


def test_a_budget_smaller_than_the_phases_still_leaves_a_minimal_search():
    plan = EngagementBudget(1.0, clock=lambda: 0.0)
    plan.set_table(10**7, 50)  # predicted phases far beyond one second
    assert plan.search_s() == MIN_SEARCH_S
    assert "will overrun; raise search.time_budget_s" in plan.plan_line()


def test_the_stored_cost_model_covers_every_phase_with_non_negative_terms():
    costs = phase_costs()
    assert set(costs) == set(PHASES) - {"search"}
    for cost in costs.values():
        assert min(cost.fixed_s, cost.per_mcell_s, cost.per_model_mb_s) >= 0
        assert cost.predict(10**6, 10, 50.0) >= cost.predict(1_000, 10, 1.0)


def test_a_phase_cost_is_linear_in_cells_and_model_size():
    cost = PhaseCost(fixed_s=1.0, per_mcell_s=2.0, per_model_mb_s=0.5)
    assert cost.predict(1_000_000, 3, 0.0) == pytest.approx(7.0)
    assert cost.predict(0, 3, 10.0) == pytest.approx(6.0)


def test_budget_record_round_trips_and_reports_the_overrun():
    now = [0.0]
    plan = EngagementBudget(10.0, clock=lambda: now[0])
    plan.set_table(100, 3)
    with plan.phase("search"):
        now[0] = 12.5
    stages = {"search": {"planned_s": 5.0, "actual_s": 12.0}}
    record = plan.result(stages, {"ok": 3}, study=None)
    assert record.overrun_s == pytest.approx(2.5) and record.overrun_pct == pytest.approx(25.0)
    assert record.phases["search"].used_s == pytest.approx(12.5)
    assert record.phases["seal"].used_s is None
    again = RunBudget.from_json(record.to_json())
    assert again == record


def test_holdout_refit_is_never_skipped_even_past_the_deadline(binary_data):
    now = [0.0]
    deadline = Deadline(5.0, clock=lambda: now[0])
    now[0] = 100.0  # every second of the budget is gone before the search starts
    result = _search(
        binary_data, families=("lightgbm",), time_budget_s=5.0, deadline=deadline,
        validation="holdout",
    )  # fmt: skip
    assert result.best.info["refit_rows"] == 240
    assert "skipped" not in result.budget["stages"]["refit"].get("note", "")


def test_forests_are_bounded_and_oversized_models_are_not_selected(binary_data):
    result = _search(
        binary_data, families=("random_forest", "elastic_net"), deterministic=True,
        max_trials=3, max_model_mb=0.3, validation="holdout",
    )  # fmt: skip
    forests = [c for c in result.candidates if c.family == "random_forest"]
    assert forests and all(c.info.get("max_leaf_nodes") for c in forests)
    for cand in result.candidates:
        if cand.status == "excluded":
            assert "deployment.max_model_mb 0.3" in cand.info["excluded"]
            assert cand.info["model_mb"] > 0.3
    assert result.best.status == "ok"
    assert result.best.info["delivered_mb"] <= 0.3


def test_a_cap_no_model_meets_excludes_every_candidate_with_the_reason(binary_data):
    from crispml.exceptions import SearchError

    with pytest.raises(SearchError, match="excluded"):
        _search(
            binary_data, families=("lightgbm",), deterministic=True, max_trials=1,
            baselines=False, ensemble=False, max_model_mb=1e-6,
        )  # fmt: skip


def test_a_configuration_is_never_fitted_twice(binary_data):
    from optuna.distributions import CategoricalDistribution
    from sklearn.linear_model import LogisticRegression

    from crispml.models import ModelFamily, register
    from crispml.models._base import _REGISTRY

    fits = []

    @register("one_point")
    class OnePoint(ModelFamily):
        preprocessing = "linear"

        def defaults(self, task):
            return {"C": 1.0}

        def search_space(self, n_rows, n_cols, task):
            return {"C": CategoricalDistribution([1.0])}

        def build(self, params, *, task, seed, n_jobs=None):
            fits.append(dict(params))
            return LogisticRegression(C=params["C"])

    try:
        result = _search(
            binary_data, families=("one_point",), deterministic=True, max_trials=20,
            ensemble=False, baselines=False, validation="holdout",
        )  # fmt: skip
    finally:
        _REGISTRY.pop("one_point")
    trials = [c for c in result.candidates if c.family == "one_point"]
    assert len(trials) == 1  # the default; every later proposal repeated it
    assert len(fits) == 2  # its fit and the refit on train + valid
