"""What the served graph answers for each task: predictions, decisions, reason codes."""

from __future__ import annotations

import numpy as np
import pytest

from crispml.deploy import frame_records
from crispml.models import get_family


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_predict_and_explain_for_every_task(problems, task):
    problem = problems[task]
    family = get_family("lightgbm")
    params = {**family.defaults(task), "n_estimators": 30}
    pipeline = problem.pipeline(family.build(params, task=task, seed=0))
    served = problem.serve(pipeline)
    records = frame_records(problem.frame.drop(columns="y").head(20))
    rows = served.predict(records)
    if task == "regression":
        native = pipeline.predict(problem.X.head(20))
        got = np.array([r["prediction"] for r in rows])
        np.testing.assert_allclose(got, native, rtol=1e-5)
    else:
        native = pipeline.predict_proba(problem.X.head(20))
        labels = np.asarray(problem.encoding.classes, dtype=object)[native.argmax(axis=1)]
        assert [r["prediction"] for r in rows] == list(labels)
        assert ("decision" in rows[0]) == (task == "binary")
    explained = served.explain(records[0], top_k=3)
    assert len(explained["reasons"]) == 3
    assert {r["column"] for r in explained["reasons"]} <= {"x1", "x2", "city", "member"}
    at_reference = {c.name: c.reference for c in served.contract.columns}
    assert all(r["contribution"] == 0.0 for r in served.explain(at_reference)["reasons"])
