"""The search goes back to its trials when the refit reserve held more than the chosen refit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from crispml.search import Candidate, Deadline
from crispml.search._budget import BudgetPlan
from crispml.search._search import _use_spare_time


class _Loop:
    """The part of TrialLoop the spare-time step uses; each tuning round takes 5 s."""

    def __init__(self, now: list[float], candidates: list[Candidate]) -> None:
        self.now = now
        self.candidates = candidates
        # holdout: 800 rows fitted per trial, 1,000 in the refit (scale 1.25)
        plan = SimpleNamespace(mode="holdout", folds=[(np.arange(800), np.arange(800, 1000))])
        self.data = SimpleNamespace(plan=plan, y=np.zeros(1000))
        self.rounds = 0

    def run_tuning(self) -> None:
        self.rounds += 1
        self.now[0] += 5.0
        self.candidates.append(Candidate("lightgbm-9", "lightgbm", {}, valid_score=0.9, fit_s=2.0))


def _setup(reserve_s: float, elapsed_s: float):
    now = [0.0]
    budget = BudgetPlan.make(100.0, Deadline(100.0, clock=lambda: now[0]), "holdout",
                             deterministic=False)  # fmt: skip
    leader = Candidate("lightgbm", "lightgbm", {}, valid_score=0.8, fit_s=4.0)
    others = [
        Candidate("catboost", "catboost", {}, valid_score=0.7, fit_s=10.0),
        Candidate("linear", "linear", {}, valid_score=0.6, fit_s=1.0),
    ]
    loop = _Loop(now, [leader, *others])
    budget.refit_cost_s = reserve_s  # what the three leaders' fit times reserved
    now[0] = elapsed_s
    return loop, budget, leader


def test_freed_reserve_goes_back_to_the_trials():
    # reserve 40 s: the search (79 s planned) stopped at 54 s; the single leader's refit
    # is 4 x 1.4 x 1.25 = 7 s, plus room for one member as costly as catboost: 7 + 17.5
    loop, budget, leader = _setup(reserve_s=40.0, elapsed_s=54.0)
    assert budget.search_left() <= 0
    best = _use_spare_time(loop, budget, leader, "roc_auc", ensemble=False)
    assert loop.rounds == 1 and budget.refit_fixed
    assert abs(budget.refit_cost_s - 24.5) < 1e-9
    assert best.name == "lightgbm-9"  # selected again, with the new trial in the running
    assert budget.actual["search"] == 5.0
    assert "went back to the trials (1 more)" in budget.notes["search"]


def test_no_second_round_when_nothing_was_over_reserved():
    # reserve 7 s is the leader's own refit: no time was held beyond the chosen refit
    loop, budget, leader = _setup(reserve_s=7.0, elapsed_s=70.0)
    assert _use_spare_time(loop, budget, leader, "roc_auc", ensemble=False) is leader
    assert loop.rounds == 0 and not budget.refit_fixed and "search" not in budget.notes


def test_no_second_round_when_the_freed_time_holds_no_trial():
    # freed 40 -> 24.5 s, but at 90 s elapsed the search is still past its plan
    loop, budget, leader = _setup(reserve_s=40.0, elapsed_s=90.0)
    assert _use_spare_time(loop, budget, leader, "roc_auc", ensemble=False) is leader
    assert loop.rounds == 0 and budget.refit_cost_s == 40.0
