"""Threads: how many a model fit uses, and how idle OpenMP threads wait.

Nothing here runs at import: the CLI calls :func:`configure_threads` first thing, and
the engagement calls it when a run starts.
"""

from __future__ import annotations

import os

WAIT_POLICY = "PASSIVE"
"""OpenMP wait policy crispml asks for (a user's ``OMP_WAIT_POLICY`` wins).

OpenMP threads (LightGBM, XGBoost, scikit-learn) spin while they wait; on a busy 2-core
machine that made a 2-thread LightGBM fit 15x slower (200 rounds on 20k x 50: 36.9 s vs
2.4 s with passive waiting). Each OpenMP runtime reads the variable once, when it loads,
so this must run before the gradient-boosting libraries are imported (crispml imports
them lazily, when a model is built).
"""


def available_cores() -> int:
    """Return the number of cores this process may run on (at least 1).

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):  # Linux: honours taskset / cgroup CPU sets
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def resolve_n_jobs(n_jobs: int | None) -> int:
    """Threads one model fit uses: ``n_jobs``, or every available core when ``None``.

    Parameters
    ----------
    n_jobs : int or None
        A positive thread count, or ``None`` for all cores.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        If ``n_jobs`` is not positive.

    Examples
    --------
    >>> resolve_n_jobs(3)
    3
    >>> resolve_n_jobs(None) == available_cores()
    True
    """
    if n_jobs is None:
        return available_cores()
    if n_jobs < 1:
        raise ValueError(f"n_jobs={n_jobs} must be a positive thread count, or None for all cores")
    return int(n_jobs)


def configure_threads(n_jobs: int | None = None) -> int:
    """Prepare the process for model fits: passive OpenMP waiting; resolve the thread count.

    Sets ``OMP_WAIT_POLICY=PASSIVE`` unless the user set it (see :data:`WAIT_POLICY`;
    it affects the OpenMP runtimes that load after the call). The thread count itself
    reaches the models through ``build(..., n_jobs=...)``, not through the environment.
    Safe to call more than once.

    Parameters
    ----------
    n_jobs : int or None, default=None
        Threads per model fit (``search.n_jobs`` in the spec); ``None`` for all cores.

    Returns
    -------
    int
        The resolved thread count (see :func:`resolve_n_jobs`).
    """
    threads = resolve_n_jobs(n_jobs)
    os.environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)
    return threads
