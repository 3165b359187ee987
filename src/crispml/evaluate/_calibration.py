"""Calibration: Brier score, expected calibration error, reliability diagram, post-hoc maps.

The post-hoc map is fitted on validation predictions only and kept when it lowers the
validation log loss measured out of fold (5-fold cross-fitting over the validation rows,
so the map is never scored on the rows it was fitted on). The kept map lives inside the
deployable model, :class:`CalibratedModel`, as plain arrays an ONNX exporter can read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.validation import check_is_fitted

from crispml.exceptions import DataError

N_BINS = 10
MIN_GAIN = 1e-3
"""Relative drop in validation log loss a map must bring to be kept (noise is not a gain)."""
_EPS = 1e-6
METHODS = ("isotonic", "sigmoid")
_MSG_NOT_BINARY = (
    "CalibratedModel: the target has {k} classes; post-hoc calibration is fitted for binary "
    "targets only. Use the uncalibrated model for multiclass."
)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.asarray(np.log(p / (1 - p)), dtype=np.float64)


class CalibratedModel(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A fitted binary classifier followed by a calibration map and a decision threshold.

    The map applies to the base model's positive-class probability ``p``:

    - ``method="isotonic"``: ``np.interp(p, x_thresholds_, y_thresholds_)`` (piecewise
      linear, constant beyond the end points);
    - ``method="sigmoid"``: ``1 / (1 + exp(-(a_ * logit(p) + b_)))`` with
      ``logit(p) = log(p / (1 - p))`` and ``p`` clipped to ``[1e-6, 1 - 1e-6]``.

    Multiclass targets are not calibrated (``fit`` raises :class:`DataError`): crispml
    reports their top-label calibration but ships the base model unchanged.

    Parameters
    ----------
    base : estimator
        A fitted pipeline/model taking the conformed frame, with ``predict_proba``.
    method : {"isotonic", "sigmoid"}, default="isotonic"
        The calibration map.
    threshold : float, default=0.5
        Decision threshold on the calibrated positive-class probability used by ``predict``.

    Attributes
    ----------
    base_ : estimator
        The fitted base model (not refitted).
    method_ : str
        The map in use.
    x_thresholds_, y_thresholds_ : numpy.ndarray
        Isotonic map knots (isotonic only).
    a_, b_ : float
        Sigmoid slope and intercept (sigmoid only).
    threshold_ : float
        Decision threshold.
    classes_ : numpy.ndarray
        ``[0, 1]`` (the encoded classes).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2)); y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    >>> base = LogisticRegression().fit(X[:200], y[:200])
    >>> model = CalibratedModel(base=base, method="sigmoid").fit(X[200:], y[200:])
    >>> model.predict_proba(X[:3]).shape
    (3, 2)
    """

    def __init__(self, *, base: Any = None, method: str = "isotonic", threshold: float = 0.5):
        self.base = base
        self.method = method
        self.threshold = threshold

    def fit(self, X: Any, y: np.ndarray) -> CalibratedModel:
        """Fit the map on (validation) rows ``X`` with encoded target ``y``; returns self."""
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r}; use one of {', '.join(METHODS)}")
        return self.fit_proba(np.asarray(self.base.predict_proba(X), dtype=np.float64), y)

    def fit_proba(self, proba: np.ndarray, y: np.ndarray) -> CalibratedModel:
        """Fit the map from the base model's held-out probabilities ``proba``; returns self.

        Use this when the base model has seen the rows ``X`` would name (e.g. bagged
        cross-validation models): ``proba`` are then their out-of-fold predictions.
        """
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r}; use one of {', '.join(METHODS)}")
        raw = np.asarray(proba, dtype=np.float64)
        if raw.ndim != 2 or raw.shape[1] != 2:
            raise DataError(_MSG_NOT_BINARY.format(k=raw.shape[-1]))
        self.base_ = self.base
        self.method_ = self.method
        self.classes_ = np.array([0, 1])
        self.threshold_ = float(self.threshold)
        self._fit_map(raw[:, 1], np.asarray(y))
        return self

    def _fit_map(self, p: np.ndarray, y: np.ndarray) -> None:
        if self.method_ == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, y)
            self.x_thresholds_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
            self.y_thresholds_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        else:
            lr = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(p)[:, None], y)
            self.a_ = float(lr.coef_[0, 0])
            self.b_ = float(lr.intercept_[0])

    def calibrate(self, p: np.ndarray) -> np.ndarray:
        """Apply the fitted map to positive-class probabilities ``p``."""
        check_is_fitted(self, "method_")
        p = np.asarray(p, dtype=np.float64)
        if self.method_ == "isotonic":
            return np.asarray(
                np.interp(p, self.x_thresholds_, self.y_thresholds_), dtype=np.float64
            )
        return 1.0 / (1.0 + np.exp(-(self.a_ * _logit(p) + self.b_)))

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated class probabilities, shape (n, 2)."""
        check_is_fitted(self, "method_")
        p1 = self.calibrate(np.asarray(self.base_.predict_proba(X), dtype=np.float64)[:, 1])
        return np.asarray(np.c_[1.0 - p1, p1], dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        """Predict 0/1: positive when the calibrated probability is >= ``threshold_``."""
        return (self.predict_proba(X)[:, 1] >= self.threshold_).astype(np.int64)


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


def choose_calibration(
    base: Any,
    X_valid: Any,
    y_valid: np.ndarray,
    *,
    seed: int = 0,
    folds: int = 5,
    valid_proba: np.ndarray | None = None,
) -> tuple[CalibratedModel | None, dict[str, Any]]:
    """Fit isotonic and sigmoid maps on validation rows; keep the best if it helps.

    Each map is scored by its out-of-fold log loss over the validation rows
    (``folds``-fold cross-fitting); the uncalibrated model's log loss on the same rows is
    the bar to beat, by at least ``MIN_GAIN`` (relative). The kept map is then refitted on
    every validation row.

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
        helps or the target is not binary) and a JSON-ready record of the comparison.
    """
    proba = base.predict_proba(X_valid) if valid_proba is None else valid_proba
    raw = np.asarray(proba, dtype=np.float64)
    y = np.asarray(y_valid)
    if raw.shape[1] != 2:
        return None, {"kept": None, "reason": "multiclass: not calibrated (see CalibratedModel)"}
    scores = {"none": float(log_loss(y, raw, labels=[0, 1]))}
    n_splits = int(min(folds, np.bincount(y, minlength=2).min()))
    if n_splits < 2:
        return None, {"kept": None, "reason": "too few rows of one class in validation"}
    cv = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for method in METHODS:
        oof = np.empty(len(y))
        for fit_idx, eval_idx in cv.split(raw, y):
            m = CalibratedModel(base=_Fixed(raw[fit_idx]), method=method)
            m.fit(np.arange(len(fit_idx)), y[fit_idx])
            oof[eval_idx] = m.calibrate(raw[eval_idx, 1])
        oof = np.clip(oof, _EPS, 1 - _EPS)
        scores[method] = float(log_loss(y, np.c_[1 - oof, oof], labels=[0, 1]))
    best = min(scores, key=lambda k: scores[k])
    if scores[best] > scores["none"] * (1 - MIN_GAIN):
        best = "none"
    record: dict[str, Any] = {"kept": None if best == "none" else best, "valid_log_loss": scores}
    if best == "none":
        record["reason"] = "no map lowered the out-of-fold validation log loss"
        return None, record
    return CalibratedModel(base=base, method=best).fit_proba(raw, y), record


class _Fixed:
    """Stands in for a model whose validation probabilities are already known."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = proba

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(self.proba[np.asarray(rows, dtype=int)], dtype=np.float64)


def plot_reliability(record: dict[str, Any]) -> bytes:
    """SVG reliability diagram of the ``before``/``after`` test bins in ``record``."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
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
    plt.close(fig)
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
