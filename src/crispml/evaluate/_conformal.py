"""Split-conformal prediction sets (classification) and intervals (regression), via MAPIE.

The conformity scores are computed on the validation rows with the final (fitted, not
refitted) model; coverage and set size / interval width are then measured on test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

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
    valid_output: np.ndarray | None = None,
    test_output: np.ndarray | None = None,
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
    valid_output : numpy.ndarray, optional
        Held-out predictions of ``model`` on the validation rows (out-of-fold when the
        model's bagged fold models have seen them). Conformity scores must come from
        rows the model did not see, or the sets and intervals come out too narrow.
    test_output : numpy.ndarray, optional
        ``model``'s predictions on the test rows when already computed (reused, not
        predicted again).

        .. versionadded:: 0.3

    Returns
    -------
    dict
        ``method``, ``nominal``, ``empirical`` (coverage on test), and ``mean_set_size``,
        ``set_size_counts`` (classification) or ``mean_width``, ``median_width``
        (regression), plus ``n_conformalize`` / ``n_test``, and ``qhat`` with its
        ``rule``: the conformity-score quantile that serving applies to each row.

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
    fitted_on = "validation"
    known: list[tuple[pd.Index, np.ndarray]] = []
    if valid_output is not None and isinstance(X_valid, pd.DataFrame):
        known.append((X_valid.index, np.asarray(valid_output, dtype=np.float64)))
        fitted_on = "held-out validation predictions"
    if test_output is not None and isinstance(X_test, pd.DataFrame):
        known.append((X_test.index, np.asarray(test_output, dtype=np.float64)))
    if known:
        model = _Known(model, known)
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
            "fitted_on": fitted_on,
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
    inner = mapie._mapie_classifier  # MAPIE keeps its fitted scores on the inner estimator
    qhat = float(
        np.ravel(
            inner.conformity_score_function_.get_conformity_score_quantiles(
                inner.conformity_scores_, np.array([1.0 - coverage]), cv="prefit"
            )
        )[0]
    )
    empirical = float(np.ravel(classification_coverage_score(np.asarray(y_test), sets))[0])
    sizes = sets.sum(axis=1)
    counts = {str(k): int((sizes == k).sum()) for k in range(sets.shape[1] + 1)}
    return {
        "method": "mapie SplitConformalClassifier (lac)",
        "kind": "prediction_sets",
        "empirical": empirical,
        "mean_set_size": float(sizes.mean()),
        "set_size_counts": counts,
        "qhat": qhat,
        "rule": "a class is in the set when its probability >= 1 - qhat",
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
    qhat = float(width[0] / 2) if len(width) else None  # absolute residual: one half-width
    return {
        "method": "mapie SplitConformalRegressor (absolute residual)",
        "kind": "intervals",
        "empirical": empirical,
        "mean_width": float(width.mean()),
        "median_width": float(np.median(width)),
        "qhat": qhat,
        "rule": "the interval is prediction - qhat to prediction + qhat",
    }


class _Known:
    """A fitted model that answers with predictions already made for some frames.

    MAPIE asks the (prefit) model for its predictions on the conformalisation rows and
    on the test rows. For the validation rows this answers with the held-out
    (out-of-fold) predictions; for the test rows with the delivered model's test output,
    computed once by the evaluation (frames matched by their index); any other rows are
    predicted by the model itself.
    """

    def __init__(self, model: Any, known: list[tuple[pd.Index, np.ndarray]]) -> None:
        self.model = model
        self.known = known
        self.classes_ = getattr(model, "classes_", None)
        self.__sklearn_is_fitted__ = lambda: True

    def fit(self, X: Any, y: Any) -> _Known:
        """Do nothing: the model is already fitted (MAPIE checks the method exists)."""
        return self

    def _answer(self, X: Any) -> np.ndarray | None:
        if not isinstance(X, pd.DataFrame):
            return None
        return next((out for index, out in self.known if X.index.equals(index)), None)

    def predict_proba(self, X: Any) -> np.ndarray:
        out = self._answer(X)
        if out is not None:
            return out
        return np.asarray(self.model.predict_proba(X), dtype=np.float64)

    def predict(self, X: Any) -> np.ndarray:
        out = self._answer(X)
        if out is not None:
            return out.argmax(axis=1) if out.ndim == 2 else out
        return np.asarray(self.model.predict(X))
