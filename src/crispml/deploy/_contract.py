"""Building ``model/contract.json``: the input contract of the served model.

The file holds what the serving runtime needs and nothing it would have to import
crispml for: task, classes, decision threshold, a card summary and, per raw input
column, its type, the categories and range seen in training, a reference value
(median or most frequent level, for reason codes) and the policies for a missing
value, an unseen category and an out-of-range number. ``model/schema.json`` (the
crispml schema, written by the engagement) is left as it is.

The contract is strict by default: a column with no missing value in training is
required (a request without it is refused rather than scored on an imputed value the
model never learnt from), and a field that is neither an input nor a known non-input
(protected attribute, target, dropped column) is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crispml.data import MISSING_LEVEL, Schema, TargetEncoding
from crispml.features import EMBEDDING_DIM
from crispml.serve import ColumnContract, InputContract, density_profile

_KINDS = {
    "numeric": "number",
    "datetime": "datetime",
    "categorical": "category",
    "boolean": "category",
    "text": "text",
}
_REASON_PROTECTED = "protected attribute, not a model input"
_REASON_TARGET = "the target, not a model input"
_REASON_DROPPED = "not a model input (excluded from training: {role})"


def build_contract(
    schema: Schema,
    X_train: pd.DataFrame,
    *,
    on_missing: str = "reject",
    on_unknown: str = "reject",
    protected: tuple[str, ...] = (),
) -> InputContract:
    """Describe the model's raw input columns from the schema and the training rows.

    Parameters
    ----------
    schema : Schema
        Column roles; dropped (e.g. protected) columns are not inputs.
    X_train : pandas.DataFrame
        Conformed training features (see :func:`crispml.data.conform`), for the
        reference values and the missingness seen in training.
    on_missing : {"reject", "impute"}, default="reject"
        ``reject``: a column with no missing value in training is required.
        ``impute``: every column may be missing (the response names what was imputed).
    on_unknown : {"reject", "warn"}, default="reject"
        What a request field the contract does not know gets.
    protected : tuple of str, default=()
        Protected attributes (``fairness.protected``); when not inputs they are
        dropped before scoring and never logged.

    Returns
    -------
    InputContract
        Unseen categories and numbers out of range go to the model with a warning;
        missing values in columns that had some in training go to its imputation.

    .. versionchanged:: 0.1
       Strict by default: columns complete in training are required, unknown fields refused.

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
    columns, ignored = [], {}
    for col in schema.columns:
        if col.role not in _KINDS or col.name in schema.dropped:
            if col.name in protected:
                ignored[col.name] = _REASON_PROTECTED
            elif col.name == schema.target or col.role == "target":
                ignored[col.name] = _REASON_TARGET
            else:
                ignored[col.name] = _REASON_DROPPED.format(role=col.role)
            continue
        kind = _KINDS[col.role]
        values = X_train[col.name]
        policy = "impute" if on_missing == "impute" or _had_missing(values, kind) else "reject"
        if kind in ("number", "datetime"):  # dates: epoch seconds after conform
            finite = values.dropna()
            reference: Any = float(finite.median()) if len(finite) else 0.0
            column = ColumnContract(
                col.name, kind, min=col.min, max=col.max, reference=reference, on_missing=policy
            )
        else:
            counts = values.value_counts()
            reference = str(counts.index[0]) if len(counts) else ""
            column = ColumnContract(
                col.name, kind, categories=col.categories, reference=reference, on_missing=policy
            )
        columns.append(column)
    for name in schema.dropped:  # left out of the schema entirely (spec data.drop)
        reason = _REASON_PROTECTED if name in protected else _REASON_DROPPED.format(role="drop")
        ignored.setdefault(name, reason)
    if schema.target:
        ignored.setdefault(schema.target, _REASON_TARGET)
    distribution = _profile(columns, X_train)
    embedded = tuple(c for c in schema.embedded if c not in schema.dropped)
    return InputContract(
        tuple(columns),
        ignored=ignored,
        on_unknown=on_unknown,
        distribution=distribution,
        embedded=embedded,
        embedding_dim=EMBEDDING_DIM if embedded else 0,
    )


def _profile(columns: list[ColumnContract], X_train: pd.DataFrame) -> dict[str, Any]:
    """Training profile of the serving-time low-density and rare-level checks."""
    numbers = {c.name: X_train[c.name].to_numpy(np.float64) for c in columns if c.kind == "number"}
    levels = {
        c.name: X_train[c.name][X_train[c.name] != MISSING_LEVEL].astype(str).to_numpy()
        for c in columns
        if c.kind == "category"
    }
    return density_profile(numbers, levels)


def _had_missing(values: pd.Series, kind: str) -> bool:
    """Whether a conformed training column holds a missing value."""
    if kind in ("number", "datetime"):
        return bool(values.isna().any())
    empty = "" if kind == "text" else MISSING_LEVEL
    return bool((values.isna() | (values == empty)).any())


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
