"""One column of the input contract: its JSON types, levels, range and policies.

Serving runtime only: numpy and the standard library.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

MISSING_LEVEL = "__missing__"
"""Level of a missing categorical value; must equal ``crispml.data.MISSING_LEVEL``."""
POLICIES = {
    "on_missing": ("reject", "impute"),
    "on_unseen": ("accept", "reject"),
    "on_out_of_range": ("accept", "reject"),
    "on_unknown": ("reject", "warn"),
}
"""Allowed values of each policy. ``on_missing: reject`` makes a column required;
``impute`` lets the model's own imputation act (the response names the imputed fields).
``on_unknown`` is contract-wide: a field the contract does not know is a 422 or a warning."""
NUMERIC_KINDS = ("number", "datetime")
"""Kinds the model reads as float64 (dates as epoch seconds)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LEGACY_MISSING = {"accept": "impute"}
"""Contract version 1 wrote ``on_missing: accept`` for what is now ``impute``."""

_MSG_TYPE_NUMBER = "expected a number, got {value!r}"
_MSG_TYPE_DATE = (
    "expected an ISO 8601 date or date-time string (e.g. '2024-05-31' or "
    "'2024-05-31T14:30:00Z') or epoch seconds, got {value!r}"
)
_MSG_TYPE_CATEGORY = "expected {allowed}, got {value!r} (levels seen in training: {known})"
_MSG_UNSEEN = "category {value!r} was not seen in training (known: {known})"
_MSG_RANGE = "{value!r} is outside the observed range [{lo}, {hi}]"


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
    kind : {"number", "datetime", "category", "text"}
        Number (float input); date (an ISO 8601 string, taken as UTC when it names no
        zone, or epoch seconds; the model reads epoch seconds as float64); category
        (string input, canonical text); or free text.
    categories : tuple of str
        Levels seen in training (category columns).
    min, max : float or None
        Observed range (number columns; date columns in epoch seconds).
    reference : float or str or None
        A typical value (median or mode of the training rows), used by reason codes.
    on_missing : {"reject", "impute"}
        ``reject`` (the column is required) or ``impute`` (a missing value goes to the
        model's imputation).
    on_unseen, on_out_of_range : {"accept", "reject"}
        Accept with a warning, or reject (see :data:`POLICIES`).
    """

    name: str
    kind: str
    categories: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    reference: float | str | None = None
    on_missing: str = "impute"
    on_unseen: str = "accept"
    on_out_of_range: str = "accept"
    _known: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _types: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "_known", frozenset(self.categories))
        policy = _LEGACY_MISSING.get(self.on_missing, self.on_missing)
        object.__setattr__(self, "on_missing", policy)
        object.__setattr__(self, "_types", self._json_types())  # once: checked per value

    @property
    def required(self) -> bool:
        """Whether a record must carry a value (``on_missing: reject``)."""
        return self.on_missing == "reject"

    def json_types(self) -> tuple[str, ...]:
        """JSON types a value may have (``null`` excluded), as the OpenAPI schema states.

        Numbers take JSON numbers; categories take strings, plus numbers when a level
        seen in training is numeric and booleans when ``true`` or ``false`` is a level.
        """
        return self._types

    def _json_types(self) -> tuple[str, ...]:
        if self.kind == "number":
            return ("number",)
        if self.kind == "datetime":
            return ("string", "number")
        if self.kind == "text":
            return ("string",)
        types = ["string"]
        if any(len(c) < 40 and c.strip() and _as_number(c) is not None for c in self.categories):
            types.append("number")
        if self._known & {"true", "false"}:
            types.append("boolean")
        return tuple(types)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"name": self.name, "type": self.kind}
        if self.kind == "category":
            out["categories"] = list(self.categories)
        if self.kind in NUMERIC_KINDS:
            out["min"], out["max"] = self.min, self.max
        out["reference"] = self.reference
        out["on_missing"] = self.on_missing
        if self.kind == "category":
            out["on_unseen"] = self.on_unseen
        if self.kind in NUMERIC_KINDS:
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
            on_missing=data.get("on_missing", "impute"),
            on_unseen=data.get("on_unseen", "accept"),
            on_out_of_range=data.get("on_out_of_range", "accept"),
        )

    def missing_value(self) -> Any:
        """Return what the model receives for a missing value (its imputation acts on it)."""
        if self.kind in NUMERIC_KINDS:
            return math.nan
        return "" if self.kind == "text" else MISSING_LEVEL

    def convert(self, value: Any, index: int, errors: list[dict[str, Any]]) -> tuple[Any, str]:
        """Return the model-ready value and a warning ('' if none); append errors.

        ``value`` is not missing (see :func:`is_missing`); the caller applies ``on_missing``.
        """
        if self.kind == "number":
            return self._number(value, index, errors)
        if self.kind == "datetime":
            return self._date(value, index, errors)
        return self._text(value, index, errors)

    def _number(self, value: Any, index: int, errors: list[dict[str, Any]]) -> tuple[Any, str]:
        number = None if isinstance(value, str) else _as_number(value)
        if number is None or math.isnan(number):
            self._error(errors, index, _MSG_TYPE_NUMBER.format(value=value), "type_error")
            return math.nan, ""
        return self._in_range(number, index, errors)

    def _date(self, value: Any, index: int, errors: list[dict[str, Any]]) -> tuple[Any, str]:
        seconds = epoch_seconds(value)
        if seconds is None:
            self._error(errors, index, _MSG_TYPE_DATE.format(value=value), "type_error")
            return math.nan, ""
        return self._in_range(seconds, index, errors)

    def _in_range(
        self, number: float, index: int, errors: list[dict[str, Any]]
    ) -> tuple[float, str]:
        lo = self.min if self.min is not None else -math.inf
        hi = self.max if self.max is not None else math.inf
        if lo <= number <= hi:
            return number, ""
        text = _MSG_RANGE.format(value=number, lo=self.min, hi=self.max)
        if self.on_out_of_range == "reject":
            self._error(errors, index, text, "out_of_range")
        return number, f"{self.name}: {text}"

    def _text(self, value: Any, index: int, errors: list[dict[str, Any]]) -> tuple[Any, str]:
        if not _has_json_type(value, self.json_types()):
            allowed = " or ".join(f"a {t}" for t in self.json_types())
            message = _MSG_TYPE_CATEGORY.format(allowed=allowed, value=value, known=self._shown())
            self._error(errors, index, message, "type_error")
            return self.missing_value(), ""
        if self.kind == "text":
            return normalise_text(value), ""
        text = canonical_text(value)
        if text in self._known:
            return text, ""
        message = _MSG_UNSEEN.format(value=text, known=self._shown())
        if self.on_unseen == "reject":
            self._error(errors, index, message, "unseen_category")
        return text, f"{self.name}: {message}"

    def _shown(self) -> str:
        return ", ".join(self.categories[:8]) + (", ..." if len(self.categories) > 8 else "")

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


def normalise_text(value: Any) -> str:
    r"""Free text lower-cased with white space collapsed, as the text encodings read it.

    Mirrors ``crispml.data.normalise_text`` (training side); a test checks both agree.

    Examples
    --------
    >>> normalise_text(" Late\n PAYMENT ")
    'late payment'
    """
    return " ".join(str(value).lower().split())


def epoch_seconds(value: Any) -> float | None:
    """Seconds since 1970-01-01 00:00 UTC of an ISO 8601 string or a number (else None).

    A date or date-time that names no time zone is taken as UTC; numbers are epoch
    seconds already. Mirrors ``crispml.data.epoch_seconds`` (training side); a test
    checks both agree.

    Examples
    --------
    >>> epoch_seconds("1970-01-02"), epoch_seconds("1970-01-01T01:00:00+01:00"), epoch_seconds(5)
    (86400.0, 0.0, 5.0)
    >>> epoch_seconds("next tuesday") is None
    True
    """
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return (stamp - _EPOCH).total_seconds()
    if isinstance(value, datetime):
        return epoch_seconds(value.isoformat())
    number = _as_number(value)
    return None if number is None or math.isnan(number) else number


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


def is_missing(value: Any) -> bool:
    """Whether a value counts as missing: ``None``, NaN, an infinity or an empty string.

    Infinities are missing because training treats them so (``crispml.data.conform``).
    """
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return not math.isfinite(value)
    return isinstance(value, str) and value.strip() == ""


def _has_json_type(value: Any, types: tuple[str, ...]) -> bool:
    if isinstance(value, bool | np.bool_):
        return "boolean" in types
    if isinstance(value, int | float | np.integer | np.floating):
        return "number" in types and math.isfinite(float(value))
    return isinstance(value, str) and "string" in types
