"""Shift between the training rows and the locked test set (adversarial validation)."""

from __future__ import annotations

import warnings

import numpy as np

from crispml.audit._common import (
    audit_score,
    model_matrix,
    oof_output,
    quick_model,
    sample_positions,
)
from crispml.audit._findings import Finding, Severity
from crispml.data import Dataset, Split

SHIFT_WARNING = 0.6
"""ROC AUC of the train-vs-test classifier at which the shift is a warning."""
_TOP = 5


def shift_findings(dataset: Dataset, split: Split, *, cap: int, seed: int = 0) -> list[Finding]:
    """Train a classifier to tell training rows from test rows; report how well it does.

    Only features are used (never the target), so the locked test set stays unseen by
    any model of the engagement. An AUC near 0.5 means the two parts look alike.

    Parameters
    ----------
    dataset : Dataset
    split : Split
    cap : int
        Most rows used (train and test rows drawn in their natural proportion).
    seed : int, default=0

    Returns
    -------
    list of Finding
    """
    labelled = np.concatenate([split.train, split.valid])
    every = np.concatenate([labelled, split.test])
    is_test = np.concatenate([np.zeros(len(labelled), int), np.ones(len(split.test), int)])
    chosen = sample_positions(np.arange(len(every)), cap, seed)
    X = model_matrix(dataset.features(every[chosen]))
    y = is_test[chosen]
    model = quick_model("binary", seed)
    auc = audit_score("binary", y, oof_output(model, X, y, "binary", seed, n_splits=3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.set_params(importance_type="gain").fit(X, y)
    gains = model.feature_importances_ / max(float(model.feature_importances_.sum()), 1e-12)
    order = np.argsort(-gains)[:_TOP]
    top = {str(X.columns[i]): round(float(gains[i]), 4) for i in order if gains[i] > 0}
    severity: Severity = "warning" if auc >= SHIFT_WARNING else "info"
    title = f"train vs test: a classifier tells them apart with ROC AUC {auc:.3f}"
    title += f" (top: {next(iter(top))!r})" if severity == "warning" and top else " (no shift)"
    evidence = {
        "roc_auc": round(auc, 4),
        "rows_used": len(chosen),
        "sampled": len(chosen) < len(every),
        "top_features_gain_share": top,
    }
    action = (
        "The test set differs from the training rows: expected with a time split, "
        "otherwise check how the data was assembled; test scores may not carry over."
        if severity == "warning"
        else ""
    )
    return [Finding("shift:adversarial", "shift", severity, title, evidence, action)]
