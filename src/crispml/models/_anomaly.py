"""Anomaly detectors: scikit-learn estimators that score how unusual a row is.

Each detector is a stock scikit-learn estimator that skl2onnx converts (its
``decision_function`` becomes the graph's ``scores`` output), so a detector is served
through the same ONNX path as any model. ``EllipticEnvelope`` (robust covariance) is
left out on purpose: skl2onnx 1.20 has no converter for it.

The anomaly score is ``-decision_function``: higher means more anomalous, and a row is
flagged when its score is above 0, which scikit-learn places so that the training rows
are flagged at the contamination share the spec names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM

from crispml.exceptions import UnknownModelFamilyError

FLAG_THRESHOLD = 0.0
"""A row is flagged as anomalous when its anomaly score is above this value."""
_MSG_UNKNOWN = "no anomaly detector {name!r}. Known: {known}. Set search.families to some of them."


@dataclass(frozen=True)
class Detector:
    """One kind of anomaly detector: its defaults and a small search space.

    Attributes
    ----------
    name : str
        Registry key (lower_snake).
    make : callable
        ``make(params, contamination, seed)`` returns the unfitted estimator.
    space : dict
        Parameter name to ``(kind, low, high)`` with kind ``int``, ``float`` or
        ``log`` (a float searched on a log scale).
    seeded : bool
        Whether the fit depends on the seed (randomised detectors).
    """

    name: str
    make: Callable[[Mapping[str, Any], float, int], Any]
    space: dict[str, tuple[str, float, float]]
    seeded: bool


def _isolation_forest(params: Mapping[str, Any], contamination: float, seed: int) -> Any:
    return IsolationForest(
        n_estimators=int(params.get("n_estimators", 100)),
        max_samples=float(params.get("max_samples", 1.0)) if "max_samples" in params else "auto",
        max_features=float(params.get("max_features", 1.0)),
        contamination=contamination,
        random_state=seed,
        n_jobs=1,
    )


def _local_outlier_factor(params: Mapping[str, Any], contamination: float, seed: int) -> Any:
    del seed  # deterministic
    return LocalOutlierFactor(
        n_neighbors=int(params.get("n_neighbors", 20)), novelty=True, contamination=contamination
    )


def _one_class_svm(params: Mapping[str, Any], contamination: float, seed: int) -> Any:
    del seed  # deterministic
    # nu bounds the share of training rows outside the boundary: the contamination.
    return OneClassSVM(nu=contamination, gamma=params.get("gamma", "scale"))


DETECTORS: dict[str, Detector] = {
    d.name: d
    for d in (
        Detector(
            "isolation_forest",
            _isolation_forest,
            {
                "n_estimators": ("int", 50, 300),
                "max_samples": ("float", 0.2, 1.0),
                "max_features": ("float", 0.5, 1.0),
            },
            seeded=True,
        ),
        Detector(
            "local_outlier_factor",
            _local_outlier_factor,
            {"n_neighbors": ("int", 5, 60)},
            seeded=False,
        ),
        Detector("one_class_svm", _one_class_svm, {"gamma": ("log", 1e-3, 1.0)}, seeded=False),
    )
}
"""The anomaly detectors the search may use, by name."""


def get_detector(name: str) -> Detector:
    """Return the detector registered as ``name``.

    Raises
    ------
    UnknownModelFamilyError
        If no detector has that name.

    Examples
    --------
    >>> get_detector("isolation_forest").seeded
    True
    """
    if name not in DETECTORS:
        raise UnknownModelFamilyError(
            _MSG_UNKNOWN.format(name=name, known=", ".join(sorted(DETECTORS)))
        )
    return DETECTORS[name]


def anomaly_scores(model: Any, X: Any) -> np.ndarray:
    """Anomaly scores of a fitted detector (or pipeline ending in one): higher is stranger.

    Parameters
    ----------
    model : estimator
        A fitted detector with ``decision_function`` (positive: normal).
    X : array-like or DataFrame
        Its input.

    Returns
    -------
    numpy.ndarray
        ``-decision_function(X)``; above :data:`FLAG_THRESHOLD` means flagged.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 2)), [[8.0, 8.0]]])
    >>> det = IsolationForest(contamination=0.01, random_state=0).fit(X)
    >>> int(np.argmax(anomaly_scores(det, X)))
    200
    """
    return -np.asarray(model.decision_function(X), dtype=np.float64).reshape(-1)


def precision_at_k(y: np.ndarray, scores: np.ndarray, k: int) -> float:
    """Share of known anomalies among the ``k`` highest-scored rows.

    Parameters
    ----------
    y : numpy.ndarray
        1 for a known anomaly, 0 otherwise.
    scores : numpy.ndarray
        Anomaly scores (higher is stranger).
    k : int
        How many top rows are inspected (at least 1).

    Returns
    -------
    float

    Examples
    --------
    >>> precision_at_k(np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.2, 0.8]), 2)
    0.5
    """
    order = np.argsort(-np.asarray(scores), kind="stable")[: max(1, int(k))]
    return float(np.asarray(y)[order].mean())


def top_k(n_rows: int, contamination: float) -> int:
    """Rows inspected by precision@k: the expected number of anomalies, at least 1.

    Parameters
    ----------
    n_rows : int
        Rows scored.
    contamination : float
        Expected share of anomalies.

    Returns
    -------
    int

    Examples
    --------
    >>> top_k(1000, 0.05)
    50
    """
    return max(1, round(n_rows * contamination))
