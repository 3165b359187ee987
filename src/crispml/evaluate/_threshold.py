"""The decision threshold (binary): chosen on validation, reported on test.

Objectives: ``cost`` (minimise ``fp * FP + fn * FN``), ``f1`` (maximise F1) or
``precision_at`` (maximise recall subject to precision >= ``min_precision``). Rows with
positive-class probability ``>= threshold`` are predicted positive.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, roc_curve

from crispml.evaluate._bootstrap import DEFAULT_RESAMPLES, bootstrap_draws, percentile_interval

OBJECTIVES = ("cost", "f1", "precision_at")


def _counts(y: np.ndarray, p1: np.ndarray) -> dict[str, np.ndarray]:
    """TP/FP/FN/TN at every distinct threshold (sklearn's ROC curve, all points kept)."""
    fpr, tpr, thresholds = roc_curve(y, p1, drop_intermediate=False)
    n_pos = float((y == 1).sum())
    n_neg = float((y == 0).sum())
    tp, fp = tpr * n_pos, fpr * n_neg
    thresholds = np.minimum(thresholds, 1.0)  # the first point (inf) predicts nothing positive
    thresholds[0] = np.nextafter(1.0, 2.0)
    return {"t": thresholds, "tp": tp, "fp": fp, "fn": n_pos - tp, "tn": n_neg - fp}


def choose_threshold(
    y_valid: np.ndarray,
    p1_valid: np.ndarray,
    *,
    objective: str = "f1",
    costs: tuple[float, float] | None = None,
    min_precision: float | None = None,
) -> dict[str, Any]:
    """Pick the decision threshold on validation predictions.

    Parameters
    ----------
    y_valid : numpy.ndarray
        Encoded binary target (0/1).
    p1_valid : numpy.ndarray
        Positive-class probability (of the final, possibly calibrated, model).
    objective : {"cost", "f1", "precision_at"}, default="f1"
        What the threshold optimises.
    costs : tuple of (float, float), optional
        ``(fp, fn)`` costs; needed for ``cost``.
    min_precision : float, optional
        Precision floor; needed for ``precision_at``.

    Returns
    -------
    dict
        ``threshold``, ``objective``, ``valid_value`` (the objective's value on
        validation), and a note when the precision floor cannot be met.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1]); p = np.array([0.1, 0.4, 0.35, 0.8])
    >>> choose_threshold(y, p, objective="cost", costs=(1.0, 10.0))["threshold"]
    0.35
    """
    y = np.asarray(y_valid)
    c = _counts(y, np.asarray(p1_valid, dtype=np.float64))
    note = None
    with np.errstate(divide="ignore", invalid="ignore"):
        if objective == "cost":
            fp_cost, fn_cost = costs if costs is not None else (1.0, 1.0)
            value = -(fp_cost * c["fp"] + fn_cost * c["fn"]) / len(y)
        elif objective == "f1":
            value = np.nan_to_num(2 * c["tp"] / (2 * c["tp"] + c["fp"] + c["fn"]))
        elif objective == "precision_at":
            precision = np.where(c["tp"] + c["fp"] > 0, c["tp"] / (c["tp"] + c["fp"]), 1.0)
            recall = c["tp"] / max(c["tp"][-1], 1.0)
            ok = precision >= (min_precision or 0.0)
            if not ok[1:].any():
                note = f"no threshold reaches precision {min_precision} on validation"
            value = np.where(ok, recall, -1.0)
        else:
            raise ValueError(f"objective={objective!r}; use one of {', '.join(OBJECTIVES)}")
    best = int(np.argmax(value))
    record: dict[str, Any] = {
        "objective": objective,
        "threshold": float(c["t"][best]),
        "valid_value": float(-value[best] if objective == "cost" else value[best]),
    }
    if objective == "cost":
        record["costs"] = {"fp": costs[0] if costs else 1.0, "fn": costs[1] if costs else 1.0}
        record["valid_value_meaning"] = "mean cost per row"
    if objective == "precision_at":
        record["min_precision"] = min_precision
        record["valid_value_meaning"] = "recall at the precision floor"
    if note:
        record["note"] = note
    return record


def decision_report(
    y: np.ndarray, p1: np.ndarray, threshold: float, costs: tuple[float, float] | None = None
) -> dict[str, Any]:
    """Confusion matrix and rates of the decisions ``p1 >= threshold`` against ``y``.

    Parameters
    ----------
    y : numpy.ndarray
        Encoded binary target.
    p1 : numpy.ndarray
        Positive-class probability.
    threshold : float
        Decision threshold.
    costs : tuple of (float, float), optional
        ``(fp, fn)``; adds ``mean_cost``.

    Returns
    -------
    dict
        ``threshold``, ``confusion`` (tn, fp, fn, tp), ``precision``, ``recall``, ``f1``,
        ``accuracy``, ``selection_rate`` (None when undefined) and ``mean_cost``.

    Examples
    --------
    >>> decision_report(np.array([0, 1]), np.array([0.3, 0.6]), 0.5)["confusion"]
    {'tn': 1, 'fp': 0, 'fn': 0, 'tp': 1}
    """
    y = np.asarray(y)
    pred = (np.asarray(p1) >= threshold).astype(int)
    tn, fp, fn, tp = (int(v) for v in confusion_matrix(y, pred, labels=[0, 1]).ravel())
    out: dict[str, Any] = {
        "threshold": float(threshold),
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
        "accuracy": (tp + tn) / len(y) if len(y) else None,
        "selection_rate": (tp + fp) / len(y) if len(y) else None,
    }
    if costs is not None:
        out["mean_cost"] = (costs[0] * fp + costs[1] * fn) / len(y) if len(y) else None
    return out


def decision_intervals(
    y: np.ndarray,
    p1: np.ndarray,
    threshold: float,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, Any]:
    """Precision, recall and F1 of the decisions ``p1 >= threshold``, with bootstrap CIs.

    .. versionadded:: 0.2

    Parameters
    ----------
    y : numpy.ndarray
        Encoded binary target.
    p1 : numpy.ndarray
        Positive-class probability.
    threshold : float
        The delivered decision threshold.
    n_resamples : int, default=1000
        Bootstrap resamples (the same rows for the three statistics).
    seed : int, default=0
        Seed of the resampling.

    Returns
    -------
    dict
        ``precision``, ``recall`` and ``f1``, each ``{estimate, low, high, level, n}``
        (``None`` where undefined, e.g. precision when nothing is flagged).

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1] * 50); p = np.array([0.1, 0.6, 0.7, 0.2] * 50)
    >>> ci = decision_intervals(y, p, 0.5, n_resamples=200)
    >>> ci["precision"]["estimate"], ci["precision"]["low"] < 0.5 < ci["precision"]["high"]
    (0.5, True)
    """
    y = np.asarray(y)
    flagged = (np.asarray(p1) >= threshold).astype(np.float64)
    positive = (y == 1).astype(np.float64)
    hit = flagged * positive

    def ratios(w: np.ndarray) -> dict[str, np.ndarray]:
        tp, pred, true = w @ hit, w @ flagged, w @ positive
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"precision": tp / pred, "recall": tp / true, "f1": 2 * tp / (pred + true)}

    full = {k: float(v[0]) for k, v in ratios(np.ones((1, len(y)))).items()}
    out: dict[str, Any] = {}
    for name, estimate in full.items():

        def stat(w: np.ndarray, name: str = name) -> np.ndarray:
            return ratios(w)[name]

        draws = bootstrap_draws(stat, len(y), n_resamples=n_resamples, seed=seed)
        out[name] = percentile_interval(estimate, draws, n=len(y)).to_dict()
    return out
