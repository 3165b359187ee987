"""What the served graph answers for each task: predictions and decisions."""

from __future__ import annotations

import numpy as np
import pytest

from crispml.deploy import frame_records
from crispml.models import get_family
from crispml.serve._runtime import ExplainUnavailable


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
    with pytest.raises(ExplainUnavailable, match="no exact attributions"):
        served.explain(records[0])  # reasons need the bundle's attribution material
