"""Building ``model/contract.json``: the input contract of the served model.

The file holds what the serving runtime needs and nothing it would have to import
crispml for: task, classes, decision threshold, a card summary and, per raw input
column, its type, the categories and range seen in training, a reference value
(median or most frequent level, for reason codes) and the policies for a missing
value, an unseen category and an out-of-range number. ``model/schema.json`` (the
crispml schema, written by the engagement) is left as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crispml.data import Schema, TargetEncoding
from crispml.exceptions import DeploymentError
from crispml.serve import ColumnContract, InputContract

_MSG_DATES_NOT_SERVED = (
    "column {column!r} is a date, and this version of crispml.serve does not read dates "
    "(contract type 'datetime': ISO strings or epoch seconds). Set deployment.format: none "
    "to keep the date features without the ONNX bundle, or list the date columns in "
    "data.drop to serve a model without them."
)

_KINDS = {
    "numeric": "number",
    "datetime": "datetime",
    "categorical": "category",
    "boolean": "category",
    "text": "text",
}


def build_contract(schema: Schema, X_train: pd.DataFrame) -> InputContract:
    """Describe the model's raw input columns from the schema and the training rows.

    Parameters
    ----------
    schema : Schema
        Column roles; dropped (e.g. protected) columns are not inputs.
    X_train : pandas.DataFrame
        Conformed training features (see :func:`crispml.data.conform`), for the
        reference values.

    Returns
    -------
    InputContract
        Every policy is ``accept``: missing values, unseen categories and numbers out
        of range go to the model, which handles them as in training (the parity check
        covers these cases); responses carry a warning for the last two.

    Raises
    ------
    DeploymentError
        If the schema has date columns and the serving runtime cannot read dates.

    Examples
    --------
    >>> from crispml.data import conform, infer_schema
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 9.0], "c": ["a", "b", "a"], "y": [0, 1, 0]})
    >>> schema = infer_schema(df, target="y")
    >>> contract = build_contract(schema, conform(df, schema))
    >>> [(c.name, c.kind, c.reference) for c in contract.columns]
    [('x', 'number', 2.0), ('c', 'category', 'a')]
    """
    columns = []
    for col in schema.columns:
        if col.role not in _KINDS or col.name in schema.dropped:
            continue
        kind = _KINDS[col.role]
        if kind == "datetime" and not _serving_reads_dates():
            raise DeploymentError(_MSG_DATES_NOT_SERVED.format(column=col.name))
        values = X_train[col.name]
        if kind in ("number", "datetime"):  # dates: epoch seconds after conform
            finite = values.dropna()
            reference: Any = float(finite.median()) if len(finite) else 0.0
            columns.append(
                ColumnContract(col.name, kind, min=col.min, max=col.max, reference=reference)
            )
        else:
            counts = values.value_counts()
            reference = str(counts.index[0]) if len(counts) else ""
            columns.append(
                ColumnContract(col.name, kind, categories=col.categories, reference=reference)
            )
    return InputContract(tuple(columns))


def _serving_reads_dates() -> bool:
    """Whether the serving contract turns an ISO date into epoch seconds, as conform does."""
    errors: list[dict[str, Any]] = []
    value, _ = ColumnContract("probe", "datetime").convert("1970-01-02", 0, errors)
    return not errors and value == 86_400.0


def contract_document(
    contract: InputContract,
    target: TargetEncoding,
    *,
    threshold: float | None,
    card: dict[str, Any],
) -> dict[str, Any]:
    """Return the ``model/contract.json`` document read by ``crispml.serve.ServingModel``.

    Parameters
    ----------
    contract : InputContract
        The raw input columns.
    target : TargetEncoding
        Task and class order (binary: negative, positive).
    threshold : float or None
        Binary decision threshold on the positive-class probability.
    card : dict
        Card summary served by ``/v1/metadata``.

    Returns
    -------
    dict
        JSON-ready document.
    """
    return {
        **contract.to_dict(),
        "task": target.task,
        "classes": [_plain(c) for c in target.classes],
        "threshold": threshold if target.task == "binary" else None,
        "onnx": {
            "file": "model.onnx",
            "inputs": contract.names,
            "outputs": ["value"] if target.task == "regression" else ["probabilities", "label"],
        },
        "card": card,
    }


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
