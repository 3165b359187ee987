"""Split-conformal prediction sets (classification) and intervals (regression), via MAPIE.

The conformity scores are computed on the validation rows with the final (fitted, not
refitted) model; coverage and set size / interval width are then measured on test.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SCHEMA_VERSION = 1


def conformal_report(
    model: Any,
    X_valid: Any,
    y_valid: np.ndarray,
    X_test: Any,
    y_test: np.ndarray,
    *,
    task: str,
    coverage: float = 0.9,
    seed: int = 0,
) -> dict[str, Any]:
    """Conformalise ``model`` on validation rows and measure coverage on test.

    Parameters
    ----------
    model : estimator
        The fitted final model (``predict_proba`` for classification, ``predict`` otherwise).
    X_valid, y_valid : frame and array
        Conformalisation rows (validation split).
    X_test, y_test : frame and array
        Test rows.
    task : str
        binary, multiclass or regression.
    coverage : float, default=0.9
        Nominal coverage (MAPIE's ``confidence_level``).
    seed : int, default=0
        Random state for MAPIE.

    Returns
    -------
    dict
        ``method``, ``nominal``, ``empirical`` (coverage on test), and ``mean_set_size``,
        ``set_size_counts`` (classification) or ``mean_width``, ``median_width``
        (regression), plus ``n_conformalize`` / ``n_test``.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(900, 1)); y = 2 * X[:, 0] + rng.normal(size=900)
    >>> m = LinearRegression().fit(X[:300], y[:300])
    >>> r = conformal_report(m, X[300:600], y[300:600], X[600:], y[600:], task="regression")
    >>> abs(r["empirical"] - 0.9) < 0.05
    True
    """
    if task == "regression":
        out = _regression(model, X_valid, y_valid, X_test, y_test, coverage, seed)
    else:
        out = _classification(model, X_valid, y_valid, X_test, y_test, coverage, seed)
    out.update(
        {
            "schema_version": SCHEMA_VERSION,
            "nominal": coverage,
            "n_conformalize": len(y_valid),
            "n_test": len(y_test),
            "fitted_on": "validation",
        }
    )
    return out


def _classification(
    model: Any,
    X_valid: Any,
    y_valid: np.ndarray,
    X_test: Any,
    y_test: np.ndarray,
    coverage: float,
    seed: int,
) -> dict[str, Any]:
    from mapie.classification import SplitConformalClassifier
    from mapie.metrics.classification import classification_coverage_score

    mapie = SplitConformalClassifier(
        estimator=model, confidence_level=coverage, conformity_score="lac", random_state=seed
    )
    mapie.conformalize(X_valid, np.asarray(y_valid))
    _, sets = mapie.predict_set(X_test)
    sets = sets[:, :, 0]
    empirical = float(np.ravel(classification_coverage_score(np.asarray(y_test), sets))[0])
    sizes = sets.sum(axis=1)
    counts = {str(k): int((sizes == k).sum()) for k in range(sets.shape[1] + 1)}
    return {
        "method": "mapie SplitConformalClassifier (lac)",
        "kind": "prediction_sets",
        "empirical": empirical,
        "mean_set_size": float(sizes.mean()),
        "set_size_counts": counts,
    }


def _regression(
    model: Any,
    X_valid: Any,
    y_valid: np.ndarray,
    X_test: Any,
    y_test: np.ndarray,
    coverage: float,
    seed: int,
) -> dict[str, Any]:
    from mapie.metrics.regression import regression_coverage_score
    from mapie.regression import SplitConformalRegressor

    mapie = SplitConformalRegressor(
        estimator=model,
        confidence_level=coverage,
        conformity_score="absolute",
    )
    mapie.conformalize(X_valid, np.asarray(y_valid, dtype=np.float64))
    _, intervals = mapie.predict_interval(X_test)
    empirical = float(np.ravel(regression_coverage_score(np.asarray(y_test), intervals))[0])
    width = intervals[:, 1, 0] - intervals[:, 0, 0]
    return {
        "method": "mapie SplitConformalRegressor (absolute residual)",
        "kind": "intervals",
        "empirical": empirical,
        "mean_width": float(width.mean()),
        "median_width": float(np.median(width)),
    }
