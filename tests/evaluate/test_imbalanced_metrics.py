"""PR AUC (average precision) with bootstrap intervals; precision and recall at the threshold."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, precision_score, recall_score

from crispml.evaluate import bootstrap_metric, metrics_with_ci, score
from crispml.evaluate._bootstrap import weighted_metric
from crispml.evaluate._threshold import decision_intervals


def _rare(n: int = 2000, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.04).astype(int)
    p1 = np.clip(0.3 * y + rng.beta(1, 8, n), 0, 1).round(2)  # rounded: many ties
    return y, np.c_[1 - p1, p1]


def test_average_precision_matches_sklearn_with_and_without_weights():
    y, out = _rare()
    expected = average_precision_score(y, out[:, 1])
    assert score("average_precision", y, out) == pytest.approx(expected)
    ones = np.ones((1, len(y)))
    assert weighted_metric("average_precision", y, out, ones)[0] == pytest.approx(expected)
    rng = np.random.default_rng(1)
    draw = rng.integers(0, len(y), len(y))
    weights = np.bincount(draw, minlength=len(y)).astype(float)[None, :]
    resampled = average_precision_score(y[draw], out[draw, 1])
    assert weighted_metric("average_precision", y, out, weights)[0] == pytest.approx(resampled)


def test_binary_metrics_carry_an_average_precision_interval():
    y, out = _rare()
    ci = metrics_with_ci("binary", y, out, n_resamples=200)["average_precision"]
    assert ci.low < ci.estimate < ci.high
    assert ci.estimate < bootstrap_metric("roc_auc", y, out, n_resamples=0).estimate


def test_precision_and_recall_at_the_threshold_have_intervals():
    y, out = _rare()
    ci = decision_intervals(y, out[:, 1], 0.45, n_resamples=300, seed=0)
    flagged = (out[:, 1] >= 0.45).astype(int)
    assert ci["precision"]["estimate"] == pytest.approx(precision_score(y, flagged))
    assert ci["recall"]["estimate"] == pytest.approx(recall_score(y, flagged))
    for name in ("precision", "recall", "f1"):
        assert ci[name]["low"] < ci[name]["estimate"] < ci[name]["high"], name
    # ~80 positives: the recall interval is wide, as it should be with few positives
    assert ci["recall"]["high"] - ci["recall"]["low"] > 0.05
    none = decision_intervals(y, out[:, 1], 1.5, n_resamples=50)
    assert none["precision"]["estimate"] is None and none["recall"]["estimate"] == 0.0


@pytest.mark.slow
def test_imbalanced_engagement_end_to_end(tmp_path):
    import json

    import pandas as pd

    from crispml import Project
    from crispml.spec import spec_from_dict

    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=1500), rng.normal(size=1500)
    rare = rng.random(1500) < 1 / (1 + np.exp(4.6 - 1.8 * x1 - 0.8 * x2))  # about 4 %
    frame = pd.DataFrame({"x1": x1, "x2": x2, "fraud": np.where(rare, "yes", "no")})
    spec = spec_from_dict(
        {
            "name": "imbalanced",
            "problem": {"task": "binary", "target": "fraud", "metric": "average_precision"},
            "data": {"source": "inline"},
            "search": {
                "families": ["hist_gradient_boosting"],
                "deterministic": True,
                "max_trials": 3,
                "ensemble": False,
            },
            "evaluation": {"bootstrap": 100},
            "deployment": {"format": "none"},
            "tracking": {"enabled": False},
        },
        source="test",
    )
    run = Project(spec, base_dir=tmp_path, data=frame).run()
    trials = pd.read_csv(run.path / "search/trials.csv")
    assert "valid_average_precision" in trials.columns
    searched = trials[trials["family"] == "hist_gradient_boosting"]["params"]
    assert searched.str.contains('"class_weight"').all()
    ap = run.evaluation.test["average_precision"]
    assert ap.low < ap.estimate < ap.high and ap.estimate > 0.2
    threshold = json.loads((run.path / "evaluation/threshold.json").read_text())
    for name in ("precision", "recall"):
        ci = threshold["test_ci"][name]
        assert ci["estimate"] == pytest.approx(threshold["test"][name])
        assert ci["low"] <= ci["estimate"] <= ci["high"]
