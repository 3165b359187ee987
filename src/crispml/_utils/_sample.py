"""Seeded row samples for the steps whose exact figure over a large table adds nothing.

A check such as the ONNX parity certificate compares two implementations row by row:
20,000 rows find a disagreement as surely as 200,000 do, at a tenth of the memory and
time. Each step that samples through :func:`sample_positions` records how many rows it
used out of how many (:func:`sample_note`), so a reader sees what was exact and what
was not.
"""

from __future__ import annotations

import numpy as np

PARITY_ROWS = 20_000
"""Test rows the ONNX parity check compares at most (beyond: a seeded sample)."""


def sample_positions(positions: np.ndarray, limit: int, *, seed: int) -> np.ndarray:
    """Return at most ``limit`` of ``positions``: all of them, or a seeded sample.

    Parameters
    ----------
    positions : numpy.ndarray
        Row positions (or labels) to draw from.
    limit : int
        Largest number kept; at or below it every position is returned unchanged.
    seed : int
        Seed of the draw (the same seed draws the same rows).

    Returns
    -------
    numpy.ndarray
        The kept positions, in their original order.

    Examples
    --------
    >>> sample_positions(np.arange(5), 10, seed=0).tolist()
    [0, 1, 2, 3, 4]
    >>> len(sample_positions(np.arange(1000), 10, seed=0))
    10
    """
    positions = np.asarray(positions)
    if len(positions) <= limit:
        return positions
    chosen = np.random.default_rng(seed).choice(len(positions), size=limit, replace=False)
    kept: np.ndarray = positions[np.sort(chosen)]
    return kept


def sample_note(kept: int, total: int, why: str) -> str:
    """Say how many rows a step used out of how many, and why a sample sufficed.

    Parameters
    ----------
    kept : int
        Rows used.
    total : int
        Rows available.
    why : str
        Why the sample answers the step's question as well as every row would.

    Returns
    -------
    str
        Empty when every row was used.

    Examples
    --------
    >>> sample_note(20_000, 200_000, "a disagreement shows on any rows")
    'a seeded sample of 20,000 of the 200,000 rows (a disagreement shows on any rows)'
    >>> sample_note(50, 50, "")
    ''
    """
    if kept >= total:
        return ""
    return f"a seeded sample of {kept:,} of the {total:,} rows ({why})"
