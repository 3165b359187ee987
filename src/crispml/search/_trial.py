"""Fitting one configuration on every fold of the validation plan."""

from __future__ import annotations

import logging
import time
import traceback
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from crispml._metrics import score
from crispml.data import Schema
from crispml.features import build_preprocessor, monotone_signs
from crispml.models import ModelFamily, WeightedEnsemble, predict_output
from crispml.search._latency import predicted_latency_ms
from crispml.search._plan import SizeCap
from crispml.search._size import MEMBER_SHARE, serialized_mb
from crispml.search._validation import ValidationPlan

logger = logging.getLogger(__name__)
_MSG_TOO_LARGE = "{size:.1f} MB > {cap:.3g} MB, {why}"
_MSG_TOO_SLOW = (
    "predicted {ms:.3g} ms per row from its trees > deployment.latency_sla_ms {sla:g} ms"
)


@dataclass
class TrialOutcome:
    """What fitting one configuration gave.

    Attributes
    ----------
    status : str
        ``ok``, ``pruned``, ``timed_out`` (deadline hit between folds), ``failed``, or
        ``excluded`` (scored, but above ``deployment.max_model_mb``, or predicted to break
        ``deployment.latency_sla_ms``: not selectable).
    output : numpy.ndarray or None
        Out-of-fold predictions over every search row (NaN where not held out).
    score : float or None
        Primary metric on the plan's scored rows.
    model : object or None
        A pipeline (holdout) or the bagged fold pipelines (cv).
    fit_s : float
        Wall time of all folds.
    info : dict
        Facts from the family (boosting rounds), or the error.
    """

    status: str
    output: np.ndarray | None = None
    score: float | None = None
    model: Any = None
    fit_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


class FoldData:
    """The search rows, split by the plan, preprocessed once per flavour and fold.

    Parameters
    ----------
    X : pandas.DataFrame
        Conformed search rows (train then valid).
    y : numpy.ndarray
        Encoded target.
    plan : ValidationPlan
        The folds.
    schema : Schema
        Column roles, for the preprocessing.
    task : str
        binary, multiclass or regression.
    monotone : mapping of str to int, optional
        ``features.monotone``: raw column -> direction every model must honour.
    n_jobs : int or None, default=None
        Threads every model fitted on these folds may use (``None``: all cores).
    max_model_mb : float or None, default=None
        ``deployment.max_model_mb``: a fitted configuration above it cannot be selected.
    size_cap_why : str, default="deployment.max_model_mb"
        Where ``max_model_mb`` comes from, for the excluded candidates' reason.
    latency_sla_ms : float or None, default=None
        The tightest target of ``deployment.latency_sla_ms``: a fitted configuration whose
        predicted single-row latency (:func:`predicted_latency_ms`) is above it cannot be
        selected.
    """

    def __init__(
        self,
        X: pd.DataFrame,
        y: np.ndarray,
        plan: ValidationPlan,
        schema: Schema,
        task: str,
        monotone: Mapping[str, int] | None = None,
        *,
        n_jobs: int | None = None,
        max_model_mb: float | None = None,
        latency_sla_ms: float | None = None,
        size_cap_why: str = SizeCap.SPEC,
    ) -> None:
        self.X, self.y, self.plan, self.schema, self.task = X, y, plan, schema, task
        self.monotone = dict(monotone or {})
        self.n_jobs = n_jobs
        self.max_model_mb = max_model_mb
        self.size_cap_why = size_cap_why
        self.latency_sla_ms = latency_sla_ms
        self.n_outputs = 1 if task == "regression" else int(y.max()) + 1
        self._cache: dict[tuple[str, int], tuple[Any, np.ndarray, np.ndarray]] = {}

    def fold(self, flavour: str, i: int) -> tuple[Any, np.ndarray, np.ndarray]:
        """Fitted preprocessor, transformed fit rows and transformed held-out rows."""
        key = (flavour, i)
        if key not in self._cache:
            fit_rows, held_rows = self.plan.folds[i]
            pre = build_preprocessor(self.schema, flavour=flavour)  # type: ignore[arg-type]
            Xf = pre.fit_transform(self.X.iloc[fit_rows])
            self._cache[key] = (pre, Xf, pre.transform(self.X.iloc[held_rows]))
        return self._cache[key]

    def constrain(self, family: ModelFamily, estimator: Any, pre: Any) -> Any:
        """Apply the monotone constraints (if any) to an unfitted estimator of ``family``."""
        if not self.monotone:
            return estimator
        return family.constrain(estimator, monotone_signs(pre, self.monotone))

    def size_bound(self, family: ModelFamily, params: Mapping[str, Any]) -> dict[str, Any]:
        """Parameters bounding one candidate of ``family`` to its share of the size cap."""
        if self.max_model_mb is None:
            return {}
        share = self.max_model_mb * MEMBER_SHARE / len(self.plan.folds)
        # holdout: the delivered model is refitted on every search row, not the fit sample
        n_rows = len(self.y) if self.plan.mode == "holdout" else len(self.plan.folds[0][0])
        return family.size_bound(
            params, task=self.task, n_rows=n_rows, n_outputs=self.n_outputs, max_mb=share
        )

    def release(self) -> None:
        """Drop the preprocessed folds (the refit builds its own matrix of every row).

        .. versionadded:: 0.4
        """
        self._cache.clear()

    def shape(self) -> tuple[int, int]:
        """Rows of one fit and columns of the tree-flavour matrix (for the cost model)."""
        _, Xf, _ = self.fold("tree", 0)
        return int(Xf.shape[0]), int(Xf.shape[1])

    def empty_output(self) -> np.ndarray:
        """Return an all-NaN out-of-fold array of the right shape."""
        n = len(self.y)
        return np.full(n if self.task == "regression" else (n, self.n_outputs), np.nan)


def run_trial(
    family: ModelFamily,
    params: Mapping[str, Any],
    data: FoldData,
    *,
    metric: str,
    seed: int,
    time_left: Callable[[], float | None],
    report: Callable[[int, float], bool] | None = None,
) -> TrialOutcome:
    """Fit ``family`` with ``params`` on every fold; score the out-of-fold predictions.

    Parameters
    ----------
    family : ModelFamily
        The family.
    params : mapping
        Hyperparameters (merged over the family's defaults by ``build``).
    data : FoldData
        Preprocessed folds.
    metric : str
        Primary metric.
    seed : int
        Model seed.
    time_left : callable
        Seconds left for this trial, or ``None`` (no limit: deterministic mode).
    report : callable, optional
        Called with (fold, partial score); returning True prunes the trial.

    Returns
    -------
    TrialOutcome
    """
    start = time.monotonic()
    oof = _FoldMean(data)
    pipelines: list[Pipeline] = []
    bound = data.size_bound(family, params)
    params = {**params, **bound}
    info: dict[str, Any] = {}
    try:
        for i, (_, held) in enumerate(data.plan.folds):
            left = time_left()
            per_fold = (time.monotonic() - start) / max(i, 1)
            if i > 0 and left is not None and left < 0.5 * per_fold:
                # This fold could not finish in time: stop now rather than overrun.
                return TrialOutcome("timed_out", fit_s=time.monotonic() - start, info=info)
            pre, Xf, Xh = data.fold(family.preprocessing, i)
            fit_rows = data.plan.folds[i][0]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                estimator = family.build(params, task=data.task, seed=seed, n_jobs=data.n_jobs)
                estimator = data.constrain(family, estimator, pre)
                estimator = family.fit(
                    estimator, Xf, data.y[fit_rows], Xh, data.y[held], time_left_s=left
                )
                oof.add(held, predict_output(estimator, Xh, data.task))
            info = {**bound, **family.fit_info(estimator), **_deadline_flag(estimator, info)}
            pipelines.append(Pipeline([("features", pre), ("model", estimator)]))
            if report is not None and i < len(data.plan.folds) - 1:
                covered = oof.covered(i)
                if report(i, score(metric, data.y[covered], oof.mean(covered))):
                    return TrialOutcome("pruned", fit_s=time.monotonic() - start, info=info)
    except Exception as exc:  # a failed trial is reported, never silently replaced
        logger.warning("%s failed: %s", family.name, exc)
        info = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(limit=3)}
        return TrialOutcome("failed", fit_s=time.monotonic() - start, info=info)
    rows = data.plan.scored
    output = oof.mean(None)
    model: Any = pipelines[0]
    if len(pipelines) > 1:
        model = WeightedEnsemble(
            members=pipelines, weights=[1.0] * len(pipelines), task=data.task
        ).fit()
    value = score(metric, data.y[rows], output[rows])
    size = serialized_mb(model)
    info["model_mb"] = round(size, 3)
    if data.max_model_mb is not None and size > data.max_model_mb:
        info["excluded"] = _MSG_TOO_LARGE.format(
            size=size, cap=data.max_model_mb, why=data.size_cap_why
        )
        return TrialOutcome("excluded", output, value, None, time.monotonic() - start, info)
    predicted = predicted_latency_ms(model)
    info["predicted_ms"] = round(predicted, 6)
    if data.latency_sla_ms is not None and predicted > data.latency_sla_ms:
        info["excluded"] = _MSG_TOO_SLOW.format(ms=predicted, sla=data.latency_sla_ms)
        return TrialOutcome("excluded", output, value, None, time.monotonic() - start, info)
    return TrialOutcome("ok", output, value, model, time.monotonic() - start, info)


class _FoldMean:
    """Out-of-fold predictions of one trial: per row, the mean over the splits holding it out.

    With one split (holdout, plain k-fold) each row is held out at most once and the mean
    is that one prediction, unchanged.
    """

    def __init__(self, data: FoldData) -> None:
        self.folds = data.plan.folds
        self.per_split = len(self.folds) // data.plan.repeats
        self.total = np.zeros_like(data.empty_output())
        self.seen = np.zeros(len(data.y))
        self.empty = data.empty_output()

    def add(self, rows: np.ndarray, predicted: np.ndarray) -> None:
        self.total[rows] += predicted
        self.seen[rows] += 1

    def covered(self, i: int) -> np.ndarray:
        """Return the rows held out by folds 0..i (after the first split: all of its rows)."""
        return np.concatenate([f[1] for f in self.folds[: min(i + 1, self.per_split)]])

    def mean(self, rows: np.ndarray | None) -> np.ndarray:
        """Return the mean prediction of ``rows`` (``None``: all, NaN where never held out)."""
        if rows is None:
            out = self.empty.copy()
            rows = np.flatnonzero(self.seen)
            out[rows] = self.mean(rows)
            return out
        seen = self.seen[rows]
        return np.asarray(self.total[rows] / (seen if self.total.ndim == 1 else seen[:, None]))


def _deadline_flag(estimator: Any, info: dict[str, Any]) -> dict[str, Any]:
    stopped = bool(getattr(estimator, "stopped_at_deadline_", False))
    return {"stopped_at_deadline": True} if stopped or info.get("stopped_at_deadline") else {}
