"""Label quality: cleanlab's confident learning on out-of-fold probabilities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from cleanlab.filter import find_label_issues

from crispml.audit._common import AuditSample, audit_score, oof_output, quick_model
from crispml.audit._findings import Finding, Severity
from crispml.data import Dataset

LABEL_WARNING = 0.05
"""Share of rows flagged as likely mislabelled above which the finding is a warning."""
RELIABLE_SCORE = 0.85
"""Out-of-fold ROC AUC of the quick model below which flags mostly mark hard rows, not errors."""
_EXAMPLES = 10


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
    probs = oof_output(quick_model(sample.task, seed), sample.X, sample.y, sample.task, seed)
    ranked = find_label_issues(
        sample.y, probs, return_indices_ranked_by="self_confidence", n_jobs=1
    )
    return LabelIssues(sample.positions[ranked], probs)


def label_findings(dataset: Dataset, sample: AuditSample, seed: int = 0) -> list[Finding]:
    """Count and show the rows whose label disagrees confidently with the data.

    Parameters
    ----------
    dataset : Dataset
    sample : AuditSample
    seed : int, default=0

    Returns
    -------
    list of Finding
        Empty for regression (confident learning needs classes).
    """
    if sample.task == "regression":
        return []
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
    action = (
        "Review the top flagged rows with a domain expert; relabel or drop them knowingly. "
        "crispml flags rows only and trains on the data as given."
    )
    return [Finding("labels:issues", "labels", severity, title, evidence, action)]
