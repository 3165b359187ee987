"""The deployment steps shared by models that output one value per row.

An anomaly detector and a ranker are both a scikit-learn pipeline whose last step gives
one number per row (the detector's decision function, the ranker's score). Both become
one ONNX graph with raw columns in and ``value`` out, are certified on the test rows by
their own parity check, and are timed and bundled the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto, helper

from crispml._utils._io import sha256_bytes
from crispml.data import Schema, TargetEncoding, conform
from crispml.deploy import _graph
from crispml.deploy._bundle import ArtifactWriter, write_bundle
from crispml.deploy._certify import write_certified_graph
from crispml.deploy._contract import build_contract, contract_document
from crispml.deploy._converters import (
    double_inputs,
    patch_unknown_categories,
    register_converters,
    restore_input_names,
)
from crispml.deploy._export import TARGET_OPSET, graph_inputs, initial_types
from crispml.deploy._parity import frame_records
from crispml.deploy._result import DeploymentResult, Latency, Parity
from crispml.exceptions import DeploymentError
from crispml.serve import InputContract, ServingModel

Parity_ = Callable[[ServingModel], dict[str, Any]]


def export_value_graph(
    pipeline: Any, contract: InputContract, *, op: str, name: str, on_error: str
) -> onnx.ModelProto:
    """Convert a fitted pipeline to one graph: raw columns in, ``value`` (n, 1) out.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Preprocessing then an estimator with a (registered) skl2onnx converter.
    contract : InputContract
        The raw input columns.
    op : str
        ONNX operator applied to the estimator's last output (``Neg``, ``Identity``).
    name : str
        Name of the graph.
    on_error : str
        Message template (``{what}``, ``{error}``) of the error when conversion fails.

    Returns
    -------
    onnx.ModelProto

    Raises
    ------
    DeploymentError
        If the estimator has no converter or the graph is invalid.
    """
    from skl2onnx import convert_sklearn

    register_converters()  # crispml's converters (imputer indicators, date features, ...)
    try:
        converted = convert_sklearn(
            pipeline, initial_types=initial_types(contract), target_opset=TARGET_OPSET
        )
    except Exception as exc:  # converters raise many types; the message names the cause
        what = type(pipeline.steps[-1][1]).__name__
        raise DeploymentError(on_error.format(what=what, error=exc)) from None
    restore_input_names(converted, [c.name for c in contract.columns])
    patch_unknown_categories(converted)
    double_inputs(converted, [c.name for c in contract.columns if c.kind == "number"])
    source = [o.name for o in converted.graph.output][-1]  # label, scores / variable
    node = helper.make_node(op, [f"p0_{source}"], ["value"])
    out = helper.make_tensor_value_info("value", TensorProto.FLOAT, [None, 1])
    graph = _graph.combine([converted], [node], [], graph_inputs(contract), [out], name=name)
    try:
        onnx.checker.check_model(graph)
    except onnx.checker.ValidationError as exc:
        raise DeploymentError(on_error.format(what="graph", error=exc)) from None
    return graph


def ship_value_model(
    folder: ArtifactWriter,
    pipeline: Any,
    *,
    op: str,
    name: str,
    on_error: str,
    parity: Parity_,
    threshold: float | None,
    schema: Schema,
    target: TargetEncoding,
    X_train: pd.DataFrame,
    test_frame: pd.DataFrame,
    sla_ms: dict[str, float | None],
    run_id: str,
    card: dict[str, Any] | None,
    http: bool,
    policies: dict[str, Any] | None,
) -> DeploymentResult:
    """Export, certify (``parity``), time and bundle a value model into ``folder``.

    ``parity(served)`` compares the served graph with the native pipeline and returns
    the certificate (it raises :class:`DeploymentError` when parity fails). The other
    parameters are those of :func:`crispml.deploy.package_anomaly_deployment`.

    Returns
    -------
    DeploymentResult
    """
    contract = build_contract(schema, X_train, **(policies or {}))
    graph = export_value_graph(pipeline, contract, op=op, name=name, on_error=on_error)
    document = contract_document(contract, target, threshold=None, card=card or {})
    document["threshold"] = threshold
    document["onnx"]["outputs"] = ["value"]
    data = graph.SerializeToString()
    served = ServingModel(data, document, version=run_id)
    certificate = parity(served)
    latency = write_certified_graph(
        folder, served, graph=data, document=document, parity=certificate, contract=contract,
        test_frame=test_frame, sla_ms=sla_ms, http=http,
    )  # fmt: skip
    write_bundle(folder, run_id=run_id)
    result = DeploymentResult(
        onnx_sha256=sha256_bytes(data),
        threshold=threshold,
        parity=Parity.model_validate(certificate),
        latency=Latency.model_validate(latency),
    )
    folder.write_text(DeploymentResult.FILE, result.to_json())
    return result


def compare_scores(
    served: ServingModel,
    pipeline: Any,
    test_frame: pd.DataFrame,
    schema: Schema,
    native_scores: Callable[[Any, pd.DataFrame], np.ndarray],
) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    """Score the test rows natively and through the graph: ``(records, native, served)``."""
    names = [c for c in served.contract.names if c in test_frame.columns]
    records = frame_records(test_frame[names])
    native = native_scores(pipeline, conform(pd.DataFrame(records), schema))
    onnx_out, _ = served.scores(records)
    return records, native, onnx_out


def score_parity_report(
    task: str,
    records: list[dict[str, Any]],
    diff: np.ndarray,
    *,
    passed: bool,
    summary: str,
    tolerance: float,
) -> dict[str, Any]:
    """Return the fields every score-parity certificate shares (largest difference, worst row)."""
    worst = int(np.argmax(diff)) if len(diff) else 0
    return {
        "task": task,
        "passed": passed,
        "summary": summary,
        "tolerance": tolerance,
        "n_test_rows": len(records),
        "n_edge_cases": 0,
        "edge_cases": [],
        "worst_case": {"probe": "test", "record": records[worst] if records else {}},
        "max_abs_prob_diff": float(diff.max()) if len(diff) else 0.0,
    }
