"""Error analysis: performance by segment, automatically found worst slices, worst rows.

The per-row error is the log loss of the true class (classification) or the absolute
error (regression). Segments are every categorical level (the rarest beyond
:data:`MAX_LEVELS` pooled into one "other" segment), every value of a numeric column
with few distinct values, and quartile bins of the other numeric columns, with edges
rounded to :data:`EDGE_DIGITS` significant digits. Every test row falls in one segment
of each column; segments under ``min_size`` rows are kept and flagged ``small``. The
slice finder is a shallow regression tree fitted on the per-row error of the VALIDATION
rows (so the slices are not picked on the rows they are scored on); its leaves are then
scored on test, worst first.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
from sklearn.tree import DecisionTreeRegressor

from crispml.evaluate._bootstrap import bootstrap_draws, percentile_interval

SCHEMA_VERSION = 2
_EPS = 1e-15
N_BINS = 4
EDGE_DIGITS = 3
"""Significant digits of the printed (and applied) bin edges of numeric segments."""
PRUNE = 0.01
"""A split of the slice finder must explain this share of the error variance to stay."""
MAX_LEVELS = 30
"""Categorical columns with more levels pool the rarest ones into one segment."""
BINOMIAL_ROWS = 10_000
"""Above this many rows, a segment's 0/1 error rate is resampled from its binomial law
(the bootstrap's own distribution) instead of row weights, whose cost grows with rows.

.. versionadded:: 0.4
"""


def row_errors(y: np.ndarray, output: np.ndarray, *, task: str) -> np.ndarray:
    """Per-row error: log loss of the true class, or absolute error for regression.

    Parameters
    ----------
    y : numpy.ndarray
        Encoded target.
    output : numpy.ndarray
        Probabilities (n, k) or regression values.
    task : str
        binary, multiclass or regression.

    Returns
    -------
    numpy.ndarray
        One non-negative error per row.

    Examples
    --------
    >>> row_errors(np.array([1, 0]), np.array([[0.5, 0.5], [1.0, 0.0]]), task="binary").round(3)
    array([0.693, 0.   ])
    """
    y = np.asarray(y)
    out = np.asarray(output, dtype=np.float64)
    if task == "regression":
        return np.abs(y - out)
    p = np.clip(out[np.arange(len(y)), y.astype(int)], _EPS, 1.0)
    return np.asarray(-np.log(p) + 0.0)


def _wrong(y: np.ndarray, output: np.ndarray, task: str, threshold: float) -> np.ndarray:
    if task == "regression":
        return np.asarray(np.abs(np.asarray(y) - output), dtype=np.float64)
    if task == "binary":
        return np.asarray(
            ((output[:, 1] >= threshold).astype(int) != y).astype(np.float64), dtype=np.float64
        )
    return np.asarray((output.argmax(axis=1) != y).astype(np.float64), dtype=np.float64)


def _segment(
    name: str,
    mask: np.ndarray,
    err: np.ndarray,
    n_resamples: int,
    seed: int,
    min_size: int = 0,
) -> dict[str, Any]:
    idx = np.flatnonzero(mask)
    values = err[idx]
    if len(idx) > BINOMIAL_ROWS and np.isin(values, (0.0, 1.0)).all():
        # A resample's error rate counts the draws that land on wrong rows: Binomial(n,
        # rate) / n, the same distribution the weights give, drawn in O(1) per resample.
        rng = np.random.default_rng(seed)
        draws = rng.binomial(len(idx), values.mean(), size=n_resamples) / len(idx)
    else:
        draws = bootstrap_draws(
            lambda w: (w @ values) / w.sum(axis=1), len(idx), n_resamples=n_resamples, seed=seed
        )
    est = float(values.mean()) if len(idx) else float("nan")
    interval = percentile_interval(est, draws, n=len(idx)).to_dict()
    return {"slice": name, "size": len(idx), "small": len(idx) < min_size, **interval}


def slice_report(
    X_test: pd.DataFrame,
    y_test: np.ndarray,
    output_test: np.ndarray,
    *,
    task: str,
    X_valid: pd.DataFrame | None = None,
    y_valid: np.ndarray | None = None,
    output_valid: np.ndarray | None = None,
    threshold: float = 0.5,
    min_size: int = 20,
    top_k: int = 10,
    ids: list[str] | None = None,
    n_resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Error by segment, worst slices and worst rows on the test set.

    Parameters
    ----------
    X_test : pandas.DataFrame
        Conformed test features (raw columns).
    y_test, output_test : numpy.ndarray
        Encoded target and the final model's output on test.
    task : str
        binary, multiclass or regression.
    X_valid, y_valid, output_valid : optional
        Validation rows and outputs for the slice finder (without them, no tree).
    threshold : float, default=0.5
        Decision threshold (binary) for the error rate.
    min_size : int, default=20
        Smallest leaf of the slice finder; smaller segments are still reported,
        flagged ``small`` (their interval is wide).
    top_k : int, default=10
        Worst slices and worst rows listed.
    ids : list of str, optional
        Row ids of the test rows (for the worst rows).
    n_resamples, seed : int
        Bootstrap of each segment's mean error.

    Returns
    -------
    dict
        ``error`` (what the error is), ``overall``, ``segments`` (per column: list of
        slices with ``size``, ``small``, ``estimate``, ``low``, ``high``; together they
        cover every test row), ``worst_slices``
        (tree leaves, worst first, with the rule that defines them; empty when no split
        explains ``PRUNE`` of the error variance) and ``worst_rows``.
    """
    y_test = np.asarray(y_test)
    err = _wrong(y_test, np.asarray(output_test, dtype=np.float64), task, threshold)
    every = np.ones(len(y_test), dtype=bool)
    segments = {
        col: [
            _segment(name, mask, err, n_resamples, seed, min_size)
            for name, mask in _masks(X_test[col])
            if mask.any()
        ]
        for col in X_test.columns
    }
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "error": "absolute error" if task == "regression" else "error rate at the threshold",
        "overall": _segment("all rows", every, err, n_resamples, seed),
        "segments": segments,
        "worst_slices": [],
        "worst_rows": _worst_rows(y_test, output_test, task, top_k, ids),
    }
    if X_valid is not None and y_valid is not None and output_valid is not None:
        valid_err = row_errors(y_valid, output_valid, task=task)
        leaves = _tree_slices(X_valid, valid_err, X_test, min_size, seed)
        found = [_segment(rule, mask, err, n_resamples, seed) for rule, mask in leaves]
        found = [s for s in found if s["size"] >= min_size and s["slice"] != "all rows"]
        found.sort(key=lambda s: -(s["estimate"] or 0.0))
        out["worst_slices"] = found[:top_k]
    return out


def _masks(values: pd.Series) -> list[tuple[str, np.ndarray]]:
    """Segments of one column that together hold every row (missing values included)."""
    missing = values.isna().to_numpy()
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        out = _level_masks(values.astype(str).where(~missing, "missing"))
    elif values.nunique(dropna=True) <= 2 * N_BINS:
        out = [(f"{v:g}", (values == v).to_numpy()) for v in sorted(values.dropna().unique())]
    else:
        out = _bin_masks(values.to_numpy(dtype=np.float64))
    if missing.any() and not any(name == "missing" for name, _ in out):
        out.append(("missing", missing))
    return out


def _level_masks(text: pd.Series) -> list[tuple[str, np.ndarray]]:
    counts = text.value_counts()
    kept = counts.index[:MAX_LEVELS]
    out = [(str(level), (text == level).to_numpy()) for level in kept]
    if len(counts) > MAX_LEVELS:
        rest = ~text.isin(kept).to_numpy()
        out.append((f"other ({len(counts) - MAX_LEVELS} rarer levels)", rest))
    return out


def round_edge(value: float, digits: int = EDGE_DIGITS) -> float:
    """Round a bin edge to ``digits`` significant digits (no float noise in labels).

    Examples
    --------
    >>> round_edge(-0.00015000000000000007), round_edge(0.2234), round_edge(123456.0)
    (-0.00015, 0.223, 123000.0)
    """
    return float(f"{value:.{digits}g}")


def _bin_masks(x: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Quartile bins with rounded inner edges; the outer bins are open-ended."""
    inner = np.nanquantile(x, np.linspace(0, 1, N_BINS + 1)[1:-1])
    edges = sorted({round_edge(float(e)) for e in inner})
    bounds = [-np.inf, *edges, np.inf]
    out = []
    for low, high in itertools.pairwise(bounds):
        mask = (x > low) & (x <= high)
        if np.isinf(low):
            name = f"<= {high:g}"
        elif np.isinf(high):
            name = f"> {low:g}"
        else:
            name = f"{low:g} to {high:g}"
        out.append((name, mask))
    return out


def _levels(X: pd.DataFrame) -> dict[str, tuple[str, str | None]]:
    """Columns of the tree's input: numeric columns as is, one 0/1 column per level."""
    out: dict[str, tuple[str, str | None]] = {}
    for col in X.columns:
        if pd.api.types.is_numeric_dtype(X[col]):
            out[col] = (col, None)
            continue
        for level in X[col].astype(str).value_counts().head(MAX_LEVELS).index:
            out[f"{col}={level}"] = (col, str(level))
    return out


def _encode(X: pd.DataFrame, layout: dict[str, tuple[str, str | None]]) -> pd.DataFrame:
    data = {
        key: (
            X[col].to_numpy(dtype=np.float64)
            if level is None
            else (X[col].astype(str) == level).to_numpy(dtype=np.float64)
        )
        for key, (col, level) in layout.items()
    }
    return pd.DataFrame(data, index=X.index)


def _tree_slices(
    X_valid: pd.DataFrame, err: np.ndarray, X_test: pd.DataFrame, min_size: int, seed: int
) -> list[tuple[str, np.ndarray]]:
    layout = _levels(X_valid)
    tree = DecisionTreeRegressor(
        max_depth=3,
        min_samples_leaf=max(min_size, len(err) // 50),
        ccp_alpha=PRUNE * float(np.var(err)),
        random_state=seed,
    ).fit(_encode(X_valid, layout), err)
    test_leaf = tree.apply(_encode(X_test, layout))
    rules = _leaf_rules(tree, list(layout.values()))
    return [(rules[leaf], test_leaf == leaf) for leaf in sorted(rules)]


def _leaf_rules(tree: Any, columns: list[tuple[str, str | None]]) -> dict[int, str]:
    t = tree.tree_
    rules: dict[int, str] = {}

    def walk(node: int, conds: list[str]) -> None:
        if t.children_left[node] == -1:
            rules[node] = " and ".join(_simplify(conds)) or "all rows"
            return
        (col, level), thr = columns[t.feature[node]], float(t.threshold[node])
        if level is None:
            left, right = f"{col} <= {thr:.4g}", f"{col} > {thr:.4g}"
        else:
            left, right = f"{col} != {level!r}", f"{col} == {level!r}"
        walk(int(t.children_left[node]), [*conds, left])
        walk(int(t.children_right[node]), [*conds, right])

    walk(0, [])
    return rules


def _simplify(conds: list[str]) -> list[str]:
    """Keep the last (tightest) bound per column and direction: a path narrows as it goes."""
    last: dict[tuple[str, str], str] = {}
    for cond in conds:
        col, op = cond.split(" ")[0], cond.split(" ")[1]
        key = (col, op) if op in ("<=", ">") else (cond, op)
        last.pop(key, None)
        last[key] = cond
    return list(last.values())


def _worst_rows(
    y: np.ndarray, output: np.ndarray, task: str, k: int, ids: list[str] | None
) -> list[dict[str, Any]]:
    errors = row_errors(y, output, task=task)
    order = np.argsort(-errors, kind="mergesort")[:k]
    rows = []
    for i in order:
        row: dict[str, Any] = {
            "position": int(i),
            "id": ids[i] if ids is not None else str(i),
            "y_true": float(y[i]) if task == "regression" else int(y[i]),
            "error": float(errors[i]),
        }
        if task == "regression":
            row["prediction"] = float(output[i])
        else:
            row["probabilities"] = [round(float(v), 6) for v in output[i]]
        rows.append(row)
    return rows
