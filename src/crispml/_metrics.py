"""Metrics by task, computed with scikit-learn, with a known direction each.

Shared by the search (validation scores) and the evaluation (test scores); the public
names are re-exported from :mod:`crispml.evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn import metrics as skm

from crispml.spec import METRICS_BY_TASK


@dataclass(frozen=True)
class Metric:
    """A named score: how to compute it and whether higher is better."""

    name: str
    greater_is_better: bool
    uses_proba: bool
    fn: Callable[[np.ndarray, np.ndarray], float]


def _binary_auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.roc_auc_score(y, p[:, 1]))


def _binary_f1(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.f1_score(y, (p[:, 1] >= 0.5).astype(int), zero_division=0.0))


def _average_precision(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.average_precision_score(y, p[:, 1]))


def _brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.brier_score_loss(y, p[:, 1]))


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.log_loss(y, p, labels=np.arange(p.shape[1])))


def _accuracy(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.accuracy_score(y, p.argmax(axis=1)))


def _macro_f1(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.f1_score(y, p.argmax(axis=1), average="macro", zero_division=0.0))


def _rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.root_mean_squared_error(y, p))


def _mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.mean_absolute_error(y, p))


def _r2(y: np.ndarray, p: np.ndarray) -> float:
    return float(skm.r2_score(y, p))


METRICS: dict[str, Metric] = {
    "roc_auc": Metric("roc_auc", True, True, _binary_auc),
    "average_precision": Metric("average_precision", True, True, _average_precision),
    "log_loss": Metric("log_loss", False, True, _log_loss),
    "accuracy": Metric("accuracy", True, True, _accuracy),
    "f1": Metric("f1", True, True, _binary_f1),
    "brier": Metric("brier", False, True, _brier),
    "macro_f1": Metric("macro_f1", True, True, _macro_f1),
    "rmse": Metric("rmse", False, False, _rmse),
    "mae": Metric("mae", False, False, _mae),
    "r2": Metric("r2", True, False, _r2),
}
"""Every metric crispml reports, by name."""


def score(name: str, y_true: np.ndarray, prediction: np.ndarray) -> float:
    """Compute one metric.

    Parameters
    ----------
    name : str
        A key of :data:`METRICS`.
    y_true : numpy.ndarray
        Encoded target (class ids 0..k-1, or values for regression).
    prediction : numpy.ndarray
        Class probabilities of shape (n, k) for classification; values for regression.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> score("accuracy", np.array([0, 1]), np.array([[0.8, 0.2], [0.3, 0.7]]))
    1.0
    """
    return METRICS[name].fn(np.asarray(y_true), np.asarray(prediction))


def score_all(task: str, y_true: np.ndarray, prediction: np.ndarray) -> dict[str, float]:
    """Compute every metric of ``task`` (see :data:`crispml.spec.METRICS_BY_TASK`).

    Parameters
    ----------
    task : str
        binary, multiclass or regression.
    y_true : numpy.ndarray
        Encoded target.
    prediction : numpy.ndarray
        Probabilities (n, k) or regression values.

    Returns
    -------
    dict of str to float
    """
    return {name: score(name, y_true, prediction) for name in METRICS_BY_TASK[task]}


def better(name: str, a: float, b: float) -> bool:
    """Tell whether score ``a`` is strictly better than ``b`` on metric ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`METRICS`.
    a, b : float
        The two scores.

    Returns
    -------
    bool
    """
    return a > b if METRICS[name].greater_is_better else a < b
