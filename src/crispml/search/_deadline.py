"""The search's one clock: a deadline on ``time.monotonic()`` with a fake for tests."""

from __future__ import annotations

import time
from collections.abc import Callable


class Deadline:
    """Seconds left of a budget, measured on a monotonic clock.

    Parameters
    ----------
    budget_s : float
        Seconds from creation until the deadline.
    clock : callable, default=time.monotonic
        Returns the current time in seconds; tests pass a fake.

    Examples
    --------
    >>> now = [0.0]
    >>> d = Deadline(10.0, clock=lambda: now[0])
    >>> now[0] = 4.0
    >>> d.remaining(), d.elapsed(), d.expired()
    (6.0, 4.0, False)
    """

    def __init__(self, budget_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget_s = float(budget_s)
        self._clock = clock
        self._start = clock()

    def elapsed(self) -> float:
        """Seconds since the deadline was created."""
        return self._clock() - self._start

    def remaining(self) -> float:
        """Seconds left, never below zero."""
        return max(0.0, self.budget_s - self.elapsed())

    def expired(self) -> bool:
        """Whether no time is left."""
        return self.remaining() <= 0.0
