"""The calibrated model: a fitted classifier, a calibration map and a decision threshold.

The map is fitted by :func:`crispml.evaluate.choose_calibration` on validation rows;
this module only holds the deployable object, whose map :mod:`crispml.deploy` exports
from :meth:`CalibratedModel.export_spec`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from crispml.exceptions import DataError
from crispml.models._deployable import (
    CalibrationMap,
    DeployableModel,
    IsotonicMap,
    SigmoidMap,
    TemperatureMap,
)

__all__ = ["BINARY_METHODS", "METHODS", "CalibratedModel", "fit_temperature"]

METHODS = ("isotonic", "sigmoid", "temperature")
"""The calibration maps a :class:`CalibratedModel` can hold."""
BINARY_METHODS = ("isotonic", "sigmoid")
"""The maps defined on the positive-class probability only (binary targets)."""
CLIP = 1e-6
"""Clip of the probabilities before the sigmoid map's logit and the temperature's log."""
LOG_T_BOUNDS = (-3.0, 3.0)
"""Bounds of ``log(temperature)`` searched by :func:`fit_temperature` (T in 0.05 to 20)."""
_MSG_NOT_BINARY = (
    "CalibratedModel: the target has {k} classes; the {method} map is fitted for binary "
    "targets only. Use method='temperature' for multiclass."
)
_MSG_METHOD = "CalibratedModel: method={method!r} is not a calibration map; use one of {known}."
_MSG_THRESHOLD = (
    "CalibratedModel: threshold={value!r} is outside [0, 1]; use a probability such as 0.5."
)


def logit(p: np.ndarray) -> np.ndarray:
    """Return ``log(p / (1 - p))`` with ``p`` clipped to ``[CLIP, 1 - CLIP]``."""
    p = np.clip(p, CLIP, 1 - CLIP)
    return np.asarray(np.log(p / (1 - p)), dtype=np.float64)


def fit_temperature(proba: np.ndarray, y: np.ndarray) -> float:
    """Return the temperature minimising the log loss of ``softmax(log(proba) / T)``.

    A one-parameter fit (bounded scalar search over ``log T``) on held-out
    probabilities, so it cannot overfit the way a per-class map can on few rows.

    Parameters
    ----------
    proba : numpy.ndarray
        Held-out class probabilities (n, k) of the base model.
    y : numpy.ndarray
        Encoded target (0 .. k-1).

    Returns
    -------
    float
        The temperature ``T > 0``.

    Examples
    --------
    >>> proba = np.array([[0.99, 0.01], [0.01, 0.99], [0.99, 0.01], [0.01, 0.99]])
    >>> fit_temperature(proba, np.array([0, 1, 1, 0])) > 1.0  # over-confident: soften
    True
    """
    logp = np.log(np.clip(np.asarray(proba, dtype=np.float64), CLIP, 1.0))
    rows, y = np.arange(len(logp)), np.asarray(y, dtype=np.int64)

    def loss(log_t: float) -> float:
        return float(-log_softmax(logp / np.exp(log_t), axis=1)[rows, y].mean())

    found = minimize_scalar(loss, bounds=LOG_T_BOUNDS, method="bounded")
    return float(np.exp(found.x))


def apply_temperature(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Return ``softmax(log(clip(proba, CLIP, 1)) / temperature)`` row by row."""
    logp = np.log(np.clip(np.asarray(proba, dtype=np.float64), CLIP, 1.0))
    return np.asarray(np.exp(log_softmax(logp / temperature, axis=1)), dtype=np.float64)


class CalibratedModel(DeployableModel, ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A fitted classifier followed by a calibration map and a decision threshold.

    The binary maps apply to the base model's positive-class probability ``p``:

    - ``method="isotonic"``: ``np.interp(p, x_thresholds_, y_thresholds_)`` (piecewise
      linear, constant beyond the end points);
    - ``method="sigmoid"``: ``1 / (1 + exp(-(a_ * logit(p) + b_)))`` with
      ``logit(p) = log(p / (1 - p))`` and ``p`` clipped to ``[1e-6, 1 - 1e-6]``.

    Temperature scaling applies to every class probability, binary or multiclass:

    - ``method="temperature"``: ``softmax(log(p) / temperature_)`` over the classes of a
      row, ``p`` clipped to ``[1e-6, 1]``; the most probable class is unchanged.

    Parameters
    ----------
    base : estimator
        A fitted pipeline/model taking the conformed frame, with ``predict_proba``.
    method : {"isotonic", "sigmoid", "temperature"}, default="isotonic"
        The calibration map (isotonic and sigmoid: binary targets only).
    threshold : float, default=0.5
        Decision threshold on the calibrated positive-class probability used by ``predict``
        (binary only; multiclass predicts the most probable class).

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
    temperature_ : float
        The temperature (temperature only).
    threshold_ : float
        Decision threshold.
    classes_ : numpy.ndarray
        The encoded classes ``0 .. k-1``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2)); y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    >>> base = LogisticRegression().fit(X[:200], y[:200])
    >>> model = CalibratedModel(base=base, method="sigmoid").fit(X[200:], y[200:])
    >>> model.predict_proba(X[:3]).shape
    (3, 2)
    >>> model.set_threshold(0.3).export_spec().threshold
    0.3
    """

    def __init__(self, *, base: Any = None, method: str = "isotonic", threshold: float = 0.5):
        self.base = base
        self.method = method
        self.threshold = threshold

    def fit(self, X: Any, y: np.ndarray) -> CalibratedModel:
        """Fit the map on (validation) rows ``X`` with encoded target ``y``; returns self."""
        self._check_method()
        return self.fit_proba(np.asarray(self.base.predict_proba(X), dtype=np.float64), y)

    def fit_proba(self, proba: np.ndarray, y: np.ndarray) -> CalibratedModel:
        """Fit the map from the base model's held-out probabilities ``proba``; returns self.

        Use this when the base model has seen the rows ``X`` would name (e.g. bagged
        cross-validation models): ``proba`` are then their out-of-fold predictions.
        """
        self._check_method()
        raw = np.asarray(proba, dtype=np.float64)
        if raw.ndim != 2 or (raw.shape[1] != 2 and self.method in BINARY_METHODS):
            raise DataError(_MSG_NOT_BINARY.format(k=raw.shape[-1], method=self.method))
        self.base_ = self.base
        self.method_ = self.method
        self.classes_ = np.arange(raw.shape[1])
        self.threshold_ = _checked_threshold(self.threshold)
        if self.method_ == "temperature":
            self.temperature_ = fit_temperature(raw, np.asarray(y))
        else:
            self._fit_map(raw[:, 1], np.asarray(y))
        return self

    def set_threshold(self, threshold: float) -> CalibratedModel:
        """Set the decision threshold of a fitted model (parameter and fitted value); returns self.

        The map is kept; only ``predict`` and the exported decision change. A
        :func:`sklearn.base.clone` keeps the threshold too.

        Parameters
        ----------
        threshold : float
            The new threshold on the calibrated positive-class probability, in [0, 1].

        Returns
        -------
        CalibratedModel
            ``self``.

        Raises
        ------
        ValueError
            If ``threshold`` is not in [0, 1].
        """
        value = _checked_threshold(threshold)
        self.threshold = value
        self.threshold_ = value
        return self

    def _check_method(self) -> None:
        if self.method not in METHODS:
            raise ValueError(_MSG_METHOD.format(method=self.method, known=", ".join(METHODS)))

    def _fit_map(self, p: np.ndarray, y: np.ndarray) -> None:
        if self.method_ == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, y)
            self.x_thresholds_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
            self.y_thresholds_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        else:
            lr = LogisticRegression(C=1e6, max_iter=1000).fit(logit(p)[:, None], y)
            self.a_ = float(lr.coef_[0, 0])
            self.b_ = float(lr.intercept_[0])

    def calibrate(self, p: np.ndarray) -> np.ndarray:
        """Apply the fitted map to positive-class probabilities ``p`` (binary targets)."""
        check_is_fitted(self, "method_")
        p = np.asarray(p, dtype=np.float64)
        if self.method_ == "temperature":
            return self.calibrate_proba(np.c_[1.0 - p, p])[:, 1]
        if self.method_ == "isotonic":
            return np.asarray(
                np.interp(p, self.x_thresholds_, self.y_thresholds_), dtype=np.float64
            )
        return np.asarray(1.0 / (1.0 + np.exp(-(self.a_ * logit(p) + self.b_))), np.float64)

    def calibrate_proba(self, proba: np.ndarray) -> np.ndarray:
        """Apply the fitted map to the base's class probabilities ``proba`` (n, k).

        Parameters
        ----------
        proba : numpy.ndarray
            Uncalibrated class probabilities, e.g. held-out predictions of the base.

        Returns
        -------
        numpy.ndarray
            Calibrated class probabilities (n, k).
        """
        check_is_fitted(self, "method_")
        raw = np.asarray(proba, dtype=np.float64)
        if self.method_ == "temperature":
            return apply_temperature(raw, self.temperature_)
        p1 = self.calibrate(raw[:, 1])
        return np.asarray(np.c_[1.0 - p1, p1], dtype=np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated class probabilities, shape (n, k)."""
        check_is_fitted(self, "method_")
        return self.calibrate_proba(np.asarray(self.base_.predict_proba(X), dtype=np.float64))

    def predict(self, X: Any) -> np.ndarray:
        """Predict the class: binary, 1 when the calibrated probability is >= ``threshold_``.

        Multiclass: the most probable class (temperature keeps the base's ranking).
        """
        proba = self.predict_proba(X)
        if proba.shape[1] != 2:
            return np.asarray(proba.argmax(axis=1), dtype=np.int64)
        return (proba[:, 1] >= self.threshold_).astype(np.int64)

    def export_spec(self) -> CalibrationMap:
        """Describe the fitted model for export: base, map and decision threshold.

        Returns
        -------
        CalibrationMap
        """
        check_is_fitted(self, "method_")
        mapping: IsotonicMap | SigmoidMap | TemperatureMap
        if self.method_ == "temperature":
            mapping = TemperatureMap(temperature=float(self.temperature_), clip=CLIP)
        elif self.method_ == "isotonic":
            mapping = IsotonicMap(
                x=tuple(float(v) for v in self.x_thresholds_),
                y=tuple(float(v) for v in self.y_thresholds_),
            )
        else:
            mapping = SigmoidMap(a=float(self.a_), b=float(self.b_), clip=CLIP)
        return CalibrationMap(base=self.base_, map=mapping, threshold=float(self.threshold_))


def _checked_threshold(value: float) -> float:
    threshold = float(value)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(_MSG_THRESHOLD.format(value=value))
    return threshold
