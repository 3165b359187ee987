"""Converters skl2onnx lacks out of the box, registered once before any export.

- LightGBM and XGBoost estimators: onnxmltools' converters (their documented use);
- ``SimpleImputer(add_indicator=True)`` (our linear preprocessing): skl2onnx 1.20
  converts the imputer but drops the missing-indicator columns, so the next step sees
  the wrong width. This converter writes both parts with plain ONNX ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto

_registered = False


def register_converters() -> None:
    """Register the converters (idempotent)."""
    global _registered
    if _registered:
        return
    import lightgbm
    import xgboost
    from onnxmltools.convert.lightgbm.operator_converters.LightGbm import convert_lightgbm
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from sklearn.impute import SimpleImputer

    cls_options = {"nocl": [True, False], "zipmap": [True, False, "columns"]}
    for estimator, alias, convert in (
        (lightgbm.LGBMClassifier, "LightGbmLGBMClassifier", convert_lightgbm),
        (xgboost.XGBClassifier, "XGBoostXGBClassifier", convert_xgboost),
    ):
        update_registered_converter(
            estimator,
            alias,
            calculate_linear_classifier_output_shapes,
            convert,
            options=cls_options,
        )
    for estimator, alias, convert in (
        (lightgbm.LGBMRegressor, "LightGbmLGBMRegressor", convert_lightgbm),
        (xgboost.XGBRegressor, "XGBoostXGBRegressor", convert_xgboost),
    ):
        update_registered_converter(
            estimator,
            alias,
            calculate_linear_regressor_output_shapes,
            convert,
            options={"split": None},
        )
    update_registered_converter(
        SimpleImputer, "SklearnSimpleImputer", _imputer_shape, _imputer_convert
    )
    _registered = True


def _imputer_shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    imputer = operator.raw_operator
    width = sum(v.type.shape[1] for v in operator.inputs)
    indicator = getattr(imputer, "indicator_", None)
    extra = len(indicator.features_) if indicator is not None else 0
    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n, width + extra])


def _imputer_convert(scope: Any, operator: Any, container: Any) -> None:
    from skl2onnx.operator_converters.common import concatenate_variables

    imputer = operator.raw_operator
    if operator.inputs[0].type.__class__.__name__ == "StringTensorType":
        from skl2onnx.operator_converters.imputer_op import convert_sklearn_imputer

        convert_sklearn_imputer(scope, operator, container)
        return
    name = scope.get_unique_variable_name
    x = concatenate_variables(scope, operator.inputs, container)
    stats = np.nan_to_num(np.asarray(imputer.statistics_, dtype=np.float32)).reshape(1, -1)
    fill, isnan, filled = name("imp_fill"), name("imp_isnan"), name("imp_filled")
    container.add_initializer(fill, TensorProto.FLOAT, list(stats.shape), stats.ravel())
    container.add_node("IsNaN", [x], [isnan])
    indicator = getattr(imputer, "indicator_", None)
    if indicator is None:
        container.add_node("Where", [isnan, fill, x], [operator.outputs[0].full_name])
        return
    container.add_node("Where", [isnan, fill, x], [filled])
    cols, flags, picked = name("imp_cols"), name("imp_flags"), name("imp_picked")
    features = np.asarray(indicator.features_, dtype=np.int64)
    container.add_initializer(cols, TensorProto.INT64, [len(features)], features)
    container.add_node("Cast", [isnan], [flags], to=TensorProto.FLOAT)
    container.add_node("Gather", [flags, cols], [picked], axis=1)
    container.add_node("Concat", [filled, picked], [operator.outputs[0].full_name], axis=1)


def patch_missing_directions(model: Any, final: Any) -> None:
    """Route missing values as scikit-learn's trees do (in place).

    scikit-learn trees (>= 1.3) learn, per split, whether a missing value goes left;
    skl2onnx 1.20 writes every split as "missing goes right", so a NaN flips the path
    (found by our parity check). ONNX's ``nodes_missing_value_tracks_true`` holds
    exactly that direction; this copies it from ``tree_.missing_go_to_left``.
    """
    if hasattr(final, "tree_"):
        trees = [final]
    else:
        trees = [t for t in np.ravel(getattr(final, "estimators_", [])) if hasattr(t, "tree_")]
    if not trees or not hasattr(trees[0].tree_, "missing_go_to_left"):
        return
    ensembles = [n for n in model.graph.node if n.op_type.startswith("TreeEnsemble")]
    for k, node in enumerate(ensembles):
        attrs = {a.name: a for a in node.attribute}
        if "nodes_treeids" not in attrs:
            continue
        tree_ids = list(attrs["nodes_treeids"].ints)
        node_ids = list(attrs["nodes_nodeids"].ints)
        modes = [m.decode() for m in attrs["nodes_modes"].strings]
        per_node = len(ensembles) == len(trees) and len(trees) > 1
        tracks = [
            int(mode != "LEAF" and trees[k if per_node else t].tree_.missing_go_to_left[i])
            for t, i, mode in zip(tree_ids, node_ids, modes, strict=True)
        ]
        attr = attrs["nodes_missing_value_tracks_true"]
        del attr.ints[:]
        attr.ints.extend(tracks)


def patch_unknown_categories(model: Any) -> None:
    """Give unseen categories scikit-learn's ``handle_unknown="infrequent_if_exist"`` output.

    skl2onnx 1.20 writes ONNX ``OneHotEncoder`` with ``zeros=0`` for that setting, so an
    unseen category makes onnxruntime fail ("Unknown Category and zeros = 0"). Native
    scikit-learn maps it to the column's infrequent bucket if it has one, else to all
    zeros. This sets ``zeros=1`` (all zeros) and, where an infrequent bucket exists,
    adds ``1 - sum(one-hot)`` to that bucket (in place).
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    producers = {out: node for node in graph.node for out in node.output}
    for node in graph.node:
        if node.op_type == "OneHotEncoder":
            for attr in node.attribute:
                if attr.name == "zeros":
                    attr.i = 1
    nodes = list(graph.node)
    for k, split in enumerate([n for n in nodes if n.op_type == "Split"]):
        source = producers.get(split.input[0])
        if source is None or source.op_type != "OneHotEncoder":
            continue
        reduce = next(
            n for n in nodes if n.op_type == "ReduceSum" and n.input[0] == split.output[1]
        )
        concat = next(n for n in nodes if n.op_type == "Concat" and reduce.output[0] in n.input)
        one, total, unknown, fixed = (f"ohe_fix{k}_{s}" for s in ("one", "sum", "unk", "out"))
        graph.initializer.append(numpy_helper.from_array(np.array(1.0, np.float32), one))
        extra = [
            helper.make_node("ReduceSum", [split.input[0], reduce.input[1]], [total], keepdims=1),
            helper.make_node("Sub", [one], [unknown]),
            helper.make_node("Add", [reduce.output[0], unknown], [fixed]),
        ]
        extra[1].input.append(total)
        position = nodes.index(reduce) + 1
        nodes[position:position] = extra
        concat.input[list(concat.input).index(reduce.output[0])] = fixed
    del graph.node[:]
    graph.node.extend(nodes)
