"""The leakage canary: with shuffled labels, the audit's procedure must score at chance."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from crispml.audit._common import AuditSample, audit_score, chance_score, oof_output, quick_model
from crispml.audit._findings import Finding

Procedure = Callable[[pd.DataFrame, np.ndarray], np.ndarray]
"""Fits on (X, y) and returns out-of-fold outputs for every row (probabilities or values)."""
N_SHUFFLES = 2
_MIN_MARGIN = 0.02


def canary_findings(
    sample: AuditSample,
    *,
    seed: int = 0,
    procedure: Procedure | None = None,
    n_shuffles: int = N_SHUFFLES,
) -> list[Finding]:
    """Score the out-of-fold procedure on shuffled labels; above chance means a leak.

    With the labels shuffled, nothing in the features can predict them: a score above
    chance can only come from the procedure itself seeing the labels it is scored on
    (preprocessing fitted on all rows, folds that share rows, a target-derived feature
    rebuilt from ``y``). sklearn's ``permutation_test_score`` does the same for an
    estimator; the loop is written out so that any procedure can be put under test.

    Parameters
    ----------
    sample : AuditSample
    seed : int, default=0
    procedure : callable, optional
        ``procedure(X, y) -> out-of-fold outputs``; default: the audit's quick LightGBM
        model in 3-fold cross-validation.
    n_shuffles : int, default=2

    Returns
    -------
    list of Finding
        One finding: blocking when the shuffled-label score is above chance.
    """
    task = sample.task
    run = procedure or (
        lambda X, y: oof_output(quick_model(task, seed), X, y, task, seed, n_splits=3)
    )
    rng = np.random.default_rng(seed + 1)
    scores = []
    for _ in range(n_shuffles):
        shuffled = rng.permutation(sample.y)
        scores.append(audit_score(task, shuffled, run(sample.X, shuffled)))
    mean = float(np.mean(scores))
    chance = chance_score(task)
    limit = chance + _margin(task, sample.y)
    evidence = {
        "shuffled_scores": [round(s, 4) for s in scores],
        "chance": chance,
        "limit": round(limit, 4),
        "metric": "R²" if task == "regression" else "ROC AUC",
        "rows_used": len(sample.positions),
    }
    if mean <= limit:
        title = f"shuffled-label canary at chance (score {mean:.3f}, limit {limit:.3f})"
        return [Finding("canary:shuffled-labels", "canary", "info", title, evidence)]
    return [
        Finding(
            "canary:shuffled-labels",
            "canary",
            "blocking",
            f"with shuffled labels the procedure still scores {mean:.3f} (chance {chance:g}): "
            "something leaks the target",
            evidence,
            "Find what lets the model see the labels (preprocessing fitted on all rows, "
            "duplicated rows across folds, target-derived columns) before trusting any score.",
        )
    ]


def _margin(task: str, y: np.ndarray) -> float:
    """Four standard errors of the score under the null, at least 0.02.

    For ROC AUC the null variance of one class against the rest is
    (n_k + n_rest + 1) / (12 n_k n_rest) (Hanley and McNeil, 1982); the macro average of
    K one-vs-rest AUCs has variance sum(var_k) / K². For R² the error is about 1/sqrt(n).
    """
    if task == "regression":
        return float(max(_MIN_MARGIN, 4.0 / np.sqrt(len(y))))
    counts = np.bincount(np.asarray(y, dtype=np.int64)).astype(np.float64)
    counts = counts[counts > 0][:1] if task == "binary" else counts[counts > 0]
    rest = len(y) - counts
    variance = float(np.sum((counts + rest + 1) / (12 * counts * rest))) / len(counts) ** 2
    return float(max(_MIN_MARGIN, 4.0 * np.sqrt(variance)))
