"""Each detector exports to ONNX with the whole pipeline; served scores match native ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crispml.data import TargetEncoding, conform, infer_schema
from crispml.deploy import anomaly_parity, build_contract, contract_document, export_detector
from crispml.exceptions import DeploymentError
from crispml.models import DETECTORS, anomaly_scores
from crispml.search import detector_pipeline
from crispml.serve import ServingModel


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "amount": rng.lognormal(3, 1, n).round(2),
            "items": rng.integers(1, 9, n).astype(float),
            "shop": rng.choice(["a", "b", "c"], n),
        }
    )
    frame.loc[rng.choice(n, 10, replace=False), "items"] = np.nan
    return frame


def _served(name: str):
    frame = _frame()
    schema = infer_schema(frame, target="")
    X = conform(frame, schema)
    pipe = detector_pipeline(schema, name, {}, contamination=0.05, seed=0).fit(X)
    contract = build_contract(schema, X)
    document = contract_document(contract, TargetEncoding("anomaly"), threshold=None, card={})
    document["threshold"] = 0.0
    served = ServingModel(export_detector(pipe, contract).SerializeToString(), document)
    return frame, schema, pipe, served


# skl2onnx builds IsolationForest's graph tree by tree (~15 s for 100 trees on 2 cores).
SLOW = {"isolation_forest"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else []) for n in DETECTORS]
)
def test_detector_exports_with_parity(name):
    frame, schema, pipe, served = _served(name)
    report = anomaly_parity(pipe, served, frame, schema)
    assert report["passed"] and report["max_abs_prob_diff"] < 1e-4
    rows = served.predict([{"amount": 1e6, "items": 3.0, "shop": "zzz"}], unknown="warn")
    native = anomaly_scores(
        pipe, conform(pd.DataFrame([{"amount": 1e6, "items": 3.0, "shop": "zzz"}]), schema)
    )
    assert rows[0]["score"] == pytest.approx(native[0], rel=1e-4, abs=1e-4)
    assert rows[0]["prediction"] is bool(native[0] > 0)


def test_parity_failure_is_refused():
    frame, schema, _pipe, served = _served("local_outlier_factor")
    other = detector_pipeline(schema, "local_outlier_factor", {}, contamination=0.05, seed=1)
    other.fit(conform(frame, schema).iloc[:50])
    with pytest.raises(DeploymentError, match="ONNX parity failed for the anomaly detector"):
        anomaly_parity(other, served, frame, schema)
