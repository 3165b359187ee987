"""The trial loop: baselines, the learned portfolio and defaults, then Optuna tuning."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crispml._metrics import METRICS
from crispml.models import family_names, get_family
from crispml.search._candidate import Candidate
from crispml.search._portfolio import PortfolioEntry
from crispml.search._runner import TrialRequest, TrialRunner
from crispml.search._study import SIZE_EXCESS, StudyStore
from crispml.search._trial import FoldData, TrialOutcome, run_trial

logger = logging.getLogger(__name__)

TUNING_PATTERN = (0, 1, 0, 2)
"""Which ranked family the next tuning trial goes to: the leader half the time."""
MAX_TRIALS = 1000
MAX_REPEATS = 5
"""Proposals in a row that repeat a fitted configuration before a family counts as
exhausted (its space is small, or the sampler has converged)."""


@dataclass(frozen=True)
class SearchProgress:
    """What a progress display shows after each trial.

    Attributes
    ----------
    trials_done : int
        Trials finished (any status), baselines excluded.
    best_name : str or None
        The leading candidate.
    best_score : float or None
        Its validation score.
    time_left_s : float or None
        Seconds left for the trials (``None`` in deterministic mode).
    last : Candidate
        The candidate just finished.
    """

    trials_done: int
    best_name: str | None
    best_score: float | None
    time_left_s: float | None
    last: Candidate


class TrialLoop:
    """Runs trials until the search stage's time (or trial count) is spent.

    Parameters
    ----------
    data : FoldData
        The preprocessed folds.
    store : StudyStore
        The Optuna studies.
    families : sequence of str
        Families to search, in portfolio order (strongest default first).
    metric : str
        Primary metric.
    seed : int
        Model seed.
    time_left : callable
        Seconds left in the search stage, or ``None`` (deterministic mode).
    max_trials : int or None
        Trial budget (deterministic mode); baselines do not count.
    notify : callable
        Called with each finished candidate.
    refit_factor : float, default=0
        Refit seconds per second of a trial's fit (holdout: more rows, no early stopping;
        0 in cv mode). A trial starts only if, were it to lead, its refit would still fit.
    reserve : callable, optional
        Seconds already kept for the refit after the trials.
    runner : TrialRunner, optional
        Fits trials elsewhere (the Ray backend); ``None`` fits them in this process.

        .. versionadded:: 0.3
    """

    def __init__(
        self,
        data: FoldData,
        store: StudyStore,
        families: Sequence[str],
        *,
        metric: str,
        seed: int,
        time_left: Callable[[], float | None],
        max_trials: int | None,
        notify: Callable[[Candidate], None],
        refit_factor: float = 0.0,
        reserve: Callable[[], float] | None = None,
        runner: TrialRunner | None = None,
    ) -> None:
        self.data, self.store, self.metric, self.seed = data, store, metric, seed
        self.families = [f for f in families if self._eligible(f)]
        self.time_left, self.notify = time_left, notify
        self.refit_factor, self.reserve = refit_factor, reserve or (lambda: 0.0)
        self.max_trials = MAX_TRIALS if max_trials is None else max_trials
        self.runner = runner
        self.candidates: list[Candidate] = []
        self.repeats: dict[str, int] = {}
        self._fitted: dict[str, Candidate] = {}
        self.sign = 1.0 if METRICS[metric].greater_is_better else -1.0
        n_rows, n_cols = data.shape()
        self._estimates = {
            f: get_family(f).estimate_fit_s(n_rows, n_cols) * len(data.plan.folds)
            for f in self.families
        }

    def _eligible(self, name: str) -> bool:
        """Tell whether the family fits the task and, if constrained, can enforce it."""
        family = get_family(name)
        if self.data.monotone and not family.supports_monotone:
            return False
        return self.data.task in family.tasks

    # -- phases -------------------------------------------------------------------------
    def run_baselines(self) -> None:
        """Fit each baseline once (cheap; they are the floor, not search trials)."""
        for name in family_names(baselines=True):
            family = get_family(name)
            # An infinite estimate: the family does not apply to a table of this shape.
            if self._eligible(name) and not math.isinf(self._baseline_estimate(name)):
                outcome = run_trial(
                    family, family.defaults(self.data.task), self.data, metric=self.metric,
                    seed=self.seed, time_left=lambda: None,
                )  # fmt: skip
                self._record(name, name, family.defaults(self.data.task), outcome, baseline=True)

    def _baseline_estimate(self, name: str) -> float:
        """Seconds one fit of a baseline takes on its own preprocessed matrix."""
        family = get_family(name)
        _, Xf, _ = self.data.fold(family.preprocessing, 0)
        return family.estimate_fit_s(int(Xf.shape[0]), int(Xf.shape[1]))

    def restore(self) -> None:
        """Adopt the finished trials of an interrupted run (their predictions, not models)."""
        for name in self.families:
            for trial in self.store.finished(name):
                output = self.store.load_output(name, trial.number)
                if output is None or trial.user_attrs.get("status", "ok") != "ok":
                    continue  # a repeat, or a model above the size cap
                cand = Candidate(
                    _trial_name(name, trial.number), name, dict(trial.params),
                    valid_score=trial.value, valid_output=output,
                    fit_s=float(trial.user_attrs.get("fit_s", 0.0)),
                    info={"restored": True, "trial": trial.number},
                )  # fmt: skip
                self.candidates.append(cand)
                self._fitted[self._config_key(name, cand.params)] = cand
                self._note_cost(name, cand.fit_s)

    def run_portfolio(self, learned: Sequence[PortfolioEntry] = ()) -> None:
        """Fit the learned starting configurations, then each untried family's default.

        ``learned`` is the task's list from the stored portfolio (best first); entries of
        families outside this search, or already fitted (a resume), are passed over.

        .. versionchanged:: 0.3
           The learned portfolio comes before the defaults.
        """
        for entry in learned:
            if self._out_of_budget():
                return
            if entry.family not in self.families or not self._fits(entry.family):
                continue
            space = get_family(entry.family).search_space(*self.data.shape(), self.data.task)
            params = {k: v for k, v in entry.params.items() if k in space}
            if self._config_key(entry.family, params) in self._fitted:
                continue
            self.store.study(entry.family).enqueue_trial(params, skip_if_exists=True)
            self._optuna_trial(entry.family, {k: space[k] for k in params})
        for name in self.families:
            if self._out_of_budget():
                return
            if any(c.family == name and not c.baseline for c in self.candidates):
                continue  # done before a resume
            family = get_family(name)
            space = family.search_space(*self.data.shape(), self.data.task)
            default = {k: v for k, v in family.defaults(self.data.task).items() if k in space}
            if not self._fits(name):
                self._skip(name, "estimated fit time exceeds the time left")
                continue
            study = self.store.study(name)
            study.enqueue_trial(default, skip_if_exists=True)
            self._optuna_trial(name, {k: space[k] for k in default})

    def run_tuning(self) -> None:
        """Tune the best families with TPE until the time or the trial count runs out.

        With a parallel runner (the Ray backend, outside deterministic mode) one trial
        per worker is kept in flight: as each finishes it is told, and the next is asked.

        .. versionchanged:: 0.4
           A rolling queue instead of batches of one trial per worker.
        """
        if self._width() > 1:
            self._run_rolling()
            return
        step = 0
        while not self._out_of_budget():
            picked = self._next_tuning(step)
            if picked is None:
                return
            self._optuna_trial(*picked)
            step += 1

    def _run_rolling(self) -> None:
        """Keep every worker busy: tell each trial as it finishes, then ask the next one.

        A slow trial holds one worker only; the others go on with new proposals, each
        asked after the study has been told every result finished so far.
        """
        runner = self.runner
        if runner is None:  # pragma: no cover - guarded by run_tuning
            return
        flying: dict[Any, tuple[str, Any, Any, str]] = {}
        step = 0
        while True:
            while self._room(len(flying), runner.width):
                picked = self._next_tuning(step)
                if picked is None:
                    break
                step += 1
                asked = self._ask(*picked)
                if asked is not None:  # a repeat is told at once, never fitted
                    ticket = runner.submit(self._request(picked[0], asked[1]))
                    flying[ticket] = (picked[0], *asked)
            if not flying:
                return
            ticket, outcome = runner.next_done(list(flying))
            name, study, trial, key = flying.pop(ticket)
            self._tell(name, study, trial, key, _replay_pruning(trial, outcome))

    def _room(self, in_flight: int, width: int) -> bool:
        """Tell whether one more trial may be sent while ``in_flight`` are running."""
        left = self.time_left()
        if left is not None and left <= 0.0:
            return False
        return in_flight < width and self.trials_done() + in_flight < self.max_trials

    def _next_tuning(self, step: int) -> tuple[str, dict[str, Any]] | None:
        """Return the family (and its space) the next tuning trial goes to, if any fits."""
        while True:
            ranked = self._ranking()
            choices = [ranked[i] for i in TUNING_PATTERN if i < len(ranked)]
            order = [choices[step % len(choices)], *ranked] if choices else []
            name = next((f for f in order if self._fits(f)), None)
            if name is None:
                return None
            family = get_family(name)
            space = family.search_space(*self.data.shape(), self.data.task)
            if space:
                return name, space
            self._estimates[name] = float("inf")  # nothing to tune

    def _width(self) -> int:
        """Trials fitted at once: the runner's workers, or one (local or deterministic)."""
        if self.runner is None or self.time_left() is None:
            return 1
        left = self.max_trials - self.trials_done()
        return max(1, min(self.runner.width, left))

    # -- one trial ----------------------------------------------------------------------
    def _optuna_trial(self, name: str, space: dict[str, Any]) -> None:
        asked = self._ask(name, space)
        if asked is None:
            return
        study, trial, key = asked
        if self.runner is None:

            def report(fold: int, value: float) -> bool:
                trial.report(value, fold)
                return bool(trial.should_prune())

            outcome = run_trial(
                get_family(name), trial.params, self.data, metric=self.metric, seed=self.seed,
                time_left=self.time_left, report=report,
            )  # fmt: skip
        else:
            (outcome,) = self.runner.run_many([self._request(name, trial)])
            outcome = _replay_pruning(trial, outcome)
        self._tell(name, study, trial, key, outcome)

    def _ask(self, name: str, space: dict[str, Any]) -> tuple[Any, Any, str] | None:
        """Ask the family's study for a trial; ``None`` if it repeats a fitted one."""
        study = self.store.study(name)
        trial = study.ask(fixed_distributions=space)
        key = self._config_key(name, trial.params)
        if key in self._fitted:
            self._repeat(name, study, trial, self._fitted[key])
            return None
        self.repeats[name] = 0
        return study, trial, key

    def _request(self, name: str, trial: Any) -> TrialRequest:
        return TrialRequest(name, dict(trial.params), self.metric, self.seed, self.time_left())

    def _tell(self, name: str, study: Any, trial: Any, key: str, outcome: TrialOutcome) -> None:
        """Tell the study how the trial went and record its candidate."""
        trial.set_user_attr("fit_s", outcome.fit_s)
        trial.set_user_attr("status", outcome.status)
        if outcome.status in ("ok", "excluded"):
            # An excluded trial is told its score with a violated constraint: TPE learns
            # that the region is infeasible rather than good or failed.
            excess = float(outcome.info.get("model_mb", 0.0)) - (self.data.max_model_mb or 0.0)
            trial.set_constraint(SIZE_EXCESS, excess if outcome.status == "excluded" else 0.0)
            self.store.save_output(name, trial.number, outcome.output)  # type: ignore[arg-type]
            study.tell(trial, outcome.score)
        else:
            from optuna.trial import TrialState

            state = TrialState.PRUNED if outcome.status == "pruned" else TrialState.FAIL
            study.tell(trial, state=state)
        self._record(
            _trial_name(name, trial.number), name, dict(trial.params), outcome, trial=trial.number
        )
        if outcome.status in ("ok", "excluded"):
            self._fitted[key] = self.candidates[-1]

    def _config_key(self, name: str, params: dict[str, Any]) -> str:
        """Return the effective configuration (defaults filled in) as a comparable key."""
        merged = {**get_family(name).defaults(self.data.task), **params}
        return f"{name}:{json.dumps(merged, sort_keys=True, default=str)}"

    def _repeat(self, name: str, study: Any, trial: Any, earlier: Candidate) -> None:
        """Tell a repeated proposal the earlier score instead of fitting it again."""
        trial.set_user_attr("repeat_of", earlier.name)
        trial.set_constraint(SIZE_EXCESS, 0.0 if earlier.status == "ok" else 1.0)
        study.tell(trial, earlier.valid_score)
        self.repeats[name] = self.repeats.get(name, 0) + 1
        if self.repeats[name] >= MAX_REPEATS:
            self._estimates[name] = float("inf")  # nothing new left to propose
        logger.info("%s trial %d repeats %s; not refitted", name, trial.number, earlier.name)

    def _record(
        self,
        label: str,
        family: str,
        params: dict[str, Any],
        outcome: TrialOutcome,
        *,
        baseline: bool = False,
        trial: int | None = None,
    ) -> None:
        info = dict(outcome.info) if trial is None else {**outcome.info, "trial": trial}
        cand = Candidate(
            label, family, params, status=outcome.status, pipeline=outcome.model,
            valid_score=outcome.score, valid_output=outcome.output, fit_s=outcome.fit_s,
            info=info, baseline=baseline,
        )  # fmt: skip
        self.candidates.append(cand)
        if not baseline and outcome.status in ("ok", "pruned", "excluded"):
            self._note_cost(family, outcome.fit_s)
        self.notify(cand)

    def _skip(self, name: str, reason: str) -> None:
        cand = Candidate(name, name, {}, status="skipped", info={"reason": reason})
        self.candidates.append(cand)
        self.notify(cand)

    # -- bookkeeping --------------------------------------------------------------------
    def trials_done(self) -> int:
        """Trials of the search proper (baselines and skipped families excluded)."""
        return sum(1 for c in self.candidates if not c.baseline and c.status != "skipped")

    def _out_of_budget(self) -> bool:
        left = self.time_left()
        return self.trials_done() >= self.max_trials or (left is not None and left <= 0.0)

    def _fits(self, name: str) -> bool:
        if math.isinf(self._estimates[name]):  # nothing to tune (or never fits)
            return False
        left = self.time_left()
        if self._estimates[name] == float("inf"):
            return False  # exhausted: nothing to tune, or only repeats left
        if left is None:
            return True
        # In holdout mode boosting stops itself at the deadline with a usable model, so it
        # may start on half its estimate; a cross-validation trial cut between folds is lost.
        iterative = get_family(name).iterative and self.data.plan.mode == "holdout"
        share = 0.5 if iterative else 1.0
        estimate = self._estimates[name]
        refit = max(0.0, estimate * self.refit_factor - self.reserve())
        return estimate * share + refit <= left

    def _note_cost(self, family: str, fit_s: float) -> None:
        seen = [c.fit_s for c in self.candidates if c.family == family and not c.baseline]
        self._estimates[family] = float(np.median([*seen, fit_s]))

    def _ranking(self) -> list[str]:
        """Families by their best validation score (best first); untried ones excluded."""
        best: dict[str, float] = {}
        for c in self.candidates:
            if c.status == "ok" and not c.baseline and c.valid_score is not None:
                value = self.sign * c.valid_score
                best[c.family] = max(best.get(c.family, -np.inf), value)
        return sorted(best, key=lambda f: -best[f])


def _replay_pruning(trial: Any, outcome: TrialOutcome) -> TrialOutcome:
    """Consult the pruner on a remote trial's fold scores, in the order a local trial would.

    A remote worker cannot reach the driver's study, so it fits every fold and returns
    the partial scores; the pruner then decides as it would have between folds. The
    status and the study's state match the local backend's; only the saved time is lost.
    """
    for fold, value in outcome.info.pop("fold_scores", []):
        trial.report(value, fold)
        if trial.should_prune():
            return TrialOutcome("pruned", fit_s=outcome.fit_s, info=outcome.info)
    return outcome


def _trial_name(family: str, number: int) -> str:
    return family if number == 0 else f"{family}-{number}"
