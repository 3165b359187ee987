"""The parity certificate: native model vs the served ONNX path, on test rows and edge cases.

The ONNX side goes through exactly what serving runs (input contract, then the
graph); the native side through ``crispml.data.conform`` and the fitted object.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from crispml._utils._sample import PARITY_ROWS, sample_note, sample_positions
from crispml.data import Schema, conform
from crispml.deploy._converters import tree_splits
from crispml.exceptions import DeploymentError
from crispml.models import DeployableModel, WeightedAverage, predict_output
from crispml.serve import InputContract, ServingModel

TOLERANCE = 1e-4
"""Largest accepted difference: absolute on probabilities, relative on regression values."""
UNSEEN = "__crispml_unseen__"
MAX_THRESHOLDS_PER_COLUMN = 5

_MSG_FAILED = (
    "ONNX parity failed: {what} (tolerance {tol:g}) on {where}. The exported graph does "
    "not predict like the evaluated model; deploy/parity.json lists the worst case. "
    "Set deployment.format: none to skip the export, or report this model type."
)


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a frame as JSON-like records (missing values and infinities as ``None``).

    Infinities are missing values, as in training (:func:`crispml.data.conform`), and
    JSON has no way to write them.
    """
    for column in frame.select_dtypes(["datetime", "datetimetz"]).columns:  # ISO, as JSON has
        frame = frame.assign(**{str(column): frame[column].map(_iso, na_action="ignore")})
    numeric = frame.select_dtypes("number").columns
    if len(numeric):
        frame = frame.assign(
            **{str(c): frame[c].replace([np.inf, -np.inf], np.nan) for c in numeric}
        )
    clean = frame.astype(object).where(frame.notna(), None)
    records: list[dict[str, Any]] = clean.to_dict("records")
    return records


def _iso(stamp: pd.Timestamp) -> str:
    return str(stamp.isoformat())


def edge_cases(
    base: dict[str, Any], contract: InputContract, thresholds: dict[str, list[float]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Build records probing what test rows may not: one change to ``base`` at a time.

    An unseen category in every category column, a missing value in every column,
    extreme numbers (far below and above the observed range) and values exactly on
    the model's split thresholds.

    Parameters
    ----------
    base : dict
        A real record (the first test row) that each probe changes in one column.
    contract : InputContract
        The input columns, their kinds and observed ranges.
    thresholds : dict of str -> list of float
        Split thresholds per numeric column (see :func:`split_thresholds`).

    Returns
    -------
    records, kinds : list of dict, list of str
        The edge-case records and what each probes (``"missing:age"``...).
    """
    records, kinds = [], []

    def add(column: str, value: Any, kind: str) -> None:
        records.append({**base, column: value})
        kinds.append(f"{kind}:{column}")

    for col in contract.columns:
        add(col.name, None, "missing")
        if col.kind == "category":
            add(col.name, UNSEEN, "unseen_category")
        if col.kind == "number":
            lo = col.min if col.min is not None else 0.0
            hi = col.max if col.max is not None else 0.0
            span = max(hi - lo, 1.0)
            add(col.name, lo - 10 * span, "extreme_low")
            add(col.name, hi + 10 * span, "extreme_high")
            for value in thresholds.get(col.name, [])[:MAX_THRESHOLDS_PER_COLUMN]:
                add(col.name, float(value), "split_threshold")
    return records, kinds


def split_thresholds(model: Any) -> dict[str, list[float]]:
    """Split thresholds of the model's trees on raw numeric columns (passthrough only)."""
    out: dict[str, set[float]] = {}
    for pipeline in _pipelines(model):
        pre, est = pipeline.steps[0][1], pipeline.steps[-1][1]
        try:
            names = list(pre.get_feature_names_out())
        except (AttributeError, ValueError):
            continue
        if not any(n.startswith("numeric__") for n in names):
            continue
        for index, values in _tree_thresholds(est).items():
            name = names[index] if index < len(names) else ""
            if name.startswith("numeric__") and _is_passthrough(pre):
                out.setdefault(name.removeprefix("numeric__"), set()).update(values)
    return {k: sorted(v) for k, v in out.items()}


def _is_passthrough(pre: Any) -> bool:
    return any(n == "numeric" and t == "passthrough" for n, t, _ in pre.transformers)


def _pipelines(model: Any) -> list[Any]:
    if isinstance(model, DeployableModel):
        spec = model.export_spec()
        if isinstance(spec, WeightedAverage):
            return [p for m in spec.members for p in _pipelines(m)]
        return _pipelines(spec.base)
    return [model] if isinstance(model, Pipeline) else []


def _tree_thresholds(est: Any) -> dict[int, list[float]]:
    found: dict[int, list[float]] = {}
    if hasattr(est, "booster_") or hasattr(est, "_predictors"):  # LightGBM, HistGB
        for feature, value in tree_splits(est):
            found.setdefault(feature, []).append(value)
    elif hasattr(est, "get_borders"):  # CatBoost
        found = {int(k): [float(b) for b in v] for k, v in est.get_borders().items() if v}
    elif hasattr(est, "get_booster"):  # XGBoost
        table = est.get_booster().trees_to_dataframe()
        table = table[table["Feature"] != "Leaf"]
        for feature, split in zip(table["Feature"], table["Split"], strict=True):
            found.setdefault(int(str(feature).lstrip("f")), []).append(float(split))
    else:
        trees = [est] if hasattr(est, "tree_") else list(np.ravel(getattr(est, "estimators_", [])))
        for tree in trees[:20]:
            inner = getattr(tree, "tree_", None)
            if inner is None:
                continue
            for feature, value in zip(inner.feature, inner.threshold, strict=True):
                if feature >= 0:
                    found.setdefault(int(feature), []).append(float(value))
    # LightGBM writes splits "at zero" as +-1e-35 (kZeroThreshold); probe zero itself.
    found = {k: [0.0 if abs(t) < 1e-30 else t for t in v] for k, v in found.items()}
    rng = np.random.default_rng(0)
    return {
        k: list(rng.choice(u, size=min(len(u), MAX_THRESHOLDS_PER_COLUMN), replace=False))
        for k, u in ((k, np.unique(v)) for k, v in found.items())
    }


def check_parity(
    model: Any,
    served: ServingModel,
    test_frame: pd.DataFrame,
    schema: Schema,
    *,
    tolerance: float = TOLERANCE,
    max_rows: int = PARITY_ROWS,
) -> dict[str, Any]:
    """Compare the native model with the served ONNX path; raise if they disagree.

    Beyond ``max_rows`` test rows a seeded sample of them is compared (both paths score
    row by row, so a disagreement shows on any rows); the certificate records how many
    were compared out of how many.

    .. versionchanged:: 0.4
       ``max_rows`` added: a million-row table's 200,000 test rows as Python records
       cost gigabytes and minutes, for no stronger check.

    Parameters
    ----------
    model : object
        The fitted model as evaluated (pipeline, ensemble or calibrated model).
    served : ServingModel
        The exported graph with its input contract.
    test_frame : pandas.DataFrame
        Raw test rows (the locked test set).
    schema : Schema
        The crispml schema, for :func:`crispml.data.conform` on the native side.
    tolerance : float, default=1e-4
        Largest accepted difference.
    max_rows : int, default=PARITY_ROWS
        Test rows compared at most.

    Returns
    -------
    dict
        The certificate written to ``deploy/parity.json``.

    Raises
    ------
    DeploymentError
        If a probability differs by more than ``tolerance`` (relative difference for
        regression), or a decision flips on a row not within ``tolerance`` of the
        threshold.
    """
    task = served.task
    inputs = [c for c in served.contract.names if c in test_frame.columns]
    rows = sample_positions(np.arange(len(test_frame)), max_rows, seed=0)
    test_records = frame_records(test_frame[inputs].iloc[rows])
    references = {c.name: c.reference for c in served.contract.columns}
    base = test_records[0] if test_records else references
    extra, kinds = edge_cases(base, served.contract, split_thresholds(model))
    records = test_records + extra
    labels = ["test"] * len(test_records) + kinds
    native = predict_output(model, conform(pd.DataFrame(records), schema), task)
    onnx_out, _ = served.scores(records)
    report = _compare(native, onnx_out, task, served.threshold, tolerance)
    worst = int(report.pop("worst_row"))
    report.update(
        {
            "tolerance": tolerance,
            "n_test_rows": len(test_records),
            "n_test_rows_total": len(test_frame),
            "sample": sample_note(len(rows), len(test_frame), "a disagreement shows on any rows"),
            "n_edge_cases": len(extra),
            "edge_cases": sorted({k.split(":")[0] for k in kinds}),
            "worst_case": {"probe": labels[worst], "record": records[worst]},
        }
    )
    if not report["passed"]:
        what = report["summary"]
        raise DeploymentError(_MSG_FAILED.format(what=what, tol=tolerance, where=labels[worst]))
    return report


def _compare(
    native: np.ndarray, onnx_out: np.ndarray, task: str, threshold: float | None, tol: float
) -> dict[str, Any]:
    if task == "regression":
        rel = np.abs(native - onnx_out) / np.maximum(np.abs(native), 1.0)
        worst = int(np.argmax(rel)) if len(rel) else 0
        max_rel = float(rel.max()) if len(rel) else 0.0
        return {
            "task": task,
            "max_rel_diff": max_rel,
            "passed": max_rel <= tol,
            "summary": f"relative difference {max_rel:.3g}",
            "worst_row": worst,
        }
    diff = np.abs(native - onnx_out).max(axis=1)
    if task == "binary":
        thr = 0.5 if threshold is None else threshold
        nat_dec, onx_dec = native[:, 1] >= thr, onnx_out[:, 1] >= thr
        margin = np.abs(native[:, 1] - thr)
    else:
        nat_dec, onx_dec = native.argmax(axis=1), onnx_out.argmax(axis=1)
        top2 = np.sort(native, axis=1)[:, -2:]
        margin = top2[:, 1] - top2[:, 0]
    flipped = nat_dec != onx_dec
    hard_flips = int((flipped & (margin > tol)).sum())
    max_abs = float(diff.max()) if len(diff) else 0.0
    worst = int(np.argmax(diff + flipped * 2.0)) if len(diff) else 0
    return {
        "task": task,
        "max_abs_prob_diff": max_abs,
        "decision_agreement": float(1.0 - flipped.mean()) if len(diff) else 1.0,
        "flipped_decisions": int(flipped.sum()),
        "flipped_decisions_away_from_threshold": hard_flips,
        "passed": max_abs <= tol and hard_flips == 0,
        "summary": f"max probability difference {max_abs:.3g}, {hard_flips} flipped decisions",
        "worst_row": worst,
    }
