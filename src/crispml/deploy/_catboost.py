"""CatBoost at the end of a pipeline: skl2onnx for the preprocessing, CatBoost's own export.

CatBoost's ONNX export refuses categorical features, so crispml feeds CatBoost the
one-hot encoded frame of its preprocessing (DESIGN.md); the export then chains the
converted preprocessing into CatBoost's graph, without its ZipMap output.
"""

from __future__ import annotations

from typing import Any

import onnx
from onnx import TensorProto, compose, helper

from crispml.deploy._converters import restore_input_names
from crispml.exceptions import DeploymentError
from crispml.serve import InputContract

_MSG_CATBOOST = (
    "CatBoost model could not be exported to ONNX ({error}). CatBoost's export needs "
    "numeric inputs: keep categorical columns encoded by the preprocessing."
)


def catboost_pipeline(
    pipeline: Any, contract: InputContract, opset: dict[str, int], *, task: str
) -> onnx.ModelProto:
    """Convert ``Pipeline(features, CatBoost*)`` to one graph with one output (scores).

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Fitted; its last step is a CatBoost classifier or regressor.
    contract : InputContract
        Raw input columns.
    opset : dict
        Target opsets for skl2onnx.
    task : str
        binary, multiclass or regression.

    Returns
    -------
    onnx.ModelProto
        Output: probabilities ``(n, k)`` or values ``(n, 1)``.

    Raises
    ------
    DeploymentError
        If CatBoost refuses the export.
    """
    from catboost.utils import convert_to_onnx_object
    from skl2onnx import convert_sklearn
    from sklearn.pipeline import Pipeline

    from crispml.deploy._export import initial_types

    types = initial_types(contract)
    pre = convert_sklearn(Pipeline(pipeline.steps[:-1]), initial_types=types, target_opset=opset)
    restore_input_names(pre, [c.name for c in contract.columns])
    try:
        booster = compose.add_prefix(convert_to_onnx_object(pipeline.steps[-1][1]), "cb_")
    except Exception as exc:  # CatBoost raises its own CatBoostError
        raise DeploymentError(_MSG_CATBOOST.format(error=exc)) from None
    features = pre.graph.output[0].name
    nodes = [n for n in booster.graph.node if n.op_type != "ZipMap"]
    for node in nodes:
        for i, name in enumerate(node.input):
            if name == "cb_features":
                node.input[i] = features
    extra, inits = [], list(booster.graph.initializer)
    if task == "regression":
        shape = helper.make_tensor("cb_shape", TensorProto.INT64, [2], [-1, 1])
        inits.append(shape)
        extra.append(helper.make_node("Reshape", ["cb_predictions", "cb_shape"], ["cb_value"]))
        output = helper.make_tensor_value_info("cb_value", TensorProto.FLOAT, [None, 1])
    else:
        source = next(n for n in booster.graph.node if n.op_type == "ZipMap").input[0]
        output = helper.make_tensor_value_info(source, TensorProto.FLOAT, [None, None])
    graph = helper.make_graph(
        [*pre.graph.node, *nodes, *extra],
        "crispml_catboost",
        list(pre.graph.input),
        [output],
        [*pre.graph.initializer, *inits],
    )
    versions: dict[str, int] = {}
    for model in (pre, booster):
        for op in model.opset_import:
            versions[op.domain] = max(versions.get(op.domain, 0), op.version)
    merged = helper.make_model(
        graph, opset_imports=[helper.make_opsetid(d, v) for d, v in sorted(versions.items())]
    )
    merged.ir_version = pre.ir_version
    return merged
