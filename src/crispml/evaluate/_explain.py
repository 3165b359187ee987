"""Explanations on raw input columns: global importance and adverse-action reasons.

Attributions are exact and per row (see :mod:`crispml.evaluate._attribution`): TreeSHAP
for tree families, exact linear terms for linear models, weighted over an ensemble's
members, summed per raw input column. A model with no exact attribution gets
scikit-learn's permutation importance on the raw columns and no reasons.

Reasons are given for adverse decisions only (the class that is not
``problem.favourable_label``, decided at the delivered threshold): the ``k`` raw columns
whose contributions push the row toward the adverse outcome, largest first. Columns
pushing toward approval are never reasons; a missing input is listed as missing.
Attributions live in each member's margin space (log-odds for boosted trees and
logistic models); the calibration map is monotone, so the ranking is the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crispml.evaluate._attribution import NotExplainable, attribute, decompose
from crispml.models import predict_output

logger = logging.getLogger(__name__)
SCHEMA_VERSION = 2
METHOD = "exact: TreeSHAP (shap) for trees, linear terms for linear models, ensemble-weighted"
MAX_ROWS = 2000
PROBE_ROWS = 25
"""Rows whose attribution time sets the cost per row when the seconds are bounded."""
"""Rows explained at most (a seeded sample of the test set beyond that)."""


@dataclass(frozen=True)
class ReasonPolicy:
    """How decisions are read and reasons worded.

    Attributes
    ----------
    top_k : int
        Reasons per adverse decision.
    threshold : float
        Binary decision threshold on the (calibrated) positive-class probability.
    favourable : int
        Encoded favourable class (0 or 1); the other one is the adverse outcome.
    labels : tuple of str
        Class names in encoded order.
    statements : mapping
        ``explain.reason_statements``: column -> plain statement (``{value}`` is
        replaced by the row's value), or ``{high, low}`` statements of a numeric column.
    references : mapping
        Training median of each numeric column (which of ``high``/``low`` applies).
    """

    top_k: int = 4
    threshold: float = 0.5
    favourable: int = 0
    labels: tuple[str, ...] = ("0", "1")
    statements: Mapping[str, Any] = field(default_factory=dict)
    references: Mapping[str, float] = field(default_factory=dict)

    @property
    def adverse_label(self) -> str:
        """Name of the adverse class."""
        return self.labels[1 - self.favourable]

    def adverse_text(self, task: str) -> str:
        """Return the adverse outcome in words."""
        return "higher value" if task == "regression" else f"decision {self.adverse_label!r}"

    def document(self) -> dict[str, Any]:
        """Return what serving needs to read decisions and word reasons (JSON-ready)."""
        return {
            "favourable": self.favourable,
            "labels": list(self.labels),
            "top_k": self.top_k,
            "statements": dict(self.statements),
            "references": dict(self.references),
        }

    def statement(self, column: str, value: Any) -> str:
        """Plain statement of one reason: the spec's, else built from the column and value."""
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        template = self.statements.get(column)
        if isinstance(template, Mapping):
            reference = self.references.get(column)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and reference is not None:
                template = template.get(_side(float(value), reference) or "")
            else:
                template = template.get(str(value))
        if template:
            return str(template).replace("{value}", shown)
        return f"{column.replace('_', ' ')} of {shown} weighed toward {self.adverse_label!r}"


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


def explain_model(
    model: Any,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    task: str,
    metric: str,
    top_k: int = 4,
    n_reason_rows: int = 100,
    seed: int = 0,
    background: pd.DataFrame | None = None,
    policy: ReasonPolicy | None = None,
    max_rows: int = MAX_ROWS,
    max_seconds: float | None = None,
    output: np.ndarray | None = None,
) -> dict[str, Any]:
    """Global importance per raw column, and adverse-action reasons for adverse decisions.

    Parameters
    ----------
    model : estimator
        The final model: a crispml pipeline, a weighted ensemble or a calibrated model
        (explained through its base: the monotone map keeps every row's ranking).
    X : pandas.DataFrame
        Conformed rows to explain (the test set).
    y : numpy.ndarray
        Encoded target of ``X`` (for permutation importance).
    task, metric : str
        Task and primary metric.
    top_k : int, default=4
        Reasons per row.
    n_reason_rows : int, default=100
        Rows that get reasons: adverse decisions, most probable adverse outcome first.
    seed : int, default=0
        Seed of row sampling and permutations.
    background : pandas.DataFrame, optional
        Conformed training rows: the reference of linear terms (default: ``X``).
    policy : ReasonPolicy, optional
        Decision threshold, favourable class, labels and plain statements.
    max_rows : int, default=MAX_ROWS
        Rows explained at most: a seeded sample of ``X`` beyond that (the engagement's
        plan lowers it when the time left is short).

        .. versionadded:: 0.1
    max_seconds : float, optional
        Seconds the attributions may take. The exact cost per row depends on the model
        (TreeSHAP grows with the trees' nodes, which a model's size in MB does not tell),
        so it is measured on :data:`PROBE_ROWS` rows first, and fewer rows (a seeded
        sample) are explained when the rest would not fit; ``note`` says so.
    output : numpy.ndarray, optional
        ``model``'s predictions on ``X`` (probabilities or values) when already
        computed: the reason codes rank and decide rows with them instead of predicting
        again.

        .. versionadded:: 0.3

    Returns
    -------
    dict
        ``method``, ``importance`` (list of ``{column, importance}``, most important first:
        mean absolute contribution, or the permutation drop in the metric), and
        ``reason_codes`` (``{position, prediction, decision, reasons, missing}``).
    """
    policy = policy or ReasonPolicy(top_k=top_k)
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), max_rows, replace=False)) if len(X) > max_rows else None
    Xs = X.iloc[rows] if rows is not None else X
    ys = np.asarray(y)[rows] if rows is not None else np.asarray(y)
    known = None if output is None else (np.asarray(output)[rows] if rows is not None else output)
    note = None
    try:
        members = decompose(model, X if background is None else background, task=task)
        if max_seconds is not None and len(Xs) > PROBE_ROWS:
            started = time.perf_counter()
            attribute(members, Xs.iloc[:PROBE_ROWS])
            per_row = (time.perf_counter() - started) / PROBE_ROWS
            affordable = max(PROBE_ROWS, int(max_seconds / max(per_row, 1e-9)))
            if affordable < len(Xs):
                note = (
                    f"attributions on a seeded sample of {affordable} of {len(Xs)} rows: "
                    f"{per_row * 1e3:.1f} ms per row measured, {max_seconds:.1f} s allowed"
                )
                keep = np.sort(rng.choice(len(Xs), affordable, replace=False))
                Xs, ys = Xs.iloc[keep], ys[keep]
                known = None if known is None else known[keep]
        found = attribute(members, Xs)
    except NotExplainable as exc:  # a model with no exact attribution: say so
        logger.info("no exact attributions (%s); using permutation", exc)
        return _permutation(model, Xs, ys, task=task, metric=metric, seed=seed, why=str(exc))
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "method": METHOD,
        "margin_spaces": found.spaces,
        "n_rows": len(Xs),
        "importance": _ranked(X.columns, np.abs(found.values).mean(axis=0)),
        "adverse_outcome": policy.adverse_text(task),
        "top_k": policy.top_k,
    }
    if note is not None:
        out["note"] = note
    out["reason_codes"] = reason_codes(
        model, Xs, found.values, task=task, policy=policy, output=known
    )[:n_reason_rows]
    return out


def reason_codes(
    model: Any,
    X: pd.DataFrame,
    contributions: np.ndarray,
    *,
    task: str,
    policy: ReasonPolicy,
    output: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Adverse-action reasons of every adverse decision in ``X``, most adverse first.

    Binary: rows whose decision (calibrated probability against the threshold) is the
    adverse class. Regression: every row, highest value first. Only columns whose
    contribution pushes toward the adverse outcome are reasons; missing inputs are
    listed apart, never as reasons.

    Parameters
    ----------
    model : estimator
        The final model (scores the rows).
    X : pandas.DataFrame
        Conformed rows, aligned with ``contributions``.
    contributions : numpy.ndarray
        Per-row, per-raw-column contributions (n, p) toward the positive class.
    task : str
        binary or regression.
    policy : ReasonPolicy
        Threshold, favourable class, labels and statements.
    output : numpy.ndarray, optional
        ``model``'s predictions on ``X`` when already computed (not predicted again).

        .. versionadded:: 0.3

    Returns
    -------
    list of dict
    """
    if output is None:
        output = predict_output(model, X, task)
    if task == "regression":
        adverse_score = np.asarray(output, dtype=np.float64)
        rows: list[int] = np.argsort(-adverse_score, kind="mergesort").tolist()
        sign = 1.0
    else:
        p1 = np.asarray(output[:, 1], dtype=np.float64)
        adverse = 1 - policy.favourable
        decided = (p1 >= policy.threshold).astype(int)
        adverse_score = p1 if adverse == 1 else 1.0 - p1
        order = np.argsort(-adverse_score, kind="mergesort").tolist()
        rows = [i for i in order if decided[i] == adverse]
        sign = 1.0 if adverse == 1 else -1.0
    columns = [str(c) for c in X.columns]
    out = []
    for i in rows:
        values = [_plain(v) for v in X.iloc[i].tolist()]
        reasons, missing = adverse_reasons(sign * contributions[i], columns, values, policy)
        out.append(
            {
                "position": int(X.index[i]),
                "prediction": float(adverse_score[i]),
                "decision": policy.adverse_label,
                "reasons": reasons,
                "missing": missing,
            }
        )
    return out


def adverse_reasons(
    toward_adverse: np.ndarray, columns: list[str], values: list[Any], policy: ReasonPolicy
) -> tuple[list[dict[str, Any]], list[str]]:
    """Top-k positive contributions toward the adverse outcome, and the missing inputs."""
    missing = [c for c, v in zip(columns, values, strict=True) if v is None]
    order = np.argsort(-toward_adverse, kind="mergesort")
    reasons: list[dict[str, Any]] = []
    for j in order:
        if toward_adverse[j] <= 0 or len(reasons) == policy.top_k:
            break
        if values[j] is None:
            continue
        reasons.append(
            {
                "column": columns[j],
                "value": values[j],
                "contribution": float(toward_adverse[j]),
                "statement": policy.statement(columns[j], values[j]),
            }
        )
    return reasons, missing


def _ranked(columns: Any, values: np.ndarray) -> list[dict[str, Any]]:
    """``[{column, importance}]``, most important first."""
    pairs = sorted(zip(map(str, columns), values.tolist(), strict=True), key=lambda kv: -kv[1])
    return [{"column": c, "importance": float(v)} for c, v in pairs]


def _side(value: float, reference: float) -> str | None:
    """``high`` above the training median, ``low`` below it, ``None`` at it."""
    if value == reference:
        return None
    return "high" if value > reference else "low"


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    return str(value)


def _permutation(
    model: Any, X: pd.DataFrame, y: np.ndarray, *, task: str, metric: str, seed: int, why: str
) -> dict[str, Any]:
    from sklearn.inspection import permutation_importance

    from crispml._metrics import METRICS, score

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
        "note": f"no exact per-row attributions for this model ({why})",
    }
