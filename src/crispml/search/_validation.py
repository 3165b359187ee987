"""How candidates are validated: bagged cross-validation when data is small, else a holdout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

CV_MAX_ROWS = 12_000
"""Above this many search rows, one holdout gives a stable enough score and saves time."""
CV_FOLDS = 5
REPEAT_MAX_ROWS = 2_000
"""At or below this many search rows, the k-fold split is repeated (reshuffled): one
split's score moves by more than the gaps between good configurations on so few rows."""
REPEATS = 2
"""Splits of a repeated cross-validation (each row held out once per split)."""
REPEAT_MIN_SEARCH_S = 120.0
"""Search seconds below which the folds are not repeated: each trial would cost twice as
much while the search affords only a few. Measured on German credit (600 search rows,
three seeds, a loaded machine): with 30 s and 60 s of search, two splits left one to
three trials where one split fitted three to nine, and the test AUC was no better."""
TUNE_MAX_ROWS = 100_000
"""Holdout mode: trials fit on at most this many training rows (a seeded random sample);
the selected model is then refitted on every search row. Above it, a trial's ranking
changes little while its cost keeps growing with the rows."""


@dataclass(frozen=True)
class ValidationPlan:
    """The folds every candidate sees (identical for all of them).

    Attributes
    ----------
    mode : {"cv", "holdout"}
        Bagged k-fold cross-validation over train + valid, or train -> valid.
    folds : list of (numpy.ndarray, numpy.ndarray)
        (fit rows, held-out rows) positions into the search rows (train then valid).
    scored : numpy.ndarray
        Positions whose out-of-fold predictions are scored (all rows in cv mode,
        the validation rows in holdout mode).
    valid : numpy.ndarray
        Positions of the validation split among the search rows.
    repeats : int
        Splits in cv mode: ``folds`` holds ``repeats`` complete k-fold splits one after
        the other, so each row is held out ``repeats`` times (its out-of-fold prediction
        is the mean), and the delivered bag has every fold model of every split.

        .. versionadded:: 0.4
    """

    mode: str
    folds: list[tuple[np.ndarray, np.ndarray]]
    scored: np.ndarray
    valid: np.ndarray
    repeats: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record: the mode and the fold of every search row."""
        fold_of = np.full(int(max(self.scored.max(), self.valid.max())) + 1, -1)
        per_split = len(self.folds) // self.repeats
        for i, (_, held) in enumerate(self.folds[:per_split]):
            fold_of[held] = i
        return {
            "mode": self.mode,
            "n_folds": len(self.folds),
            "repeats": self.repeats,
            "fit_rows": len(self.folds[0][0]),
            "fold_of_row": fold_of.tolist(),  # in the first split
        }


def plan_validation(
    y: np.ndarray,
    n_train: int,
    *,
    task: str,
    mode: str = "auto",
    n_folds: int = CV_FOLDS,
    seed: int = 0,
    max_fit_rows: int | None = None,
    repeats: int = 1,
) -> ValidationPlan:
    """Choose cross-validation or holdout and build the folds.

    Parameters
    ----------
    y : numpy.ndarray
        Encoded target of the search rows: the training split, then the validation split.
    n_train : int
        How many of the rows are the training split.
    task : str
        binary, multiclass or regression (classification folds are stratified).
    mode : {"auto", "cv", "holdout"}, default="auto"
        ``auto`` picks cv up to :data:`CV_MAX_ROWS` rows.
    n_folds : int, default=5
        Folds in cv mode (fewer when a class is too small).
    seed : int, default=0
        Shuffling seed of the folds (and of the holdout's fit sample).
    max_fit_rows : int, optional
        Holdout mode: the trials fit on a random sample of this many training rows when
        there are more (default :data:`TUNE_MAX_ROWS`); every validation row is scored.

        .. versionadded:: 0.4
    repeats : int, default=1
        cv mode: how many differently shuffled k-fold splits (see :func:`cv_repeats`).

        .. versionadded:: 0.4

    Returns
    -------
    ValidationPlan

    Examples
    --------
    >>> y = np.array([0, 1] * 50)
    >>> plan = plan_validation(y, 80, task="binary")
    >>> plan.mode, len(plan.folds), len(plan.scored)
    ('cv', 5, 100)
    >>> len(plan_validation(y, 80, task="binary", repeats=2).folds)
    10
    """
    n = len(y)
    valid = np.arange(n_train, n)
    if mode == "auto":
        mode = "cv" if n <= CV_MAX_ROWS else "holdout"
    if mode == "cv" and task != "regression":
        n_folds = min(n_folds, int(np.bincount(y.astype(int)).min()))
    if mode == "holdout" or n_folds < 2:
        return ValidationPlan(
            "holdout",
            [(_fit_rows(n_train, max_fit_rows or TUNE_MAX_ROWS, seed), valid)],
            valid,
            valid,
        )
    splitter: Any
    if task == "regression":
        splitter = RepeatedKFold(n_splits=n_folds, n_repeats=repeats, random_state=seed)
    else:
        splitter = RepeatedStratifiedKFold(n_splits=n_folds, n_repeats=repeats, random_state=seed)
    folds = [(np.asarray(a), np.asarray(b)) for a, b in splitter.split(np.zeros(n), y)]
    return ValidationPlan("cv", folds, np.arange(n), valid, repeats)


def cv_repeats(n_rows: int, search_s: float | None) -> int:
    """Return how many k-fold splits a cross-validated search uses.

    Small tables (at most :data:`REPEAT_MAX_ROWS` search rows) get :data:`REPEATS`
    splits when the search has at least :data:`REPEAT_MIN_SEARCH_S` seconds; others
    one. A deterministic search (``search_s`` is ``None``) counts its budget in trials
    and keeps one split, so a trial costs what it did.

    .. versionadded:: 0.4

    Parameters
    ----------
    n_rows : int
        Search rows (train + valid).
    search_s : float or None
        Seconds planned for the trials; ``None`` in deterministic mode.

    Returns
    -------
    int

    Examples
    --------
    >>> cv_repeats(600, 200.0), cv_repeats(600, 60.0), cv_repeats(5_000, 200.0)
    (2, 1, 1)
    """
    if search_s is None or n_rows > REPEAT_MAX_ROWS or search_s < REPEAT_MIN_SEARCH_S:
        return 1
    return REPEATS


def _fit_rows(n_train: int, cap: int, seed: int) -> np.ndarray:
    """Positions a holdout trial fits on: every training row, or a sorted sample of ``cap``."""
    if n_train <= cap:
        return np.arange(n_train)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_train, size=cap, replace=False))
