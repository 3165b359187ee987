"""Monotone constraints: enforced by four families, counted by ICE lines afterwards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from crispml.data import conform, infer_schema
from crispml.evaluate._monotone import monotone_report
from crispml.features import build_preprocessor, monotone_signs
from crispml.models import get_family

ENFORCING = ["catboost", "hist_gradient_boosting", "lightgbm", "xgboost"]
QUICK = {
    "catboost": {"iterations": 80},
    "lightgbm": {"n_estimators": 80},
    "xgboost": {"n_estimators": 80},
    "hist_gradient_boosting": {"max_iter": 80},
}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with threadpool_limits(limits=1):  # 2 shared cores: OpenMP oversubscribes
        yield


def wavy_frame(n: int = 500, seed: int = 0) -> pd.DataFrame:
    """The target rises with income overall, but wiggles: free models learn the wiggles."""
    rng = np.random.default_rng(seed)
    income = rng.uniform(0, 10, n)
    debt = rng.uniform(0, 5, n)
    signal = 0.4 * income + 1.5 * np.sin(2 * income) - 0.5 * debt
    return pd.DataFrame(
        {
            "income": income,
            "debt": debt,
            "region": rng.choice(["n", "s"], n),
            "y": signal + rng.normal(scale=0.3, size=n),
        }
    )


def _fit(name: str, frame: pd.DataFrame, monotone: dict[str, int] | None):
    schema = infer_schema(frame, target="y")
    X, y = conform(frame, schema), frame["y"].to_numpy()
    family = get_family(name)
    pre = build_preprocessor(schema).fit(X)
    estimator = family.build(QUICK.get(name, {}), task="regression", seed=0)
    if monotone:
        estimator = family.constrain(estimator, monotone_signs(pre, monotone))
    Xt = pre.transform(X)
    estimator = family.fit(estimator, Xt[:400], y[:400], Xt[400:], y[400:])
    return Pipeline([("features", pre), ("model", estimator)]), X


def test_signs_follow_the_output_columns():
    frame = wavy_frame(60)
    schema = infer_schema(frame, target="y")
    pre = build_preprocessor(schema).fit(conform(frame, schema))
    assert monotone_signs(pre, {"income": 1, "debt": -1}) == [1, -1, 0, 0]
    with pytest.raises(ValueError, match=r"\['region'\] are not numeric inputs"):
        monotone_signs(pre, {"region": 1})


@pytest.mark.parametrize("name", ENFORCING)
def test_enforcing_families_show_no_violations(name):
    frame = wavy_frame()
    constraints = {"income": 1, "debt": -1}
    free, X = _fit(name, frame, None)
    tied, _ = _fit(name, frame, constraints)
    loose = monotone_report(free, X.iloc[400:], constraints, task="regression")
    strict = monotone_report(tied, X.iloc[400:], constraints, task="regression")
    assert loose["violations"] > 0 and not loose["passed"]  # the check can fail
    assert strict["violations"] == 0 and strict["passed"]
    assert strict["columns"]["income"]["rows"] == 100
    assert strict["columns"]["debt"]["direction"] == -1


def test_families_declare_whether_they_enforce():
    assert {n for n in ENFORCING if get_family(n).supports_monotone} == set(ENFORCING)
    for name in ("random_forest", "extra_trees", "elastic_net", "linear", "tree"):
        assert not get_family(name).supports_monotone
    assert get_family("dummy").supports_monotone  # a constant honours any direction
    with pytest.raises(ValueError, match="cannot enforce"):
        family = get_family("random_forest")
        family.constrain(family.build({}, task="regression", seed=0), [1, 0])


@pytest.mark.slow
def test_engagement_with_monotone_constraints(tmp_path):
    import json

    from crispml import Project
    from crispml.spec import spec_from_dict

    spec = spec_from_dict(
        {
            "name": "monotone",
            "problem": {"task": "regression", "target": "y"},
            "data": {"source": "inline"},
            "features": {"monotone": {"income": 1, "debt": -1}},
            "search": {
                "families": ["lightgbm", "random_forest", "elastic_net"],
                "deterministic": True,
                "max_trials": 2,
            },
            "evaluation": {"bootstrap": 50},
            "tracking": {"enabled": False},
        },
        source="test",
    )
    run = Project(spec, base_dir=tmp_path, data=wavy_frame(600)).run()
    trials = pd.read_csv(run.path / "search/trials.csv")
    assert set(trials["family"]) <= {"dummy", "lightgbm", "ensemble"}  # the others left
    budget = json.loads((run.path / "budget.json").read_text())
    note = budget["search_stages"]["search"]["note"]
    assert "left the search: ['random_forest', 'elastic_net']" in note
    checked = json.loads((run.path / "evaluation/monotone.json").read_text())
    assert checked["passed"] and checked["violations"] == 0
    assert checked["columns"]["income"]["rows"] == 120
    parity = json.loads((run.path / "deploy/parity.json").read_text())
    assert parity["passed"]
