"""One budget for the whole engagement: a cost model per phase, the plan, and ``budget.json``.

``time_budget_s`` covers the engagement from loading to the sealed run folder. Each phase
other than the search has a linear cost model, fitted on runs of this machine by
``benchmarks/measure_phase_costs.py`` and stored next to this module
(``phase_costs.json``); the compute phases' on their CPU seconds, which a shared machine
changes far less than their wall time, setup and seal (start-up, files) on wall seconds::

    seconds = fixed_s + sum of coefficient x feature

over the features of :data:`FEATURES`: the table's cells, the model's size, and the
work the late phases do (bootstrap draws, attribution rows x model size, rows re-scored
for the fairness alternatives, the Word and PDF documents).

Before each phase the plan is made again from what is left of the budget: phases already
run count with their measured time, phases to come with their predicted time multiplied
by the *pace* -- the measured / predicted ratio of the phases run so far, clamped to
:data:`PACE_RANGE` -- so a slower (contended) machine is seen from the first phases on.
The search (trials, ensemble and refit) gets the rest. The late phases' optional work is
bounded by the plan: the evaluation's bootstrap resamples, attribution rows and
alternatives re-scored (:class:`EvaluationWork`), and the report's Word and PDF
documents. When the time left does not cover them in full they are reduced, and
``budget.json`` at the run's root says what was reduced and why.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

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
FEATURES: tuple[str, ...] = (
    "mcells",
    "model_mb",
    "boot_mdraws",
    "attr_mb_krows",
    "alt_mrows",
    "protected",
    "docx",
    "pdf",
)
"""What a phase's cost may grow with: million cells (rows x columns), model MB, million
bootstrap draws (resamples x test rows), attribution rows x model MB / 1000, million
rows re-scored for the fairness alternatives (candidates x rows x protected attributes),
the protected attributes the audit, evaluation and report measure groups on (each
protected column, and their intersection when there are two or more), and 1 when the
Word documents (``docx``) or the PDF (``pdf``) are written."""
MIN_SEARCH_S = 2.0
"""The search always gets at least this much, even when the other phases' predictions
exceed the budget (the run then overruns, and ``budget.json`` says by how much)."""
ASSUMED_MODEL_MB = 2.5
"""Model size the plan assumes for export and parity before the search has chosen one
(serialized MB as the search measures it: the delivered models of the cost model's runs
were 0.004 to 2.7 MB; their skops files about four times larger)."""
ATTRIBUTION_SHARE = 0.5
"""Share of the evaluation's time left that its per-row attributions may take."""
MIN_ATTRIBUTION_S = 2.0
"""Seconds the attributions may always take, however short the time left."""
PACE_RANGE = (0.5, 8.0)
"""Bounds of the pace (measured / predicted seconds of the phases run so far)."""
NOT_PACED: tuple[str, ...] = ("setup", "search")
"""Phases the pace leaves out: the search takes what it is given, and the setup waits on
the MLflow store's first start and on imports, which say little of how fast the compute
phases will run (on a loaded machine its wall time was 5 to 7 times its 1.3 s, the
audit's 2)."""
MIN_PACE_BASIS_S = 1.0
"""Predicted seconds the paced phases run so far must reach before the pace departs from 1
(the load and the split alone are too short to tell)."""
MIN_PACE_CPU_S = 0.2
"""CPU seconds the paced phases must have used for the pace to be split into the wait for
a core (wall / CPU seconds) and the machine's speed (CPU / predicted seconds)."""
SPEED_RANGE = (0.67, 1.5)
"""Bounds of the speed part of the pace. One phase's CPU seconds off its cost model says
more of that phase than of the machine (adult's audit: 5.2 CPU s against 2.2 predicted on
a quiet machine made the pace 2.4 and left the 60 s search 1.1 s), while the wait for a
core holds for every phase to come."""
LATE_SHARE = 0.4
"""Share of the time left at the search's start that the late phases may be planned to take
before their optional work is reduced (the search keeps the rest)."""
EFFORTS: tuple[float, ...] = (1.0, 0.5, 0.25, 0.1)
"""Levels of the evaluation's optional work, full first (fractions of the full work)."""
FULL_ATTRIBUTION_ROWS = 2000
"""Test rows attributed at full work (``crispml.evaluate._explain.MAX_ROWS``)."""
FULL_ALTERNATIVES = 12
"""Candidates re-scored as fairness alternatives at full work
(``crispml.evaluate._alternatives_phase.TOP_CANDIDATES``)."""
ALTERNATIVE_RESAMPLES = 200
"""Bootstrap resamples of each alternative's figures
(``crispml.evaluate._alternatives_phase.ALTERNATIVE_RESAMPLES``); the cost model's
alternatives coefficient was fitted at 1,000."""
MIN_RESAMPLES, MIN_ATTRIBUTION_ROWS, MIN_ALTERNATIVES = 100, 200, 2
"""The least work any level asks for (fewer bootstrap resamples make unstable 95% bounds)."""
OPTIONAL_FORMATS: tuple[str, ...] = ("pdf", "docx")
"""Report formats the plan may leave out, the first one first (``crispml report`` writes
them later from the sealed run)."""


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (user + system).

    The cost model is fitted on these: on a shared machine a phase's wall time grows with
    the other work, its CPU time much less. The plan's pace turns them into wall seconds.
    """
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass(frozen=True)
class PhaseCost:
    """A phase's linear cost model (seconds).

    Attributes
    ----------
    fixed_s : float
        Seconds whatever the size (imports, process start-up of the server...).
    terms : mapping of str to float
        Seconds per unit of each feature of :data:`FEATURES` it depends on.
    """

    fixed_s: float
    terms: Mapping[str, float] = field(default_factory=dict)

    def predict(self, features: Mapping[str, float]) -> float:
        """Predicted seconds for these features (a missing feature counts as 0).

        Examples
        --------
        >>> PhaseCost(1.0, {"mcells": 2.0, "model_mb": 0.5}).predict({"mcells": 1.0, "model_mb": 4.0})
        5.0
        """  # noqa: E501
        return self.fixed_s + sum(c * features.get(name, 0.0) for name, c in self.terms.items())


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
    return {
        name: PhaseCost(raw[name]["fixed_s"], dict(raw[name].get("terms", {})))
        for name in PHASES
        if name != "search"
    }


@dataclass(frozen=True)
class EvaluationWork:
    """The evaluation's optional work, bounded by the plan.

    Attributes
    ----------
    n_resamples : int
        Bootstrap resamples of every interval (``evaluation.bootstrap`` at full work).
    attribution_rows : int
        Test rows given exact per-row attributions (a seeded sample beyond that).
    alternatives : int
        Other candidates re-scored as fairness alternatives.
    effort : float
        The level (a fraction of the full work; 1.0 is the full work).
    attribution_s : float or None
        Seconds the per-row attributions may take (``None``: not bounded). Their cost
        per row is measured when they start (it grows with the trees' nodes, which the
        cost model's model MB does not see), and fewer rows are explained beyond it.
    """

    n_resamples: int
    attribution_rows: int = FULL_ATTRIBUTION_ROWS
    alternatives: int = FULL_ALTERNATIVES
    effort: float = 1.0
    attribution_s: float | None = None


def evaluation_work(bootstrap: int, effort: float) -> EvaluationWork:
    """Return the evaluation's work at ``effort`` (a fraction of the full work).

    Examples
    --------
    >>> work = evaluation_work(1000, 0.25)
    >>> work.n_resamples, work.attribution_rows, work.alternatives, work.attribution_s
    (250, 500, 3, None)
    """
    resamples = min(bootstrap, max(MIN_RESAMPLES, round(bootstrap * effort)))
    return EvaluationWork(
        n_resamples=resamples,
        attribution_rows=max(MIN_ATTRIBUTION_ROWS, round(FULL_ATTRIBUTION_ROWS * effort)),
        alternatives=max(MIN_ALTERNATIVES, round(FULL_ALTERNATIVES * effort)),
        effort=effort,
    )


class SizeCap(PhaseResult):
    """The largest model the search could select (``search/size_cap.json``).

    Attributes
    ----------
    max_model_mb : float
        Serialized megabytes (as the search measures them) a candidate or an ensemble
        could not exceed.
    source : str
        Where the cap came from: ``deployment.max_model_mb``, or the budget, when the time
        the plan kept for evaluation, export and parity covered no larger model
        (:meth:`EngagementBudget.affordable_mb`).
    """

    FILE: ClassVar[str] = "search/size_cap.json"
    SPEC: ClassVar[str] = "deployment.max_model_mb"
    """The ``source`` of a cap that is the spec's own."""

    max_model_mb: float
    source: str = SPEC


class PhaseTime(BaseModel):
    """Seconds planned for a phase when the run started, and the seconds it used.

    ``work`` holds the cost model's features the phase ran with (what
    ``benchmarks/measure_phase_costs.py`` fits the coefficients on).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    planned_s: float
    used_s: float | None = None
    note: str | None = None
    work: dict[str, float] | None = None
    cpu_s: float | None = None
    """CPU seconds the phase used (this process and its finished children), what
    ``benchmarks/measure_phase_costs.py`` fits the compute phases' coefficients on."""


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
        Seconds from the start (of the process, for the command line) to the moment this
        file was written (before sealing).
    overrun_s, overrun_pct : float
        Seconds (and percent of the budget) beyond the budget, 0 within it.
    cost_model : str
        How the planned seconds were predicted.
    study : str or None
        Where the Optuna studies live (for ``--resume``).
    pace : float
        Measured / predicted seconds of the phases run before the report (clamped to
        :data:`PACE_RANGE`): how much slower than the cost model this machine ran.
    reductions : dict of str to str
        Per phase, the optional work the plan reduced to stay within the budget, and why
        (empty when everything asked for was done).
    spent_before_s : float
        Seconds spent before the plan was made (process start-up); part of ``elapsed_s``.
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
    pace: float = 1.0
    reductions: dict[str, str] = Field(default_factory=dict)
    spent_before_s: float = 0.0


COST_MODEL_NOTE = (
    "per phase: fixed_s + coefficients x (million cells, model MB, million bootstrap draws, "
    "attribution rows x model MB / 1000, million rows re-scored as alternatives, protected "
    "attributes, Word, PDF), "
    "fitted on CPU seconds (setup and seal: wall seconds) measured on this machine by "
    "benchmarks/measure_phase_costs.py; phases to come are scaled by the pace (measured "
    "wall / predicted seconds of the phases run so far); the search gets "
    "what the other phases leave; phases already run count as measured"
)
_MSG_EVALUATION = (
    "{work} ({why}: {need:.1f} s predicted at full work, {left:.1f} s left for the "
    "evaluation at pace {pace:.2f})"
)
_MSG_REPORT = (
    "{formats} left out ({need:.1f} s predicted with them, {left:.1f} s left at pace "
    "{pace:.2f}); write them later with: crispml report <run folder>"
)


@dataclass
class EngagementBudget:
    """The engagement's one clock and its plan, made again before each phase.

    Parameters
    ----------
    budget_s : float
        Seconds for the whole engagement.
    deterministic : bool, default=False
        The search counts trials instead of seconds (the plan is still recorded, and the
        late phases' work is never reduced: their figures must not depend on the clock).
    clock : callable, default=time.monotonic
        Returns the current time in seconds (tests pass a fake).
    bootstrap : int, default=1000
        ``evaluation.bootstrap``: the resamples at full work.
    formats : tuple of str, default=("html", "md", "docx", "pdf")
        ``report.formats``: the documents asked for.
    alternatives : bool, default=False
        Whether the evaluation re-scores fairness alternatives (binary, protected columns).
    attributes : int, default=0
        Protected attributes the groups are measured on (the protected columns, plus
        their intersection when there are two or more; 0 without protected columns): the
        audit's proxy checks, the fairness figures, the alternatives and the report's
        charts grow with them.
    spent_s : float, default=0.0
        Seconds of the budget spent before the plan was made (the command line's process
        start-up: interpreter, imports, reading the spec).
    cpu_clock : callable, default=cpu_seconds
        Returns the CPU seconds used so far (recorded per phase; tests pass a fake).

    Examples
    --------
    >>> now = [0.0]
    >>> plan = EngagementBudget(600.0, clock=lambda: now[0])
    >>> plan.set_table(40_000, 10)
    >>> plan.pace()  # nothing measured yet
    1.0
    >>> with plan.phase("audit"):
    ...     now[0] = 2 * plan.predicted("audit")
    >>> plan.pace()  # the audit ran twice as slow as the cost model
    2.0
    >>> to_come = ("setup", "load", "split", *AFTER_SEARCH)  # each predicted x the pace
    >>> round(plan.search_s() + sum(2 * plan.predicted(p) for p in to_come) + now[0], 6)
    600.0
    """

    budget_s: float
    deterministic: bool = False
    clock: Callable[[], float] = time.monotonic
    bootstrap: int = 1000
    formats: tuple[str, ...] = ("html", "md", "docx", "pdf")
    alternatives: bool = False
    attributes: int = 0
    spent_s: float = 0.0
    cpu_clock: Callable[[], float] = cpu_seconds
    rows: int = 0
    columns: int = 0
    test_rows: int | None = None
    model_mb: float = ASSUMED_MODEL_MB
    planned: dict[str, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    reductions: dict[str, str] = field(default_factory=dict)
    work: dict[str, dict[str, float]] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._start = self.clock() - self.spent_s
        self.effort = 1.0
        self.kept_formats = tuple(self.formats)

    def elapsed(self) -> float:
        """Seconds since the engagement started."""
        return self.clock() - self._start

    def set_table(self, n_rows: int, n_cols: int) -> None:
        """Record the table's size and make the first plan (what ``budget.json`` calls planned)."""
        self.rows, self.columns = int(n_rows), int(n_cols)
        if "load" in self.work:  # it ran before the table's size was known
            self.work["load"] = self.features()
        search = self.search_s()  # chooses the late phases' planned work first
        for name in PHASES:
            self.planned[name] = search if name == "search" else self.predicted(name)

    def set_split(self, n_test: int) -> None:
        """Record the test rows (the evaluation's bootstrap and attributions run on them)."""
        self.test_rows = int(n_test)

    def features(
        self,
        effort: float | None = None,
        formats: tuple[str, ...] | None = None,
        model_mb: float | None = None,
    ) -> dict[str, float]:
        """Return the cost model's features for this table, model, work level and formats."""
        work = evaluation_work(self.bootstrap, self.effort if effort is None else effort)
        kept = self.kept_formats if formats is None else formats
        mb = self.model_mb if model_mb is None else model_mb
        test = self.test_rows if self.test_rows is not None else round(0.2 * self.rows)
        fitted = self.rows - test if self.alternatives else 0
        return {
            "mcells": self.rows * self.columns / 1e6,
            "model_mb": mb,
            "boot_mdraws": work.n_resamples * test / 1e6,
            "attr_mb_krows": min(work.attribution_rows, test) * mb / 1e3,
            "alt_mrows": work.alternatives
            * fitted
            * max(1, self.attributes)
            / 1e6
            * min(self.bootstrap, ALTERNATIVE_RESAMPLES)
            / 1000,
            "protected": float(self.attributes),
            "docx": float("docx" in kept),
            "pdf": float("pdf" in kept),
        }

    def predicted(
        self,
        name: str,
        *,
        effort: float | None = None,
        formats: tuple[str, ...] | None = None,
        model_mb: float | None = None,
    ) -> float:
        """Predicted seconds of phase ``name`` (not the search) on the cost model's machine."""
        return phase_costs()[name].predict(self.features(effort, formats, model_mb))

    def predicted_after_search(self, effort: float | None = None) -> float:
        """Predicted seconds of the phases that follow the search (not scaled by the pace)."""
        return sum(self.predicted(p, effort=effort) for p in AFTER_SEARCH)

    def pace(self) -> float:
        """Measured / predicted seconds of the phases run so far, clamped to :data:`PACE_RANGE`.

        The phases of :data:`NOT_PACED` are left out, and the pace stays 1 until the
        phases counted were predicted to take :data:`MIN_PACE_BASIS_S` together. With
        their CPU seconds measured, the pace is their wall / CPU seconds (the wait for a
        core) times their CPU / predicted seconds bounded by :data:`SPEED_RANGE`.
        """
        done = [p for p in PHASES if p in self.used and p not in NOT_PACED]
        predicted = sum(self.predicted(p) for p in done)
        if predicted < MIN_PACE_BASIS_S:
            return 1.0
        wall = sum(self.used[p] for p in done)
        cpu = sum(self.cpu.get(p, 0.0) for p in done)
        if cpu < MIN_PACE_CPU_S:  # no CPU clock to tell contention from a slow machine
            ratio = wall / predicted
        else:  # the wait for a core, times the machine's speed trusted within SPEED_RANGE
            ratio = wall / cpu * min(SPEED_RANGE[1], max(SPEED_RANGE[0], cpu / predicted))
        low, high = PACE_RANGE
        return min(high, max(low, ratio))

    def search_s(self) -> float:
        """Seconds the search may take now: the budget less the time used and the rest.

        Chooses the evaluation's planned work first: the highest level whose paced
        prediction of the late phases fits in :data:`LATE_SHARE` of the time left.
        """
        pace = self.pace()
        before = [p for p in PHASES[: PHASES.index("search")] if p not in self.used]
        left = self.budget_s - self.elapsed() - pace * sum(self.predicted(p) for p in before)
        if not self.deterministic:
            fits = [
                e for e in EFFORTS if pace * self.predicted_after_search(e) <= LATE_SHARE * left
            ]
            self.effort = fits[0] if fits else EFFORTS[-1]
        return max(MIN_SEARCH_S, left - pace * self.predicted_after_search())

    def affordable_mb(self) -> float:
        """Largest model (MB) the time kept for the phases after the search can deliver.

        The plan keeps for those phases their prediction at the chosen work for a model of
        :attr:`model_mb` (:data:`ASSUMED_MODEL_MB` before the search). A larger model takes
        longer to save, evaluate, export and check; it is affordable while the phases after
        the search, at their least work and without the optional documents, still fit in
        that time. Never below :attr:`model_mb`: the model the plan assumed always fits.

        Examples
        --------
        >>> plan = EngagementBudget(120.0, formats=("html", "md"))
        >>> plan.set_table(50_000, 10)  # 10,000 test rows: the bootstrap can shrink
        >>> cap = plan.affordable_mb()
        >>> cap > plan.model_mb
        True
        >>> least = tuple(
        ...     plan.predicted(p, effort=EFFORTS[-1], formats=("html", "md"), model_mb=cap)
        ...     for p in AFTER_SEARCH
        ... )
        >>> round(sum(least), 6) == round(plan.predicted_after_search(), 6)
        True
        """
        kept = self.predicted_after_search()
        minimal = tuple(f for f in self.formats if f not in OPTIONAL_FORMATS)

        def least(mb: float) -> float:
            return sum(
                self.predicted(p, effort=EFFORTS[-1], formats=minimal, model_mb=mb)
                for p in AFTER_SEARCH
            )

        fixed = least(0.0)
        per_mb = least(1.0) - fixed
        if per_mb <= 0.0:
            return math.inf
        return max(self.model_mb, (kept - fixed) / per_mb)

    def evaluation_work(self) -> EvaluationWork:
        """Choose the evaluation's work for the time left; record a reduction (before it runs).

        The later phases are counted at their paced prediction without the optional
        documents: the evaluation's figures come before a PDF.
        """
        if self.deterministic:
            return evaluation_work(self.bootstrap, 1.0)
        pace = self.pace()
        minimal = tuple(f for f in self.formats if f not in OPTIONAL_FORMATS)
        rest = sum(self.predicted(p, formats=minimal) for p in AFTER_SEARCH[1:])
        left = self.budget_s - self.elapsed() - pace * rest
        fits = [e for e in EFFORTS if pace * self.predicted("evaluation", effort=e) <= left]
        self.effort = fits[0] if fits else EFFORTS[-1]
        chosen = dataclasses.replace(
            evaluation_work(self.bootstrap, self.effort),
            attribution_s=max(MIN_ATTRIBUTION_S, ATTRIBUTION_SHARE * left),
        )
        if self.effort < 1.0:
            full = evaluation_work(self.bootstrap, 1.0)
            self.reductions["evaluation"] = _MSG_EVALUATION.format(
                work=_reduced(full, chosen),
                why="reduced to stay within the budget",
                need=pace * self.predicted("evaluation", effort=1.0),
                left=left,
                pace=pace,
            )
        return chosen

    def report_formats(self) -> dict[str, str]:
        """Choose the documents to write for the time left; return those left out, with why.

        ``md`` and ``html`` are always written; the PDF goes first, then the Word documents.
        """
        if self.deterministic:
            return {}
        pace = self.pace()
        left = self.budget_s - self.elapsed() - pace * self.predicted("seal")
        kept = tuple(self.formats)
        for optional in (None, *OPTIONAL_FORMATS):
            kept = tuple(f for f in kept if f != optional)
            if pace * self.predicted("report", formats=kept) <= left:
                break
        dropped = [f for f in self.formats if f not in kept]
        self.kept_formats = kept
        if not dropped:
            return {}
        why = _MSG_REPORT.format(
            formats=" and ".join(dropped),
            need=pace * self.predicted("report", formats=tuple(self.formats)),
            left=left,
            pace=pace,
        )
        self.reductions["report"] = why
        return dict.fromkeys(dropped, why)

    def plan_line(self) -> str:
        """Return the plan in one line, shown when the run starts."""
        parts = ", ".join(f"{p} {self.planned[p]:.1f}" for p in PHASES if p in self.planned)
        line = f"Budget {self.budget_s:g} s for the whole run; plan (s): {parts}"
        if self.effort < 1.0:
            line += f"; evaluation planned at {self.effort:g} of its full work"
        total = sum(self.planned.values())
        if total > self.budget_s:
            line += (
                f". The phases are predicted to take {total:.0f} s: the run will overrun; "
                "raise search.time_budget_s"
            )
        return line

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Measure a phase's wall and CPU time (added up when the phase runs in several parts)."""
        start, start_cpu = self.clock(), self.cpu_clock()
        try:
            yield
        finally:
            self.used[name] = self.used.get(name, 0.0) + self.clock() - start
            self.cpu[name] = self.cpu.get(name, 0.0) + self.cpu_clock() - start_cpu
            if name != "search":
                self.work[name] = {k: round(v, 6) for k, v in self.features().items()}

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
                note=self.notes.get(name) or self.reductions.get(name),
                work=self.work.get(name),
                cpu_s=round(self.cpu[name], 3) if name in self.cpu else None,
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
            pace=round(self.pace(), 3),
            reductions=dict(self.reductions),
            spent_before_s=round(self.spent_s, 3),
        )


def _reduced(full: EvaluationWork, chosen: EvaluationWork) -> str:
    """Say which of the evaluation's optional work went down, from what to what."""
    pairs = (
        ("bootstrap resamples", full.n_resamples, chosen.n_resamples),
        ("attribution rows", full.attribution_rows, chosen.attribution_rows),
        ("alternatives re-scored", full.alternatives, chosen.alternatives),
    )
    return ", ".join(f"{what} {a} -> {b}" for what, a, b in pairs if b < a)
