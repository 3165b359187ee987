"""The model search: baselines first, then the requested families, under one deadline."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from crispml._metrics import METRICS, better, score
from crispml.data import Schema
from crispml.features import build_preprocessor
from crispml.models import family_names, get_family, predict_output
from crispml.search._deadline import Deadline

logger = logging.getLogger(__name__)


@dataclass
class Candidate:
    """One fitted model of the search, scored on the validation split.

    Attributes
    ----------
    name : str
        Unique name on the leaderboard (the family name for default configurations).
    family : str
        Registry key of the model family.
    params : dict
        Hyperparameters it was built with.
    status : str
        ``ok``, ``failed`` or ``skipped`` (no time left).
    pipeline : sklearn.pipeline.Pipeline or None
        Preprocessing + model, fitted on the training split.
    valid_score : float or None
        Primary metric on the validation split.
    valid_output : numpy.ndarray or None
        Validation predictions (probabilities or values).
    fit_s : float
        Wall time of the fit.
    info : dict
        Family-specific facts (e.g. boosting rounds) or the error text.
    """

    name: str
    family: str
    params: dict[str, Any]
    status: str = "ok"
    pipeline: Pipeline | None = None
    valid_score: float | None = None
    valid_output: np.ndarray | None = field(default=None, repr=False)
    fit_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    baseline: bool = False


@dataclass
class SearchResult:
    """All candidates of a search and the one selected on validation."""

    candidates: list[Candidate]
    metric: str
    best: Candidate
    budget_s: float
    elapsed_s: float


def search_models(
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    schema: Schema,
    task: str,
    metric: str,
    families: Sequence[str],
    time_budget_s: float,
    seed: int = 0,
    baselines: bool = True,
    deadline: Deadline | None = None,
    on_candidate: Callable[[Candidate], None] | None = None,
) -> SearchResult:
    """Fit the baselines and each requested family, and select the best on validation.

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
    families : sequence of str
        Registry keys of the families to fit after the baselines.
    time_budget_s : float
        Seconds for the whole search; a family that would start with no time left is
        recorded as ``skipped``, and boosting stops at the deadline.
    seed : int, default=0
        Seed of every model.
    baselines : bool, default=True
        Whether to fit the baselines first.
    deadline : Deadline, optional
        An existing deadline (tests pass one with a fake clock).
    on_candidate : callable, optional
        Called with each finished candidate (progress display, tracking).

    Returns
    -------
    SearchResult
    """
    deadline = deadline or Deadline(time_budget_s)
    names = (family_names(baselines=True) if baselines else []) + [
        f for f in families if f not in family_names(baselines=True)
    ]
    preprocessors: dict[str, Any] = {}
    candidates = []
    for name in names:
        family = get_family(name)
        if task not in family.tasks:
            continue
        candidate = _fit_one(
            name,
            family,
            X_train,
            y_train,
            X_valid,
            y_valid,
            schema=schema,
            task=task,
            metric=metric,
            seed=seed,
            deadline=deadline,
            preprocessors=preprocessors,
        )
        candidates.append(candidate)
        if on_candidate is not None:
            on_candidate(candidate)
    best = _select(candidates, metric)
    return SearchResult(candidates, metric, best, time_budget_s, deadline.elapsed())


def _fit_one(
    name: str,
    family: Any,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray,
    *,
    schema: Schema,
    task: str,
    metric: str,
    seed: int,
    deadline: Deadline,
    preprocessors: dict[str, Any],
) -> Candidate:
    params = family.defaults(task)
    candidate = Candidate(name, name, params, baseline=family.baseline)
    if deadline.expired() and not family.baseline:
        candidate.status = "skipped"
        candidate.info = {"reason": "no time left in the search budget"}
        return candidate
    start = time.monotonic()
    try:
        pre = _fitted_preprocessor(family.preprocessing, schema, X_train, preprocessors)
        Xt, Xv = pre.transform(X_train), pre.transform(X_valid)
        estimator = family.build(params, task=task, seed=seed)
        estimator = family.fit(
            estimator, Xt, y_train, Xv, y_valid, time_left_s=deadline.remaining()
        )
        candidate.pipeline = Pipeline([("features", pre), ("model", estimator)])
        candidate.valid_output = predict_output(estimator, Xv, task)
        candidate.valid_score = score(metric, y_valid, candidate.valid_output)
        candidate.info = family.fit_info(estimator)
    except Exception as exc:  # a failed family is reported, never silently replaced
        logger.warning("family %s failed: %s", name, exc)
        candidate.status = "failed"
        candidate.info = {
            "error": f"{type(exc).__name__}: {exc}",
            "trace": traceback.format_exc(limit=3),
        }
    candidate.fit_s = time.monotonic() - start
    return candidate


def _fitted_preprocessor(
    flavour: str, schema: Schema, X_train: pd.DataFrame, cache: dict[str, Any]
) -> Any:
    """Fit each preprocessing flavour once; candidates of one flavour share it."""
    if flavour not in cache:
        cache[flavour] = build_preprocessor(schema, flavour=flavour).fit(X_train)  # type: ignore[arg-type]
    return cache[flavour]


def _select(candidates: list[Candidate], metric: str) -> Candidate:
    scored = [c for c in candidates if c.status == "ok" and c.valid_score is not None]
    if not scored:
        errors = "; ".join(f"{c.name}: {c.info.get('error', c.status)}" for c in candidates)
        raise RuntimeError(f"no model could be fitted ({errors})")
    best = scored[0]
    for cand in scored[1:]:
        if better(metric, cand.valid_score, best.valid_score):  # type: ignore[arg-type]
            best = cand
    return best


def direction(metric: str) -> str:
    """``maximize`` or ``minimize`` for ``metric``."""
    return "maximize" if METRICS[metric].greater_is_better else "minimize"
