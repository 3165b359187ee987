"""After the trials: the greedy ensemble, models for restored trials, refit, release."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from crispml._metrics import METRICS
from crispml.data import Schema
from crispml.features import build_preprocessor, monotone_signs
from crispml.models import WeightedEnsemble, get_family
from crispml.search._budget import BudgetPlan
from crispml.search._candidate import Candidate, SearchResult
from crispml.search._ensemble import greedy_selection
from crispml.search._trial import FoldData, run_trial

logger = logging.getLogger(__name__)

ENSEMBLE_POOL = 12
"""Candidates (best first) the greedy selection may draw from."""
KEEP_MODELS = 5
"""Fitted models kept in memory besides the baselines and the selected model's members."""
REFIT_COST_MARGIN = 1.4
"""Refit estimate = members' fit time x this (more rows, no early stopping)."""
MIN_GAIN = 1e-9
"""An ensemble must beat the best single model by more than rounding noise."""


def build_ensemble(
    candidates: list[Candidate],
    data: FoldData,
    metric: str,
    best: Candidate,
    *,
    time_left_s: float | None = None,
) -> Candidate | None:
    """Greedy ensemble over out-of-fold predictions; ``None`` unless it beats ``best``.

    With ``deployment.max_model_mb``, members' sizes add up: a selection above the cap
    leaves out its largest member and selects again, so the ensemble is deliverable. The
    same holds for the predicted latency against ``deployment.latency_sla_ms``: every
    member runs for each row, so a selection predicted to break the SLA leaves out its
    slowest member (``left_out_for_limits`` lists the members left out for either).
    """
    rows = data.plan.scored
    sign = 1.0 if METRICS[metric].greater_is_better else -1.0
    pool = sorted(
        (
            c
            for c in candidates
            if c.status == "ok" and c.valid_output is not None and c.family != "dummy"
        ),
        key=lambda c: -sign * c.valid_score,  # type: ignore[operator]
    )[:ENSEMBLE_POOL]
    if len(pool) < 2:
        return None
    stop_at = None if time_left_s is None else time.monotonic() + time_left_s
    left_out: list[str] = []
    while len(pool) >= 2:
        outputs = [c.valid_output[rows] for c in pool]  # type: ignore[index]
        weights, value = greedy_selection(outputs, data.y[rows], metric, stop_at=stop_at)
        chosen = [(c, float(w)) for c, w in zip(pool, weights, strict=True) if w > 0]
        size, ms = _total(chosen, "model_mb"), _total(chosen, "predicted_ms")
        broken = _broken_limit(data, size, ms)
        if broken is None or len(chosen) < 2:
            break
        # Too large or too slow together: leave out the worst member and select again.
        worst = max((c for c, _ in chosen), key=lambda c: float(c.info.get(broken, 0.0)))
        pool = [c for c in pool if c is not worst]
        left_out.append(worst.name)
    else:
        return None
    gain = sign * (value - best.valid_score)  # type: ignore[operator]
    if len(chosen) < 2 or gain <= MIN_GAIN * max(1.0, abs(best.valid_score)):  # type: ignore[arg-type]
        logger.info("ensemble %.5f does not beat %s %.5f", value, best.name, best.valid_score)
        return None
    output = np.sum([w * np.asarray(c.valid_output) for c, w in chosen], axis=0)
    return Candidate(
        "ensemble", "ensemble", {"weights": {c.name: round(w, 4) for c, w in chosen}},
        valid_score=value, valid_output=output, fit_s=0.0,
        info={"members": [c.name for c, _ in chosen], "beats": best.name,
              "model_mb": round(size, 3), "predicted_ms": round(ms, 6),
              "left_out_for_limits": left_out},
        pipeline=_Pending(chosen),
    )  # fmt: skip


def _total(chosen: list[tuple[Candidate, float]], key: str) -> float:
    """Members' figures add up: every member is stored, and every member runs per row."""
    return sum(float(c.info.get(key, 0.0)) for c, _ in chosen)


def _broken_limit(data: FoldData, size: float, ms: float) -> str | None:
    """Return the info key of the limit an ensemble breaks (size first), or ``None``."""
    if data.max_model_mb is not None and size > data.max_model_mb:
        return "model_mb"
    if data.latency_sla_ms is not None and ms > data.latency_sla_ms:
        return "predicted_ms"
    return None


class _Pending:
    """Members of an ensemble whose models are assembled once every member is fitted."""

    def __init__(self, chosen: list[tuple[Candidate, float]]) -> None:
        self.chosen = chosen


def materialise(best: Candidate, data: FoldData, *, metric: str, seed: int) -> None:
    """Give ``best`` a fitted model: refit restored trials, flatten the ensemble."""
    parts = best.pipeline.chosen if isinstance(best.pipeline, _Pending) else [(best, 1.0)]
    for cand, _ in parts:
        if cand.pipeline is None:  # restored after a resume: same params and seed, same model
            family = get_family(cand.family)
            outcome = run_trial(family, cand.params, data, metric=metric, seed=seed,
                                time_left=lambda: None)  # fmt: skip
            cand.pipeline = outcome.model
    if isinstance(best.pipeline, _Pending):
        members: list[Any] = []
        weights: list[float] = []
        for cand, weight in best.pipeline.chosen:
            inner = cand.pipeline
            if isinstance(inner, WeightedEnsemble):
                members += inner.members_
                weights += list(weight * inner.weights_)
            else:
                members.append(inner)
                weights.append(weight)
        best.pipeline = WeightedEnsemble(members=members, weights=weights, task=data.task).fit()


def refit_best(
    best: Candidate,
    candidates: list[Candidate],
    data: FoldData,
    *,
    seed: int,
    budget: BudgetPlan,
) -> None:
    """Holdout mode: refit the selected model's members on train + valid, always.

    Each member is rebuilt with its parameters plus what early stopping pinned (rounds
    kept, the learning rate chosen), then fitted on every search row without a time
    limit: the search stopped early enough to leave the refit its measured cost
    (:attr:`BudgetPlan.refit_cost_s`), and a delivered model trained on fewer rows
    than it could have been is never the price of the deadline.
    """
    if data.plan.mode != "holdout":
        budget.notes["refit"] = "cv mode: the fold models (together every search row) are final"
        return
    weights = (
        best.params.get("weights", {best.name: 1.0})
        if best.family == "ensemble"
        else {best.name: 1.0}
    )
    members = [c for c in candidates if c.name in weights and c.family != "ensemble"]
    estimate = sum(c.fit_s for c in members) * REFIT_COST_MARGIN * refit_scale(data)
    best.pipeline = fit_members(
        best, candidates, data.X, data.y, schema=data.schema, task=data.task, seed=seed,
        n_jobs=data.n_jobs, monotone=data.monotone,
    )  # fmt: skip
    best.info["refit_rows"] = len(data.y)
    budget.notes["refit"] = f"estimated {estimate:.1f} s from the members' measured fit time"
    fit_rows, n_train = len(data.plan.folds[0][0]), len(data.y) - len(data.plan.valid)
    if fit_rows < n_train:
        budget.notes["refit"] += (
            f"; the trials fitted on a random sample of {fit_rows:,} of the {n_train:,} "
            f"training rows, the delivered model on all {len(data.y):,} search rows"
        )


def fit_members(
    best: Candidate,
    candidates: list[Candidate],
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    schema: Schema,
    task: str,
    seed: int,
    n_jobs: int | None,
    monotone: Mapping[str, int],
) -> Any:
    """Fit the configuration of ``best`` (each member, if an ensemble) once on ``X, y``.

    Each member is rebuilt with its parameters plus what early stopping pinned (rounds
    kept, the learning rate chosen) and fitted on every given row, without a time limit
    and without early stopping (there are no held-out rows left to stop on).

    Returns
    -------
    estimator
        A pipeline, or a :class:`WeightedEnsemble` of pipelines with the selected weights.
    """
    weights = (
        best.params.get("weights", {best.name: 1.0})
        if best.family == "ensemble"
        else {best.name: 1.0}
    )
    members = [c for c in candidates if c.name in weights and c.family != "ensemble"]
    fitted: dict[str, Pipeline] = {}
    # One flavour's matrix at a time: on a million rows each is gigabytes, so the tree
    # matrix is dropped before the linear one is made.
    for flavour in dict.fromkeys(get_family(c.family).preprocessing for c in members):
        pre = build_preprocessor(schema, flavour=flavour)  # type: ignore[arg-type]
        Xt = pre.fit_transform(X)
        for cand in (c for c in members if get_family(c.family).preprocessing == flavour):
            estimator = _refit_one(cand, pre, Xt, y, task=task, seed=seed, n_jobs=n_jobs,
                                   monotone=monotone)  # fmt: skip
            fitted[cand.name] = Pipeline([("features", pre), ("model", estimator)])
        del Xt
    refitted = [fitted[c.name] for c in members]
    if len(refitted) > 1:
        return WeightedEnsemble(
            members=refitted, weights=[weights[c.name] for c in members], task=task
        ).fit()
    return refitted[0]


def _refit_one(
    cand: Candidate,
    pre: Any,
    Xt: Any,
    y: np.ndarray,
    *,
    task: str,
    seed: int,
    n_jobs: int | None,
    monotone: Mapping[str, int],
) -> Any:
    """Rebuild one candidate's estimator (early stopping's choices pinned) and fit it."""
    family = get_family(cand.family)
    known = {*family.defaults(task), *family.search_space(Xt.shape[0], Xt.shape[1], task)}
    pinned = {k: v for k, v in cand.info.items() if k in known}
    estimator = family.build({**cand.params, **pinned}, task=task, seed=seed, n_jobs=n_jobs)
    if monotone:
        estimator = family.constrain(estimator, monotone_signs(pre, monotone))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # e.g. no early stopping on a refit
        return family.fit(estimator, Xt, y, Xt, y, time_left_s=None)


def refit_scale(data: FoldData) -> float:
    """Rows of the refit over rows of one search fit (0 in cv mode: no refit)."""
    if data.plan.mode != "holdout":
        return 0.0
    fit_rows = len(data.plan.folds[0][0])
    return len(data.y) / max(1, fit_rows)


def release_far(candidates: list[Candidate], best: Candidate, metric: str) -> None:
    """Drop fitted models far from the top (memory); keep baselines and the selected one."""
    sign = 1.0 if METRICS[metric].greater_is_better else -1.0
    ranked = sorted(
        (c for c in candidates if c.status == "ok" and not c.baseline and c is not best),
        key=lambda c: -sign * (c.valid_score if c.valid_score is not None else -np.inf),
    )
    for cand in ranked[KEEP_MODELS:]:
        if cand.pipeline is not None:
            cand.pipeline = None
            cand.info["model_released"] = True


def refit_all_rows(
    result: SearchResult,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    schema: Schema,
    task: str,
    seed: int,
    n_jobs: int | None = None,
    monotone: Mapping[str, int] | None = None,
) -> Any:
    """Fit the selected configuration once more on every row given (``refit: all_rows``).

    The engagement calls this after the evaluation with train + valid + test: the same
    members, parameters, pinned rounds and ensemble weights as the selected model, fitted
    on more rows. Nothing is chosen again, so no figure of the evaluation selects on test.

    Parameters
    ----------
    result : SearchResult
        The finished search; ``result.best`` is the configuration refitted.
    X : pandas.DataFrame
        Conformed feature rows (all of them).
    y : numpy.ndarray
        Encoded target of ``X``.
    schema : Schema
        Column roles, for the preprocessing.
    task : str
        binary, multiclass or regression.
    seed : int
        Model seed (the search's).
    n_jobs : int, optional
        Threads the fit may use.
    monotone : mapping of str to int, optional
        ``features.monotone``, honoured as in the search.

    Returns
    -------
    estimator
        A fitted pipeline, or a :class:`WeightedEnsemble` of pipelines.

    .. versionadded:: 0.3
    """
    return fit_members(
        result.best, result.candidates, X, np.asarray(y), schema=schema, task=task, seed=seed,
        n_jobs=n_jobs, monotone=monotone or {},
    )  # fmt: skip
