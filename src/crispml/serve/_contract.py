"""The input contract: what a raw record must look like, checked before ONNX inference.

This module is part of the serving runtime: it imports only numpy and the standard
library, so it runs in the bundle's venv without pandas or scikit-learn. The same
checks run in ``crispml predict``, in the REST service and in the parity check.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CONTRACT_VERSION = 1
MISSING_LEVEL = "__missing__"
"""Level of a missing categorical value; must equal ``crispml.data.MISSING_LEVEL``."""
POLICIES = {
    "on_missing": ("accept", "reject"),
    "on_unseen": ("accept", "reject"),
    "on_out_of_range": ("accept", "reject"),
}
"""Allowed values of each per-column policy (``accept`` lets the model's own handling act)."""

_MSG_TYPE_NUMBER = "expected a number, got {value!r}"
_MSG_TYPE_CATEGORY = "expected a string, number or boolean, got {kind}"
_MSG_MISSING = "value is missing and the contract's policy for this column is 'reject'"
_MSG_UNSEEN = "category {value!r} was not seen in training (known: {known})"
_MSG_RANGE = "{value!r} is outside the observed range [{lo}, {hi}]"
_MSG_NOT_OBJECT = "expected an object of column -> value, got {kind}"


class ContractViolation(ValueError):
    """One or more records break the input contract.

    Attributes
    ----------
    errors : list of dict
        One entry per problem: ``loc`` (record index, column), ``msg`` and ``type``,
        the shape FastAPI uses in its 422 responses.
    """

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"record {where}: {first['msg']}{more}")


@dataclass(frozen=True)
class ColumnContract:
    """What one raw input column accepts.

    Attributes
    ----------
    name : str
        Column name (also the ONNX input name).
    kind : {"number", "category", "text"}
        Number (float input), category (string input, canonical text) or free text.
    categories : tuple of str
        Levels seen in training (category columns).
    min, max : float or None
        Observed range (number columns).
    reference : float or str or None
        A typical value (median or mode of the training rows), used by reason codes.
    on_missing, on_unseen, on_out_of_range : str
        ``accept`` or ``reject`` (see :data:`POLICIES`).
    """

    name: str
    kind: str
    categories: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    reference: float | str | None = None
    on_missing: str = "accept"
    on_unseen: str = "accept"
    on_out_of_range: str = "accept"
    _known: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "_known", frozenset(self.categories))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"name": self.name, "type": self.kind}
        if self.kind == "category":
            out["categories"] = list(self.categories)
        if self.kind == "number":
            out["min"], out["max"] = self.min, self.max
        out["reference"] = self.reference
        out["on_missing"] = self.on_missing
        if self.kind == "category":
            out["on_unseen"] = self.on_unseen
        if self.kind == "number":
            out["on_out_of_range"] = self.on_out_of_range
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnContract:
        """Rebuild a column written by :meth:`to_dict`."""
        return cls(
            name=str(data["name"]),
            kind=str(data["type"]),
            categories=tuple(data.get("categories", ())),
            min=data.get("min"),
            max=data.get("max"),
            reference=data.get("reference"),
            on_missing=data.get("on_missing", "accept"),
            on_unseen=data.get("on_unseen", "accept"),
            on_out_of_range=data.get("on_out_of_range", "accept"),
        )

    def convert(self, value: Any, index: int, errors: list[dict[str, Any]]) -> tuple[Any, str]:
        """Return the model-ready value and a warning ('' if none); append errors."""
        if self.kind == "number":
            return self._number(value, index, errors)
        return self._text(value, index, errors)

    def _number(self, value: Any, index: int, errors: list[dict[str, Any]]) -> tuple[Any, str]:
        number = _as_number(value)
        if number is None:
            self._error(errors, index, _MSG_TYPE_NUMBER.format(value=value), "type_error")
            return math.nan, ""
        if math.isnan(number):
            if self.on_missing == "reject":
                self._error(errors, index, _MSG_MISSING, "missing")
            return number, ""
        lo = self.min if self.min is not None else -math.inf
        hi = self.max if self.max is not None else math.inf
        if lo <= number <= hi:
            return number, ""
        text = _MSG_RANGE.format(value=number, lo=self.min, hi=self.max)
        if self.on_out_of_range == "reject":
            self._error(errors, index, text, "out_of_range")
        return number, f"{self.name}: {text}"

    def _text(self, value: Any, index: int, errors: list[dict[str, Any]]) -> tuple[Any, str]:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            if self.on_missing == "reject":
                self._error(errors, index, _MSG_MISSING, "missing")
            return ("" if self.kind == "text" else MISSING_LEVEL), ""
        if not isinstance(value, str | int | float | bool):
            kind = type(value).__name__
            self._error(errors, index, _MSG_TYPE_CATEGORY.format(kind=kind), "type_error")
            return MISSING_LEVEL, ""
        text = canonical_text(value)
        if self.kind == "text" or text in self._known:
            return text, ""
        shown = ", ".join(self.categories[:8]) + (", ..." if len(self.categories) > 8 else "")
        message = _MSG_UNSEEN.format(value=text, known=shown)
        if self.on_unseen == "reject":
            self._error(errors, index, message, "unseen_category")
        return text, f"{self.name}: {message}"

    def _error(self, errors: list[dict[str, Any]], index: int, msg: str, kind: str) -> None:
        errors.append({"loc": [index, self.name], "msg": msg, "type": kind})


def canonical_text(value: Any) -> str:
    """Render a category so that 1, 1.0 and '1' are one level, and True is 'true'.

    Mirrors ``crispml.data`` (training side); a test checks both agree.

    Examples
    --------
    >>> canonical_text(True), canonical_text(2.0), canonical_text("a")
    ('true', '2', 'a')
    """
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _as_number(value: Any) -> float | None:
    """Float of ``value`` (NaN for missing), or None when it is not a number."""
    if value is None:
        return math.nan
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    elif isinstance(value, str):
        stripped = value.strip()
        if stripped == "":
            return math.nan
        try:
            number = float(stripped)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else math.nan


@dataclass(frozen=True)
class InputContract:
    """The contract of the model's raw input: one :class:`ColumnContract` per column.

    Attributes
    ----------
    columns : tuple of ColumnContract
        The model's input columns, in ONNX input order.
    """

    columns: tuple[ColumnContract, ...]

    @property
    def names(self) -> list[str]:
        """Column names, in order."""
        return [c.name for c in self.columns]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``columns`` section of ``model/contract.json``)."""
        return {
            "contract_version": CONTRACT_VERSION,
            "columns": [c.to_dict() for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputContract:
        """Rebuild a contract written by :meth:`to_dict`."""
        return cls(tuple(ColumnContract.from_dict(c) for c in data["columns"]))

    def prepare(self, records: Sequence[Any]) -> tuple[dict[str, np.ndarray], list[list[str]]]:
        """Check raw records and build the ONNX inputs.

        Parameters
        ----------
        records : sequence of dict
            Raw rows: column name -> value. Absent columns count as missing; columns
            the contract does not know are ignored.

        Returns
        -------
        inputs : dict of str -> numpy.ndarray
            One ``(n, 1)`` array per column: float64 for numbers, str objects otherwise.
        warnings : list of list of str
            Per record, the accepted values that lie outside what training saw.

        Raises
        ------
        ContractViolation
            If any value has the wrong type or breaks a ``reject`` policy.

        Examples
        --------
        >>> contract = InputContract((ColumnContract("x", "number", min=0.0, max=1.0),))
        >>> inputs, warnings = contract.prepare([{"x": 2}])
        >>> inputs["x"].tolist(), warnings
        ([[2.0]], [['x: 2.0 is outside the observed range [0.0, 1.0]']])
        """
        errors: list[dict[str, Any]] = []
        columns: dict[str, list[Any]] = {c.name: [] for c in self.columns}
        warnings: list[list[str]] = []
        for index, record in enumerate(records):
            notes: list[str] = []
            if not isinstance(record, Mapping):
                msg = _MSG_NOT_OBJECT.format(kind=type(record).__name__)
                errors.append({"loc": [index], "msg": msg, "type": "type_error"})
                warnings.append(notes)
                continue
            for col in self.columns:
                value, note = col.convert(record.get(col.name), index, errors)
                columns[col.name].append(value)
                if note:
                    notes.append(note)
            warnings.append(notes)
        if errors:
            raise ContractViolation(errors)
        inputs = {}
        for col in self.columns:
            dtype = np.float64 if col.kind == "number" else object
            inputs[col.name] = np.asarray(columns[col.name], dtype=dtype).reshape(-1, 1)
        return inputs, warnings
