"""Calibration: Brier score, expected calibration error, reliability diagram, post-hoc maps.

The post-hoc map is fitted on validation predictions only and kept when it lowers the
validation log loss measured out of fold (5-fold cross-fitting over the validation rows,
so the map is never scored on the rows it was fitted on). Binary targets compare
isotonic, sigmoid and temperature maps; multiclass targets temperature scaling. The
kept map lives inside the deployable model, :class:`crispml.models.CalibratedModel`
(re-exported here), which describes the map to the ONNX exporter through its export
protocol.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import KFold, StratifiedKFold

from crispml.models import CalibratedModel as CalibratedModel  # re-exported (moved there)
from crispml.models._calibrated import CLIP, METHODS

N_BINS = 10
MIN_GAIN = 1e-3
"""Relative drop in validation log loss a map must bring to be kept (noise is not a gain)."""


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, *, n_bins: int = N_BINS) -> float:
    """Compute the expected calibration error with equal-width bins.

    For binary targets the positive-class probability is binned; for multiclass the
    top-label confidence against top-label accuracy.

    Parameters
    ----------
    y : numpy.ndarray
        Encoded target.
    proba : numpy.ndarray
        Class probabilities (n, k).
    n_bins : int, default=10
        Equal-width bins over [0, 1].

    Returns
    -------
    float
        Sum over bins of (bin share of rows) x |observed rate - mean predicted|.

    Examples
    --------
    >>> proba = np.array([[0.9, 0.1], [0.1, 0.9], [0.1, 0.9], [0.9, 0.1]])
    >>> round(expected_calibration_error(np.array([0, 1, 1, 0]), proba), 3)
    0.1
    """
    bins = reliability_bins(y, proba, n_bins=n_bins)
    n = sum(b["count"] for b in bins)
    return float(sum(b["count"] / n * abs(b["observed"] - b["predicted"]) for b in bins))


def reliability_bins(
    y: np.ndarray, proba: np.ndarray, *, n_bins: int = N_BINS
) -> list[dict[str, float]]:
    """Reliability-diagram data: per non-empty bin, mean predicted, observed rate, count."""
    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y)
    if proba.shape[1] == 2:
        conf, hit = proba[:, 1], (y == 1).astype(np.float64)
    else:
        conf = proba.max(axis=1)
        hit = (proba.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, n_bins - 1)
    out = []
    for b in range(n_bins):
        mask = idx == b
        if mask.any():
            out.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "predicted": float(conf[mask].mean()),
                    "observed": float(hit[mask].mean()),
                    "count": int(mask.sum()),
                }
            )
    return out


def calibration_summary(y: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """Brier score (binary), ECE and reliability bins of predictions ``proba``.

    Parameters
    ----------
    y : numpy.ndarray
        Encoded target.
    proba : numpy.ndarray
        Class probabilities (n, k).

    Returns
    -------
    dict
        ``ece``, ``bins`` (see :func:`reliability_bins`) and, for binary, ``brier``.

    Examples
    --------
    >>> out = calibration_summary(np.array([0, 1]), np.array([[0.8, 0.2], [0.3, 0.7]]))
    >>> round(out["brier"], 3), len(out["bins"])
    (0.065, 2)
    """
    proba = np.asarray(proba, dtype=np.float64)
    out: dict[str, Any] = {
        "ece": expected_calibration_error(y, proba),
        "bins": reliability_bins(y, proba),
    }
    if proba.shape[1] == 2:
        out["brier"] = float(brier_score_loss(np.asarray(y) == 1, proba[:, 1]))
    return out


def calibrate_output(model: Any, output: np.ndarray) -> np.ndarray:
    """Pass held-out probabilities through ``model``'s calibration map, if it has one.

    Parameters
    ----------
    model : estimator
        The delivered model: a :class:`CalibratedModel`, or a pipeline (returned as is).
    output : numpy.ndarray
        Uncalibrated probabilities (n, k) of the selected pipeline on rows it did not see.

    Returns
    -------
    numpy.ndarray
        The delivered model's probabilities (n, k) for those rows.
    """
    if not isinstance(model, CalibratedModel):
        return output
    return model.calibrate_proba(output)


def choose_calibration(
    base: Any,
    X_valid: Any,
    y_valid: np.ndarray,
    *,
    seed: int = 0,
    folds: int = 5,
    valid_proba: np.ndarray | None = None,
) -> tuple[CalibratedModel | None, dict[str, Any]]:
    """Fit calibration maps on validation rows; keep the best if it helps.

    Binary targets compare isotonic, sigmoid and temperature maps; multiclass targets
    temperature scaling (the others are binary maps). Each map is scored by its
    out-of-fold log loss over the validation rows (``folds``-fold cross-fitting); the
    uncalibrated model's log loss on the same rows is the bar to beat, by at least
    ``MIN_GAIN`` (relative). The kept map is then refitted on every validation row.

    Parameters
    ----------
    base : estimator
        The fitted selected pipeline (``predict_proba`` on the conformed frame).
    X_valid, y_valid : frame and array
        Validation rows and encoded target.
    seed : int, default=0
        Seed of the fold assignment.
    folds : int, default=5
        Cross-fitting folds over the validation rows.
    valid_proba : numpy.ndarray, optional
        Held-out probabilities of ``base`` on the validation rows (out-of-fold when the
        search bagged cross-validation models, which have seen those rows); default
        ``base.predict_proba(X_valid)``.

    Returns
    -------
    tuple
        ``(model or None, record)``: the :class:`CalibratedModel` (None when no map
        helps) and a JSON-ready record of the comparison; when temperature scaling is
        kept, ``record["temperature"]`` is the temperature fitted on every row.
    """
    proba = base.predict_proba(X_valid) if valid_proba is None else valid_proba
    raw = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y_valid)
    labels = list(range(raw.shape[1]))
    methods = METHODS if raw.shape[1] == 2 else ("temperature",)
    scores = {"none": float(log_loss(y, raw, labels=labels))}
    splits = _splits(y, raw.shape[1], folds, seed)
    if splits is None:
        return None, {"kept": None, "reason": "too few validation rows to cross-fit a map"}
    for method in methods:
        oof = np.empty_like(raw)
        for fit_idx, eval_idx in splits:
            m = CalibratedModel(base=_Fixed(raw[fit_idx]), method=method)
            m.fit(np.arange(len(fit_idx)), y[fit_idx])
            oof[eval_idx] = m.calibrate_proba(raw[eval_idx])
        oof = np.clip(oof, CLIP, 1 - CLIP)
        scores[method] = float(log_loss(y, oof / oof.sum(axis=1, keepdims=True), labels=labels))
    best = min(scores, key=lambda k: scores[k])
    if scores[best] > scores["none"] * (1 - MIN_GAIN):
        best = "none"
    record: dict[str, Any] = {"kept": None if best == "none" else best, "valid_log_loss": scores}
    if best == "none":
        record["reason"] = "no map lowered the out-of-fold validation log loss"
        return None, record
    model = CalibratedModel(base=base, method=best).fit_proba(raw, y)
    if best == "temperature":
        record["temperature"] = model.temperature_
    return model, record


def _splits(
    y: np.ndarray, n_classes: int, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Cross-fitting folds over the validation rows, stratified while every class allows.

    A class with fewer rows than folds (common with many classes) falls back to plain
    shuffled folds; ``None`` when there are too few rows for two folds of a binary map.
    """
    counts = np.bincount(y, minlength=n_classes)
    n_splits = int(min(folds, counts.min()))
    splitter: Any
    if n_splits >= 2:
        splitter = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    elif n_classes > 2 and len(y) >= 2 * folds:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        return None
    return [(np.asarray(a), np.asarray(b)) for a, b in splitter.split(np.zeros(len(y)), y)]


class _Fixed:
    """Stands in for a model whose validation probabilities are already known."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = proba

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.proba[np.asarray(rows, dtype=int)], dtype=np.float64)


def plot_reliability(record: dict[str, Any]) -> bytes:
    """SVG reliability diagram of the ``before``/``after`` test bins in ``record``."""
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.5, 4.5))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect")
    for key, style in (("uncalibrated", "o-"), ("calibrated", "s-")):
        part = record.get(key)
        if part:
            xs = [b["predicted"] for b in part["bins"]]
            ys = [b["observed"] for b in part["bins"]]
            ax.plot(xs, ys, style, label=f"{key} (ECE {part['ece']:.3f})")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("observed frequency")
    ax.set_title("Reliability on the test set")
    ax.legend(loc="upper left", fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    return buf.getvalue()


def ece_interval(
    y: np.ndarray, proba: np.ndarray, *, n_resamples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """ECE with a bootstrap interval (bins fixed, rows resampled), as ``Interval.to_dict``."""
    from crispml.evaluate._bootstrap import bootstrap_draws, percentile_interval

    proba = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y)
    if proba.shape[1] == 2:
        conf, hit = proba[:, 1], (y == 1).astype(np.float64)
    else:
        conf, hit = proba.max(axis=1), (proba.argmax(axis=1) == y).astype(np.float64)
    idx = np.clip(np.digitize(conf, np.linspace(0.0, 1.0, N_BINS + 1)[1:-1]), 0, N_BINS - 1)
    onehot = np.eye(N_BINS)[idx]  # (n, bins)

    def stat(w: np.ndarray) -> np.ndarray:
        gap = (w @ (onehot * conf[:, None])) - (w @ (onehot * hit[:, None]))
        return np.asarray(np.abs(gap).sum(axis=1) / w.sum(axis=1), dtype=np.float64)

    draws = bootstrap_draws(stat, len(y), n_resamples=n_resamples, seed=seed)
    estimate = expected_calibration_error(y, proba)
    return percentile_interval(estimate, draws, n=len(y)).to_dict()
