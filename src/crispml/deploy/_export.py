"""Exporting the fitted model, from raw columns to score and decision, as one ONNX graph.

Supported objects:

- a scikit-learn ``Pipeline(features, model)`` over the conformed frame, converted by
  skl2onnx, with onnxmltools' converters for LightGBM and XGBoost and CatBoost's own
  ONNX export for a final CatBoost step;
- a :class:`crispml.models.DeployableModel` (the weighted ensemble, the calibrated
  model), exported from the description its ``export_spec()`` returns: a weighted
  average of its members' scores, or a calibration map on its base's positive-class
  probability with a decision threshold, built as explicit ONNX steps.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

from crispml.deploy import _graph
from crispml.deploy._converters import (
    double_inputs,
    double_splits,
    pass_embeddings_whole,
    patch_missing_directions,
    patch_unknown_categories,
    register_converters,
    restore_input_names,
)
from crispml.exceptions import DeploymentError
from crispml.models import (
    CalibrationMap,
    DeployableModel,
    IsotonicMap,
    TemperatureMap,
    WeightedAverage,
    decision_threshold,
)
from crispml.serve import InputContract

TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
STRING_KINDS = ("category", "text")
_MSG_CONVERT = (
    "model {what} could not be converted to ONNX ({error}). Use deployment.format: none "
    "to skip the export, or choose a family that exports (lightgbm, xgboost, linear, tree)."
)


def graph_inputs(contract: InputContract) -> list[onnx.ValueInfoProto]:
    """One ONNX input per raw column: double ``(n, 1)`` for numbers and dates, else string.

    An embedded text column is its embedding: float ``(n, embedding_dim)``.
    """
    out = []
    for c in contract.columns:
        if c.name in contract.embedded:
            kind, width = TensorProto.FLOAT, contract.embedding_dim
        else:
            kind = TensorProto.STRING if c.kind in STRING_KINDS else TensorProto.DOUBLE
            width = 1
        out.append(helper.make_tensor_value_info(c.name, kind, [None, width]))
    return out


def initial_types(contract: InputContract) -> list[tuple[str, Any]]:
    """skl2onnx input types: float numbers, double dates (epoch seconds), strings otherwise.

    An embedded text column is its embedding (float, ``embedding_dim`` values).
    """
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType, StringTensorType

    kinds = {"number": FloatTensorType, "datetime": DoubleTensorType}
    return [
        (c.name, FloatTensorType([None, contract.embedding_dim]))
        if c.name in contract.embedded
        else (c.name, kinds.get(c.kind, StringTensorType)([None, 1]))
        for c in contract.columns
    ]


def export_onnx(
    model: Any,
    contract: InputContract,
    *,
    task: str,
    n_classes: int = 0,
    threshold: float | None = None,
) -> onnx.ModelProto:
    """Convert a fitted model to one ONNX graph from raw columns to scores and decision.

    Parameters
    ----------
    model : object
        A fitted pipeline over the conformed frame or a
        :class:`~crispml.models.DeployableModel` (ensemble, calibrated model), nested freely.
    contract : InputContract
        The raw input columns (names and kinds become the graph's inputs).
    task : str
        binary, multiclass or regression.
    n_classes : int, default=0
        Number of classes (classification).
    threshold : float, optional
        Binary decision threshold on the positive-class probability (default 0.5, or
        the threshold the model carries, see :func:`crispml.models.decision_threshold`).

    Returns
    -------
    onnx.ModelProto
        Outputs ``probabilities`` (float, (n, k)) and ``label`` (int64 class index) for
        classification, ``value`` (float, (n, 1)) for regression.

    Raises
    ------
    DeploymentError
        If a part of the model has no ONNX conversion.
    """
    register_converters()
    inputs = graph_inputs(contract)
    scores = _scores(model, contract, inputs, task=task, n_classes=n_classes)
    if threshold is None:
        threshold = decision_threshold(model)
    final = _graph.with_decision(
        scores, inputs, task=task, n_classes=n_classes, threshold=threshold
    )
    try:
        onnx.checker.check_model(final)
    except onnx.checker.ValidationError as exc:
        raise DeploymentError(_MSG_CONVERT.format(what="graph", error=exc)) from None
    return final


def _scores(
    model: Any,
    contract: InputContract,
    inputs: list[onnx.ValueInfoProto],
    *,
    task: str,
    n_classes: int,
) -> onnx.ModelProto:
    """Return a graph with the shared inputs and one output ``scores``."""
    if not isinstance(model, DeployableModel):
        return _pipeline_scores(model, contract, inputs, task=task)
    spec = model.export_spec()
    if isinstance(spec, WeightedAverage):
        parts = [
            _scores(m, contract, inputs, task=task, n_classes=n_classes) for m in spec.members
        ]
        return _graph.weighted_average(
            parts, np.asarray(spec.weights), inputs, task=task, n_classes=n_classes
        )
    return _calibrated_scores(spec, contract, inputs, task=task, n_classes=n_classes)


def _calibrated_scores(
    spec: CalibrationMap,
    contract: InputContract,
    inputs: list[onnx.ValueInfoProto],
    *,
    task: str,
    n_classes: int,
) -> onnx.ModelProto:
    base = _scores(spec.base, contract, inputs, task=task, n_classes=n_classes)
    if isinstance(spec.map, TemperatureMap):
        return _graph.temperature_map(
            base, spec.map.temperature, inputs, clip=spec.map.clip, n_classes=n_classes
        )
    if isinstance(spec.map, IsotonicMap):
        return _graph.isotonic_map(base, np.asarray(spec.map.x), np.asarray(spec.map.y), inputs)
    return _graph.sigmoid_map(base, spec.map.a, spec.map.b, inputs, clip=spec.map.clip)


def _pipeline_scores(
    pipeline: Any, contract: InputContract, inputs: list[onnx.ValueInfoProto], *, task: str
) -> onnx.ModelProto:
    final = pipeline.steps[-1][1] if hasattr(pipeline, "steps") else pipeline
    constant = _dummy_output(final)
    if constant is not None:
        return _graph.constant_scores(constant, inputs, task=task)
    if type(final).__module__.startswith("catboost"):
        from crispml.deploy._catboost import catboost_pipeline

        converted = catboost_pipeline(pipeline, contract, TARGET_OPSET, task=task)
    else:
        converted = _skl2onnx(pipeline, final, contract, task=task)
    patch_unknown_categories(converted)
    double_inputs(converted, [c.name for c in contract.columns if c.kind == "number"])
    if hasattr(pipeline, "steps"):
        double_splits(converted, pipeline)
    return _as_scores(converted, inputs, task=task)


def _dummy_output(final: Any) -> np.ndarray | None:
    """Return the constant output of a scikit-learn dummy estimator (no skl2onnx converter)."""
    name = type(final).__name__
    if name == "DummyRegressor":
        constant: np.ndarray = np.asarray(final.constant_, dtype=np.float64).reshape(-1)
        return constant
    if name == "DummyClassifier" and final.strategy in ("prior", "most_frequent"):
        prior = np.asarray(final.class_prior_, dtype=np.float64)
        if final.strategy == "prior":
            return prior
        top: np.ndarray = (np.arange(len(prior)) == prior.argmax()).astype(np.float64)
        return top
    return None


def _skl2onnx(pipeline: Any, final: Any, contract: InputContract, *, task: str) -> onnx.ModelProto:
    from skl2onnx import convert_sklearn

    types = initial_types(contract)
    options = {} if task == "regression" else {id(final): {"zipmap": False}}
    try:
        with warnings.catch_warnings():
            # skl2onnx warns that character n-grams "may not work"; the parity check on
            # the test rows (and a test on accented, oddly spaced text) is the judge.
            warnings.filterwarnings("ignore", message="The conversion of CountVectorizer")
            converted = convert_sklearn(
                pipeline, initial_types=types, options=options, target_opset=TARGET_OPSET
            )
    except Exception as exc:  # converters raise many types; the message names the cause
        what = type(final).__name__
        raise DeploymentError(_MSG_CONVERT.format(what=what, error=exc)) from None
    patch_missing_directions(converted, final)
    restore_input_names(converted, [c.name for c in contract.columns])
    pass_embeddings_whole(converted, contract.embedded)
    model: onnx.ModelProto = converted
    return model


def _as_scores(
    converted: onnx.ModelProto, inputs: list[onnx.ValueInfoProto], *, task: str
) -> onnx.ModelProto:
    """Keep one output of a converted graph (probabilities or values) as ``scores``."""
    names = [o.name for o in converted.graph.output]
    source = names[0] if task == "regression" else names[-1]
    width = None
    node = helper.make_node("Identity", [f"p0_{source}"], [_graph.SCORES])
    out = helper.make_tensor_value_info(_graph.SCORES, TensorProto.FLOAT, [None, width])
    return _graph.combine([converted], [node], [], inputs, [out], name="crispml_part")
