"""How long the command has been running (its start-up counts against a budget)."""

from __future__ import annotations

import os
import time
from pathlib import Path

_COMMAND_START: list[float] = []
"""Monotonic instant the ``crispml`` process started, set by the command's entry point."""


def mark_command_start() -> None:
    """Record that this process is a ``crispml`` command, started :func:`process_age_s` ago.

    Called by the entry point only: where crispml runs inside another program (a
    notebook, a test runner), that program's age is none of the engagement's budget.
    """
    _COMMAND_START[:] = [time.monotonic() - process_age_s()]


def startup_spent_s() -> float:
    """Return the seconds since the ``crispml`` command started, 0.0 when not run as one.

    Examples
    --------
    >>> startup_spent_s() if not _COMMAND_START else 0.0
    0.0
    """
    return time.monotonic() - _COMMAND_START[0] if _COMMAND_START else 0.0


def process_age_s() -> float:
    """Return the seconds since this process started, or 0.0 where that cannot be read.

    Read from ``/proc`` (Linux): the process's start time in clock ticks since boot,
    against the system's uptime. The command line's start-up (interpreter, imports, the
    spec) then counts against ``time_budget_s`` like every phase does.
    """
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of proc(5)
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, uptime - started)
