"""The plan records each phase's CPU seconds beside its wall seconds (clocks injected)."""

from __future__ import annotations

import json

import pytest

from crispml.search import EngagementBudget, RunBudget
from crispml.search._plan import cpu_seconds


def test_each_phase_records_wall_and_cpu_seconds():
    wall, cpu = [0.0], [0.0]
    plan = EngagementBudget(60.0, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])
    plan.set_table(1_000, 5)
    with plan.phase("audit"):  # contended: 3 s of wall for 1 s of CPU
        wall[0] += 3.0
        cpu[0] += 1.0
    with plan.phase("evaluation"):  # two threads busy: more CPU than wall
        wall[0] += 1.0
        cpu[0] += 1.8
    with plan.phase("evaluation"):  # a phase in two parts adds up
        wall[0] += 0.5
        cpu[0] += 0.2
    record = plan.result({}, {}, study=None)
    assert (record.phases["audit"].used_s, record.phases["audit"].cpu_s) == (3.0, 1.0)
    assert (record.phases["evaluation"].used_s, record.phases["evaluation"].cpu_s) == (1.5, 2.0)
    assert record.phases["report"].cpu_s is None  # not run
    again = RunBudget.model_validate(json.loads(record.to_json()))
    assert again.phases["evaluation"].cpu_s == 2.0


def test_cpu_seconds_grows_with_work_only():
    before = cpu_seconds()
    total = sum(i * i for i in range(2_000_000))  # some CPU work
    assert total > 0 and cpu_seconds() > before


def test_the_alternatives_cost_grows_with_the_protected_attributes():
    one = EngagementBudget(60.0, alternatives=True, clock=lambda: 0.0)
    four = EngagementBudget(60.0, alternatives=True, attributes=4, clock=lambda: 0.0)
    for plan in (one, four):
        plan.set_table(5_000, 10)
        plan.set_split(1_000)
    # 12 alternatives x 4,000 fitted rows, on 1 or 4 attributes (3 columns + intersection)
    # (the coefficient was fitted at 1,000 resamples each; they now take 200 of 1,000)
    assert one.features()["alt_mrows"] == pytest.approx(12 * 4_000 / 1e6 * 0.2)
    assert four.features()["alt_mrows"] == 4 * one.features()["alt_mrows"]
    assert four.predicted("evaluation") > one.predicted("evaluation")


def test_the_pace_trusts_the_wait_for_a_core_and_bounds_the_speed():
    from crispml.search._plan import SPEED_RANGE

    def audited(wall_s: float, cpu_s: float) -> EngagementBudget:
        wall, cpu = [0.0], [0.0]
        plan = EngagementBudget(600.0, clock=lambda: wall[0], cpu_clock=lambda: cpu[0])
        plan.set_table(40_000, 10)
        predicted = plan.predicted("audit")
        with plan.phase("audit"):
            wall[0] += wall_s * predicted
            cpu[0] += cpu_s * predicted
        return plan

    # a quiet machine, the audit 2.4x its cost model: the speed part is bounded
    assert audited(2.4, 2.4).pace() == SPEED_RANGE[1]
    # a loaded machine: 4 s of wall per CPU second, the audit as predicted
    assert audited(4.0, 1.0).pace() == 4.0
    # both: the wait times the bounded speed
    assert audited(6.0, 3.0).pace() == 2.0 * SPEED_RANGE[1]
    # faster than predicted, no wait
    assert audited(0.5, 0.5).pace() == 0.67
