"""Protected attributes: features that stand in for them, and base rates per group."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency
from scipy.stats.contingency import crosstab
from sklearn.metrics import normalized_mutual_info_score

from crispml.audit._common import (
    AuditSample,
    audit_score,
    level_codes,
    oof_output,
    quick_model,
    sample_positions,
    univariate_score,
)
from crispml.audit._findings import Finding, Severity
from crispml.data import Dataset

PREDICTABILITY_WARNING = 0.8
"""ROC AUC at which a single feature is reported as a proxy of a protected column."""
JOINT_PROXY_WARNING = 0.7
"""ROC AUC at which all features together predicting a protected column is a warning: the
model can then tell the groups apart well enough to treat them differently."""
DISPARITY_WARNING = 0.8
"""Ratio of lowest to highest group base rate below which it is a warning (four-fifths)."""
MIN_GROUP_ROWS = 30
"""Rows below which a protected group is too small to evaluate."""
PROXY_ROWS = 10_000
"""Rows of the audit sample used for the association measures (drawn at random)."""
JOINT_ROWS = 4_000
"""Rows the joint proxy model (every feature -> the protected column) is cross-fitted on,
drawn at random beyond that: one LightGBM per class and fold makes it the audit's
costliest check on many-level columns, and its ROC AUC moves by about 0.01 at this size."""
_MIN_ROWS_FOR_MODEL = 10
_BINS = 5


def proxy_findings(
    dataset: Dataset,
    sample: AuditSample,
    protected: tuple[str, ...],
    *,
    threshold: float = 0.3,
    seed: int = 0,
) -> list[Finding]:
    """Proxy features and base rates for each protected column.

    Parameters
    ----------
    dataset : Dataset
    sample : AuditSample
        Rows (train and validation) used for the association measures.
    protected : tuple of str
        The spec's protected columns.
    threshold : float, default=0.3
        Bias-corrected Cramér's V above which a feature is reported as a proxy.
    seed : int, default=0

    Returns
    -------
    list of Finding
    """
    findings = []
    for name in protected:
        if name not in dataset.frame.columns:
            continue
        groups = as_groups(dataset.frame[name].iloc[sample.positions])
        rows = sample_positions(np.arange(len(groups)), PROXY_ROWS, seed)
        sub = AuditSample(
            sample.positions[rows],
            sample.X.iloc[rows].reset_index(drop=True),
            sample.y[rows],
            sample.task,
            sample.n_labelled,
        )
        findings += _proxies(name, groups.iloc[rows].reset_index(drop=True), sub, threshold, seed)
        findings.append(_base_rates(name, groups, sample, dataset))
    return findings


def as_groups(values: pd.Series) -> pd.Series:
    """Protected values as group labels: text levels, or quintiles of a numeric column."""
    values = values.reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > 10:
        binned = pd.qcut(values, _BINS, duplicates="drop").astype(str)
        return binned.where(values.notna(), "missing")
    return values.astype(str).where(values.notna(), "missing")


def _proxies(
    name: str, groups: pd.Series, sample: AuditSample, threshold: float, seed: int
) -> list[Finding]:
    codes, levels = pd.factorize(groups)
    sizes = np.bincount(codes)
    keep = sizes[codes] >= _MIN_ROWS_FOR_MODEL
    task = "binary" if (sizes >= _MIN_ROWS_FOR_MODEL).sum() == 2 else "multiclass"
    can_model = (sizes >= _MIN_ROWS_FOR_MODEL).sum() >= 2
    y = pd.factorize(codes[keep])[0]
    rows: dict[str, dict[str, Any]] = {}
    X = sample.X.drop(columns=[name], errors="ignore")  # when use_as_features is set
    for col in X.columns:
        feature = X[col]
        binned = _binned(feature)
        v = cramers_v(crosstab(binned, codes).count)
        nmi = float(normalized_mutual_info_score(codes, binned))
        auc = (
            univariate_score(feature[keep].reset_index(drop=True), y, task, seed)
            if can_model
            else None
        )
        rows[col] = {"cramers_v": round(v, 4), "nmi": round(nmi, 4), "roc_auc": _r(auc)}
    out = []
    for col, stats in rows.items():
        auc = stats["roc_auc"]
        if stats["cramers_v"] >= threshold or (auc is not None and auc >= PREDICTABILITY_WARNING):
            out.append(
                Finding(
                    f"proxy:{name}:{col}",
                    "proxies",
                    "warning",
                    f"{col!r} is a proxy for protected {name!r} (Cramér's V "
                    f"{stats['cramers_v']:.2f}, AUC {_fmt(auc)})",
                    {"protected": name, "feature": col, **stats},
                    f"Even with {name!r} out of the features, {col!r} carries it in: check "
                    "per-group error rates in the evaluation, and drop or justify the feature.",
                )
            )
    joint = None
    kept = np.flatnonzero(keep)
    pick = sample_positions(np.arange(len(kept)), JOINT_ROWS, seed)
    if can_model:
        Xj, yj = X.iloc[kept[pick]], y[pick]
        output = oof_output(quick_model(task, seed), Xj, yj, task, seed, n_splits=3)
        joint = round(audit_score(task, yj, output), 4)
    out.append(_association_summary(name, rows, levels, (joint, len(pick))))
    return out


def _association_summary(
    name: str,
    rows: dict[str, dict[str, Any]],
    levels: pd.Index,
    joint_on: tuple[float | None, int],
) -> Finding:
    joint, n_joint = joint_on
    top = dict(sorted(rows.items(), key=lambda kv: -(kv[1]["cramers_v"] or 0.0))[:10])
    severity: Severity = (
        "warning" if joint is not None and joint >= JOINT_PROXY_WARNING else "info"
    )
    title = f"all features together predict protected {name!r} with ROC AUC {_fmt(joint)}"
    evidence: dict[str, Any] = {"protected": name, "groups": [str(g) for g in levels]}
    evidence["joint_roc_auc"] = joint
    evidence["joint_rows"] = n_joint
    evidence["joint_rows_note"] = (
        f"the joint model is cross-fitted on a random {JOINT_ROWS:,} of the sample's rows"
        f" when it has more ({n_joint:,} used)"
    )
    evidence["features"] = top
    evidence["warning_at"] = JOINT_PROXY_WARNING
    action = (
        f"The features jointly encode {name!r} (AUC {_fmt(joint)} >= {JOINT_PROXY_WARNING}): "
        "leaving it out does not make the model blind to it. Evaluate error rates and "
        "calibration per group, and compare with a model without the strongest proxies."
        if severity == "warning"
        else ""
    )
    return Finding(f"proxy:{name}", "proxies", severity, title, evidence, action)


def _base_rates(name: str, groups: pd.Series, sample: AuditSample, dataset: Dataset) -> Finding:
    y = pd.Series(sample.y)
    if sample.task == "multiclass":
        shares = pd.crosstab(groups, y, normalize="index")
        shares.columns = [str(dataset.target.classes[c]) for c in shares.columns]
        by_group = {
            str(g): {"count": int((groups == g).sum()), "class_shares": row.round(4).to_dict()}
            for g, row in shares.iterrows()
        }
        ratio = None
    else:
        from fairlearn.metrics import MetricFrame, count

        frame = MetricFrame(
            metrics={"base_rate": _mean_target, "count": count},
            y_true=y,
            y_pred=y,
            sensitive_features=groups.rename(name),
        )
        table = frame.by_group
        by_group = {
            str(g): {"count": int(r["count"]), "base_rate": round(float(r["base_rate"]), 4)}
            for g, r in table.iterrows()
        }
        rates = table["base_rate"].astype(float)
        ratio = float(rates.min() / rates.max()) if rates.max() > 0 else None
    small = [g for g, v in by_group.items() if v["count"] < MIN_GROUP_ROWS]
    disparate = ratio is not None and ratio < DISPARITY_WARNING and sample.task == "binary"
    severity: Severity = "warning" if disparate or small else "info"
    what = {"binary": "positive rate", "regression": "mean target"}.get(sample.task)
    shown = [
        f"{g} {v['base_rate']} (n={v['count']})" if what else f"{g} (n={v['count']})"
        for g, v in list(by_group.items())[:6]
    ]
    title = f"{what or 'class shares (in the evidence)'} by {name!r}: " + ", ".join(shown)
    if small:
        title += f"; group(s) {', '.join(small)} have fewer than {MIN_GROUP_ROWS} rows"
    evidence: dict[str, Any] = {"protected": name, "by_group": by_group}
    evidence["min_max_ratio"] = _r(ratio)
    evidence["small_groups"] = small
    evidence["rows"] = "train and validation rows of the audit sample"
    action = (
        "Base rates differ between groups: report per-group metrics and check that the "
        "model does not widen the gap."
        if severity == "warning"
        else ""
    )
    return Finding(f"base-rates:{name}", "proxies", severity, title, evidence, action)


def cramers_v(table: np.ndarray) -> float:
    """Bias-corrected Cramér's V of a contingency table (Bergsma, 2013).

    scipy's ``association(method="cramer")`` is the plain estimate, which grows with the
    number of levels on small samples (a 50-level feature shows V ~ 0.2 against an
    unrelated binary column on 1,000 rows); the correction removes that floor.
    """
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    r, k = table.shape
    if min(r, k) < 2:
        return 0.0
    n = float(table.sum())
    phi2 = chi2_contingency(table, correction=False)[0] / n
    phi2 = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    r_c, k_c = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    denominator = min(r_c - 1, k_c - 1)
    return float(np.sqrt(phi2 / denominator)) if denominator > 0 else 0.0


def _mean_target(y_true: pd.Series, y_pred: pd.Series) -> float:
    del y_pred
    return float(np.mean(y_true))


def _binned(feature: pd.Series) -> np.ndarray:
    """Return a feature as level codes: categories as they are, numbers in quintiles."""
    if isinstance(feature.dtype, pd.CategoricalDtype) or feature.nunique() <= 2 * _BINS:
        return level_codes(feature)
    bins = pd.qcut(feature, _BINS, labels=False, duplicates="drop")
    return np.asarray(bins.fillna(-1), dtype=np.int64)


def _r(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
