"""The Ray backend: trials fitted as Ray tasks, asked and told by the driver's Optuna.

Optuna's ask/tell stays in the driver, exactly as in the local backend: the loop asks a
trial, a Ray task fits it on a worker, the loop tells the result. The split, the budget,
the leaderboard, the study and MLflow tracking (done by the driver after the search) are
therefore the local backend's own code; only the fit moves. Ray Tune with its Optuna
searcher was not chosen: it would own the loop, the budget and the trial names, which
would make the leaderboard a second, different contract.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from crispml.exceptions import MissingDependencyError, SearchError
from crispml.search._runner import TrialRequest, fit_request
from crispml.search._trial import FoldData, TrialOutcome

logger = logging.getLogger(__name__)

_MSG_NO_RAY = (
    "search.backend = 'ray' needs the package 'ray', which is not installed. "
    'Run: pip install "crispml[ray]", or set search.backend: local'
)
_MSG_UNREACHABLE = (
    "search.ray_address = {address!r}: no Ray cluster answers there ({reason}). "
    "Start one (ray start --head) or fix the address; 'auto' joins the cluster on this machine"
)
CONNECT_TIMEOUT_S = 5.0
"""Seconds to wait for a Ray client server before calling the address unreachable."""


class RayRunner:
    """Fits trials as Ray tasks of one CPU each on a Ray cluster.

    Use :meth:`connect`; :meth:`close` disconnects if this runner made the connection.
    Trials go out one by one (:meth:`submit`) and come back in the order they finish
    (:meth:`next_done`, on ``ray.wait``), so the search keeps every worker busy.

    Parameters
    ----------
    ray : module
        The imported ``ray`` package.
    data_ref : object
        The folds, put once in Ray's object store.
    width : int
        CPUs in the cluster: how many trials are fitted at once.
    owned : bool
        Whether this runner started the connection (and so ends it).
    """

    def __init__(self, *, ray: Any, data_ref: Any, width: int, owned: bool) -> None:
        self.ray, self.data_ref, self.width, self.owned = ray, data_ref, width, owned
        self._task = ray.remote(num_cpus=1, max_retries=0)(fit_request)
        self._sent: dict[Any, TrialRequest] = {}

    @classmethod
    def connect(cls, address: str | None, data: FoldData) -> RayRunner:
        """Join (or start) a Ray cluster and ship the folds to it.

        Parameters
        ----------
        address : str or None
            ``auto`` (the cluster started on this machine by ``ray start``),
            ``ray://host:port`` (a remote cluster's client server), or ``None`` (reuse
            the connection already open in this process, else Ray's default: the
            cluster in ``RAY_ADDRESS`` or last started here, else a new local Ray).
        data : FoldData
            The preprocessed folds every trial fits on.

        Returns
        -------
        RayRunner

        Raises
        ------
        MissingDependencyError
            If ray is not installed.
        SearchError
            If no cluster answers at ``address``.
        """
        try:
            import ray
        except ImportError as exc:
            raise MissingDependencyError(_MSG_NO_RAY) from exc
        owned = not ray.is_initialized()
        if owned:
            _check_reachable(address)
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise SearchError(_MSG_UNREACHABLE.format(address=address, reason=reason)) from exc
        width = max(1, int(ray.cluster_resources().get("CPU", 1)))  # type: ignore[no-untyped-call]
        logger.info("Ray backend: %d CPUs at %s", width, address or "this process's Ray")
        runner = cls(ray=ray, data_ref=ray.put(data), width=width, owned=owned)
        runner.warm_up()
        return runner

    def warm_up(self) -> None:
        """Start one worker per CPU and load crispml in each, all at once.

        A fresh worker spends seconds importing the model libraries; paid in parallel
        here, it is not paid one worker after the other by the first trials.
        """
        warm = self.ray.remote(num_cpus=1, max_retries=0)(_load_search)
        self.ray.get([warm.remote() for _ in range(self.width)])

    def run_many(self, requests: Sequence[TrialRequest]) -> list[TrialOutcome]:
        """Fit every request as a Ray task; return the outcomes in request order.

        Parameters
        ----------
        requests : sequence of TrialRequest
            The trials to fit.

        Returns
        -------
        list of TrialOutcome
        """
        tickets = [self.submit(request) for request in requests]
        return [self._collect(ticket) for ticket in tickets]

    def submit(self, request: TrialRequest) -> Any:
        """Start one Ray task fitting ``request``.

        .. versionadded:: 0.4

        Parameters
        ----------
        request : TrialRequest
            The trial to fit.

        Returns
        -------
        ray.ObjectRef
            The ticket :meth:`next_done` hands back when the trial has finished.
        """
        ticket = self._task.remote(request, self.data_ref)
        self._sent[ticket] = request
        return ticket

    def next_done(self, tickets: Sequence[Any]) -> tuple[Any, TrialOutcome]:
        """Wait (``ray.wait``) for the first of ``tickets`` to finish.

        .. versionadded:: 0.4

        Parameters
        ----------
        tickets : sequence of ray.ObjectRef
            Tickets from :meth:`submit` not yet handed back.

        Returns
        -------
        tuple of (ray.ObjectRef, TrialOutcome)
            The finished ticket and its outcome (``failed`` if the task was lost).
        """
        (ready, *_), _ = self.ray.wait(list(tickets), num_returns=1)
        return ready, self._collect(ready)

    def _collect(self, ticket: Any) -> TrialOutcome:
        """Return a submitted trial's outcome; a lost worker fails the trial, not the search."""
        request = self._sent.pop(ticket)
        try:
            outcome: TrialOutcome = self.ray.get(ticket)
        except Exception as exc:
            logger.warning("%s: Ray task failed: %s", request.family, exc)
            error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            return TrialOutcome("failed", info={"error": error})
        return outcome

    def close(self) -> None:
        """Drop the shipped folds; disconnect if this runner opened the connection."""
        self.data_ref = None
        if self.owned:
            self.ray.shutdown()


def _load_search() -> bool:
    """Import what a trial needs (run on a worker by :meth:`RayRunner.warm_up`)."""
    import crispml.search._trial

    return crispml.search._trial.run_trial is not None


def check_backend(backend: str, address: str | None) -> None:
    """Refuse a Ray backend that cannot work, before the run does any work.

    Parameters
    ----------
    backend : str
        ``search.backend``.
    address : str or None
        ``search.ray_address``; a ``ray://`` address must answer.

    Raises
    ------
    MissingDependencyError
        If the backend is ``ray`` and ray is not installed.
    SearchError
        If nobody listens at a ``ray://`` address.
    """
    if backend != "ray":
        return
    try:
        import ray  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError(_MSG_NO_RAY) from exc
    _check_reachable(address)


def _check_reachable(address: str | None) -> None:
    """Fail fast, in one line, when a ``ray://`` address has nobody listening."""
    if address is None or not address.startswith("ray://"):
        return
    parts = urlsplit(address)
    try:
        port = parts.port or 10001
    except ValueError as exc:
        raise SearchError(_MSG_UNREACHABLE.format(address=address, reason=str(exc))) from exc
    try:
        with socket.create_connection((parts.hostname or "", port), CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SearchError(_MSG_UNREACHABLE.format(address=address, reason=reason)) from exc
