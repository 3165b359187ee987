"""What the search returns: candidates and the selected one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Candidate:
    """One configuration of the search, scored on validation.

    Attributes
    ----------
    name : str
        Unique name on the leaderboard: the family name for its default configuration,
        ``family-N`` for Optuna trial N, ``ensemble`` for the greedy ensemble.
    family : str
        Registry key of the model family (``ensemble`` for the ensemble).
    params : dict
        Hyperparameters it was built with (the ensemble: member weights).
    status : str
        ``ok``, ``pruned``, ``timed_out``, ``failed`` or ``skipped`` (no time left).
    pipeline : object or None
        The fitted model taking the conformed frame: a scikit-learn ``Pipeline``
        (holdout), or a :class:`WeightedEnsemble` of fold pipelines (cv) or of
        candidates (ensemble). Released (``None``) for candidates far from the top.
    valid_score : float or None
        Primary metric on validation: the validation split (holdout mode) or every
        out-of-fold row of train + valid (cv mode).
    valid_output : numpy.ndarray or None
        Predictions (probabilities or values) for the rows of the validation split, made
        by models that did not see them.
    oof_output : numpy.ndarray or None
        In cv mode, the out-of-fold predictions for every row of train + valid (train
        rows first), kept for group evidence with more rows than the test set.
    fit_s : float
        Wall time of the fit (all folds).
    info : dict
        Family-specific facts (e.g. boosting rounds) or the error text.
    baseline : bool
        Whether it is a baseline (the floor every model must beat).
    """

    name: str
    family: str
    params: dict[str, Any]
    status: str = "ok"
    pipeline: Any = None
    valid_score: float | None = None
    valid_output: np.ndarray | None = field(default=None, repr=False)
    oof_output: np.ndarray | None = field(default=None, repr=False)
    fit_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    baseline: bool = False


@dataclass
class SearchResult:
    """All candidates of a search and the one selected on validation.

    Attributes
    ----------
    candidates : list of Candidate
        Baselines, trials and the ensemble (if it was built), in the order they ran.
    metric : str
        The primary metric.
    best : Candidate
        The selected candidate; ``best.pipeline`` is the deliverable model.
    budget_s : float
        The time budget.
    elapsed_s : float
        Wall time of the whole search (trials, ensemble, refit).
    budget : dict
        Planned and actual seconds per stage (written as ``search/budget.json``).
    validation : dict
        The validation plan: mode and the fold of each search row.
    study : str or None
        Where the Optuna studies live (SQLite URL), for ``--resume``.
    """

    candidates: list[Candidate]
    metric: str
    best: Candidate
    budget_s: float
    elapsed_s: float
    budget: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    study: str | None = None
