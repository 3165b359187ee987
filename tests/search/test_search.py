from __future__ import annotations

import numpy as np

from crispml.data import conform, infer_schema
from crispml.search import Deadline, search_models


def _data(frame):
    schema = infer_schema(frame, target="y")
    X = conform(frame, schema)
    y = (frame["y"] == "yes").to_numpy().astype(int)
    return schema, X.iloc[:200], y[:200], X.iloc[200:], y[200:]


def test_baselines_then_family_best_on_validation(binary_frame):
    schema, Xt, yt, Xv, yv = _data(binary_frame)
    seen = []
    result = search_models(
        Xt,
        yt,
        Xv,
        yv,
        schema=schema,
        task="binary",
        metric="roc_auc",
        families=["lightgbm"],
        time_budget_s=30,
        on_candidate=seen.append,
    )
    names = [c.name for c in result.candidates]
    assert names == ["dummy", "linear", "tree", "lightgbm"] and [c.name for c in seen] == names
    scores = {c.name: c.valid_score for c in result.candidates}
    assert result.best.valid_score == max(scores.values())
    assert scores["dummy"] == 0.5 and scores[result.best.name] > 0.7
    assert result.best.pipeline.predict_proba(Xv).shape == (len(Xv), 2)


def test_expired_deadline_skips_the_family_not_the_baselines(binary_frame):
    schema, Xt, yt, Xv, yv = _data(binary_frame)
    now = [0.0]
    deadline = Deadline(5.0, clock=lambda: now[0])
    now[0] = 6.0
    result = search_models(
        Xt,
        yt,
        Xv,
        yv,
        schema=schema,
        task="binary",
        metric="log_loss",
        families=["lightgbm"],
        time_budget_s=5,
        deadline=deadline,
    )
    status = {c.name: c.status for c in result.candidates}
    assert status == {"dummy": "ok", "linear": "ok", "tree": "ok", "lightgbm": "skipped"}
    assert result.best.name in {"linear", "tree"}  # log_loss: lower is better, dummy is worst


def test_failing_family_is_reported_not_replaced(binary_frame):
    from crispml.models import ModelFamily, register
    from crispml.models._base import _REGISTRY

    @register("broken_example")
    class Broken(ModelFamily):
        def build(self, params, *, task, seed):
            raise MemoryError("pretend the model did not fit in memory")

    schema, Xt, yt, Xv, yv = _data(binary_frame)
    try:
        result = search_models(
            Xt,
            yt,
            Xv,
            yv,
            schema=schema,
            task="binary",
            metric="roc_auc",
            families=["broken_example"],
            time_budget_s=30,
        )
    finally:
        _REGISTRY.pop("broken_example")
    broken = result.candidates[-1]
    assert (broken.name, broken.status, broken.pipeline) == ("broken_example", "failed", None)
    assert "MemoryError: pretend" in broken.info["error"]
    assert result.best.name != "broken_example" and np.isfinite(result.best.valid_score)
