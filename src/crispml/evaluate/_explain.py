"""Explanations on raw input columns: global importance and per-row reason codes.

Tree models are explained with SHAP's ``TreeExplainer``, linear models with SHAP's
``LinearExplainer``; the SHAP values of the encoded columns (one-hot levels, missing
indicators, TF-IDF terms) are summed per raw input column. Any other model gets
scikit-learn's permutation importance on the raw columns and no reason codes.

Reason codes are the ``k`` raw columns whose contributions push a row's prediction most
towards the adverse outcome, taken to be the positive class (binary) or a higher value
(regression) -- the basis of an adverse-action notice.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)
SCHEMA_VERSION = 1
MAX_ROWS = 2000
"""Rows explained at most (a seeded sample of the test set beyond that)."""
BACKGROUND_ROWS = 200


def output_sources(preprocessor: Any) -> list[str]:
    """Raw input column of every output column of a fitted crispml ``ColumnTransformer``.

    Parameters
    ----------
    preprocessor : sklearn.compose.ColumnTransformer
        Fitted, from :func:`crispml.features.build_preprocessor` (either flavour).

    Returns
    -------
    list of str
        One raw column name per output column, in output order.

    Examples
    --------
    >>> from crispml.data import infer_schema
    >>> from crispml.features import build_preprocessor
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "y": [0, 1, 0]})
    >>> pre = build_preprocessor(infer_schema(df, target="y")).fit(df[["x", "c"]])
    >>> output_sources(pre)
    ['x', 'c', 'c']
    """
    sources: list[str] = []
    for _name, trans, cols in preprocessor.transformers_:
        if trans == "drop" or (isinstance(cols, list) and not cols):
            continue
        if isinstance(cols, str):  # a text column: every term belongs to it
            sources += [cols] * len(trans.get_feature_names_out())
            continue
        sources += _sources_of(trans, list(cols))
    return sources


def _sources_of(trans: Any, cols: list[str]) -> list[str]:
    if trans == "passthrough":
        return cols
    if hasattr(trans, "sources_"):  # crispml.features.DateFeatures: many outputs per column
        return list(trans.sources_)
    if hasattr(trans, "steps"):  # imputer (with missing indicators) then scaler
        imputer = trans.steps[0][1]
        indicator = getattr(imputer, "indicator_", None)
        extra = [cols[i] for i in indicator.features_] if indicator is not None else []
        return cols + extra
    if hasattr(trans, "categories_"):  # one-hot, with rare levels grouped
        out = []
        infrequent = getattr(trans, "infrequent_categories_", [None] * len(cols))
        for col, cats, rare in zip(cols, trans.categories_, infrequent, strict=True):
            n = len(cats) - (len(rare) - 1 if rare is not None else 0)
            out += [col] * n
        return out
    return cols


def _to_raw(values: np.ndarray, sources: list[str], columns: list[str]) -> np.ndarray:
    """Sum encoded-column contributions (n, m) into raw columns (n, len(columns))."""
    index = {c: i for i, c in enumerate(columns)}
    agg = np.zeros((values.shape[0], len(columns)))
    np.add.at(agg.T, [index[s] for s in sources], values.T)
    return agg


def _positive_shap(raw: Any, n_outputs: int) -> np.ndarray:
    """SHAP values for the adverse output: binary positive class, or the single output."""
    values = np.asarray(raw.values if hasattr(raw, "values") else raw, dtype=np.float64)
    if values.ndim == 3:
        return values[:, :, -1] if n_outputs <= 2 else np.abs(values).sum(axis=2)
    return values


def explain_model(
    model: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    task: str,
    metric: str,
    top_k: int = 3,
    n_reason_rows: int = 100,
    seed: int = 0,
) -> dict[str, Any]:
    """Global importance per raw column, and reason codes for the highest-risk rows.

    Parameters
    ----------
    model : estimator
        The final model: a crispml pipeline (``features`` then ``model``), possibly
        wrapped in a :class:`~crispml.evaluate.CalibratedModel` (the monotone map does not
        change which columns push a prediction up).
    X : pandas.DataFrame
        Conformed rows to explain (the test set).
    y : numpy.ndarray
        Encoded target of ``X`` (for permutation importance).
    task, metric : str
        Task and primary metric.
    top_k : int, default=3
        Reason codes per row.
    n_reason_rows : int, default=100
        Rows that get reason codes: those with the highest adverse-outcome prediction.
    seed : int, default=0
        Seed of row sampling and permutations.

    Returns
    -------
    dict
        ``method``, ``importance`` (list of ``{column, importance}``, most important first:
        mean absolute contribution, or the permutation drop in the metric), and
        ``reason_codes`` (``{position, prediction, reasons: [{column, value, contribution}]}``).
    """
    pipeline = getattr(model, "base_", model)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), MAX_ROWS, replace=False)) if len(X) > MAX_ROWS else None
    Xs = X.iloc[rows] if rows is not None else X
    ys = np.asarray(y)[rows] if rows is not None else np.asarray(y)
    contributions = None
    try:
        contributions, method = _shap_contributions(pipeline, Xs, task, seed)
    except Exception as exc:  # a model shap cannot read: fall back, and say so
        logger.info("SHAP not available for this model (%s); using permutation", exc)
    if contributions is None:
        return _permutation(model, Xs, ys, task=task, metric=metric, seed=seed)
    importance = _ranked(X.columns, np.abs(contributions).mean(axis=0))
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "method": method,
        "n_rows": len(Xs),
        "importance": importance,
        "adverse_outcome": "higher value" if task == "regression" else "positive class",
    }
    out["reason_codes"] = (
        reason_codes(model, Xs, contributions, task=task, k=top_k, n_rows=n_reason_rows)
        if task != "multiclass"
        else []
    )
    return out


def _shap_contributions(
    pipeline: Any, X: pd.DataFrame, task: str, seed: int
) -> tuple[np.ndarray | None, str]:
    import shap

    features, estimator = pipeline[:-1], pipeline[-1]
    encoded = np.asarray(features.transform(X), dtype=np.float64)
    sources = output_sources(features[-1] if hasattr(features, "steps") else features)
    n_outputs = 1 if task == "regression" else len(getattr(estimator, "classes_", [0, 1]))
    if hasattr(estimator, "coef_"):
        rng = np.random.default_rng(seed)
        take = rng.choice(len(encoded), min(BACKGROUND_ROWS, len(encoded)), replace=False)
        explainer = shap.LinearExplainer(estimator, encoded[take])
        method = "shap.LinearExplainer"
    else:
        explainer = shap.TreeExplainer(estimator)
        method = "shap.TreeExplainer"
    with warnings.catch_warnings():  # shap's notice that LightGBM output is now a list
        warnings.filterwarnings("ignore", message=".*shap values output has changed.*")
        values = _positive_shap(explainer.shap_values(encoded), n_outputs)
    return _to_raw(values, sources, list(X.columns)), method


def reason_codes(
    model: Any,
    X: pd.DataFrame,
    contributions: np.ndarray,
    *,
    task: str,
    k: int = 3,
    n_rows: int = 100,
) -> list[dict[str, Any]]:
    """Top-``k`` raw columns pushing each of the highest-risk rows towards the adverse outcome.

    Parameters
    ----------
    model : estimator
        The final model (scores the rows).
    X : pandas.DataFrame
        Conformed rows, aligned with ``contributions``.
    contributions : numpy.ndarray
        Per-row, per-raw-column contributions (n, p) towards the adverse outcome.
    task : str
        binary or regression.
    k : int, default=3
        Reasons per row (only columns with a positive contribution are listed).
    n_rows : int, default=100
        Rows listed, highest predicted risk first.

    Returns
    -------
    list of dict
    """
    pred = np.asarray(
        model.predict(X) if task == "regression" else model.predict_proba(X)[:, 1],
        dtype=np.float64,
    )
    order = np.argsort(-pred, kind="mergesort")[:n_rows]
    columns = list(X.columns)
    out = []
    for i in order:
        top = np.argsort(-contributions[i], kind="mergesort")[:k]
        reasons = [
            {
                "column": columns[j],
                "value": _plain(X.iloc[i, j]),
                "contribution": float(contributions[i, j]),
            }
            for j in top
            if contributions[i, j] > 0
        ]
        out.append({"position": int(X.index[i]), "prediction": float(pred[i]), "reasons": reasons})
    return out


def _ranked(columns: Any, values: np.ndarray) -> list[dict[str, Any]]:
    """``[{column, importance}]``, most important first."""
    pairs = sorted(zip(map(str, columns), values.tolist(), strict=True), key=lambda kv: -kv[1])
    return [{"column": c, "importance": float(v)} for c, v in pairs]


def _plain(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    return str(value)


def _permutation(
    model: Any, X: pd.DataFrame, y: np.ndarray, *, task: str, metric: str, seed: int
) -> dict[str, Any]:
    from sklearn.inspection import permutation_importance

    from crispml._metrics import METRICS, score
    from crispml.models import predict_output

    sign = 1.0 if METRICS[metric].greater_is_better else -1.0

    def scorer(estimator: Any, Xp: pd.DataFrame, yp: np.ndarray) -> float:
        return sign * score(metric, yp, predict_output(estimator, Xp, task))

    result = permutation_importance(model, X, y, scoring=scorer, n_repeats=5, random_state=seed)
    importance = _ranked(X.columns, result.importances_mean)
    return {
        "schema_version": SCHEMA_VERSION,
        "method": f"permutation importance ({metric})",
        "n_rows": len(X),
        "importance": importance,
        "adverse_outcome": "higher value" if task == "regression" else "positive class",
        "reason_codes": [],
        "note": "no per-row attributions for this model family",
    }
