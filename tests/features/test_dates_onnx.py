"""ONNX parity of the date features, alone and inside whole exported pipelines."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest
from catboost import CatBoostClassifier
from lightgbm import LGBMClassifier
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import DoubleTensorType
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from xgboost import XGBClassifier

from crispml.data import conform, infer_schema
from crispml.deploy import build_contract, export_onnx
from crispml.features import DateFeatures, build_preprocessor, register_date_converter
from crispml.serve import ColumnContract, InputContract

PARITY = 1e-5


def _session(model) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("linear", [False, True])
def test_converter_matches_transform(linear):
    register_date_converter()
    rng = np.random.default_rng(0)
    X = np.column_stack(
        [rng.uniform(-3e9, 4e9, 3000).round(), rng.integers(0, 30_000, 3000) * 86_400.0]
    )
    X[rng.random(3000) < 0.1, 0] = np.nan
    t = DateFeatures(linear=linear).fit(X)
    graph = convert_sklearn(
        t, initial_types=[("X", DoubleTensorType([None, 2]))], target_opset={"": 17}
    )
    got = _session(graph).run(None, {"X": X})[0].astype(np.float64)
    expected = t.transform(X)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    assert np.nanmax(np.abs(got - expected)) < 1e-12  # same ops in double, then float


def _date_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.uniform(0, 700, n), unit="D")
    end = start + pd.to_timedelta(rng.uniform(0, 60, n), unit="D")
    frame = pd.DataFrame(
        {
            "amount": rng.normal(size=n),
            "opened": start.strftime("%Y-%m-%d %H:%M"),
            "closed": end.strftime("%Y-%m-%d"),
            "kind": rng.choice(["a", "b", "c"], size=n),
        }
    )
    signal = (end - start).days.to_numpy() / 30 - 1 + frame["amount"] + (start.month > 6)
    frame["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-2 * signal)), "yes", "no")
    frame.loc[rng.choice(n, size=n // 10, replace=False), "closed"] = None
    return frame


def _onnx_inputs(X: pd.DataFrame, contract) -> dict[str, np.ndarray]:
    """What the serving contract hands to the graph: doubles for numbers and dates."""
    out = {}
    for col in contract.columns:
        values = X[col.name].to_numpy()
        dtype = object if col.kind in ("category", "text") else np.float64
        out[col.name] = values.astype(dtype).reshape(-1, 1)
    return out


def _contract(schema) -> InputContract:
    """The graph's inputs as build_contract declares them (without the serving check)."""
    kinds = {"numeric": "number", "datetime": "datetime", "categorical": "category"}
    return InputContract(tuple(ColumnContract(n, kinds[schema[n].role]) for n in schema.features))


def test_contract_declares_dates_as_datetime_inputs():
    frame = _date_frame(n=50)
    schema = infer_schema(frame, target="y")
    X = conform(frame, schema)
    kinds = [c.kind for c in build_contract(schema, X).columns]
    assert kinds == ["number", "datetime", "datetime", "category"]


MODELS = {
    "catboost": (
        lambda: CatBoostClassifier(
            iterations=40, verbose=0, thread_count=1, allow_writing_files=False
        ),
        "tree",
    ),
    "xgboost": (lambda: XGBClassifier(n_estimators=40, max_depth=3, n_jobs=1), "tree"),
    "lightgbm": (lambda: LGBMClassifier(n_estimators=40, n_jobs=1, verbose=-1), "tree"),
    "hist_gradient_boosting": (lambda: HistGradientBoostingClassifier(max_iter=40), "tree"),
    "logistic": (lambda: LogisticRegression(max_iter=500), "linear"),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_exported_pipeline_with_dates_keeps_parity(name):
    frame = _date_frame()
    schema = infer_schema(frame, target="y")
    assert schema.names("datetime") == ["opened", "closed"]
    X, y = conform(frame, schema), (frame["y"] == "yes").to_numpy().astype(int)
    make, flavour = MODELS[name]
    pipeline = Pipeline([("features", build_preprocessor(schema, flavour=flavour)), ("m", make())])
    pipeline.fit(X, y)
    contract = _contract(schema)
    graph = export_onnx(pipeline, contract, task="binary", n_classes=2, threshold=0.5)
    assert [i.type.tensor_type.elem_type for i in graph.graph.input][:3] == [11, 11, 11]
    probe = pd.concat([X, X.iloc[:3].assign(opened=np.nan, amount=np.nan)], ignore_index=True)
    probs = _session(graph).run(["probabilities"], _onnx_inputs(probe, contract))[0]
    native = pipeline.predict_proba(probe)
    assert np.abs(probs - native).max() < PARITY
