"""How long the current process has been running (its start-up counts against a budget)."""

from __future__ import annotations

import os
from pathlib import Path


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
