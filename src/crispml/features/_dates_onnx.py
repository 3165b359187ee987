"""The ONNX converter of :class:`~crispml.features.DateFeatures`, registered with skl2onnx.

skl2onnx has no date operators, and ONNX has none either; the transformer works on
epoch seconds with floor divisions, so the converter writes the same arithmetic in
double precision, op for op, and casts the result to float as the transformer does.
The parity test (``tests/features/test_dates_onnx.py``) checks both agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto

from crispml.features._dates import (
    CALENDAR_PARTS,
    CYCLES,
    SECONDS_PER_DAY,
    DateFeatures,
    cycle_table,
)

_registered = False


def register_date_converter() -> None:
    """Register the converter of :class:`DateFeatures` with skl2onnx (idempotent).

    Examples
    --------
    >>> register_date_converter()
    """
    global _registered
    if _registered:
        return
    from skl2onnx import update_registered_converter

    update_registered_converter(DateFeatures, "CrispmlDateFeatures", _shape, _convert)
    _registered = True


def _shape(operator: Any) -> None:
    from skl2onnx.common.data_types import FloatTensorType

    n = operator.inputs[0].get_first_dimension()
    width = len(operator.raw_operator.get_feature_names_out())
    operator.outputs[0].type = FloatTensorType([n, width])


class _Emitter:
    """Adds nodes and constants to a skl2onnx container under unique names."""

    def __init__(self, scope: Any, container: Any) -> None:
        self.scope, self.container = scope, container
        self._consts: dict[tuple[float, int], str] = {}

    def const(self, value: float, dtype: int = TensorProto.DOUBLE) -> str:
        key = (float(value), dtype)
        if key not in self._consts:
            name: str = self.scope.get_unique_variable_name("date_c")
            self.container.add_initializer(name, dtype, [], [float(value)])
            self._consts[key] = name
        return self._consts[key]

    def op(self, op_type: str, *inputs: str | float, **attrs: Any) -> str:
        names = [self.const(v) if isinstance(v, float) else v for v in inputs]
        out: str = self.scope.get_unique_variable_name(f"date_{op_type.lower()}")
        self.container.add_node(
            op_type, names, [out], name=self.scope.get_unique_operator_name(op_type), **attrs
        )
        return out

    def floor_div(self, x: str, m: float) -> str:
        return self.op("Floor", self.op("Div", x, m))

    def mod(self, x: str, m: float) -> str:
        return self.op("Sub", x, self.op("Mul", self.floor_div(x, m), m))

    def as_double(self, x: str) -> str:
        return self.op("Cast", x, to=TensorProto.DOUBLE)


def _calendar(e: _Emitter, x: str) -> dict[str, str]:
    """Write :func:`crispml.features.civil_from_seconds` as ONNX ops, in the same order."""
    days = e.floor_div(x, SECONDS_PER_DAY)
    hour = e.op("Div", e.op("Sub", x, e.op("Mul", days, SECONDS_PER_DAY)), 3600.0)
    day_of_week = e.mod(e.op("Add", days, 3.0), 7.0)
    z = e.op("Add", days, 719_468.0)
    era = e.floor_div(z, 146_097.0)
    doe = e.op("Sub", z, e.op("Mul", era, 146_097.0))
    inner = e.op("Sub", doe, e.floor_div(doe, 1460.0))
    inner = e.op("Add", inner, e.floor_div(doe, 36_524.0))
    inner = e.op("Sub", inner, e.floor_div(doe, 146_096.0))
    yoe = e.floor_div(inner, 365.0)
    base = e.op("Mul", 365.0, yoe)
    base = e.op("Sub", e.op("Add", base, e.floor_div(yoe, 4.0)), e.floor_div(yoe, 100.0))
    doy_march = e.op("Sub", doe, base)
    mp = e.floor_div(e.op("Add", e.op("Mul", 5.0, doy_march), 2.0), 153.0)
    day = e.op("Sub", doy_march, e.floor_div(e.op("Add", e.op("Mul", 153.0, mp), 2.0), 5.0))
    day = e.op("Add", day, 1.0)
    early = e.op("Less", mp, 10.0)
    month = e.op("Where", early, e.op("Add", mp, 3.0), e.op("Sub", mp, 9.0))
    jan_feb = e.op("LessOrEqual", month, 2.0)
    year = e.op("Add", e.op("Add", yoe, e.op("Mul", era, 400.0)), e.as_double(jan_feb))
    leap = e.op(
        "And",
        e.op("Equal", e.mod(year, 4.0), 0.0),
        e.op(
            "Or",
            e.op("Not", e.op("Equal", e.mod(year, 100.0), 0.0)),
            e.op("Equal", e.mod(year, 400.0), 0.0),
        ),
    )
    after = e.op("Add", e.op("Add", doy_march, 60.0), e.as_double(leap))
    day_of_year = e.op("Where", jan_feb, e.op("Sub", doy_march, 305.0), after)
    minute = e.floor_div(e.op("Sub", x, e.op("Mul", days, SECONDS_PER_DAY)), 60.0)
    values = (year, month, day, day_of_week, day_of_year, hour, minute)
    parts = dict(zip(CALENDAR_PARTS, values, strict=True))
    missing = e.op("IsNaN", x)
    nan = e.const(float("nan"))
    return {k: e.op("Where", missing, nan, v) for k, v in parts.items()}


def _part(e: _Emitter, t: DateFeatures, x: str, parts: dict[str, str], part: str) -> str:
    if part == "days_before_reference":
        return e.op("Div", e.op("Sub", float(t.reference_s_), x), SECONDS_PER_DAY)
    if part == "missing":
        return e.as_double(e.op("IsNaN", x))
    unit, _, fn = part.rpartition("_")
    if fn in ("sin", "cos"):  # table lookup, as the transformer does
        source, _, first = CYCLES[unit]
        index = e.op("Sub", parts[source], float(first))
        missing = e.op("IsNaN", index)
        safe = e.op("Cast", e.op("Where", missing, 0.0, index), to=TensorProto.INT64)
        table = e.scope.get_unique_variable_name("date_table")
        values = cycle_table(unit, fn)
        e.container.add_initializer(table, TensorProto.DOUBLE, [len(values)], values.tolist())
        found = e.op("Gather", table, safe, axis=0)
        return e.op("Where", missing, e.const(float("nan")), found)
    return parts[part]


def _convert(scope: Any, operator: Any, container: Any) -> None:
    from skl2onnx.common.data_types import DoubleTensorType
    from skl2onnx.operator_converters.common import concatenate_variables

    t: DateFeatures = operator.raw_operator
    e = _Emitter(scope, container)
    x = concatenate_variables(scope, operator.inputs, container)
    if not all(isinstance(v.type, DoubleTensorType) for v in operator.inputs):
        x = e.as_double(x)  # float32 seconds lose minutes: declare date inputs as double
    columns = [
        e.op("Slice", x, _ints(e, c), _ints(e, c + 1), _ints(e, 1))
        for c in range(t.n_features_in_)
    ]
    outputs = []
    layout = t._layout()
    for c, column in enumerate(columns):
        parts = _calendar(e, column)
        for _, part in (entry for entry in layout if entry[0] == c):
            if not part.startswith("minus_"):
                outputs.append(_part(e, t, column, parts, part))
    for i, j in t.pairs_:
        outputs.append(e.op("Div", e.op("Sub", columns[j], columns[i]), SECONDS_PER_DAY))
    joined = e.op("Concat", *outputs, axis=1)
    if t.linear:
        fill, mean, scale = (_row(e, v) for v in (t.fill_, t.mean_, t.scale_))
        filled = e.op("Where", e.op("IsNaN", joined), fill, joined)
        joined = e.op("Div", e.op("Sub", filled, mean), scale)
    container.add_node(
        "Cast",
        [joined],
        [operator.outputs[0].full_name],
        to=TensorProto.FLOAT,
        name=scope.get_unique_operator_name("Cast"),
    )


def _row(e: _Emitter, values: np.ndarray) -> str:
    name: str = e.scope.get_unique_variable_name("date_row")
    row = np.asarray(values, dtype=np.float64).reshape(1, -1)
    e.container.add_initializer(name, TensorProto.DOUBLE, list(row.shape), row.ravel().tolist())
    return name


def _ints(e: _Emitter, value: int) -> str:
    name: str = e.scope.get_unique_variable_name("date_i")
    e.container.add_initializer(name, TensorProto.INT64, [1], [value])
    return name
