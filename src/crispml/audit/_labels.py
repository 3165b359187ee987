"""Label quality: cleanlab's confident learning on out-of-fold probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency

from crispml.audit._common import (
    AuditSample,
    audit_score,
    oof_output,
    quick_model,
    sample_positions,
)
from crispml.audit._findings import Finding, Severity
from crispml.audit._proxies import MIN_GROUP_ROWS, as_groups
from crispml.data import Dataset

LABEL_WARNING = 0.05
"""Share of rows flagged as likely mislabelled above which the finding is a warning."""
RELIABLE_SCORE = 0.85
"""Out-of-fold ROC AUC of the quick model below which flags mostly mark hard rows, not errors."""
GROUP_FLAG_RATIO = 0.8
"""Ratio of the lowest to the highest per-group flag rate below which (with p < 0.05)
the flags are reported as concentrated in some protected groups."""
_EXAMPLES = 10
REGRESSION_LABEL_ROWS = 1_500
"""Rows the regression label-quality check scores. cleanlab's OUTRE score compares each
row with its neighbours (time quadratic in the rows: 5,000 rows took 13 s on 2 shared
cores, 2,000 rows 3.5 s); ranking the worst rows of a random sample finds the same kind
of entry errors, and the far-residual share it reports is an estimate either way."""
REGRESSION_LABEL_FOLDS = 3
_MSG_ACTION = (
    "Review the top flagged rows with a domain expert and correct confirmed errors at the "
    "source; do not drop flagged rows wholesale, and read the flag rates per protected group "
    "first. crispml flags rows only and trains on the data as given."
)
_MSG_GROUPS_ACTION = (
    "Flags concentrated in some groups of {name!r} usually mean the quick model fits those "
    "groups worse or their outcomes were decided differently, not that their labels are "
    "wrong. Do not drop or relabel rows of one group on this basis: it would hide the very "
    "disparity the fairness evaluation must measure. Review a sample of flagged rows from "
    "every group with a domain expert, and compare per-group error rates in the evaluation."
)


@dataclass(frozen=True)
class LabelIssues:
    """Rows cleanlab flags as likely mislabelled, most suspicious first.

    Attributes
    ----------
    positions : numpy.ndarray
        Row positions into ``dataset.frame``, ranked by self-confidence (lowest first).
    pred_probs : numpy.ndarray
        Out-of-fold probabilities of the sample rows, shape (n, k).
    """

    positions: np.ndarray
    pred_probs: np.ndarray


def find_label_problems(sample: AuditSample, seed: int = 0) -> LabelIssues:
    """Fit the quick model out of fold and rank likely label errors with cleanlab.

    Parameters
    ----------
    sample : AuditSample
        Classification rows (train and validation).
    seed : int, default=0

    Returns
    -------
    LabelIssues
    """
    from cleanlab.filter import find_label_issues

    probs = oof_output(quick_model(sample.task, seed), sample.X, sample.y, sample.task, seed)
    ranked = find_label_issues(
        sample.y, probs, return_indices_ranked_by="self_confidence", n_jobs=1
    )
    return LabelIssues(sample.positions[ranked], probs)


def label_findings(
    dataset: Dataset, sample: AuditSample, seed: int = 0, protected: tuple[str, ...] = ()
) -> list[Finding]:
    """Count and show the rows whose label disagrees confidently with the data.

    Parameters
    ----------
    dataset : Dataset
    sample : AuditSample
    seed : int, default=0
    protected : tuple of str, default=()
        Protected columns: the share of flagged rows is reported per group of each, a
        warning when the shares differ.

    Returns
    -------
    list of Finding
        For regression, cleanlab's label quality scores rank the rows instead
        (confident learning needs classes), and there are no per-group rates.
    """
    if sample.task == "regression":
        return [_regression_labels(sample, seed)]
    issues = find_label_problems(sample, seed)
    n_flagged, n = len(issues.positions), len(sample.positions)
    share = n_flagged / n
    lookup = {int(p): i for i, p in enumerate(sample.positions)}
    classes = dataset.target.classes
    examples = []
    for pos in issues.positions[:_EXAMPLES]:
        row = lookup[int(pos)]
        probs = issues.pred_probs[row]
        examples.append(
            {
                "position": int(pos),
                "given": str(classes[sample.y[row]]),
                "suggested": str(classes[int(probs.argmax())]),
                "p_given": round(float(probs[sample.y[row]]), 4),
            }
        )
    quality = audit_score(sample.task, sample.y, issues.pred_probs)
    evidence = {
        "flagged": n_flagged,
        "quick_model_roc_auc": round(quality, 4),
        "share": round(share, 4),
        "rows_checked": n,
        "sampled": sample.capped,
        "method": "cleanlab.filter.find_label_issues (prune_by_noise_rate) on 5-fold "
        "out-of-fold LightGBM probabilities",
        "flagged_positions": [int(p) for p in issues.positions[:200]],
        "examples": examples,
    }
    reliable = quality >= RELIABLE_SCORE
    severity: Severity = "warning" if share >= LABEL_WARNING and reliable else "info"
    title = f"{n_flagged:,} row(s) ({share:.1%}) look mislabelled (cleanlab)"
    if not reliable:
        title += f"; the quick model is weak (AUC {quality:.2f}), so most are hard cases"
    main = Finding("labels:issues", "labels", severity, title, evidence, _MSG_ACTION)
    flagged = np.isin(sample.positions, issues.positions)
    by_group = [
        _flags_by_group(name, dataset.frame[name].iloc[sample.positions], flagged)
        for name in protected
        if name in dataset.frame.columns
    ]
    return [main, *by_group]


def _flags_by_group(name: str, values: pd.Series, flagged: np.ndarray) -> Finding:
    """Share of rows flagged in each group of a protected column, and whether they differ."""
    groups = as_groups(values)
    table = pd.DataFrame({"group": groups, "flagged": flagged}).groupby("group")["flagged"]
    counts, hits = table.size(), table.sum()
    by_group = {
        str(g): {
            "rows": int(counts[g]),
            "flagged": int(hits[g]),
            "rate": _rate(hits[g], counts[g]),
        }
        for g in counts.index
    }
    big = counts[counts >= MIN_GROUP_ROWS].index
    rates = hits[big] / counts[big]
    ratio: float | None = None
    p_value: float | None = None
    if len(big) >= 2 and rates.max() > 0:
        ratio = float(rates.min() / rates.max())
        contingency = np.array([hits[big], counts[big] - hits[big]], dtype=np.int64)
        if contingency.sum(axis=1).all():  # someone is flagged, someone is not
            p_value = float(chi2_contingency(contingency)[1])
    differ = (
        ratio is not None and p_value is not None and ratio < GROUP_FLAG_RATIO and p_value < 0.05
    )
    shown = ", ".join(
        f"{by_group[str(g)]['rate']:.1%} of {name} = {g} (n={int(counts[g])})"
        for g in rates.sort_values(ascending=False).index[:6]
    )
    title = f"cleanlab flags {shown}" if shown else f"no group of {name!r} is large enough"
    if differ:
        title += f"; the rates differ (p = {p_value:.2g})"
    evidence: dict[str, Any] = {
        "protected": name,
        "by_group": by_group,
        "min_max_ratio": None if ratio is None else round(ratio, 4),
        "p_value": None if p_value is None else round(p_value, 6),
        "test": "chi-square test of independence of group and flag, groups of "
        f">= {MIN_GROUP_ROWS} rows; a warning when the ratio < {GROUP_FLAG_RATIO} and p < 0.05",
    }
    severity: Severity = "warning" if differ else "info"
    action = _MSG_GROUPS_ACTION.format(name=name) if differ else ""
    return Finding(f"labels:groups:{name}", "labels", severity, title, evidence, action)


def _rate(hits: Any, rows: Any) -> float:
    return round(float(hits) / float(rows), 4) if rows else 0.0


def _regression_labels(sample: AuditSample, seed: int) -> Finding:
    """Rank target values by cleanlab's regression label quality, on a sample.

    A quick model (3 folds) predicts each sampled row out of fold; cleanlab scores the
    labels against those predictions. Only :data:`REGRESSION_LABEL_ROWS` rows of the
    audit sample are used (the evidence says how many).
    """
    from cleanlab.regression.rank import get_label_quality_scores

    rows = sample_positions(np.arange(len(sample.y)), REGRESSION_LABEL_ROWS, seed)
    X, y = sample.X.iloc[rows].reset_index(drop=True), sample.y[rows]
    model = quick_model("regression", seed)
    predicted = oof_output(model, X, y, "regression", seed, n_splits=REGRESSION_LABEL_FOLDS)
    quality = get_label_quality_scores(y, predicted)
    residual = y - predicted
    spread = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    far = int((np.abs(residual) > 5 * spread).sum()) if spread > 0 else 0
    order = np.argsort(quality)[:_EXAMPLES]
    examples = [
        {
            "position": int(sample.positions[rows[i]]),
            "given": round(float(y[i]), 6),
            "predicted": round(float(predicted[i]), 6),
            "quality": round(float(quality[i]), 4),
        }
        for i in order
    ]
    share = far / len(y)
    evidence = {
        "rows_checked": len(y),
        "sampled": len(y) < sample.n_labelled,
        "sample_of": sample.n_labelled,
        "far_residuals": far,
        "share": round(share, 4),
        "quick_model_r2": round(audit_score("regression", y, predicted), 4),
        "method": "cleanlab.regression.rank.get_label_quality_scores on "
        f"{REGRESSION_LABEL_FOLDS}-fold out-of-fold LightGBM predictions of a random sample "
        f"of at most {REGRESSION_LABEL_ROWS:,} labelled rows (its cost grows with the square "
        "of the rows); 'far' = residual beyond 5 robust standard deviations",
        "examples": examples,
    }
    title = (
        f"{far:,} of {len(y):,} sampled target value(s) ({share:.1%}) lie far from what the "
        "features predict"
    )
    action = "Check the lowest-quality rows (in the evidence) for entry errors or unit mix-ups."
    return Finding("labels:issues", "labels", "info", title, evidence, action)
