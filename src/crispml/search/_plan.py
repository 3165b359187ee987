"""One budget for the whole engagement: a cost model per phase, the plan, and ``budget.json``.

``time_budget_s`` covers the engagement from loading to the sealed run folder. Each phase
other than the search has a linear cost model, fitted on runs of this machine by
``benchmarks/measure_phase_costs.py`` and stored next to this module
(``phase_costs.json``)::

    seconds = fixed_s + per_mcell_s * (rows * columns / 1e6) + per_model_mb_s * model_mb

Before each phase the plan is made again from what is left of the budget: phases already
run count with their measured time, phases to come with their predicted time, and the
search (trials, ensemble and refit) gets the rest. ``budget.json`` at the run's root
records, per phase, the seconds planned when the run started and the seconds used.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict

from crispml._utils._result import PhaseResult

COSTS_FILE = "phase_costs.json"
PHASES: tuple[str, ...] = (
    "setup",
    "load",
    "split",
    "audit",
    "search",
    "evaluation",
    "deployment",
    "verdict",
    "report",
    "seal",
)
"""The engagement's phases, in the order they run (``setup``: the run folder and the
MLflow run, whose first start on a new store takes seconds)."""
AFTER_SEARCH: tuple[str, ...] = ("evaluation", "deployment", "verdict", "report", "seal")
MIN_SEARCH_S = 2.0
"""The search always gets at least this much, even when the other phases' predictions
exceed the budget (the run then overruns, and ``budget.json`` says by how much)."""
ASSUMED_MODEL_MB = 10.0
"""Model size the plan assumes for export and parity before the search has chosen one."""


@dataclass(frozen=True)
class PhaseCost:
    """A phase's linear cost model (seconds).

    Attributes
    ----------
    fixed_s : float
        Seconds whatever the size (imports, process start-up of the server...).
    per_mcell_s : float
        Seconds per million cells (rows x columns) of the table.
    per_model_mb_s : float
        Seconds per megabyte of the delivered model (export, parity, latency).
    """

    fixed_s: float
    per_mcell_s: float = 0.0
    per_model_mb_s: float = 0.0

    def predict(self, n_rows: int, n_cols: int, model_mb: float) -> float:
        """Predicted seconds for a table of ``n_rows`` x ``n_cols`` and a model of ``model_mb``.

        Examples
        --------
        >>> PhaseCost(1.0, 2.0, 0.5).predict(500_000, 2, 4.0)
        5.0
        """
        cells = n_rows * n_cols / 1e6
        return self.fixed_s + self.per_mcell_s * cells + self.per_model_mb_s * model_mb


@lru_cache(maxsize=1)
def phase_costs() -> dict[str, PhaseCost]:
    """Return the cost model of every phase but the search (``phase_costs.json``).

    Examples
    --------
    >>> sorted(phase_costs()) == sorted(p for p in PHASES if p != "search")
    True
    """
    text = resources.files("crispml.search").joinpath(COSTS_FILE).read_text(encoding="utf-8")
    raw = json.loads(text)["phases"]
    return {name: PhaseCost(**raw[name]) for name in PHASES if name != "search"}


class PhaseTime(BaseModel):
    """Seconds planned for a phase when the run started, and the seconds it used."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    planned_s: float
    used_s: float | None = None
    note: str | None = None


class RunBudget(PhaseResult):
    """The engagement's budget: planned vs used per phase (``budget.json``).

    Attributes
    ----------
    budget_s : float
        ``search.time_budget_s``: seconds for the whole engagement.
    deterministic : bool
        Whether the search counted its budget in trials (no time limit applied).
    rows, columns : int
        Size of the table the costs were predicted for.
    phases : dict of str to PhaseTime
        One entry per phase (see :data:`PHASES` for their order). ``seal`` has no used time: it
        hashes this file.
    search_stages : dict of str to PhaseTime
        Inside the search: trials, ensemble and the refit on every non-test row.
    trials : dict of str to int
        Search trials by outcome.
    elapsed_s : float
        Seconds from loading to the moment this file was written (before sealing).
    overrun_s, overrun_pct : float
        Seconds (and percent of the budget) beyond the budget, 0 within it.
    cost_model : str
        How the planned seconds were predicted.
    study : str or None
        Where the Optuna studies live (for ``--resume``).
    """

    FILE = "budget.json"

    budget_s: float
    deterministic: bool
    rows: int
    columns: int
    phases: dict[str, PhaseTime]
    search_stages: dict[str, PhaseTime]
    trials: dict[str, int]
    elapsed_s: float
    overrun_s: float
    overrun_pct: float
    cost_model: str
    study: str | None = None


COST_MODEL_NOTE = (
    "per phase: fixed_s + per_mcell_s x rows x columns / 1e6 + per_model_mb_s x model MB "
    "(coefficients measured on this machine by benchmarks/measure_phase_costs.py); the "
    "search gets what the other phases leave; phases already run count as measured"
)


@dataclass
class EngagementBudget:
    """The engagement's one clock and its plan, made again before each phase.

    Parameters
    ----------
    budget_s : float
        Seconds for the whole engagement.
    deterministic : bool, default=False
        The search counts trials instead of seconds (the plan is still recorded).
    clock : callable, default=time.monotonic
        Returns the current time in seconds (tests pass a fake).

    Examples
    --------
    >>> now = [0.0]
    >>> plan = EngagementBudget(60.0, clock=lambda: now[0])
    >>> with plan.phase("load"):
    ...     now[0] = 1.5
    >>> plan.set_table(40_000, 10)
    >>> rest = plan.predicted_after_search() + sum(
    ...     plan.predicted(p) for p in ("setup", "split", "audit")
    ... )
    >>> round(plan.search_s() + rest, 6)  # the budget less the 1.5 s the load used
    58.5
    """

    budget_s: float
    deterministic: bool = False
    clock: Callable[[], float] = time.monotonic
    rows: int = 0
    columns: int = 0
    model_mb: float = ASSUMED_MODEL_MB
    planned: dict[str, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._start = self.clock()

    def elapsed(self) -> float:
        """Seconds since the engagement started."""
        return self.clock() - self._start

    def set_table(self, n_rows: int, n_cols: int) -> None:
        """Record the table's size and make the first plan (what ``budget.json`` calls planned)."""
        self.rows, self.columns = int(n_rows), int(n_cols)
        for name in PHASES:
            self.planned[name] = self._planned(name)
        self.planned["search"] = self.search_s()

    def predicted(self, name: str) -> float:
        """Predicted seconds of phase ``name`` (not the search) for this table and model."""
        return phase_costs()[name].predict(self.rows, self.columns, self.model_mb)

    def _planned(self, name: str) -> float:
        return 0.0 if name == "search" else self.predicted(name)

    def predicted_after_search(self) -> float:
        """Predicted seconds of the phases that follow the search."""
        return sum(self.predicted(p) for p in AFTER_SEARCH)

    def search_s(self) -> float:
        """Seconds the search may take now: the budget less the time used and the rest."""
        before = [p for p in PHASES[: PHASES.index("search")] if p not in self.used]
        still = sum(self.predicted(p) for p in before) + self.predicted_after_search()
        return max(MIN_SEARCH_S, self.budget_s - self.elapsed() - still)

    def plan_line(self) -> str:
        """Return the plan in one line, shown when the run starts."""
        parts = ", ".join(f"{p} {self.planned[p]:.1f}" for p in PHASES if p in self.planned)
        line = f"Budget {self.budget_s:g} s for the whole run; plan (s): {parts}"
        total = sum(self.planned.values())
        if total > self.budget_s:
            line += (
                f". The phases are predicted to take {total:.0f} s: the run will overrun; "
                "raise search.time_budget_s"
            )
        return line

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Measure a phase's wall time (added up when the phase runs in several parts)."""
        start = self.clock()
        try:
            yield
        finally:
            self.used[name] = self.used.get(name, 0.0) + self.clock() - start

    def result(
        self,
        search_stages: dict[str, dict[str, Any]],
        trials: dict[str, int],
        *,
        study: str | None,
    ) -> RunBudget:
        """Return the typed record: planned vs used per phase (``seal`` not measured)."""
        elapsed = self.elapsed()
        over = max(0.0, elapsed - self.budget_s)
        phases = {
            name: PhaseTime(
                planned_s=round(self.planned.get(name, 0.0), 3),
                used_s=round(self.used[name], 3) if name in self.used else None,
                note=self.notes.get(name),
            )
            for name in PHASES
        }
        stages = {
            name: PhaseTime(
                planned_s=float(stage["planned_s"]),
                used_s=float(stage["actual_s"]),
                note=stage.get("note"),
            )
            for name, stage in search_stages.items()
        }
        return RunBudget(
            budget_s=self.budget_s,
            deterministic=self.deterministic,
            rows=self.rows,
            columns=self.columns,
            phases=phases,
            search_stages=stages,
            trials=trials,
            elapsed_s=round(elapsed, 3),
            overrun_s=round(over, 3),
            overrun_pct=round(100.0 * over / self.budget_s, 2),
            cost_model=COST_MODEL_NOTE,
            study=study,
        )
