"""The seam where trials leave the driver: a request, a runner, and the worker's side."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from crispml.models import get_family
from crispml.search._trial import FoldData, TrialOutcome, run_trial


@dataclass(frozen=True)
class TrialRequest:
    """One configuration to fit, as sent to a worker.

    Attributes
    ----------
    family : str
        Registry key of the model family.
    params : dict
        The trial's hyperparameters.
    metric : str
        Primary metric.
    seed : int
        Model seed.
    time_left_s : float or None
        Seconds the search had left when the trial was sent (``None``: deterministic).
    """

    family: str
    params: dict[str, Any]
    metric: str
    seed: int
    time_left_s: float | None


class TrialRunner(Protocol):
    """Fits trial requests somewhere else than the search's own process."""

    width: int
    """How many trials it fits at once."""

    def run_many(self, requests: Sequence[TrialRequest]) -> list[TrialOutcome]:
        """Fit every request; return their outcomes in the same order."""
        ...  # pragma: no cover

    def submit(self, request: TrialRequest) -> Any:
        """Start fitting ``request``; return a ticket that :meth:`next_done` hands back."""
        ...  # pragma: no cover

    def next_done(self, tickets: Sequence[Any]) -> tuple[Any, TrialOutcome]:
        """Wait for the first of ``tickets`` to finish; return it with its outcome."""
        ...  # pragma: no cover


def fit_request(request: TrialRequest, data: FoldData) -> TrialOutcome:
    """Fit one request on a worker, keeping the fold scores for the driver's pruner.

    The worker cannot reach the driver's Optuna study, so nothing is pruned here: the
    partial score after each fold but the last goes back in ``info["fold_scores"]``.
    The time budget becomes a deadline on the worker's own monotonic clock.

    Parameters
    ----------
    request : TrialRequest
        What to fit.
    data : FoldData
        The preprocessed folds (a copy shipped to the worker).

    Returns
    -------
    TrialOutcome
        With ``info["fold_scores"]``: a list of (fold, partial score).
    """
    fold_scores: list[tuple[int, float]] = []
    end = None if request.time_left_s is None else time.monotonic() + request.time_left_s

    def time_left() -> float | None:
        return None if end is None else end - time.monotonic()

    def report(fold: int, value: float) -> bool:
        fold_scores.append((fold, value))
        return False

    outcome = run_trial(
        get_family(request.family), request.params, data, metric=request.metric,
        seed=request.seed, time_left=time_left, report=report,
    )  # fmt: skip
    outcome.info["fold_scores"] = fold_scores
    return outcome
