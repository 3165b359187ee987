"""The attribution material of the bundle: exact reasons at serving without a pickle.

Writes what :class:`crispml.serve._attribution.Attributor` reads: one ONNX graph with
each member's preprocessing (raw columns in, one encoded matrix per member out), the
tree members' trees as plain arrays and the linear members' coefficients and mean
encoded training row (``.npz``, loaded with ``allow_pickle=False``), and a JSON file
with the members, weights, encoded -> raw column map, favourable class and statements.
The numbers come from :func:`crispml.evaluate._attribution.decompose`, the same as the
evaluation's batch attributions.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto, helper

from crispml.deploy import _graph
from crispml.deploy._converters import double_inputs, patch_unknown_categories
from crispml.deploy._export import graph_inputs
from crispml.evaluate._attribution import Member, NotExplainable, decompose
from crispml.serve import InputContract
from crispml.serve._attribution import (  # the bundle's format is the reader's
    ATTRIBUTION_ARRAYS,
    ATTRIBUTION_FEATURES,
    ATTRIBUTION_META,
    TREE_FIELDS,
    array_key,
)

logger = logging.getLogger(__name__)
SCHEMA_VERSION = 1


def attribution_files(
    model: Any,
    contract: InputContract,
    X_train: pd.DataFrame,
    *,
    task: str,
    policy: dict[str, Any],
) -> dict[str, bytes]:
    """Build the attribution material of a fitted model, or nothing when it has none.

    Parameters
    ----------
    model : object
        The delivered model (pipeline, ensemble or calibrated model).
    contract : InputContract
        Raw input columns of the served graph.
    X_train : pandas.DataFrame
        Conformed training rows (reference of linear terms).
    task : str
        binary, multiclass or regression.
    policy : dict
        ``favourable`` (encoded class), ``labels``, ``top_k``, ``statements``.

    Returns
    -------
    dict of str -> bytes
        Bundle path -> content; empty when the model has no exact attribution (a
        family without tree arrays or coefficients, a multiclass task).
    """
    try:
        members = decompose(model, X_train, task=task)
        graph = _features_graph(members, contract)
    except NotExplainable as exc:
        logger.info("no attribution material in the bundle: %s", exc)
        return {}
    arrays: dict[str, np.ndarray] = {}
    described = [_describe(i, m, arrays) for i, m in enumerate(members)]
    meta = {
        "schema_version": SCHEMA_VERSION,
        "task": task,
        "columns": [str(c) for c in X_train.columns],
        "members": described,
        "margin_spaces": sorted({m.output for m in members}),
        **policy,
    }
    buffer = io.BytesIO()
    np.savez_compressed(buffer, allow_pickle=False, **arrays)
    return {
        ATTRIBUTION_META: json.dumps(meta, indent=2, sort_keys=True).encode(),
        ATTRIBUTION_ARRAYS: buffer.getvalue(),
        ATTRIBUTION_FEATURES: graph.SerializeToString(),
    }


def needs_shap(files: dict[str, bytes]) -> bool:
    """Whether the material has a tree member (serving then needs ``shap``)."""
    if ATTRIBUTION_META not in files:
        return False
    members = json.loads(files[ATTRIBUTION_META])["members"]
    return any(m["kind"] == "tree" for m in members)


def _describe(i: int, member: Member, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": member.kind,
        "weight": member.weight,
        "base": member.base,
        "output": member.output,
        "sources": member.sources,
        "features_output": None,
    }
    if member.kind == "constant":
        return out
    out["features_output"] = _output_name(i)
    if member.kind == "linear":
        arrays[array_key(i, "coef")] = member.coef
        arrays[array_key(i, "mean")] = member.mean
        return out
    for t, tree in enumerate(member.trees):
        for name in TREE_FIELDS:
            arrays[array_key(i, name, t)] = tree[name]
    return {**out, **member.tree_info, "n_trees": len(member.trees)}


def _output_name(i: int) -> str:
    return f"encoded_{i}"


def _features_graph(members: list[Member], contract: InputContract) -> onnx.ModelProto:
    """One graph: raw inputs -> ``encoded_{i}`` for every non-constant member."""
    from crispml.deploy._converters import register_converters

    register_converters()
    inputs = graph_inputs(contract)
    parts: list[onnx.ModelProto] = []
    nodes: list[onnx.NodeProto] = []
    outputs: list[onnx.ValueInfoProto] = []
    for i, member in enumerate(members):
        if member.kind == "constant":
            continue
        part, kind = _member_features(member.features, contract, inputs)
        nodes.append(
            helper.make_node("Identity", [f"p{len(parts)}_{_graph.SCORES}"], [_output_name(i)])
        )
        outputs.append(helper.make_tensor_value_info(_output_name(i), kind, [None, None]))
        parts.append(part)
    if not parts:
        raise NotExplainable("a constant model has no per-row contributions")
    graph = _graph.combine(parts, nodes, [], inputs, outputs, name="crispml_attribution")
    onnx.checker.check_model(graph)
    return graph


def _member_features(
    features: Any, contract: InputContract, inputs: list[onnx.ValueInfoProto]
) -> tuple[onnx.ModelProto, int]:
    """One member's preprocessing as a graph with output ``SCORES``, and its element type.

    Numbers are kept in double where the converters allow it (tree preprocessing: a
    float32 value can fall on the other side of a split than the double the model saw);
    otherwise (a scaler's mixed types) numbers are cast to float, which moves linear
    terms by float rounding only.
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType

    from crispml.deploy._converters import restore_input_names
    from crispml.deploy._export import TARGET_OPSET, initial_types
    from crispml.serve._runtime import make_session

    numeric = [c.name for c in contract.columns if c.kind == "number"]
    doubles = [
        (name, DoubleTensorType([None, 1]) if name in numeric else kind)
        for name, kind in initial_types(contract)
    ]
    for types, kind in ((doubles, TensorProto.DOUBLE), (initial_types(contract), None)):
        try:
            converted = convert_sklearn(features, initial_types=types, target_opset=TARGET_OPSET)
            restore_input_names(converted, [c.name for c in contract.columns])
            patch_unknown_categories(converted)
            if kind is None:
                double_inputs(converted, numeric)
            make_session(converted.SerializeToString())  # onnxruntime accepts the types
        except Exception as exc:  # converters and onnxruntime raise many types
            error = exc
            continue
        out_kind = converted.graph.output[0].type.tensor_type.elem_type
        source = converted.graph.output[0].name
        part = _graph.combine(
            [converted],
            [helper.make_node("Identity", [f"p0_{source}"], [_graph.SCORES])],
            [],
            inputs,
            [helper.make_tensor_value_info(_graph.SCORES, out_kind, [None, None])],
            name="crispml_features",
        )
        return part, out_kind
    raise NotExplainable(f"preprocessing does not convert to ONNX ({error})")
