"""Near-deterministic levels: a category or a numeric range that all but fixes the outcome.

A column recorded after the decision (denied mortgage insurance, a closing date, a
collections flag) often shows up this way: most of its rows look ordinary, but one level
is followed by the same outcome almost every time, and the model leans on it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.tree import DecisionTreeClassifier

from crispml.audit._common import AuditSample, level_codes, quick_model
from crispml.audit._findings import Finding, Severity
from crispml.data import MISSING_LEVEL, Dataset

NEAR_DETERMINISTIC = 0.9
"""Outcome rate of a level (one class's share of its rows) that counts as near-certain.
Read on a sample (the test labels stay unread), so a level qualifies when its rate is
consistent with it: the upper end of the 95% Wilson interval reaches it (35 of 39 rows,
89.7%, interval 76-96%, does; 15 of 20, 75%, interval 53-89%, does not)."""
MIN_LIFT = 0.3
"""How far above the class's overall rate that share must be (a level with 95% approvals
where 88% are approved overall is not news; one with 90% denials where 12% are denied is)."""
MIN_LEVEL_ROWS = 20
"""Rows a level or range needs before its outcome rate is read."""
TOP_DRIVERS = 5
"""A column is a top driver when it is among this many largest by the quick model's gain."""
_MAX_RANGES = 16
_TREE_ROWS = 5_000
_FEW_VALUES = 10
_OTHER = "__other__"
_MSG_ACTION = (
    "Ask the data owner whether {col!r} is known before the decision or recorded after (or "
    "because of) the outcome. If after, it leaks the answer: drop it (data.drop: [{col}]). "
    "If before, keep it and say in the model card why it is legitimately this decisive."
)


def outcome_level_findings(
    dataset: Dataset, sample: AuditSample, *, exclude: set[str], seed: int = 0
) -> list[Finding]:
    """Levels and ranges whose outcome rate is near 0 or 1, on columns the model leans on.

    A level (category, missing, or a range of a numeric column found by a single-feature
    tree) is near-deterministic when it has at least :data:`MIN_LEVEL_ROWS` rows and one
    class's rate among them is consistent with :data:`NEAR_DETERMINISTIC` or more (the
    upper end of its 95% Wilson interval) and at least :data:`MIN_LIFT` above its overall
    rate (the lower end of the interval: many levels are tried, chance must not do it).
    Numeric ranges must also stand out from their neighbours (see :func:`_ranges`).
    The finding is a warning when the column is also among the quick model's
    :data:`TOP_DRIVERS` (by gain), information otherwise.

    Parameters
    ----------
    dataset : Dataset
        For the class names and the target's name.
    sample : AuditSample
        Labelled rows (train and validation) of a classification task.
    exclude : set of str
        Columns already reported as leakage suspects.
    seed : int, default=0

    Returns
    -------
    list of Finding
        One per column with such a level; none for regression.
    """
    if sample.task == "regression" or len(sample.y) < MIN_LEVEL_ROWS:
        return []
    classes = [str(c) for c in dataset.target.classes]
    overall = np.bincount(sample.y, minlength=len(classes)) / len(sample.y)
    hits: dict[str, list[dict[str, Any]]] = {}
    for col in sample.X.columns:
        if col in exclude:
            continue
        found = [
            hit
            for label, mask in _levels(sample.X[col], sample.y, seed)
            if (hit := _near_certain(label, sample.y[mask], overall, classes)) is not None
        ]
        if found:
            hits[col] = sorted(found, key=lambda h: -h["outcome_rows"])
    if not hits:
        return []
    ranks = driver_ranks(sample, seed)  # one extra fit, only when a level was found
    target = dataset.schema.target
    return [_finding(col, found, ranks, target) for col, found in hits.items()]


def driver_ranks(sample: AuditSample, seed: int) -> dict[str, tuple[int, float]]:
    """Rank (1 = strongest) and share of total gain of each column in the quick model."""
    model = quick_model(sample.task, seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.fit(sample.X, sample.y)
    gain = np.asarray(model.booster_.feature_importance(importance_type="gain"), dtype=float)
    total = gain.sum() or 1.0
    order = np.argsort(-gain, kind="stable")
    columns = list(sample.X.columns)
    return {columns[i]: (rank + 1, float(gain[i] / total)) for rank, i in enumerate(order)}


def _levels(column: pd.Series, y: np.ndarray, seed: int) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (label, row mask) for each level of ``column`` with enough rows."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = level_codes(column)
        for code, level in enumerate(column.cat.categories):
            mask = codes == code
            if level != _OTHER and mask.sum() >= MIN_LEVEL_ROWS:
                yield ("missing" if level == MISSING_LEVEL else f"= {level}"), mask
        return
    values = column.to_numpy(dtype=np.float64)
    present = ~np.isnan(values)
    if (~present).sum() >= MIN_LEVEL_ROWS:
        yield "missing", ~present
    if present.sum() < 2 * MIN_LEVEL_ROWS:
        return
    distinct = np.unique(values[present])
    if len(distinct) <= _FEW_VALUES:
        for value in distinct:
            mask = values == value
            if mask.sum() >= MIN_LEVEL_ROWS:
                yield f"= {value:g}", mask
        return
    yield from _ranges(values, present, y, seed)


def _ranges(
    values: np.ndarray, present: np.ndarray, y: np.ndarray, seed: int
) -> Iterator[tuple[str, np.ndarray]]:
    """Ranges of a numeric column, cut by a single-feature tree, that stand out as a step.

    Only a range whose majority-class rate is :data:`MIN_LIFT` above that of the ranges
    on either side is yielded: the tails of a smooth, strong predictor rise gradually
    and are not suspicious; a jump (a flag coded as a number, a value set after the
    outcome) is.
    """
    tree = DecisionTreeClassifier(
        max_leaf_nodes=_MAX_RANGES, min_samples_leaf=MIN_LEVEL_ROWS, random_state=seed
    )
    x = values[present]
    fit_rows = np.random.default_rng(seed).permutation(len(x))[:_TREE_ROWS]
    tree.fit(x[fit_rows].reshape(-1, 1), y[present][fit_rows])
    leaves = tree.apply(x.reshape(-1, 1))  # cut on a subsample, counted on every row
    ids = sorted(np.unique(leaves), key=lambda leaf: float(x[leaves == leaf].min()))
    n_classes = int(y.max()) + 1
    rates = [np.bincount(y[present][leaves == leaf], minlength=n_classes) for leaf in ids]
    rates = [counts / counts.sum() for counts in rates]
    rows = np.flatnonzero(present)
    for k, leaf in enumerate(ids):
        top = int(rates[k].argmax())
        sides = [rates[n][top] for n in (k - 1, k + 1) if 0 <= n < len(ids)]
        if any(rates[k][top] - side < MIN_LIFT for side in sides):
            continue
        in_leaf = leaves == leaf
        mask = np.zeros(len(values), dtype=bool)
        mask[rows[in_leaf]] = True
        lo, hi = float(x[in_leaf].min()), float(x[in_leaf].max())
        yield f"in [{lo:.4g}, {hi:.4g}]", mask


def _near_certain(
    label: str, y: np.ndarray, overall: np.ndarray, classes: list[str]
) -> dict[str, Any] | None:
    """Describe the level when one class's rate is consistent with >= 0.9 (and lifted)."""
    counts = np.bincount(y, minlength=len(classes))
    rates = counts / len(y)
    top = int(rates.argmax())
    if rates[top] - overall[top] < MIN_LIFT:
        return None
    interval = binomtest(int(counts[top]), len(y)).proportion_ci(0.95, method="wilson")
    if interval.high < NEAR_DETERMINISTIC or interval.low - overall[top] < MIN_LIFT:
        return None
    return {
        "level": label,
        "rows": len(y),
        "outcome": classes[top],
        "outcome_rows": int(counts[top]),
        "rate": round(float(rates[top]), 4),
        "rate_ci95": [round(float(interval.low), 4), round(float(interval.high), 4)],
        "overall_rate": round(float(overall[top]), 4),
    }


def _finding(
    col: str,
    found: list[dict[str, Any]],
    ranks: dict[str, tuple[int, float]],
    target: str,
) -> Finding:
    rank, share = ranks.get(col, (len(ranks) + 1, 0.0))
    top_driver = rank <= TOP_DRIVERS and share > 0
    first = found[0]
    title = (
        f"{col!r} {first['level']}: {first['outcome_rows']} of {first['rows']} rows have "
        f"{target} = {first['outcome']} ({first['rate']:.1%}, against "
        f"{first['overall_rate']:.1%} overall)"
    )
    if top_driver:
        title += f"; {col!r} is the quick model's #{rank} driver. Recorded after the outcome?"
    severity: Severity = "warning" if top_driver else "info"
    evidence = {
        "column": col,
        "levels": found,
        "driver_rank": rank,
        "gain_share": round(share, 4),
        "rows_used": "train and validation rows of the audit sample",
        "rule": f"a level or range of >= {MIN_LEVEL_ROWS} rows where one class's rate is "
        f">= {NEAR_DETERMINISTIC:.0%} within its 95% Wilson interval and whose interval lies "
        f">= {MIN_LIFT:.0%} above its overall rate (a numeric range also {MIN_LIFT:.0%} above "
        "the ranges beside it); "
        f"a warning when the column is among the quick model's top {TOP_DRIVERS} by gain",
    }
    action = _MSG_ACTION.format(col=col)
    return Finding(f"outcome-level:{col}", "leakage", severity, title, evidence, action)
