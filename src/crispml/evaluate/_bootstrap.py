"""Bootstrap confidence intervals, seeded and vectorised.

A bootstrap resample is represented by integer weights (how often each row is drawn),
so every metric becomes a weighted sum over rows and a block of resamples is a matrix
product. Rank metrics (ROC AUC) sort the scores once and use grouped cumulative sums.
On 100k rows, 1,000 resamples of any metric take a few seconds on 2 cores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from crispml._metrics import METRICS, score

DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95
_BLOCK_CELLS = 4_000_000
"""Resample weights held in memory at once (rows x resamples), about 32 MB."""
_EPS = 1e-15


@dataclass(frozen=True)
class Interval:
    """A point estimate with a percentile bootstrap confidence interval.

    Attributes
    ----------
    estimate : float
        The statistic on the full sample.
    low, high : float
        Bounds of the interval (NaN when it could not be computed).
    level : float
        Confidence level, e.g. 0.95.
    n : int
        Rows the statistic was computed on.
    """

    estimate: float
    low: float
    high: float
    level: float = CONFIDENCE
    n: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"estimate", "low", "high", "level", "n"}`` with NaN as ``None``."""
        return {
            "estimate": _finite(self.estimate),
            "low": _finite(self.low),
            "high": _finite(self.high),
            "level": self.level,
            "n": self.n,
        }


def _finite(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def resample_weights(
    n: int, n_resamples: int, *, seed: int = 0, block: int | None = None
) -> Iterator[np.ndarray]:
    """Yield blocks of bootstrap weights: arrays (b, n) of draw counts summing to ``n``.

    Parameters
    ----------
    n : int
        Rows in the sample.
    n_resamples : int
        Total resamples over all blocks.
    seed : int, default=0
        Seed; the same seed gives the same resamples.
    block : int, optional
        Resamples per block (default: as many as fit in ~32 MB).

    Yields
    ------
    numpy.ndarray
        Float weights of shape (b, n).

    Examples
    --------
    >>> blocks = list(resample_weights(5, 3, seed=1))
    >>> blocks[0].shape, blocks[0].sum(axis=1).tolist()
    ((3, 5), [5.0, 5.0, 5.0])
    """
    rng = np.random.default_rng(seed)
    size = block or max(1, min(n_resamples, _BLOCK_CELLS // max(n, 1)))
    done = 0
    while done < n_resamples:
        b = min(size, n_resamples - done)
        draws = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        yield np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)
        done += b


def weighted_metric(name: str, y: np.ndarray, output: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Compute metric ``name`` under each row of weights ``w`` (b, n); returns (b,).

    The weighted forms equal :func:`crispml.evaluate.score` when the weights are all 1.
    """
    y = np.asarray(y)
    out = np.asarray(output, dtype=np.float64)
    fn = _WEIGHTED.get(name)
    if fn is None:
        raise KeyError(f"no weighted form of metric {name!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        return fn(y, out, w)


def _mean(values: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.asarray((w @ values) / w.sum(axis=1), dtype=np.float64)


def _auc(y: np.ndarray, out: np.ndarray, w: np.ndarray) -> np.ndarray:
    s = out[:, 1] if out.ndim == 2 else out
    order = np.argsort(s, kind="mergesort")
    s, yy, ww = s[order], y[order], w[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    if len(starts) == len(s):  # no ties: each positive beats the negatives ranked below it
        neg_w = ww * (yy == 0)
        below_w = np.cumsum(neg_w, axis=1) - neg_w
        pos_w = ww * (yy == 1)
        return np.asarray(
            (pos_w * below_w).sum(axis=1) / (pos_w.sum(axis=1) * neg_w.sum(axis=1)),
            dtype=np.float64,
        )
    pos = np.add.reduceat(ww * (yy == 1), starts, axis=1)
    neg = np.add.reduceat(ww * (yy == 0), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    return np.asarray(num / (pos.sum(axis=1) * neg.sum(axis=1)), dtype=np.float64)


def _average_precision(y: np.ndarray, out: np.ndarray, w: np.ndarray) -> np.ndarray:
    """PR AUC as scikit-learn computes it: precision at each distinct score, by recall step."""
    s = out[:, 1] if out.ndim == 2 else out
    order = np.argsort(-s, kind="mergesort")
    s, yy, ww = s[order], y[order], w[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    pos = np.add.reduceat(ww * (yy == 1), starts, axis=1)
    seen = np.cumsum(np.add.reduceat(ww, starts, axis=1), axis=1)
    precision = np.cumsum(pos, axis=1) / np.where(seen > 0, seen, 1.0)
    return np.asarray((pos * precision).sum(axis=1) / pos.sum(axis=1), dtype=np.float64)


def _log_loss(y: np.ndarray, out: np.ndarray, w: np.ndarray) -> np.ndarray:
    p = np.clip(out[np.arange(len(y)), y.astype(int)], _EPS, 1.0)
    return _mean(-np.log(p), w)


def _accuracy(y: np.ndarray, out: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _mean((out.argmax(axis=1) == y).astype(np.float64), w)


def _f1_counts(hit: np.ndarray, pred: np.ndarray, true: np.ndarray, w: np.ndarray) -> np.ndarray:
    tp = w @ (hit & pred).astype(np.float64)
    fp = w @ (~hit & pred).astype(np.float64)
    fn = w @ (true & ~pred).astype(np.float64)
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1.0), 0.0)


def _f1(y: np.ndarray, out: np.ndarray, w: np.ndarray) -> np.ndarray:
    pred = out[:, 1] >= 0.5
    true = y == 1
    return _f1_counts(pred & true, pred, true, w)


def _macro_f1(y: np.ndarray, out: np.ndarray, w: np.ndarray) -> np.ndarray:
    labels = out.argmax(axis=1)
    present = np.union1d(np.unique(y), np.unique(labels))
    per_class = [_f1_counts((labels == k) & (y == k), labels == k, y == k, w) for k in present]
    return np.asarray(np.mean(per_class, axis=0), dtype=np.float64)


def _brier(y: np.ndarray, out: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _mean((out[:, 1] - (y == 1)) ** 2, w)


def _rmse(y: np.ndarray, out: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.asarray(np.sqrt(_mean((y - out) ** 2, w)), dtype=np.float64)


def _mae(y: np.ndarray, out: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _mean(np.abs(y - out), w)


def _r2(y: np.ndarray, out: np.ndarray, w: np.ndarray) -> np.ndarray:
    total = w.sum(axis=1)
    ybar = (w @ y) / total
    ss_tot = w @ (y**2) - total * ybar**2
    return np.asarray(1.0 - (w @ ((y - out) ** 2)) / ss_tot, dtype=np.float64)


_WEIGHTED: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "roc_auc": _auc,
    "average_precision": _average_precision,
    "log_loss": _log_loss,
    "accuracy": _accuracy,
    "f1": _f1,
    "brier": _brier,
    "macro_f1": _macro_f1,
    "rmse": _rmse,
    "mae": _mae,
    "r2": _r2,
}


def percentile_interval(
    estimate: float, draws: np.ndarray, *, level: float = CONFIDENCE, n: int = 0
) -> Interval:
    """Build an :class:`Interval` from bootstrap draws (NaN draws are ignored)."""
    finite = draws[np.isfinite(draws)]
    if finite.size < 2:
        return Interval(float(estimate), np.nan, np.nan, level, n)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return Interval(float(estimate), float(low), float(high), level, n)


def bootstrap_draws(
    stat: Callable[[np.ndarray], np.ndarray], n: int, *, n_resamples: int, seed: int = 0
) -> np.ndarray:
    """Evaluate ``stat`` (weights (b, n) -> (b,)) over ``n_resamples`` seeded resamples."""
    if n_resamples <= 0 or n == 0:
        return np.empty(0)
    parts = [stat(w) for w in resample_weights(n, n_resamples, seed=seed)]
    with np.errstate(invalid="ignore"):
        return np.concatenate(parts).astype(np.float64)


def bootstrap_metric(
    name: str,
    y: np.ndarray,
    output: np.ndarray,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    level: float = CONFIDENCE,
) -> Interval:
    """Metric ``name`` with a percentile bootstrap confidence interval.

    Parameters
    ----------
    name : str
        A key of :data:`crispml.evaluate.METRICS`.
    y : numpy.ndarray
        Encoded target.
    output : numpy.ndarray
        Probabilities (n, k) or regression values.
    n_resamples : int, default=1000
        Bootstrap resamples (0 gives the estimate with no interval).
    seed : int, default=0
        Seed of the resampling.
    level : float, default=0.95
        Confidence level.

    Returns
    -------
    Interval

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 500)
    >>> p1 = np.clip(y * 0.6 + rng.uniform(0, 0.4, 500), 0, 1)
    >>> ci = bootstrap_metric("accuracy", y, np.c_[1 - p1, p1], n_resamples=200)
    >>> ci.low <= ci.estimate <= ci.high
    True
    """
    y = np.asarray(y)
    output = np.asarray(output, dtype=np.float64)
    try:
        estimate = score(name, y, output)
    except ValueError:  # e.g. AUC of a sample with one class
        estimate = np.nan
    draws = bootstrap_draws(
        lambda w: weighted_metric(name, y, output, w), len(y), n_resamples=n_resamples, seed=seed
    )
    return percentile_interval(estimate, draws, level=level, n=len(y))


def metrics_with_ci(
    task: str,
    y: np.ndarray,
    output: np.ndarray,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict[str, Interval]:
    """Every metric of ``task`` with its bootstrap interval (same resamples for all).

    Parameters
    ----------
    task : str
        binary, multiclass or regression.
    y, output : numpy.ndarray
        Encoded target and predictions.
    n_resamples : int, default=1000
        Bootstrap resamples.
    seed : int, default=0
        Seed (the same for every metric, so the intervals come from the same resamples).

    Returns
    -------
    dict of str to Interval

    Examples
    --------
    >>> y = np.array([1.0, 2.0, 3.0, 4.0])
    >>> sorted(metrics_with_ci("regression", y, y + 0.5, n_resamples=20))
    ['mae', 'r2', 'rmse']
    """
    from crispml.spec import METRICS_BY_TASK

    return {
        name: bootstrap_metric(name, y, output, n_resamples=n_resamples, seed=seed)
        for name in METRICS_BY_TASK[task]
        if name in METRICS
    }
