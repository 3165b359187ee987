"""The time budget as a contract: planned seconds per stage, and what each stage took."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from crispml.search._candidate import Candidate
from crispml.search._deadline import Deadline

ENSEMBLE_SHARE = 0.03
"""Share of the budget reserved for the greedy ensemble (at least 0.5 s, at most 5 s)."""
REFIT_SHARE = 0.15
"""Share reserved for refitting the selected model on train + valid (holdout mode)."""
SLACK_SHARE = 0.03
"""Share kept back for the last trial's prediction and bookkeeping after its deadline."""


@dataclass
class BudgetPlan:
    """Planned seconds per stage on one deadline, and the seconds each stage took.

    Attributes
    ----------
    clock : Deadline
        The whole budget's deadline.
    planned : dict
        Seconds planned for ``search``, ``ensemble`` and ``refit``.
    deterministic : bool
        Whether the budget is counted in trials (no time limits apply).
    """

    clock: Deadline
    planned: dict[str, float]
    deterministic: bool
    actual: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    refit_cost_s: float = 0.0
    """Estimated refit time of the leading candidates (their measured fit time scaled to
    every search row); when above the planned reserve, the search stops earlier to leave it."""
    refit_fixed: bool = False
    """Whether :attr:`refit_cost_s` is the chosen selection's estimate (then trials no
    longer update it)."""

    @classmethod
    def make(
        cls, budget_s: float, clock: Deadline, mode: str, *, deterministic: bool
    ) -> BudgetPlan:
        """Split ``budget_s`` into stages; refit is planned only in holdout mode.

        Examples
        --------
        >>> plan = BudgetPlan.make(100.0, Deadline(100.0), "holdout", deterministic=False)
        >>> plan.planned
        {'search': 79.0, 'ensemble': 3.0, 'refit': 15.0}
        """
        ensemble = min(5.0, max(0.5, ENSEMBLE_SHARE * budget_s))
        refit = REFIT_SHARE * budget_s if mode == "holdout" else 0.0
        search = budget_s - ensemble - refit - SLACK_SHARE * budget_s
        return cls(clock, {"search": search, "ensemble": ensemble, "refit": refit}, deterministic)

    def search_left(self) -> float | None:
        """Seconds left for trials (``None`` in deterministic mode: no time limit)."""
        if self.deterministic:
            return None
        extra = max(0.0, self.refit_cost_s - self.planned["refit"])
        return self.planned["search"] - extra - self.clock.elapsed()

    def refit_reserve_s(self) -> float:
        """Seconds kept for the refit: its plan, or the measured estimate when larger."""
        return max(self.planned["refit"], self.refit_cost_s)

    def ensemble_left(self) -> float | None:
        """Seconds the ensemble may take: its plan, or what the search left of the budget."""
        if self.deterministic:
            return None
        end = self.clock.budget_s - self.refit_reserve_s() - SLACK_SHARE * self.clock.budget_s
        return max(0.2, end - self.clock.elapsed())

    def total_left(self) -> float | None:
        """Seconds left of the whole budget (``None`` in deterministic mode)."""
        return None if self.deterministic else self.clock.remaining()

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Measure a stage's wall time (added up over its runs)."""
        start = self.clock.elapsed()
        try:
            yield
        finally:  # a stage that runs again (the search's spare time) adds up
            self.actual[name] = self.actual.get(name, 0.0) + self.clock.elapsed() - start

    def record(self, candidates: list[Candidate]) -> dict[str, Any]:
        """JSON-ready report: planned vs actual per stage, overrun, trial outcomes."""
        elapsed = self.clock.elapsed()
        budget = self.clock.budget_s
        stages = {
            name: {
                "planned_s": round(self.planned[name], 3),
                "actual_s": round(self.actual.get(name, 0.0), 3),
                **({"note": self.notes[name]} if name in self.notes else {}),
            }
            for name in self.planned
        }
        counts = Counter(c.status for c in candidates if not c.baseline and c.family != "ensemble")
        return {
            "budget_s": budget,
            "deterministic": self.deterministic,
            "elapsed_s": round(elapsed, 3),
            "overrun_s": round(max(0.0, elapsed - budget), 3),
            "overrun_pct": round(100.0 * max(0.0, elapsed - budget) / budget, 2),
            "stages": stages,
            "trials": dict(sorted(counts.items())),
        }
