"""Small fitted models and their served ONNX graphs for the deployment tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from crispml.data import TargetEncoding, conform, infer_schema
from crispml.deploy import build_contract, contract_document, export_onnx
from crispml.features import build_preprocessor
from crispml.models import decision_threshold
from crispml.serve import ServingModel


def make_frame(task: str, n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """Numeric (with missing), categorical (with missing, one rare level) and boolean columns."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.uniform(0, 100, size=n).round(1)
    city = rng.choice(["north", "south", "east", "west"], size=n, p=[0.4, 0.3, 0.25, 0.05])
    member = rng.choice(["yes", "no"], size=n)
    signal = 1.5 * x1 - x2 / 50 + (city == "north") + (member == "yes") * 0.5
    frame = pd.DataFrame({"x1": x1, "x2": x2, "city": city, "member": member})
    if task == "binary":
        frame["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-signal)), "yes", "no")
    elif task == "multiclass":
        frame["y"] = np.array(["a", "b", "c"])[np.digitize(signal, [-0.5, 0.8])]
    else:
        frame["y"] = 10 * signal + rng.normal(size=n)
    frame.loc[rng.choice(n, size=n // 15, replace=False), "x1"] = np.nan
    frame.loc[rng.choice(n, size=n // 20, replace=False), "city"] = np.nan
    return frame, "y"


class Problem:
    """A dataset with schema, conformed features, encoded target and contract."""

    def __init__(self, task: str, seed: int = 0) -> None:
        self.task = task
        self.frame, target = make_frame(task, seed=seed)
        self.schema = infer_schema(self.frame, target=target)
        self.X = conform(self.frame, self.schema)
        if task == "regression":
            self.encoding = TargetEncoding("regression")
            self.y = self.frame[target].to_numpy(dtype=float)
        else:
            classes = tuple(sorted(self.frame[target].unique()))
            if task == "binary":
                classes = ("no", "yes")
            self.encoding = TargetEncoding(task, classes)
            self.y = self.encoding.encode(self.frame[target])
        self.contract = build_contract(self.schema, self.X)

    def pipeline(self, model, flavour: str = "tree") -> Pipeline:
        if type(model).__module__.split(".")[0] in ("lightgbm", "xgboost"):  # one thread
            model.set_params(n_jobs=1)
        pre = build_preprocessor(self.schema, flavour=flavour)
        return Pipeline([("features", pre), ("model", model)]).fit(self.X, self.y)

    def serve(self, model, threshold: float | None = None) -> ServingModel:
        n_classes = len(self.encoding.classes)
        if self.task == "binary" and threshold is None:
            threshold = decision_threshold(model)
        graph = export_onnx(
            model, self.contract, task=self.task, n_classes=n_classes, threshold=threshold
        )
        doc = contract_document(self.contract, self.encoding, threshold=threshold, card={})
        return ServingModel(graph.SerializeToString(), doc)


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def binary_problem() -> Problem:
    return Problem("binary")


@pytest.fixture(scope="session")
def problems() -> dict[str, Problem]:
    return {task: Problem(task) for task in ("binary", "multiclass", "regression")}
