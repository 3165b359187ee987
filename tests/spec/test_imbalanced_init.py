"""``crispml init`` proposes PR AUC when the positive class is rare, and says why."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from crispml._init import draft_spec
from crispml.spec import propose_metric, spec_from_dict


@pytest.mark.parametrize(
    ("counts", "metric"),
    [
        ({"ok": 951, "fraud": 49}, "average_precision"),  # 4.9 %
        ({"ok": 950, "fraud": 50}, "roc_auc"),  # exactly 5 %: not under
        ({"ok": 10, "fraud": 0}, "roc_auc"),
    ],
)
def test_metric_follows_the_minority_share(counts, metric):
    chosen, reason = propose_metric("binary", counts)
    assert chosen == metric
    assert ("4.9%" in reason) == (metric == "average_precision")


def test_other_tasks_keep_their_default():
    assert propose_metric("multiclass", {"a": 990, "b": 5, "c": 5}) == ("log_loss", "")
    assert propose_metric("regression", {}) == ("rmse", "")


def test_init_writes_pr_auc_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"x": rng.normal(size=1000), "fraud": np.where(np.arange(1000) < 30, "yes", "no")}
    )
    frame.to_csv("claims.csv", index=False)
    text, task = draft_spec("claims.csv", target="fraud")
    spec = spec_from_dict(yaml.safe_load(text), source="drafted")
    assert task == "binary" and spec.problem.metric == "average_precision"
    assert spec.problem.success_criteria == {"average_precision": "beats_baseline"}
    assert "3.0% of the rows" in text and "PR AUC" in text
    balanced = frame.assign(fraud=np.where(np.arange(1000) < 300, "yes", "no"))
    balanced.to_csv("claims.csv", index=False)
    text, _ = draft_spec("claims.csv", target="fraud")
    assert yaml.safe_load(text)["problem"]["metric"] == "roc_auc" and "PR AUC" not in text
