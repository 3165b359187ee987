"""Group evidence beyond the test-set rates: calibration per group, and thresholds.

- :func:`calibration_by_group`: calibration-in-the-large (mean predicted probability
  against the observed rate) and reliability bins, per group;
- :func:`threshold_tradeoff`: the adverse impact ratio and each group's error rates
  across decision thresholds, so a reader sees what the delivered threshold costs.

Rates along the thresholds come from scikit-learn's ROC curve (one per group); the bins from
the calibration module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crispml.evaluate._calibration import reliability_bins

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
    grid = np.array(sorted({*TRADEOFF_THRESHOLDS, round(float(delivered), 4)}))
    names = sorted(set(groups.tolist()), key=str)
    rates = {str(g): _rates_at(y[groups == g], p1[groups == g], grid) for g in names}
    correct = _rates_at(y, p1, grid)["accuracy"]
    rows = []
    for i, threshold in enumerate(grid):
        selection = {g: r["selection_rate"][i] for g, r in rates.items()}
        favoured = [selection[g] if favourable == 1 else 1 - selection[g] for g in keep]
        top = max(favoured) if favoured else float("nan")
        row: dict[str, Any] = {
            "threshold": float(threshold),
            "delivered": bool(np.isclose(threshold, delivered, atol=5e-5)),
            "adverse_impact_ratio": min(favoured) / top if top > 0 else float("nan"),
            "accuracy": float(correct[i]),
        }
        for group, r in rates.items():
            for name in ("selection_rate", "fpr", "fnr"):
                row[f"{group}: {name}"] = float(r[name][i])
        rows.append(row)
    return rows


def _rates_at(y: np.ndarray, p1: np.ndarray, grid: np.ndarray) -> dict[str, np.ndarray]:
    """Decision rates of ``p1 >= t`` at every threshold ``t`` of ``grid``, from one ROC curve.

    scikit-learn's :func:`~sklearn.metrics.roc_curve` gives the false and true positive
    rates at every distinct score; each grid threshold reads the curve's point of the
    lowest score at or above it. A rate whose denominator is empty is 0, as fairlearn's
    group metrics give it.

    Examples
    --------
    >>> out = _rates_at(np.array([0, 0, 1, 1]), np.array([.1, .6, .4, .9]), np.array([.5]))
    >>> [float(out[k][0]) for k in ("selection_rate", "fpr", "fnr", "accuracy")]
    [0.5, 0.5, 0.5, 0.5]
    """
    from sklearn.metrics import roc_curve

    positives = int((y == 1).sum())
    negatives = len(y) - positives
    if positives and negatives:
        fpr, tpr, cuts = roc_curve(y == 1, p1, drop_intermediate=False)
        at = np.searchsorted(-cuts, -grid, side="right") - 1  # cuts descend: last cut >= t
        fpr, tpr = fpr[at], tpr[at]
    else:  # one class: no curve; the share at or above t is that class's rate
        above = (p1[:, None] >= grid).mean(axis=0) if len(y) else np.zeros(len(grid))
        fpr, tpr = (above, np.zeros(len(grid))) if negatives else (np.zeros(len(grid)), above)
    fp, tp = fpr * negatives, tpr * positives
    n = max(len(y), 1)
    return {
        "selection_rate": (fp + tp) / n,
        "fpr": fpr,
        "fnr": 1.0 - tpr if positives else np.zeros(len(grid)),
        "accuracy": (tp + negatives - fp) / n,
    }
