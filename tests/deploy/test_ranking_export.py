"""Both rankers convert to ONNX: served scores and per-query orderings match the native ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crispml.data import TargetEncoding, conform, infer_schema
from crispml.deploy import ranking_parity
from crispml.deploy._contract import build_contract, contract_document
from crispml.deploy._value import export_value_graph
from crispml.exceptions import DeploymentError
from crispml.models import fit_ranking
from crispml.search import ranking_pipeline
from crispml.serve import ServingModel


def _table(seed=0):
    rng = np.random.default_rng(seed)
    n = 30 * 8
    a, b = rng.normal(size=(2, n))
    frame = pd.DataFrame(
        {
            "qid": np.repeat(np.arange(30), 8),
            "a": a.round(3),
            "b": b.round(3),
            "kind": rng.choice(["x", "y"], n),
            "rel": np.digitize(a + 0.5 * b, [0.0, 1.0]),
        }
    )
    frame.loc[::17, "b"] = np.nan  # missing values take the trees' default branch
    return frame


def _served(pipe, schema, X):
    contract = build_contract(schema, X, on_missing="impute")
    graph = export_value_graph(pipe, contract, op="Identity", name="t", on_error="{what} {error}")
    document = contract_document(contract, TargetEncoding("ranking"), threshold=None, card={})
    document["onnx"]["outputs"] = ["value"]
    return ServingModel(graph.SerializeToString(), document)


@pytest.mark.parametrize("ranker", ["lightgbm_ranker", "xgboost_ranker"])
def test_ranker_graph_keeps_scores_and_orderings(ranker):
    frame = _table()
    schema = infer_schema(frame, target="rel", drop=("qid",))
    train, test = frame[frame["qid"] < 24], frame[frame["qid"] >= 24]
    X = conform(train, schema)
    params = {"n_estimators": 40}
    pipe = ranking_pipeline(schema, ranker, params, seed=0, n_jobs=1)
    fit_ranking(pipe, X, train["rel"].to_numpy(), train["qid"].to_numpy())
    served = _served(pipe, schema, X)
    report = ranking_parity(pipe, served, test, test["qid"].to_numpy(), schema)
    assert report["passed"] and report["task"] == "ranking"
    assert report["max_abs_prob_diff"] < 1e-4
    assert report["queries_reordered"] == 0 and report["n_queries"] == 6


def test_a_graph_of_another_model_fails_parity_with_a_clear_message():
    frame = _table()
    schema = infer_schema(frame, target="rel", drop=("qid",))
    X = conform(frame, schema)
    pipes = []
    for seed in (0, 1):
        pipe = ranking_pipeline(schema, "lightgbm_ranker", {"subsample": 0.6}, seed=seed, n_jobs=1)
        pipes.append(fit_ranking(pipe, X, frame["rel"].to_numpy(), frame["qid"].to_numpy()))
    served = _served(pipes[1], schema, X)
    with pytest.raises(DeploymentError, match="ONNX parity failed for the ranker: max score"):
        ranking_parity(pipes[0], served, frame, frame["qid"].to_numpy(), schema)
