"""Choosing an anomaly detector on the validation rows.

Every detector is fitted on the training rows (labels, when present, are never shown
to it) at its defaults. With labelled validation rows, Optuna then tunes the detector
and its parameters on the primary metric (average precision, ROC AUC or precision@k)
until ``max_trials`` or the budget runs out, and the best validation score wins. With
no labels there is nothing to score a detector against: the first detector named in
``search.families`` is delivered and the others are recorded with their rank agreement
with it (Spearman's rho on validation), so the card can say whether they concur.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import Pipeline

from crispml.data import Schema
from crispml.features import build_preprocessor
from crispml.models import anomaly_scores, get_detector, precision_at_k, top_k
from crispml.search._candidate import Candidate
from crispml.search._deadline import Deadline
from crispml.search._tune import tune_choices

logger = logging.getLogger(__name__)


@dataclass
class AnomalySearch:
    """What the detector search returns.

    Attributes
    ----------
    candidates : list of Candidate
        Every configuration tried, in order (``valid_output``: validation scores).
    best : Candidate
        The delivered detector.
    metric : str or None
        The validation metric (``None`` without labels).
    labelled : bool
        Whether the validation rows carried labels.
    contamination : float
        Share of rows the detector flags.
    elapsed_s : float
        Wall time of the search.
    budget_s : float
        The time budget it was given.
    """

    candidates: list[Candidate]
    best: Candidate
    metric: str | None
    labelled: bool
    contamination: float
    elapsed_s: float = 0.0
    budget_s: float = 0.0


def detector_pipeline(
    schema: Schema, name: str, params: Mapping[str, Any], *, contamination: float, seed: int
) -> Pipeline:
    """Preprocessing (imputed, standardised, one-hot) followed by detector ``name``.

    Parameters
    ----------
    schema : Schema
        Roles of the input columns.
    name : str
        A key of :data:`crispml.models.DETECTORS`.
    params : mapping
        Detector parameters (defaults for the ones missing).
    contamination : float
        Share of training rows the fitted detector flags.
    seed : int
        Seed of randomised detectors.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted.
    """
    detector = get_detector(name).make(params, contamination, seed)
    return Pipeline(
        [("features", build_preprocessor(schema, flavour="linear")), ("model", detector)]
    )


def validation_score(metric: str, y: np.ndarray, scores: np.ndarray, *, k: int) -> float:
    """Score anomaly ``scores`` against known anomalies ``y`` (1) with ``metric``.

    Parameters
    ----------
    metric : str
        average_precision, roc_auc or precision_at_k.
    y : numpy.ndarray
        1 for a known anomaly, 0 otherwise.
    scores : numpy.ndarray
        Anomaly scores (higher is stranger).
    k : int
        Rows of precision@k.

    Returns
    -------
    float

    Examples
    --------
    >>> validation_score("roc_auc", np.array([0, 0, 1]), np.array([0.1, 0.2, 0.9]), k=1)
    1.0
    """
    if metric == "precision_at_k":
        return precision_at_k(y, scores, k)
    if metric == "roc_auc":
        return float(roc_auc_score(y, scores))
    return float(average_precision_score(y, scores))


def search_detectors(
    X_train: pd.DataFrame,
    X_valid: pd.DataFrame,
    y_valid: np.ndarray | None,
    *,
    schema: Schema,
    detectors: Sequence[str],
    contamination: float,
    metric: str = "average_precision",
    seed: int = 0,
    time_budget_s: float = 60.0,
    max_trials: int | None = None,
    deterministic: bool = False,
) -> AnomalySearch:
    """Fit every detector on ``X_train`` and choose one on ``X_valid``.

    Parameters
    ----------
    X_train, X_valid : pandas.DataFrame
        Conformed feature frames.
    y_valid : numpy.ndarray or None
        Validation labels (1: known anomaly), or ``None`` for unlabelled data.
    schema : Schema
        Roles of the input columns.
    detectors : sequence of str
        Detector names; the first is delivered when there are no labels.
    contamination : float
        Share of rows flagged.
    metric : str, default="average_precision"
        Validation metric with labels: average_precision, roc_auc or precision_at_k.
    seed : int, default=0
        Seed of the detectors and of Optuna's sampler.
    time_budget_s : float, default=60.0
        Budget of the search; tuning stops when it runs out.
    max_trials : int, optional
        Total configurations tried (defaults count as trials); default: the budget.
    deterministic : bool, default=False
        Count the budget in trials only (``max_trials``), never in seconds, so a rerun
        tries the same configurations.

    Returns
    -------
    AnomalySearch
    """
    deadline = Deadline(time_budget_s)
    names = [get_detector(n).name for n in detectors]
    labelled = y_valid is not None
    k = top_k(len(X_valid), contamination)

    def fit(name: str, params: dict[str, Any], label: str) -> Candidate:
        start = time.perf_counter()
        pipe = detector_pipeline(schema, name, params, contamination=contamination, seed=seed)
        pipe.fit(X_train)
        scores = anomaly_scores(pipe, X_valid)
        cand = Candidate(label, name, params, pipeline=pipe, valid_output=scores)
        if y_valid is not None:
            cand.valid_score = validation_score(metric, y_valid, scores, k=k)
        cand.fit_s = time.perf_counter() - start
        return cand

    candidates = [fit(n, {}, n) for n in names]
    limit = max_trials if max_trials is not None else 10_000
    timed = None if deterministic else deadline
    if y_valid is not None and len(candidates) < limit and not deadline.expired():
        spaces = {n: get_detector(n).space for n in names}
        candidates += tune_choices(
            fit, spaces, limit - len(candidates), timed, seed, choice="detector"
        )
    if labelled:
        best = max(candidates, key=lambda c: c.valid_score or -np.inf)
    else:
        best = candidates[0]
        for cand in candidates:
            rho = spearmanr(best.valid_output, cand.valid_output).statistic
            cand.info["rank_agreement_with_delivered"] = float(rho)
    return AnomalySearch(
        candidates,
        best,
        metric if labelled else None,
        labelled,
        contamination,
        elapsed_s=deadline.elapsed(),
        budget_s=time_budget_s,
    )
