"""One budget for the engagement; refit never skipped; size cap; no configuration twice."""

from __future__ import annotations

import dataclasses

import pytest

from crispml.search import (
    Deadline,
    EngagementBudget,
    PhaseCost,
    RunBudget,
    _plan,
    phase_costs,
    search_models,
)
from crispml.search._plan import (
    AFTER_SEARCH,
    EFFORTS,
    FEATURES,
    MIN_ATTRIBUTION_S,
    MIN_SEARCH_S,
    PACE_RANGE,
    PHASES,
    evaluation_work,
)


def _search(data, **kwargs):
    schema, Xt, yt, Xv, yv = data
    options = {"task": "binary", "metric": "roc_auc", "seed": 0, **kwargs}
    return search_models(Xt, yt, Xv, yv, schema=schema, **options)


def _costs(**phases):
    """A cost model: every phase 0.1 s fixed, except those given."""
    base = {p: PhaseCost(0.1) for p in PHASES if p != "search"}
    return {**base, **phases}


@pytest.fixture
def fake_costs(monkeypatch):
    """Install a cost model made by the test (``set(...)``) instead of the measured one."""

    def install(**phases):
        costs = _costs(**phases)
        monkeypatch.setattr(_plan, "phase_costs", lambda: costs)
        return costs

    return install


def _ran(plan, now, name, seconds):
    with plan.phase(name):
        now[0] += seconds


def test_the_search_gets_what_the_other_phases_leave(fake_costs):
    fake_costs(load=PhaseCost(2.0), audit=PhaseCost(1.0), evaluation=PhaseCost(8.0))
    now = [0.0]
    plan = EngagementBudget(300.0, clock=lambda: now[0])
    _ran(plan, now, "load", 2.0)  # as predicted: the pace stays 1
    plan.set_table(40_000, 10)
    assert plan.pace() == 1.0
    others = sum(plan.predicted(p) for p in PHASES if p not in ("load", "search"))
    assert plan.planned["search"] == pytest.approx(300.0 - 2.0 - others)
    first = plan.search_s()
    _ran(plan, now, "audit", 10.0)  # the audit took longer than predicted: the search gets less
    assert plan.search_s() < first - 10.0 + plan.predicted("audit")
    assert "search" in plan.plan_line() and "300 s" in plan.plan_line()


def test_a_budget_smaller_than_the_phases_still_leaves_a_minimal_search():
    plan = EngagementBudget(1.0, clock=lambda: 0.0)
    plan.set_table(10**7, 50)  # predicted phases far beyond one second
    assert plan.search_s() == MIN_SEARCH_S
    assert "will overrun; raise search.time_budget_s" in plan.plan_line()


def test_the_stored_cost_model_covers_every_phase_with_non_negative_terms():
    costs = phase_costs()
    assert set(costs) == set(PHASES) - {"search"}
    small = {"mcells": 0.01, "model_mb": 1.0, "boot_mdraws": 0.1, "attr_mb_krows": 0.1}
    large = {k: 100 * v for k, v in small.items()} | {"docx": 1.0, "pdf": 1.0, "alt_mrows": 1.0}
    for cost in costs.values():
        assert cost.fixed_s >= 0 and set(cost.terms) <= set(FEATURES)
        assert min(cost.terms.values(), default=0.0) >= 0
        assert cost.predict(large) >= cost.predict(small)
    # the late phases' cost follows the work they are asked to do
    assert set(costs["evaluation"].terms) >= {"boot_mdraws", "attr_mb_krows", "alt_mrows"}
    assert set(costs["report"].terms) >= {"docx", "pdf"}
    assert "model_mb" in costs["deployment"].terms


def test_a_phase_cost_is_linear_in_its_features():
    cost = PhaseCost(fixed_s=1.0, terms={"mcells": 2.0, "model_mb": 0.5})
    assert cost.predict({"mcells": 3.0}) == pytest.approx(7.0)
    assert cost.predict({"model_mb": 10.0, "pdf": 1.0}) == pytest.approx(6.0)


def test_the_pace_rescales_the_phases_to_come(fake_costs):
    fake_costs(setup=PhaseCost(1.0), audit=PhaseCost(2.0), evaluation=PhaseCost(5.0))
    now = [0.0]
    plan = EngagementBudget(100.0, clock=lambda: now[0])
    assert plan.pace() == 1.0  # nothing measured yet
    _ran(plan, now, "setup", 2.5)  # start-up: not counted in the pace
    _ran(plan, now, "load", 0.25)
    plan.set_table(1_000, 5)
    assert plan.pace() == 1.0  # 0.1 s predicted so far: too little to tell
    _ran(plan, now, "split", 0.25)
    _ran(plan, now, "audit", 5.0)
    assert plan.pace() == pytest.approx(5.5 / 2.2)  # measured / predicted so far
    after = plan.predicted_after_search()
    assert plan.search_s() == pytest.approx(100.0 - 8.0 - plan.pace() * after)


def test_the_pace_is_clamped_so_one_stalled_phase_cannot_take_the_whole_budget(fake_costs):
    fake_costs(audit=PhaseCost(1.0))
    now = [0.0]
    plan = EngagementBudget(100.0, clock=lambda: now[0])
    _ran(plan, now, "audit", 50.0)
    assert plan.pace() == PACE_RANGE[1]
    faster = EngagementBudget(100.0, clock=lambda: now[0])
    _ran(faster, now, "audit", 0.01)
    assert faster.pace() == PACE_RANGE[0]


def _slow_evaluation():
    """An evaluation that costs 1 s per million bootstrap draws."""
    return PhaseCost(0.5, {"boot_mdraws": 1.0, "attr_mb_krows": 0.1, "alt_mrows": 1.0})


def test_the_evaluation_keeps_its_full_work_when_the_time_left_covers_it(fake_costs):
    fake_costs(evaluation=_slow_evaluation())
    now = [0.0]
    plan = EngagementBudget(60.0, clock=lambda: now[0], bootstrap=1000)
    plan.set_table(10_000, 5)
    plan.set_split(2_000)
    work = plan.evaluation_work()  # 1000 x 2000 draws: ~2.5 s of 60
    assert dataclasses.replace(work, attribution_s=None) == evaluation_work(1000, 1.0)
    assert work.attribution_s is not None and work.attribution_s > 10.0  # half the time left
    assert work.n_resamples == 1000 and work.attribution_rows == 2000
    assert "evaluation" not in plan.reductions


def test_the_evaluation_work_is_bounded_by_the_time_left_and_the_pace(fake_costs):
    fake_costs(evaluation=_slow_evaluation(), deployment=PhaseCost(3.0), audit=PhaseCost(1.0))
    now = [0.0]
    plan = EngagementBudget(60.0, clock=lambda: now[0], bootstrap=1000, alternatives=True)
    _ran(plan, now, "audit", 3.0)  # 3x slower than predicted
    plan.set_table(100_000, 5)
    plan.set_split(20_000)
    plan.model_mb = 20.0
    _ran(plan, now, "search", 40.0)
    full = plan.predicted("evaluation", effort=1.0)  # 20 s of draws alone
    assert plan.pace() * full > 60.0 - 43.0
    work = plan.evaluation_work()
    assert work.effort < 1.0
    assert work.n_resamples < 1000 and work.attribution_rows < 2000 and work.alternatives < 12
    left = (
        60.0
        - plan.elapsed()
        - plan.pace() * sum(plan.predicted(p, formats=("html", "md")) for p in AFTER_SEARCH[1:])
    )
    assert plan.pace() * plan.predicted("evaluation") <= left or work.effort == EFFORTS[-1]
    note = plan.reductions["evaluation"]
    assert f"bootstrap resamples 1000 -> {work.n_resamples}" in note
    assert "attribution rows 2000 ->" in note and "pace 3.00" in note


def test_with_no_time_left_the_evaluation_does_the_least_work_not_nothing(fake_costs):
    fake_costs(evaluation=_slow_evaluation())
    now = [0.0]
    plan = EngagementBudget(10.0, clock=lambda: now[0], bootstrap=500)
    plan.set_table(1_000_000, 5)
    plan.set_split(200_000)
    _ran(plan, now, "search", 30.0)  # already past the budget
    work = plan.evaluation_work()
    assert dataclasses.replace(work, attribution_s=None) == evaluation_work(500, EFFORTS[-1])
    assert work.attribution_s == MIN_ATTRIBUTION_S
    assert (work.n_resamples, work.attribution_rows, work.alternatives) == (100, 200, 2)


def test_the_report_leaves_out_the_pdf_first_then_the_word_documents(fake_costs):
    report = PhaseCost(1.0, {"docx": 4.0, "pdf": 6.0})
    fake_costs(report=report)
    now = [0.0]
    plan = EngagementBudget(30.0, clock=lambda: now[0])
    plan.set_table(1_000, 5)
    _ran(plan, now, "search", 18.0)
    assert plan.report_formats() == {}  # 11 s of documents, ~12 s left
    assert plan.kept_formats == ("html", "md", "docx", "pdf")
    now[0] += 4.0
    left_out = plan.report_formats()
    assert list(left_out) == ["pdf"] and "crispml report" in left_out["pdf"]
    assert plan.kept_formats == ("html", "md", "docx")
    now[0] += 4.0
    assert sorted(plan.report_formats()) == ["docx", "pdf"]
    assert plan.reductions["report"].startswith("docx and pdf left out")


def test_a_deterministic_run_never_reduces_its_work(fake_costs):
    fake_costs(evaluation=_slow_evaluation(), report=PhaseCost(1.0, {"pdf": 100.0}))
    now = [0.0]
    plan = EngagementBudget(5.0, deterministic=True, clock=lambda: now[0], bootstrap=1000)
    plan.set_table(1_000_000, 5)
    _ran(plan, now, "search", 30.0)
    assert plan.evaluation_work() == evaluation_work(1000, 1.0)
    assert plan.report_formats() == {} and plan.reductions == {}


def test_budget_json_records_what_was_reduced_and_the_work_each_phase_did(fake_costs):
    fake_costs(evaluation=_slow_evaluation(), report=PhaseCost(1.0, {"pdf": 100.0}))
    now = [0.0]
    plan = EngagementBudget(20.0, clock=lambda: now[0], bootstrap=1000)
    _ran(plan, now, "setup", 0.1)
    plan.set_table(200_000, 5)
    plan.set_split(40_000)
    _ran(plan, now, "search", 15.0)
    work = plan.evaluation_work()
    _ran(plan, now, "evaluation", 2.0)
    left_out = plan.report_formats()
    _ran(plan, now, "report", 1.0)
    record = RunBudget.from_json(plan.result({}, {"ok": 1}, study=None).to_json())
    assert set(record.reductions) == {"evaluation", "report"}
    assert record.phases["evaluation"].note == record.reductions["evaluation"]
    assert f"-> {work.n_resamples}" in record.reductions["evaluation"]
    assert "pdf left out" in record.reductions["report"] and list(left_out) == ["pdf"]
    evaluated = record.phases["evaluation"].work
    assert evaluated["boot_mdraws"] == pytest.approx(work.n_resamples * 40_000 / 1e6)
    assert record.phases["report"].work["pdf"] == 0.0
    assert record.pace == pytest.approx(plan.pace(), abs=1e-3)


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
            assert "> 0.3 MB, deployment.max_model_mb" in cand.info["excluded"]
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


def test_the_start_up_before_the_plan_counts_against_the_budget():
    now = [100.0]
    plan = EngagementBudget(60.0, clock=lambda: now[0], spent_s=7.5)
    assert plan.elapsed() == pytest.approx(7.5)
    plan.set_table(1_000, 5)
    now[0] += 2.5
    record = plan.result({}, {}, study=None)
    assert record.spent_before_s == 7.5 and record.elapsed_s == pytest.approx(10.0)


def test_the_process_age_is_read_from_the_system():
    from pathlib import Path

    from crispml._utils._process import process_age_s

    age = process_age_s()
    if Path("/proc/self/stat").is_file():
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        assert 0.0 < age < uptime  # this test runs inside a process that started before
    else:
        assert age == 0.0


def test_only_the_crispml_command_counts_its_start_up(monkeypatch):
    from crispml._utils import _process

    monkeypatch.setattr(_process, "_COMMAND_START", [])
    assert _process.startup_spent_s() == 0.0  # in-process (tests, notebooks): nothing spent
    _process.mark_command_start()
    assert _process.startup_spent_s() >= _process.process_age_s() - 1.0 > 0.0
