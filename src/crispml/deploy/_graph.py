"""Small ONNX steps built by hand: ensemble averaging, calibration maps, decisions.

skl2onnx 1.20 cannot convert a soft-voting ``VotingClassifier`` and converts
``CalibratedClassifierCV`` with silent differences (DESIGN.md, measured facts), so
these steps are explicit graphs over already converted members, checked by parity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, compose, helper, numpy_helper

SCORES = "scores"
"""Name of the single output of every partial graph: probabilities (n, k) or values (n, 1)."""


def _const(name: str, value: np.ndarray) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(value), name=name)


def _opsets(models: Sequence[onnx.ModelProto]) -> list[onnx.OperatorSetIdProto]:
    versions: dict[str, int] = {}
    for model in models:
        for op in model.opset_import:
            versions[op.domain] = max(versions.get(op.domain, 0), op.version)
    return [helper.make_opsetid(domain, v) for domain, v in sorted(versions.items())]


def combine(
    parts: Sequence[onnx.ModelProto],
    nodes: Sequence[onnx.NodeProto],
    initializers: Sequence[onnx.TensorProto],
    inputs: Sequence[onnx.ValueInfoProto],
    outputs: Sequence[onnx.ValueInfoProto],
    *,
    name: str,
) -> onnx.ModelProto:
    """Put partial graphs side by side (each prefixed ``p{i}_``) and add ``nodes`` after them.

    Every part must read the shared ``inputs`` by their names and have one output
    ``SCORES``; part ``i``'s output becomes ``p{i}_scores``.
    """
    all_nodes: list[onnx.NodeProto] = []
    all_inits: list[onnx.TensorProto] = list(initializers)
    for i, part in enumerate(parts):
        renamed = compose.add_prefix(part, f"p{i}_", rename_inputs=False)
        all_nodes.extend(renamed.graph.node)
        all_inits.extend(renamed.graph.initializer)
    all_nodes.extend(nodes)
    graph = helper.make_graph(all_nodes, name, list(inputs), list(outputs), all_inits)
    model = helper.make_model(graph, opset_imports=_opsets(parts) or None)
    model.ir_version = max(p.ir_version for p in parts)
    return model


def scores_output(task: str, n_classes: int) -> onnx.ValueInfoProto:
    """Value info of a ``SCORES`` output."""
    width = 1 if task == "regression" else n_classes
    return helper.make_tensor_value_info(SCORES, TensorProto.FLOAT, [None, width])


def weighted_average(
    parts: Sequence[onnx.ModelProto],
    weights: np.ndarray,
    inputs: Sequence[onnx.ValueInfoProto],
    *,
    task: str,
    n_classes: int,
) -> onnx.ModelProto:
    """Scores of an ensemble: ``sum_i w_i * scores_i / sum_i w_i``."""
    w = np.asarray(weights, dtype=np.float64)
    w = (w / w.sum()).astype(np.float32)
    nodes, inits, terms = [], [], []
    for i in range(len(parts)):
        inits.append(_const(f"ens_w{i}", np.array(w[i], dtype=np.float32)))
        nodes.append(helper.make_node("Mul", [f"p{i}_{SCORES}", f"ens_w{i}"], [f"ens_t{i}"]))
        terms.append(f"ens_t{i}")
    nodes.append(helper.make_node("Sum", terms, [SCORES]))
    out = scores_output(task, n_classes)
    return combine(parts, nodes, inits, inputs, [out], name="crispml_ensemble")


def isotonic_map(
    base: onnx.ModelProto,
    x: np.ndarray,
    y: np.ndarray,
    inputs: Sequence[onnx.ValueInfoProto],
) -> onnx.ModelProto:
    """Binary scores after ``q = interp(p1, x, y)`` (clipped at the ends), as ``[1-q, q]``.

    The piecewise-linear interpolation of ``numpy.interp`` written with ONNX ops:
    the segment of each ``p`` is the count of inner knots at or below it.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) == 1:
        x, y = np.array([x[0], x[0] + 1.0]), np.array([y[0], y[0]])
    dx = np.diff(x)
    slope = np.where(dx > 0, np.diff(y) / np.where(dx > 0, dx, 1.0), 0.0)
    inits = [  # the map runs in double: steep isotonic segments amplify float32 error
        _const("iso_lo", np.array(x[0], dtype=np.float64)),
        _const("iso_hi", np.array(x[-1], dtype=np.float64)),
        _const("iso_inner", x[1:-1].astype(np.float64).reshape(1, -1)),
        _const("iso_x0", x[:-1].astype(np.float64)),
        _const("iso_y0", y[:-1].astype(np.float64)),
        _const("iso_slope", slope.astype(np.float64)),
    ]
    nodes = [
        *_positive_column(inits),
        helper.make_node("Cast", ["cal_p"], ["iso_p"], to=TensorProto.DOUBLE),
        helper.make_node("Clip", ["iso_p", "iso_lo", "iso_hi"], ["iso_pc"]),
        helper.make_node("GreaterOrEqual", ["iso_pc", "iso_inner"], ["iso_ge"]),
        helper.make_node("Cast", ["iso_ge"], ["iso_gei"], to=TensorProto.INT64),
        helper.make_node("ReduceSum", ["iso_gei", "cal_axis1"], ["iso_seg"], keepdims=1),
        helper.make_node("Gather", ["iso_x0", "iso_seg"], ["iso_xs"]),
        helper.make_node("Gather", ["iso_y0", "iso_seg"], ["iso_ys"]),
        helper.make_node("Gather", ["iso_slope", "iso_seg"], ["iso_ss"]),
        helper.make_node("Sub", ["iso_pc", "iso_xs"], ["iso_d"]),
        helper.make_node("Mul", ["iso_d", "iso_ss"], ["iso_dy"]),
        helper.make_node("Add", ["iso_ys", "iso_dy"], ["iso_q"]),
        helper.make_node("Cast", ["iso_q"], ["cal_q"], to=TensorProto.FLOAT),
    ]
    return _two_columns(base, nodes, inits, inputs)


def sigmoid_map(
    base: onnx.ModelProto,
    a: float,
    b: float,
    inputs: Sequence[onnx.ValueInfoProto],
    *,
    clip: float,
) -> onnx.ModelProto:
    """Binary scores after Platt's map on the logit, as ``[1-q, q]``.

    ``q = 1 / (1 + exp(-(a * logit(p1) + b)))`` with ``p1`` clipped to
    ``[clip, 1 - clip]``, as :class:`crispml.models.SigmoidMap` describes it.
    """
    inits = [
        _const("sig_a", np.array(a, dtype=np.float32)),
        _const("sig_b", np.array(b, dtype=np.float32)),
        _const("sig_lo", np.array(clip, dtype=np.float32)),
        _const("sig_hi", np.array(1.0 - clip, dtype=np.float32)),
        _const("sig_one", np.array(1.0, dtype=np.float32)),
    ]
    nodes = [
        *_positive_column(inits),
        helper.make_node("Clip", ["cal_p", "sig_lo", "sig_hi"], ["sig_p"]),
        helper.make_node("Sub", ["sig_one", "sig_p"], ["sig_1mp"]),
        helper.make_node("Div", ["sig_p", "sig_1mp"], ["sig_odds"]),
        helper.make_node("Log", ["sig_odds"], ["sig_logit"]),
        helper.make_node("Mul", ["sig_logit", "sig_a"], ["sig_ax"]),
        helper.make_node("Add", ["sig_ax", "sig_b"], ["sig_z"]),
        helper.make_node("Sigmoid", ["sig_z"], ["cal_q"]),
    ]
    return _two_columns(base, nodes, inits, inputs)


def temperature_map(
    base: onnx.ModelProto,
    temperature: float,
    inputs: Sequence[onnx.ValueInfoProto],
    *,
    clip: float,
    n_classes: int,
) -> onnx.ModelProto:
    """Class scores after temperature scaling: ``softmax(log(clip(p, clip, 1)) / T)``.

    Every class column is rescaled (binary or multiclass), in double precision, as
    :class:`crispml.models.TemperatureMap` describes it.
    """
    inits = [
        _const("tmp_lo", np.array(clip, dtype=np.float64)),
        _const("tmp_hi", np.array(1.0, dtype=np.float64)),
        _const("tmp_inv", np.array(1.0 / temperature, dtype=np.float64)),
    ]
    nodes = [
        helper.make_node("Cast", [f"p0_{SCORES}"], ["tmp_p"], to=TensorProto.DOUBLE),
        helper.make_node("Clip", ["tmp_p", "tmp_lo", "tmp_hi"], ["tmp_pc"]),
        helper.make_node("Log", ["tmp_pc"], ["tmp_log"]),
        helper.make_node("Mul", ["tmp_log", "tmp_inv"], ["tmp_z"]),
        helper.make_node("Softmax", ["tmp_z"], ["tmp_q"], axis=1),
        helper.make_node("Cast", ["tmp_q"], [SCORES], to=TensorProto.FLOAT),
    ]
    task = "binary" if n_classes == 2 else "multiclass"
    out = scores_output(task, n_classes)
    return combine([base], nodes, inits, inputs, [out], name="crispml_temperature")


def _positive_column(inits: list[onnx.TensorProto]) -> list[onnx.NodeProto]:
    inits += [
        _const("cal_one_idx", np.array([1], dtype=np.int64)),
        _const("cal_two_idx", np.array([2], dtype=np.int64)),
        _const("cal_axis1", np.array([1], dtype=np.int64)),
    ]
    slice_inputs = [f"p0_{SCORES}", "cal_one_idx", "cal_two_idx", "cal_axis1"]
    return [helper.make_node("Slice", slice_inputs, ["cal_p"])]


def _two_columns(
    base: onnx.ModelProto,
    nodes: list[onnx.NodeProto],
    inits: list[onnx.TensorProto],
    inputs: Sequence[onnx.ValueInfoProto],
) -> onnx.ModelProto:
    inits.append(_const("cal_one", np.array(1.0, dtype=np.float32)))
    nodes += [
        helper.make_node("Sub", ["cal_one", "cal_q"], ["cal_neg"]),
        helper.make_node("Concat", ["cal_neg", "cal_q"], [SCORES], axis=1),
    ]
    return combine([base], nodes, inits, inputs, [scores_output("binary", 2)], name="crispml_cal")


def with_decision(
    scores: onnx.ModelProto,
    inputs: Sequence[onnx.ValueInfoProto],
    *,
    task: str,
    n_classes: int,
    threshold: float | None,
) -> onnx.ModelProto:
    """Build the final graph: ``probabilities`` + ``label`` (decision), or ``value``.

    Binary decision: positive when the positive-class probability is at least
    ``threshold``; multiclass: the most probable class.
    """
    src = f"p0_{SCORES}"
    inits: list[onnx.TensorProto] = []
    if task == "regression":
        nodes = [helper.make_node("Identity", [src], ["value"])]
        outs = [helper.make_tensor_value_info("value", TensorProto.FLOAT, [None, 1])]
        return combine([scores], nodes, inits, inputs, outs, name="crispml_model")
    nodes = [helper.make_node("Identity", [src], ["probabilities"])]
    if task == "binary":
        inits += [
            _const("dec_thr", np.array(threshold, dtype=np.float32)),
            _const("dec_one", np.array(1, dtype=np.int64)),
        ]
        nodes += [
            helper.make_node("Gather", [src, "dec_one"], ["dec_p"], axis=1),
            helper.make_node("GreaterOrEqual", ["dec_p", "dec_thr"], ["dec_ge"]),
            helper.make_node("Cast", ["dec_ge"], ["label"], to=TensorProto.INT64),
        ]
    else:
        nodes.append(helper.make_node("ArgMax", [src], ["label"], axis=1, keepdims=0))
    outs = [
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, n_classes]),
        helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
    ]
    return combine([scores], nodes, inits, inputs, outs, name="crispml_model")


def constant_scores(
    values: np.ndarray, inputs: Sequence[onnx.ValueInfoProto], *, task: str
) -> onnx.ModelProto:
    """Scores that ignore the input (dummy baselines): ``values`` repeated for every row."""
    row = np.asarray(values, dtype=np.float32).reshape(1, -1)
    inits = [
        _const("const_row", row),
        _const("const_zero", np.array([0], dtype=np.int64)),
        _const("const_width", np.array([row.shape[1]], dtype=np.int64)),
    ]
    nodes = [
        helper.make_node("Shape", [inputs[0].name], ["const_shape"]),
        helper.make_node("Gather", ["const_shape", "const_zero"], ["const_n"], axis=0),
        helper.make_node("Concat", ["const_n", "const_width"], ["const_dims"], axis=0),
        helper.make_node("Expand", ["const_row", "const_dims"], [SCORES]),
    ]
    graph = helper.make_graph(
        nodes, "crispml_constant", list(inputs), [scores_output(task, row.shape[1])], inits
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
