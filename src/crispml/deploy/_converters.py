"""Converters skl2onnx lacks out of the box, registered once before any export.

- LightGBM and XGBoost estimators: onnxmltools' converters (their documented use);
- ``SimpleImputer(add_indicator=True)`` (our linear preprocessing): skl2onnx 1.20
  converts the imputer but drops the missing-indicator columns, so the next step sees
  the wrong width. This converter writes both parts with plain ONNX ops.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto

_registered = False
DOUBLE_SPLITS_ML_OPSET = 3
"""``ai.onnx.ml`` version whose tree ensembles take ``nodes_values_as_tensor`` (doubles)."""


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

    from crispml.features import register_date_converter, register_embedding_converter

    classify = (
        calculate_linear_classifier_output_shapes,
        {"nocl": [True, False], "zipmap": [True, False, "columns"]},
    )
    regress = (calculate_linear_regressor_output_shapes, {"split": None})
    for estimator, alias, convert, (shape, options) in (
        (lightgbm.LGBMClassifier, "LightGbmLGBMClassifier", convert_lightgbm, classify),
        (xgboost.XGBClassifier, "XGBoostXGBClassifier", convert_xgboost, classify),
        (lightgbm.LGBMRegressor, "LightGbmLGBMRegressor", convert_lightgbm, regress),
        (xgboost.XGBRegressor, "XGBoostXGBRegressor", convert_xgboost, regress),
        # a ranker's raw score has the shape of a regressor's output
        (lightgbm.LGBMRanker, "LightGbmLGBMRanker", convert_lightgbm, regress),
        (xgboost.XGBRanker, "XGBoostXGBRanker", convert_xgboost, regress),
    ):
        update_registered_converter(estimator, alias, shape, convert, options=options)
    update_registered_converter(
        SimpleImputer, "SklearnSimpleImputer", _imputer_shape, _imputer_convert
    )
    _fix_hist_gradient_boosting()
    register_date_converter()
    register_embedding_converter()
    _registered = True


def _fix_hist_gradient_boosting() -> None:
    """Make skl2onnx's HistGradientBoosting converters write plain integers.

    With scikit-learn 1.9 the fitted trees hold ``numpy.uint32`` node ids, which
    skl2onnx 1.20 passes on in attribute lists (with booleans) that ONNX then refuses
    ("Unable to create node 'TreeEnsembleClassifier'"). The wrapper converts numpy
    scalars and booleans in list attributes to Python numbers before each node is added.
    """
    from skl2onnx.common._registration import _converter_pool, register_converter

    for alias in ("SklearnHistGradientBoostingClassifier", "SklearnHistGradientBoostingRegressor"):
        entry = _converter_pool[alias]
        register_converter(
            alias, _plain_attributes(entry._fct), overwrite=True, options=entry._options
        )


def _plain(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return int(value)
    return value.item() if isinstance(value, np.generic) else value


def _plain_attributes(convert: Any) -> Any:
    def converter(scope: Any, operator: Any, container: Any) -> None:
        add_node = container.add_node

        def plain_add_node(*args: Any, **attrs: Any) -> Any:
            for key, value in attrs.items():
                if isinstance(value, list):
                    attrs[key] = [_plain(v) for v in value]
            return add_node(*args, **attrs)

        container.add_node = plain_add_node
        try:
            convert(scope, operator, container)
        finally:
            del container.add_node

    return converter


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


def double_inputs(model: Any, numeric: list[str]) -> None:
    """Declare the numeric raw inputs as double and cast them to float where they are used.

    The served graph takes numbers as float64, the raw values a client sends; the
    converted float32 steps get them cast to float32, the values the model was fitted on
    (:func:`crispml.data.conform`), and LightGBM's trees compare those widened to double
    (:func:`lightgbm_double_splits`).
    """
    from onnx import helper

    graph = model.graph
    casts = []
    for inp in graph.input:
        if inp.name not in numeric:
            continue
        inp.type.tensor_type.elem_type = TensorProto.DOUBLE
        single = f"{inp.name}__f32"
        for node in graph.node:
            for i, name in enumerate(node.input):
                if name == inp.name:
                    node.input[i] = single
        casts.append(helper.make_node("Cast", [inp.name], [single], to=TensorProto.FLOAT))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)


def double_splits(model: Any, pipeline: Any) -> None:
    """Compare a gradient-boosted model's splits in double precision, as it does (in place).

    LightGBM and scikit-learn's HistGradientBoosting compare their inputs as doubles (the
    float32 numbers the model was fitted on, widened) with float64 thresholds; a float32
    graph rounds the thresholds too, and a value lying between a threshold and its
    float32 rounding then takes another branch (on HMDA, with float64 inputs, a 0.02
    probability difference found by our parity check; on diamonds, a HistGradientBoosting
    member off by 0.5 % of the price on a value at a split). The tree nodes get the
    float32 features cast to double and ``nodes_values_as_tensor`` in double, with the
    exact thresholds read from the fitted trees.

    .. versionchanged:: 0.4
       The trees read the float32 feature matrix widened to double (the model is fitted
       on float32 numbers, see :func:`crispml.data.conform`), not the raw double inputs.
    .. versionchanged:: 0.5
       HistGradientBoosting too (was ``lightgbm_double_splits``).
    """
    from onnx import helper, numpy_helper

    pre, est = pipeline.steps[0][1], pipeline.steps[-1][1]
    exact = exact_thresholds(est)
    if not exact:
        return
    names = [str(n) for n in pre.get_feature_names_out()]
    numeric = [n.removeprefix("numeric__") for n in names if n.startswith("numeric__")]
    passthrough = any(n == "numeric" and t == "passthrough" for n, t, _ in pre.transformers)
    if (
        not numeric
        or not passthrough
        or names[: len(numeric)] != [f"numeric__{n}" for n in numeric]
    ):
        return
    graph = model.graph
    extra: list[Any] = []
    for k, tree in enumerate(n for n in graph.node if n.op_type.startswith("TreeEnsemble")):
        wide = f"trees_x64_{k}"
        extra.append(helper.make_node("Cast", [tree.input[0]], [wide], to=TensorProto.DOUBLE))
        tree.input[0] = wide
        attrs = {a.name: a for a in tree.attribute}
        values = list(attrs["nodes_values"].floats)
        features = list(attrs["nodes_featureids"].ints)
        doubles = [
            exact.get((f, float(np.float32(v))), float(v))
            for f, v in zip(features, values, strict=True)
        ]
        tree.attribute.remove(attrs["nodes_values"])
        tensor = numpy_helper.from_array(np.asarray(doubles, dtype=np.float64))
        tree.attribute.append(helper.make_attribute("nodes_values_as_tensor", tensor))
    for opset in model.opset_import:  # skl2onnx writes HistGradientBoosting's trees at v1
        if opset.domain == "ai.onnx.ml" and opset.version < DOUBLE_SPLITS_ML_OPSET:
            opset.version = DOUBLE_SPLITS_ML_OPSET
    position = min(i for i, n in enumerate(graph.node) if n.op_type.startswith("TreeEnsemble"))
    nodes = list(graph.node)
    nodes[position:position] = extra
    del graph.node[:]
    graph.node.extend(nodes)


def tree_splits(est: Any) -> Iterator[tuple[int, float]]:
    """Yield (feature, float64 threshold) of each numeric split of LightGBM or HistGB trees.

    Nothing for other models (their converters already match the model, or they compare
    in float32 themselves).
    """
    if hasattr(est, "booster_") and hasattr(est.booster_, "dump_model"):  # LightGBM
        stack = [t["tree_structure"] for t in est.booster_.dump_model()["tree_info"]]
        while stack:
            node = stack.pop()
            if "split_feature" in node:
                yield int(node["split_feature"]), float(node["threshold"])
                stack += [node["left_child"], node["right_child"]]
    elif hasattr(est, "_predictors"):  # HistGradientBoosting: one predictor per tree
        for per_iteration in est._predictors:
            for predictor in per_iteration:
                nodes = predictor.nodes
                split = (nodes["is_leaf"] == 0) & (nodes["is_categorical"] == 0)
                for feature, value in zip(
                    nodes["feature_idx"][split], nodes["num_threshold"][split], strict=True
                ):
                    yield int(feature), float(value)


def exact_thresholds(est: Any) -> dict[tuple[int, float], float]:
    """Map (feature, threshold rounded to float32) to the exact float64 threshold."""
    return {(f, float(np.float32(v))): v for f, v in tree_splits(est)}


def restore_input_names(converted: onnx.ModelProto, names: list[str]) -> None:
    """Give a converted graph's inputs back the raw column names, in place.

    skl2onnx replaces characters such as spaces in input names (``mean radius`` becomes
    ``mean_radius``); the served graph must take the raw column names of the contract.
    Inputs keep the order of ``initial_types``.
    """
    renames = {}
    for value, name in zip(converted.graph.input, names, strict=True):
        if value.name != name:
            renames[value.name] = name
            value.name = name
    if not renames:
        return
    for node in converted.graph.node:
        for i, name in enumerate(node.input):
            node.input[i] = renames.get(name, name)


def pass_embeddings_whole(converted: onnx.ModelProto, embedded: tuple[str, ...]) -> None:
    """Let an embedded text column's step read its whole input, in place.

    skl2onnx selects a ColumnTransformer column by name as column 0 of that input (an
    ``ArrayFeatureExtractor``); an embedded column's input is its whole embedding
    (``embedding_dim`` values, see :func:`crispml.deploy.graph_inputs`), so the
    extractor becomes an ``Identity``. Run after :func:`restore_input_names`.
    """
    for i, node in enumerate(converted.graph.node):
        if node.op_type == "ArrayFeatureExtractor" and node.input[0] in embedded:
            whole = onnx.helper.make_node(
                "Identity", [node.input[0]], list(node.output), name=node.name
            )
            converted.graph.node.remove(node)
            converted.graph.node.insert(i, whole)
            kept = [v for v in converted.graph.value_info if v.name not in node.output]
            del converted.graph.value_info[:]
            converted.graph.value_info.extend(kept)
