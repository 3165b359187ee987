"""The model search: baselines, learned portfolio and defaults, Optuna tuning, ensemble, refit."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crispml._metrics import METRICS, better
from crispml.data import Schema
from crispml.exceptions import SearchError, SpecError
from crispml.search._budget import BudgetPlan
from crispml.search._candidate import Candidate, SearchResult
from crispml.search._deadline import Deadline
from crispml.search._finish import (
    REFIT_COST_MARGIN,
    build_ensemble,
    materialise,
    refit_best,
    refit_scale,
    release_far,
)
from crispml.search._latency import predicted_latency_ms
from crispml.search._loop import SearchProgress, TrialLoop
from crispml.search._plan import SizeCap
from crispml.search._portfolio import load_portfolio
from crispml.search._size import serialized_mb
from crispml.search._study import StudyStore, study_key
from crispml.search._trial import FoldData
from crispml.search._validation import cv_repeats, plan_validation
from crispml.spec import DEFAULT_FAMILIES

if TYPE_CHECKING:
    from crispml.search._ray import RayRunner

logger = logging.getLogger(__name__)

PORTFOLIO = DEFAULT_FAMILIES
"""Default families, strongest untuned default first (defined with the spec's default)."""

REFIT_LEADERS = 3
"""Candidates whose fit times estimate the refit reserve while trials run (the ensemble's
likely members)."""
MIN_SPARE_S = 1.0
"""Seconds the reserve must have over-estimated the chosen refit by before the search
goes back to its trials (see :func:`_use_spare_time`)."""
_MSG_NO_MODEL = (
    "search: no model could be fitted; every candidate failed, was pruned, ran out of "
    "time or was excluded by deployment.max_model_mb or deployment.latency_sla_ms "
    "({errors}). Fix the error the candidates share if there is one (often the data), "
    "raise search.time_budget_s, deployment.max_model_mb or the latency SLA, or add "
    "families to search.families (with search.baselines: true the baselines are always "
    "tried)."
)
_MSG_BACKEND = "search.backend = {backend!r} is not a backend. Use 'local' or 'ray'."
_MSG_NO_MONOTONE = (
    "features.monotone is set, and none of the families {families} can enforce it. "
    "Add lightgbm, xgboost, catboost or hist_gradient_boosting to search.families."
)


def search_models(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    schema: Schema,
    task: str,
    metric: str,
    families: Sequence[str] = PORTFOLIO,
    time_budget_s: float = 60.0,
    seed: int = 0,
    baselines: bool = True,
    deadline: Deadline | None = None,
    on_candidate: Callable[[Candidate], None] | None = None,
    on_progress: Callable[[SearchProgress], None] | None = None,
    validation: str = "auto",
    deterministic: bool = False,
    max_trials: int | None = None,
    ensemble: bool = True,
    study_dir: Path | None = None,
    resume: bool = False,
    monotone: Mapping[str, int] | None = None,
    n_jobs: int | None = None,
    max_model_mb: float | None = None,
    latency_sla_ms: float | None = None,
    size_cap_why: str = SizeCap.SPEC,
    backend: str = "local",
    ray_address: str | None = None,
    portfolio: bool = False,
) -> SearchResult:
    """Search model families under a time budget and select the best on validation.

    Baselines run first; then (with ``portfolio``) the learned portfolio's configurations
    for the task (see :mod:`crispml.search._portfolio`), and each untried family's
    default; then Optuna's TPE tunes the leading families, pruning weak trials fold by fold;
    then a greedy ensemble is kept if it beats the best single model; in holdout mode
    the selected model is refitted on train + valid. ``time_budget_s`` covers all of it.
    The test split is not an argument: the search cannot touch it.

    Parameters
    ----------
    X_train, X_valid : pandas.DataFrame
        Conformed feature frames (see :func:`crispml.data.conform`).
    y_train, y_valid : numpy.ndarray
        Encoded targets.
    schema : Schema
        Column roles, for the preprocessing.
    task : str
        binary, multiclass or regression.
    metric : str
        The primary metric used for selection.
    families : sequence of str, default=PORTFOLIO
        Registry keys of the families to search, in portfolio order.
    time_budget_s : float, default=60
        Seconds for trials, ensemble and refit together.
    seed : int, default=0
        Seed of the folds, the samplers and every model.
    baselines : bool, default=True
        Whether to fit the baselines first.
    deadline : Deadline, optional
        An existing deadline (tests pass one with a fake clock).
    on_candidate : callable, optional
        Called with each finished candidate (tracking).
    on_progress : callable, optional
        Called with a :class:`SearchProgress` after each trial (progress display).
    validation : {"auto", "cv", "holdout"}, default="auto"
        Bagged cross-validation over train + valid, or train -> valid.
    deterministic : bool, default=False
        Count the budget in trials (``max_trials``) instead of seconds: the same seed and
        data give the same predictions bit for bit.
    max_trials : int, optional
        Trials after the baselines (required in deterministic mode).
    ensemble : bool, default=True
        Whether to try a greedy ensemble of the candidates.
    study_dir : Path, optional
        Folder of the Optuna SQLite study (the project's ``.crispml``); in memory if None.
    resume : bool, default=False
        Keep the finished trials of an interrupted search with the same data and settings.
    monotone : mapping of str to int, optional
        ``features.monotone``: every model is constrained to these directions; families
        (and baselines) that cannot enforce them leave the search.

        .. versionadded:: 0.2
    n_jobs : int, optional
        Threads one model fit may use (``search.n_jobs`` in the spec); ``None``: all cores.
    max_model_mb : float, optional
        ``deployment.max_model_mb``: candidates and ensembles whose serialized model is
        larger cannot be selected (status ``excluded``, with the reason); forests are
        bounded to fit it. ``None``: no cap.

        .. versionadded:: 0.3
    size_cap_why : str, default="deployment.max_model_mb"
        Where ``max_model_mb`` comes from, said in the excluded candidates' reason (an
        engagement caps models below ``deployment.max_model_mb`` when its budget cannot
        evaluate and export a larger one).
    latency_sla_ms : float, optional
        The tightest target of ``deployment.latency_sla_ms``: candidates and ensembles
        whose single-row latency, predicted from their trees, is above it cannot be
        selected (status ``excluded``, with the reason). ``None``: no SLA.

        .. versionadded:: 0.3
    backend : {"local", "ray"}, default="local"
        Where trials are fitted: in this process, or as Ray tasks on a cluster (Optuna
        still asks and tells here). Deterministic mode fits one trial at a time in ask
        order, so both backends give the same leaderboard.

        .. versionadded:: 0.3
    ray_address : str, optional
        ``auto`` or ``ray://host:port`` (Ray backend); ``None`` reuses this process's
        Ray connection or starts a local Ray.

        .. versionadded:: 0.3
    portfolio : bool, default=False
        Start with the configurations learned offline on a corpus of public tables
        (``search.portfolio`` in the spec), restricted to ``families``, before the
        family defaults. Off by default: on held-out tables it has not yet beaten the
        defaults (``benchmarks/portfolio_ab.py``).

        .. versionadded:: 0.3

    Returns
    -------
    SearchResult

    Raises
    ------
    SearchError
        If no candidate could be fitted and scored (the message lists their errors), or
        no Ray cluster answers at ``ray_address``.
    MissingDependencyError
        If ``backend="ray"`` and ray is not installed.
    """
    import optuna  # loaded when a search runs, not when crispml is imported

    clock = deadline or Deadline(time_budget_s)
    X = pd.concat([X_train, X_valid], ignore_index=True)
    y = np.concatenate([np.asarray(y_train), np.asarray(y_valid)])
    plan = plan_validation(y, len(X_train), task=task, mode=validation, seed=seed)
    budget = BudgetPlan.make(time_budget_s, clock, plan.mode, deterministic=deterministic)
    # Few rows: a repeated split (recorded in search/folds.json as "repeats").
    repeats = cv_repeats(len(y), budget.search_left()) if plan.mode == "cv" else 1
    if repeats > 1:
        plan = plan_validation(
            y, len(X_train), task=task, mode=plan.mode, seed=seed, repeats=repeats
        )
    key = study_key(
        pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes(), y.tobytes(),
        task, metric, tuple(families), seed, plan.mode, *sorted((monotone or {}).items()),
        *(("repeats", repeats),) * (repeats > 1),
    )  # fmt: skip
    store = StudyStore(study_dir, key, direction=_direction(metric), seed=seed, resume=resume)
    data = FoldData(
        X, y, plan, schema, task, monotone,
        n_jobs=n_jobs, max_model_mb=max_model_mb, latency_sla_ms=latency_sla_ms,
        size_cap_why=size_cap_why,
    )  # fmt: skip
    runner = _runner(backend, ray_address, data)
    loop = TrialLoop(
        data, store, families, metric=metric, seed=seed,
        time_left=budget.search_left, max_trials=max_trials,
        notify=_notifier(on_candidate, on_progress, budget, metric, refit_scale(data)),
        refit_factor=REFIT_COST_MARGIN * refit_scale(data), reserve=budget.refit_reserve_s,
        runner=runner,
    )  # fmt: skip
    _note_monotone(loop, families, budget)
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the library never prints
    try:
        with budget.stage("search"):
            if baselines:
                loop.run_baselines()
            if resume:
                loop.restore()
            loop.run_portfolio(load_portfolio().for_task(task, families) if portfolio else ())
            loop.run_tuning()
        best = _choose(loop, budget, metric, ensemble=ensemble)
        if runner is None:
            best = _use_spare_time(loop, budget, best, metric, ensemble=ensemble)
    finally:
        optuna.logging.set_verbosity(verbosity)
        if runner is not None:
            runner.close()
    candidates = loop.candidates
    materialise(best, data, metric=metric, seed=seed)
    data.release()  # the trials' matrices are done with; the refit makes its own
    with budget.stage("refit"):
        refit_best(best, candidates, data, seed=seed, budget=budget)
    best.info["delivered_mb"] = round(serialized_mb(best.pipeline), 3)
    best.info["delivered_ms"] = round(predicted_latency_ms(best.pipeline), 6)
    release_far(candidates, best, metric)
    for cand in candidates:
        if cand.valid_output is not None and len(cand.valid_output) == len(y):
            cand.oof_output = cand.valid_output
            cand.valid_output = cand.valid_output[plan.valid]
    record = budget.record(candidates)
    return SearchResult(
        candidates, metric, best, time_budget_s, clock.elapsed(), record,
        plan.to_dict(), store.url,
    )  # fmt: skip


def _choose(loop: TrialLoop, budget: BudgetPlan, metric: str, *, ensemble: bool) -> Candidate:
    """Select the best candidate on validation, then the greedy ensemble if it beats it."""
    candidates = loop.candidates
    best = _select(candidates, metric)
    with budget.stage("ensemble"):
        if ensemble:
            built = build_ensemble(
                candidates, loop.data, metric, best, time_left_s=budget.ensemble_left()
            )
            if built is not None:
                candidates.append(built)
                best = built if built.status == "ok" else best
    return best


def _use_spare_time(
    loop: TrialLoop, budget: BudgetPlan, best: Candidate, metric: str, *, ensemble: bool
) -> Candidate:
    """Go back to the trials with the time the refit reserve held beyond the chosen refit.

    While trials run, the refit is reserved for the three leaders (an ensemble's likely
    members). Once the selection is known its own refit is estimated from its members'
    fit times; when that is less than the reserve by more than :data:`MIN_SPARE_S`, the
    tuning resumes with a reserve of the chosen refit plus the costliest trial's (room
    for one new member), and the selection and ensemble are made again. On adult at 60 s
    the reserve had stopped the search after 13 of its 31 s.
    """
    chosen = _chosen_refit_s(best, loop.candidates, loop.data)
    reserved = budget.refit_reserve_s()
    if budget.deterministic or reserved - max(chosen, budget.planned["refit"]) < MIN_SPARE_S:
        return best
    scale = REFIT_COST_MARGIN * refit_scale(loop.data)
    before_s = budget.refit_cost_s
    budget.refit_cost_s = chosen + scale * max(c.fit_s for c in loop.candidates)
    left = budget.search_left()
    if left is None or left < MIN_SPARE_S:  # no trial would fit in what was freed
        budget.refit_cost_s = before_s
        return best
    budget.refit_fixed = True
    if best.family == "ensemble":  # made again below, with the new trials in its pool
        loop.candidates.remove(best)
    before = len(loop.candidates)
    with budget.stage("search"):
        loop.run_tuning()
    note = (
        f"went back to the trials ({len(loop.candidates) - before} more) for the time the "
        f"refit reserve ({reserved:.1f} s) held above the chosen model's refit estimate "
        f"({chosen:.1f} s)"
    )
    budget.notes["search"] = "; ".join(filter(None, (budget.notes.get("search"), note)))
    return _choose(loop, budget, metric, ensemble=ensemble)


def _chosen_refit_s(best: Candidate, candidates: list[Candidate], data: FoldData) -> float:
    """Estimated seconds of refitting ``best`` (each member of an ensemble); 0 in cv mode."""
    weights = best.params.get("weights", {}) if best.family == "ensemble" else {best.name: 1.0}
    fit = sum(c.fit_s for c in candidates if c.name in weights and c.family != "ensemble")
    return fit * REFIT_COST_MARGIN * refit_scale(data)


def _runner(backend: str, address: str | None, data: FoldData) -> RayRunner | None:
    """Return the Ray runner for ``backend="ray"``; ``None`` fits trials in this process."""
    if backend == "local":
        return None
    if backend != "ray":
        raise SpecError(_MSG_BACKEND.format(backend=backend))
    from crispml.search._ray import RayRunner  # ray is optional: imported only when asked

    return RayRunner.connect(address, data)


def _note_monotone(loop: TrialLoop, families: Sequence[str], budget: BudgetPlan) -> None:
    """Say which families left the search because they cannot enforce the constraints."""
    if not loop.data.monotone:
        return
    if not loop.families:
        raise SpecError(_MSG_NO_MONOTONE.format(families=list(families)))
    left = [f for f in families if f not in loop.families]
    budget.notes["search"] = (
        f"constrained {sorted(loop.data.monotone)}; left the search: {left or 'none'}"
    )


def _notifier(
    on_candidate: Callable[[Candidate], None] | None,
    on_progress: Callable[[SearchProgress], None] | None,
    budget: BudgetPlan,
    metric: str,
    scale: float,
) -> Callable[[Candidate], None]:
    leader: list[Candidate] = []
    scored: list[Candidate] = []
    done = [0]
    sign = 1.0 if METRICS[metric].greater_is_better else -1.0

    def notify(cand: Candidate) -> None:
        if not cand.baseline:
            done[0] += 1
        if cand.status == "ok" and cand.valid_score is not None:
            scored.append(cand)
            scored.sort(key=lambda c: -sign * c.valid_score)  # type: ignore[operator]
            leader[:] = scored[:1]
            # The ensemble usually draws on the top few: their refit is what would run.
            top = scored[:REFIT_LEADERS]
            if not budget.refit_fixed:  # fixed once the selection is known
                budget.refit_cost_s = sum(c.fit_s for c in top) * REFIT_COST_MARGIN * scale
        if on_candidate is not None:
            on_candidate(cand)
        if on_progress is not None:
            first = leader[0] if leader else None
            on_progress(
                SearchProgress(
                    done[0],
                    None if first is None else first.name,
                    None if first is None else first.valid_score,
                    budget.search_left(),
                    cand,
                )
            )

    return notify


def _select(candidates: list[Candidate], metric: str) -> Candidate:
    scored = [c for c in candidates if c.status == "ok" and c.valid_score is not None]
    if not scored:
        errors = "; ".join(
            f"{c.name}: {c.info.get('error', c.info.get('excluded', c.status))}"
            for c in candidates
        )
        raise SearchError(_MSG_NO_MODEL.format(errors=errors))
    best = scored[0]
    for cand in scored[1:]:
        if better(metric, cand.valid_score, best.valid_score):  # type: ignore[arg-type]
            best = cand
    return best


def _direction(metric: str) -> str:
    return "maximize" if METRICS[metric].greater_is_better else "minimize"


def direction(metric: str) -> str:
    """``maximize`` or ``minimize`` for ``metric``.

    Examples
    --------
    >>> direction("rmse")
    'minimize'
    """
    return _direction(metric)
