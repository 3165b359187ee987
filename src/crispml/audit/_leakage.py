"""Leakage suspects: features that give the answer away, before any model is trained."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crispml.audit._common import (
    AuditSample,
    chance_score,
    sample_positions,
    univariate_score,
)
from crispml.audit._findings import Finding, Severity
from crispml.audit._inventory import RowHashes
from crispml.audit._levels import outcome_level_findings
from crispml.data import Dataset, Split

LEAK_BLOCKING = 0.99
"""Univariate cross-validated score (ROC AUC or R²) at which a feature is blocking."""
LEAK_WARNING = 0.95
"""Univariate score at which a feature is a leakage suspect (warning)."""
UNIVARIATE_ROWS = 10_000
"""Rows of the audit sample the single-feature models use (plenty to see a score of 0.95)."""
ID_SIGNAL = 0.1
"""Gain over chance of an id column's univariate score that is reported."""
_MSG_ACTION = (
    "Check how {col!r} is produced: if it is recorded after the outcome or derived from it, "
    "drop it (data.drop). If it is legitimately this predictive, accept it in the spec: "
    "audit: {{accept: ['{id}']}}."
)


def leakage_findings(
    dataset: Dataset,
    split: Split,
    sample: AuditSample,
    hashes: RowHashes,
    *,
    time_column: str | None = None,
    seed: int = 0,
) -> list[Finding]:
    """Find features that give the answer away before any model is trained.

    Univariate near-perfect predictors, functions of the target, near-deterministic
    levels, ids with signal, dates later than the label, rows repeated across the split.

    Parameters
    ----------
    dataset : Dataset
    split : Split
    sample : AuditSample
        Labelled rows (train and validation) the univariate models are fitted on.
    hashes : RowHashes
        Row hashes of ``dataset.frame`` (for duplicates across the split).
    time_column : str, optional
        The spec's time column: datetime columns later than it are reported.
    seed : int, default=0

    Returns
    -------
    list of Finding
    """
    task = sample.task
    rows = sample_positions(np.arange(len(sample.y)), UNIVARIATE_ROWS, seed)
    X, y = sample.X.iloc[rows].reset_index(drop=True), sample.y[rows]
    scores = {c: univariate_score(X[c], y, task, seed) for c in X.columns}
    findings = _univariate(scores, task)
    flagged = {f.evidence["column"] for f in findings if f.severity != "info"}
    findings += _functions_of_target(sample, exclude=flagged)
    flagged |= {f.evidence["column"] for f in findings if f.severity == "blocking"}
    findings += outcome_level_findings(dataset, sample, exclude=flagged, seed=seed)
    findings += _id_signal(dataset, sample, seed)
    findings += _later_than_label(dataset, time_column)
    findings += _across_split(dataset, split, hashes)
    return findings


def _univariate(scores: dict[str, float], task: str) -> list[Finding]:
    metric = "R²" if task == "regression" else "ROC AUC"
    out = []
    for col, value in scores.items():
        if value < LEAK_WARNING:
            continue
        severity: Severity = "blocking" if value >= LEAK_BLOCKING else "warning"
        fid = f"leakage:{col}"
        out.append(
            Finding(
                fid,
                "leakage",
                severity,
                f"{col!r} alone predicts the target ({metric} {value:.3f}, cross-validated)",
                {"column": col, "metric": metric, "score": round(value, 4)},
                _MSG_ACTION.format(col=col, id=fid),
            )
        )
    top = dict(sorted(scores.items(), key=lambda kv: -kv[1])[:10])
    best = next(iter(top), None)
    title = (
        f"strongest single feature: {best!r} ({metric} {top[best]:.3f})"
        if best is not None
        else "no feature to score"
    )
    scores_shown = {k: round(v, 4) for k, v in top.items()}
    evidence = {"column": best, "metric": metric, "scores": scores_shown}
    out.append(Finding("leakage:univariate", "leakage", "info", title, evidence))
    return out


def _functions_of_target(sample: AuditSample, *, exclude: set[str]) -> list[Finding]:
    """Columns whose value is fixed by the class (or monotone in a numeric target)."""
    out = []
    for col in sample.X.columns:
        if col in exclude:
            continue
        values = sample.X[col]
        if sample.task == "regression":
            if not pd.api.types.is_numeric_dtype(values) or values.nunique() < 3:
                continue
            rho = abs(pd.Series(sample.y).corr(values.reset_index(drop=True), method="spearman"))
            hit, evidence = bool(rho >= 0.999), {"column": col, "spearman": round(float(rho), 5)}
        else:
            frame = pd.DataFrame({"x": values.astype(str), "y": sample.y}).loc[values.notna()]
            per_class = frame.groupby("y")["x"].agg(["nunique", "size"])
            hit = bool(
                frame["x"].nunique() > 1
                and (per_class["nunique"] == 1).all()
                and (per_class["size"] >= 5).all()
                and len(per_class) == len(np.unique(sample.y))
            )
            evidence = {"column": col, "values_per_class": per_class["nunique"].to_dict()}
        if hit:
            fid = f"leakage:{col}"
            out.append(
                Finding(
                    fid,
                    "leakage",
                    "blocking",
                    f"{col!r} is a function of the target",
                    evidence,
                    _MSG_ACTION.format(col=col, id=fid),
                )
            )
    return out


def _id_signal(dataset: Dataset, sample: AuditSample, seed: int) -> list[Finding]:
    out = []
    for name in dataset.schema.names("id"):
        raw = dataset.frame[name].iloc[sample.positions].reset_index(drop=True)
        numeric = pd.to_numeric(raw, errors="coerce")
        if numeric.notna().mean() < 0.99:  # text ids: their sort order
            numeric = pd.Series(raw.astype(str).rank(method="dense").to_numpy())
        value = univariate_score(numeric.astype("float64"), sample.y, sample.task, seed)
        if value - chance_score(sample.task) < ID_SIGNAL:
            continue
        out.append(
            Finding(
                f"id-signal:{name}",
                "leakage",
                "warning",
                f"id column {name!r} predicts the target (score {value:.3f}): rows are ordered "
                "or numbered by outcome",
                {"column": name, "score": round(value, 4)},
                "Keep it out of the features (it is), and check the split does not follow "
                "the id order; a time or group split may be needed.",
            )
        )
    return out


def _later_than_label(dataset: Dataset, time_column: str | None) -> list[Finding]:
    if not time_column or time_column not in dataset.frame.columns:
        return []
    reference = pd.to_datetime(dataset.frame[time_column], errors="coerce")
    out = []
    for name in dataset.schema.names("datetime"):
        if name == time_column:
            continue
        values = pd.to_datetime(dataset.frame[name], errors="coerce")
        later = float((values > reference).mean())
        if later > 0.05:
            out.append(
                Finding(
                    f"after-label:{name}",
                    "leakage",
                    "warning",
                    f"{name!r} is later than the time column {time_column!r} in {later:.0%} "
                    "of rows",
                    {"column": name, "time_column": time_column, "later_share": round(later, 4)},
                    "A date after the prediction time is not known when predicting: drop it "
                    "or compute it as of the time column.",
                )
            )
    return out


def _across_split(dataset: Dataset, split: Split, hashes: RowHashes) -> list[Finding]:
    """Test rows whose features equal (or nearly equal) a training or validation row."""
    labelled = np.concatenate([split.train, split.valid])
    exact = np.isin(hashes.features[split.test], hashes.features[labelled])
    rounded = _rounded_hashes(dataset)
    near = np.isin(rounded[split.test], rounded[labelled]) & ~exact
    n_exact, n_near, n_test = int(exact.sum()), int(near.sum()), len(split.test)
    if not n_exact and not n_near:
        return []
    share = (n_exact + n_near) / n_test
    examples = [int(p) for p in split.test[exact | near][:5]]
    evidence = {
        "test_rows": n_test,
        "exact_duplicates": n_exact,
        "near_duplicates": n_near,
        "share": round(share, 4),
        "example_test_positions": examples,
    }
    return [
        Finding(
            "leakage:duplicates-across-split",
            "leakage",
            "warning" if share >= 0.01 else "info",
            f"{share:.1%} of test rows repeat a training row ({n_exact:,} exact, {n_near:,} near)",
            evidence,
            "If rows repeat the same entity, split by group (split.strategy: group) so test "
            "scores are not inflated; if they are distinct cases that share a few discrete "
            "values, no action is needed.",
        )
    ]


def _rounded_hashes(dataset: Dataset) -> np.ndarray:
    """Row hashes of the features with numbers rounded to 3 significant digits."""
    frame = dataset.frame
    columns = [c for c in dataset.schema.features if c in frame.columns]
    out = {}
    for name in columns:
        col = frame[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = 10.0 ** (2 - np.floor(np.log10(np.abs(values))))
            scale[~np.isfinite(scale) | ~np.isfinite(values)] = 1.0
            out[name] = pd.Series(np.round(values * scale) / scale, index=frame.index)
        else:
            out[name] = col
    hashed = pd.util.hash_pandas_object(pd.DataFrame(out, copy=False), index=False)
    return np.asarray(hashed, dtype=np.uint64)
