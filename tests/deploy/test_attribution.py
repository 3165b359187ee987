"""The bundle's attribution material reproduces the evaluation's exact attributions."""

from __future__ import annotations

import numpy as np
import pytest
from catboost import CatBoostClassifier
from lightgbm import LGBMClassifier, LGBMRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from crispml.data import conform, infer_schema
from crispml.deploy import build_contract, frame_records
from crispml.deploy._attribution import attribution_files, needs_shap
from crispml.evaluate._attribution import attribute, decompose
from crispml.features import build_preprocessor
from crispml.models import WeightedEnsemble
from crispml.serve._attribution import Attributor
from crispml.serve._runtime import make_session
from tests.serve.conftest import make_loans

POLICY = {"favourable": 0, "labels": ["no", "yes"], "top_k": 3, "statements": {}}


def test_tree_and_linear_members_served_equal_batch(binary_problem, tmp_path):
    p = binary_problem
    members = [
        p.pipeline(LGBMClassifier(n_estimators=40, verbose=-1)),
        p.pipeline(CatBoostClassifier(iterations=30, verbose=0, thread_count=1)),
        p.pipeline(LogisticRegression(), flavour="linear"),
    ]
    model = WeightedEnsemble(members=members, weights=[2, 1, 1], task="binary").fit()
    files = attribution_files(model, p.contract, p.X, task="binary", policy=POLICY)
    assert needs_shap(files)
    for relative, content in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(content)
    served = Attributor.from_files(tmp_path, make_session)
    records = frame_records(p.frame.drop(columns="y").head(60))
    checked = p.serve(model).contract.check(records, impute=True)
    values, base = served.contributions(checked.inputs)
    batch = attribute(decompose(model, p.X, task="binary"), p.X.head(60))
    np.testing.assert_allclose(values, batch.values, atol=1e-4)
    np.testing.assert_allclose(base, batch.base, atol=1e-6)


def test_multiclass_ships_no_material(problems):
    p = problems["multiclass"]
    model = p.pipeline(LGBMClassifier(n_estimators=10, verbose=-1))
    assert attribution_files(model, p.contract, p.X, task="multiclass", policy=POLICY) == {}


def test_regression_reasons_push_the_value_up(problems, tmp_path):
    p = problems["regression"]
    model = p.pipeline(LGBMRegressor(n_estimators=30, verbose=-1))
    files = attribution_files(model, p.contract, p.X, task="regression", policy=POLICY)
    for relative, content in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(content)
    served = p.serve(model)
    served.attribution = Attributor.from_files(tmp_path, make_session)
    record = frame_records(p.frame.drop(columns="y").head(1))[0]
    out = served.explain(record, top_k=2)
    assert out["adverse_action"] is True and len(out["reasons"]) <= 2
    assert all(r["contribution"] > 0 for r in out["reasons"])
    checked = served.contract.check([record], impute=True)
    values, base = served.attribution.contributions(checked.inputs)
    assert values.sum() + base[0] == pytest.approx(out["prediction"], abs=1e-3)


def test_tree_splits_see_the_doubles_the_model_saw(tmp_path):
    # a boosted model over three-decimal ratios, its numbers reaching the trees as doubles
    frame = make_loans(600, seed=1)
    schema = infer_schema(frame, target="deny")
    X, y = conform(frame, schema), (frame["deny"] == "yes").to_numpy(int)
    model = Pipeline(
        [
            ("features", build_preprocessor(schema)),
            ("model", LGBMClassifier(n_estimators=80, verbose=-1)),
        ]
    ).fit(X, y)
    contract = build_contract(schema, X)
    files = attribution_files(model, contract, X, task="binary", policy=POLICY)
    for relative, content in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(content)
    served = Attributor.from_files(tmp_path, make_session)
    checked = contract.check(frame_records(frame.drop(columns="deny")), impute=True)
    values, _ = served.contributions(checked.inputs)
    batch = attribute(decompose(model, X, task="binary"), X)
    np.testing.assert_allclose(values, batch.values, atol=1e-9)


def test_batch_and_serving_read_the_same_tree_arrays():
    from crispml.evaluate._attribution import TREE_FIELDS as BATCH_FIELDS
    from crispml.serve._attribution import TREE_FIELDS as SERVED_FIELDS

    assert BATCH_FIELDS == SERVED_FIELDS
