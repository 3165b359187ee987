"""Group evidence beyond the test-set rates: calibration per group, and thresholds.

- :func:`calibration_by_group`: calibration-in-the-large (mean predicted probability
  against the observed rate) and reliability bins, per group;
- :func:`threshold_tradeoff`: the adverse impact ratio and each group's error rates
  across decision thresholds, so a reader sees what the delivered threshold costs.

Group rates come from fairlearn (:func:`group_rates`); the bins from the calibration module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crispml.evaluate._calibration import reliability_bins
from crispml.evaluate._fairness import group_rates

TRADEOFF_THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.05, 0.96, 0.05))
"""The grid of :func:`threshold_tradeoff` (the delivered threshold is added to it)."""


def calibration_by_group(
    y: np.ndarray, p1: np.ndarray, groups: np.ndarray, *, n_bins: int = 5
) -> dict[str, dict[str, Any]]:
    """Mean predicted probability against the observed rate, and reliability bins, per group.

    Parameters
    ----------
    y : numpy.ndarray
        Encoded binary target.
    p1 : numpy.ndarray
        Delivered probability of the positive class.
    groups : numpy.ndarray
        Group label of each row.
    n_bins : int, default=5
        Reliability bins per group (few: groups are small).

    Returns
    -------
    dict
        Group -> ``count``, ``mean_predicted``, ``observed``, ``difference`` (predicted
        minus observed: calibration-in-the-large) and ``bins``.

    Examples
    --------
    >>> out = calibration_by_group(np.array([0, 1, 1, 1]), np.array([.2, .8, .5, .5]),
    ...                            np.array(["a", "a", "b", "b"]))
    >>> out["b"]["mean_predicted"], out["b"]["observed"]
    (0.5, 1.0)
    """
    out: dict[str, dict[str, Any]] = {}
    for group in sorted(set(groups.tolist())):
        rows = groups == group
        predicted, observed = float(p1[rows].mean()), float((y[rows] == 1).mean())
        proba = np.column_stack([1.0 - p1[rows], p1[rows]])
        out[str(group)] = {
            "count": int(rows.sum()),
            "mean_predicted": predicted,
            "observed": observed,
            "difference": predicted - observed,
            "bins": reliability_bins(y[rows], proba, n_bins=n_bins),
        }
    return out


def threshold_tradeoff(
    y: np.ndarray,
    p1: np.ndarray,
    groups: np.ndarray,
    *,
    favourable: int,
    delivered: float,
    keep: list[str],
) -> list[dict[str, Any]]:
    """Adverse impact ratio and group error rates at each threshold of a grid.

    Parameters
    ----------
    y : numpy.ndarray
        Encoded binary target.
    p1 : numpy.ndarray
        Delivered probability of the positive class.
    groups : numpy.ndarray
        Group label of each row.
    favourable : int
        Encoded favourable class (0 or 1).
    delivered : float
        The delivered threshold, added to the grid and marked.
    keep : list of str
        Groups large enough to enter the ratio (see ``groups_in_gaps``).

    Returns
    -------
    list of dict
        One row per threshold: ``threshold``, ``delivered``, ``adverse_impact_ratio``,
        ``accuracy`` and, per group, ``selection_rate``, ``fpr``, ``fnr``.
    """
    grid = sorted({*TRADEOFF_THRESHOLDS, round(float(delivered), 4)})
    rows = []
    for threshold in grid:
        pred = (p1 >= threshold).astype(int)
        by_group = group_rates(y, pred, groups, "selection_rate", "fpr", "fnr")
        favoured = (
            by_group["selection_rate"] if favourable == 1 else 1 - by_group["selection_rate"]
        )
        favoured = favoured[[g for g in favoured.index if g in keep]]
        top = float(favoured.max()) if len(favoured) else float("nan")
        ratio = float(favoured.min()) / top if top > 0 else float("nan")
        row: dict[str, Any] = {
            "threshold": float(threshold),
            "delivered": bool(np.isclose(threshold, delivered, atol=5e-5)),
            "adverse_impact_ratio": ratio,
            "accuracy": float((pred == y).mean()),
        }
        for group in by_group.index:
            for name in ("selection_rate", "fpr", "fnr"):
                row[f"{group}: {name}"] = float(by_group.loc[group, name])
        rows.append(row)
    return rows
