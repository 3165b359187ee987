"""Target checks: class balance or distribution, missing labels, classes too small to test."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crispml.audit._findings import Finding, Severity
from crispml.data import Dataset, Split

MINORITY_WARNING = 0.05
"""Minority class share below which imbalance is a warning."""
MIN_TEST_ROWS = 10
"""Rows of a class in the test set below which its test metrics are not trustworthy."""
SKEW_WARNING = 2.0
"""Absolute skewness above which a regression target is reported."""


def target_findings(dataset: Dataset, split: Split) -> list[Finding]:
    """Class balance (or distribution), rows without target, classes too small to test.

    Parameters
    ----------
    dataset : Dataset
    split : Split

    Returns
    -------
    list of Finding
    """
    findings = []
    if dataset.n_missing_target:
        findings.append(
            Finding(
                "target:missing",
                "target",
                "warning",
                f"{dataset.n_missing_target:,} row(s) have no target and were left out",
                {"rows": dataset.n_missing_target},
                "Check why labels are missing: if not at random, the model sees a biased sample.",
            )
        )
    if dataset.target.task == "regression":
        return findings + _distribution(dataset)
    return findings + _balance(dataset, split)


def _balance(dataset: Dataset, split: Split) -> list[Finding]:
    classes = dataset.target.classes
    counts = np.bincount(dataset.y, minlength=len(classes))
    test_counts = np.bincount(dataset.y[split.test], minlength=len(classes))
    minority = int(counts.argmin())
    share = float(counts[minority] / counts.sum())
    ratio = float(counts.max() / max(counts[minority], 1))
    evidence = {
        "counts": {str(c): int(n) for c, n in zip(classes, counts, strict=True)},
        "test_counts": {str(c): int(n) for c, n in zip(classes, test_counts, strict=True)},
        "minority_class": str(classes[minority]),
        "minority_share": round(share, 4),
        "imbalance_ratio": round(ratio, 2),
    }
    severity: Severity = "warning" if share < MINORITY_WARNING else "info"
    title = (
        f"class balance: minority {classes[minority]!r} is {share:.1%} of rows "
        f"(imbalance {ratio:.1f}:1)"
    )
    action = (
        "Judge models by ROC AUC / log loss rather than accuracy; consider class weights "
        "and a tuned threshold."
        if severity == "warning"
        else ""
    )
    out = [Finding("target:balance", "target", severity, title, evidence, action)]
    pairs = zip(classes, test_counts, strict=True)
    small = {str(c): int(n) for c, n in pairs if n < MIN_TEST_ROWS}
    if small:
        out.append(
            Finding(
                "target:small-classes",
                "target",
                "warning",
                f"class(es) {', '.join(map(repr, small))} have fewer than "
                f"{MIN_TEST_ROWS} test rows",
                {"test_counts": small},
                "Per-class test metrics rest on a handful of rows: collect more data or "
                "merge rare classes.",
            )
        )
    return out


def _distribution(dataset: Dataset) -> list[Finding]:
    y = pd.Series(dataset.y)
    q1, q3 = y.quantile([0.25, 0.75])
    iqr = q3 - q1
    far = int(((y < q1 - 3 * iqr) | (y > q3 + 3 * iqr)).sum()) if iqr > 0 else 0
    skew = float(y.skew())
    evidence = {
        "mean": float(y.mean()),
        "std": float(y.std()),
        "quantiles": {str(q): float(v) for q, v in y.quantile([0, 0.01, 0.5, 0.99, 1]).items()},
        "skew": round(skew, 3),
        "far_outliers": far,
    }
    severity: Severity = "warning" if abs(skew) > SKEW_WARNING else "info"
    title = f"target distribution: skew {skew:.2f}, {far:,} far-out value(s)"
    action = (
        "Consider a log transform or a robust metric (MAE); check the extreme values."
        if severity == "warning"
        else ""
    )
    return [Finding("target:distribution", "target", severity, title, evidence, action)]
