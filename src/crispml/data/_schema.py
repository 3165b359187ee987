"""Column roles inferred from a table, and the canonical typing of a frame."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

Role = Literal["numeric", "categorical", "boolean", "datetime", "text", "id", "constant", "target"]
FEATURE_ROLES: tuple[Role, ...] = ("numeric", "categorical", "boolean", "datetime", "text")

_BOOL_PAIRS = [
    {"yes", "no"},
    {"true", "false"},
    {"y", "n"},
    {"t", "f"},
    {"0", "1"},
    {"0.0", "1.0"},
]
_ID_NAME = re.compile(r"(^|_)(id|uuid|key|index)$|^id_|identifier", re.IGNORECASE)
_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?")
_TEXT_MIN_WORDS = 4.0
_MIN_ID_ROWS = 20
_SEQUENCE_FILL = 2 / 3
"""Share of the slots between the smallest and largest distinct integer that must be
taken for the column to count as a (shuffled, gappy) sequence such as 1..n."""
KEPT_ID_NOTE = "looks like an identifier; kept as a feature (data.keep_ids)"
"""The note of a column that looks like an id but the spec keeps as a feature."""
MISSING_LEVEL = "__missing__"
"""The level a missing categorical value becomes (its own category, as a string)."""


@dataclass(frozen=True)
class ColumnInfo:
    """What crispml inferred about one column.

    Attributes
    ----------
    name : str
        Column name.
    role : str
        One of numeric, categorical, boolean, datetime, text, id, constant, target.
    dtype : str
        The pandas dtype as read.
    n_missing : int
        Missing values.
    n_unique : int
        Distinct non-missing values.
    categories : list
        Observed levels for categorical and boolean columns (as strings).
    min, max : float or None
        Observed range for numeric columns (datetime columns: in epoch seconds, UTC).
    note : str
        Why this role was chosen, when it is not obvious.
    """

    name: str
    role: Role
    dtype: str
    n_missing: int
    n_unique: int
    categories: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    note: str = ""


@dataclass(frozen=True)
class Schema:
    """The inferred schema of a table: one :class:`ColumnInfo` per column.

    Later steps (audit, features, deployment contract) read the roles from here.
    ``embedded`` names the text columns encoded as sentence embeddings instead of
    TF-IDF (``features.text.method: embeddings``).

    .. versionchanged:: 0.2
       ``embedded`` added.
    """

    columns: tuple[ColumnInfo, ...]
    target: str
    n_rows: int
    dropped: tuple[str, ...] = field(default_factory=tuple)
    embedded: tuple[str, ...] = field(default_factory=tuple)

    def __getitem__(self, name: str) -> ColumnInfo:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def names(self, *roles: Role) -> list[str]:
        """Names of the columns that have any of ``roles``, in table order."""
        return [c.name for c in self.columns if c.role in roles]

    @property
    def features(self) -> list[str]:
        """Columns the model uses as input."""
        return self.names(*FEATURE_ROLES)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary."""
        return {
            "target": self.target,
            "n_rows": self.n_rows,
            "dropped": list(self.dropped),
            "embedded": list(self.embedded),
            "columns": [asdict(c) for c in self.columns],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Schema:
        """Rebuild a schema written by :meth:`to_dict`."""
        cols = tuple(
            ColumnInfo(**{**c, "categories": tuple(c.get("categories", ()))})
            for c in data["columns"]
        )
        return cls(
            columns=cols,
            target=data["target"],
            n_rows=data["n_rows"],
            dropped=tuple(data["dropped"]),
            embedded=tuple(data.get("embedded", ())),
        )


def infer_schema(
    frame: pd.DataFrame,
    *,
    target: str,
    id_column: str | None = None,
    drop: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
    keep: tuple[str, ...] = (),
) -> Schema:
    """Infer the role of every column of ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table.
    target : str
        The target column; gets the role ``target``.
    id_column : str, optional
        A column known to identify rows; gets the role ``id``.
    drop : tuple of str
        Columns left out entirely.
    exclude : tuple of str
        Columns kept in the table but not used as features (e.g. protected attributes);
        they keep their inferred role and are listed in ``dropped``.
    keep : tuple of str
        Columns that look like identifiers (every value distinct and in sequence or
        named like an id) but are real features: they get the numeric or categorical
        role instead of ``id``.

    Returns
    -------
    Schema

    Examples
    --------
    >>> df = pd.DataFrame({"age": [31, 45, 22, 60], "city": ["a", "b", "a", "c"],
    ...                    "y": ["no", "yes", "no", "yes"]})
    >>> [c.role for c in infer_schema(df, target="y").columns]
    ['numeric', 'categorical', 'target']
    """
    columns = []
    for name in frame.columns:
        if name in drop:
            continue
        if name == target:
            columns.append(_describe(frame[name], "target", ""))
        elif name == id_column:
            columns.append(_describe(frame[name], "id", "data.id_column"))
        else:
            role, note = infer_role(frame[name])
            if role == "id" and name in keep:
                role, note = _kept_role(frame[name]), KEPT_ID_NOTE
            columns.append(_describe(frame[name], role, note))
    dropped = tuple(d for d in drop if d in frame.columns) + tuple(exclude)
    return Schema(columns=tuple(columns), target=target, n_rows=len(frame), dropped=dropped)


def infer_role(series: pd.Series) -> tuple[Role, str]:
    """Return the role of one column and a short reason."""
    values = series.dropna()
    n_unique = values.nunique()
    if n_unique <= 1:
        return "constant", "one distinct value (or none)"
    if pd.api.types.is_bool_dtype(series):
        return "boolean", ""
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime", ""
    if pd.api.types.is_numeric_dtype(series):
        return _numeric_role(series, values, n_unique)
    text = values.astype(str)
    if n_unique == 2 and {v.strip().lower() for v in text.unique()} in _BOOL_PAIRS:
        return "boolean", "two yes/no-like values"
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().mean() > 0.98:
        if _numeric_role(series, numbers.dropna(), n_unique)[0] == "id":
            return "id", "distinct integers stored as text"
        return "numeric", "numbers stored as text"
    if text.str.match(_DATE_LIKE).mean() > 0.95:
        return "datetime", "ISO-like dates"
    if n_unique == len(values) and len(values) > 20:
        words = text.str.split().str.len().mean()
        if words >= _TEXT_MIN_WORDS:
            return "text", f"free text, {words:.1f} words on average"
        return "id", "every value distinct"
    if n_unique > 0.5 * len(values) and text.str.split().str.len().mean() >= _TEXT_MIN_WORDS:
        return "text", "free text"
    return "categorical", ""


def _numeric_role(series: pd.Series, values: pd.Series, n_unique: int) -> tuple[Role, str]:
    if n_unique == 2 and set(np.unique(values.to_numpy())) <= {0, 1}:
        return "boolean", "0/1 values"
    is_int = pd.api.types.is_integer_dtype(series) or bool((values == values.round()).all())
    name_looks_id = bool(_ID_NAME.search(str(series.name)))
    if is_int and n_unique == len(values) and len(values) > _MIN_ID_ROWS:
        if values.is_monotonic_increasing or values.is_monotonic_decreasing:
            return "id", "distinct integers in order"
        if _is_sequence(values):
            return "id", "distinct integers filling most of a range, in any order"
        if name_looks_id:
            return "id", "distinct integers named like an id"
    return "numeric", ""


def _is_sequence(values: pd.Series) -> bool:
    """Tell whether distinct integers take most slots of an arithmetic range (ids 1..n)."""
    ordered = np.sort(values.to_numpy(dtype=np.float64))
    step = float(np.diff(ordered).min())
    span = (ordered[-1] - ordered[0]) / step + 1
    return bool(len(ordered) >= _SEQUENCE_FILL * span)


def _kept_role(series: pd.Series) -> Role:
    """Return the role of an id-like column the spec keeps as a feature."""
    numbers = pd.to_numeric(series.dropna().astype(str), errors="coerce")
    return "numeric" if numbers.notna().all() else "categorical"


def _describe(series: pd.Series, role: Role, note: str) -> ColumnInfo:
    values = series.dropna()
    cats: tuple[str, ...] = ()
    lo = hi = None
    if role in ("categorical", "boolean"):
        cats = tuple(sorted({_canonical_text(v) for v in _distinct(values)}))[:1000]
    if role in ("numeric", "datetime"):
        nums = _cast(values, role).dropna()
        if len(nums):
            lo, hi = float(nums.min()), float(nums.max())
    return ColumnInfo(
        name=str(series.name),
        role=role,
        dtype=str(series.dtype),
        n_missing=int(series.isna().sum()),
        n_unique=int(values.nunique()),
        categories=cats,
        min=lo,
        max=hi,
        note=note,
    )


def conform(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Cast the feature columns of ``frame`` to the canonical types of ``schema``.

    Numeric columns become float32 (infinities become missing): the design matrices the
    models fit on are float32, as their ONNX graphs compute and as scikit-learn's trees and
    XGBoost would round them anyway; datetime columns become float64 seconds since
    1970-01-01 UTC (see :func:`epoch_seconds`); categorical, boolean
    columns become object columns of strings with missing as ``MISSING_LEVEL``; text
    columns become normalised strings (:func:`normalise_text`) with missing as the empty
    string. The
    same function runs at training and at prediction time, so both see the same types.

    .. versionchanged:: 0.4
       Numeric columns are float32 (they were float64): half the memory of every
       matrix built from them.

    Parameters
    ----------
    frame : pandas.DataFrame
        Raw rows with (at least) the schema's feature columns.
    schema : Schema

    Returns
    -------
    pandas.DataFrame
        Only the feature columns, in schema order.
    """
    out = {}
    for col in schema.columns:
        if col.role not in FEATURE_ROLES or col.name in schema.dropped:
            continue
        values = (
            frame[col.name] if col.name in frame.columns else pd.Series(np.nan, index=frame.index)
        )
        out[col.name] = _cast(values, col.role, numbers="float32")
    return pd.DataFrame(out, index=frame.index)


def epoch_seconds(values: pd.Series) -> pd.Series:
    """Seconds since 1970-01-01 00:00 UTC of dates, as float64 (missing or unparsable: NaN).

    Dates without a time zone are taken as UTC; strings are parsed as ISO 8601 (the
    serving contract reads them the same way), numbers are taken as epoch seconds.

    .. versionadded:: 0.2

    Parameters
    ----------
    values : pandas.Series
        Datetimes (any resolution, naive or time-zone aware), ISO strings or numbers.

    Returns
    -------
    pandas.Series
        float64, same index.

    Examples
    --------
    >>> epoch_seconds(pd.Series(["1970-01-02", "1970-01-01T01:00:00+01:00", None])).tolist()
    [86400.0, 0.0, nan]
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values if values.dt.tz is not None else values.dt.tz_localize("UTC")
    else:
        stamps = pd.to_datetime(
            values.astype(object).where(values.notna(), None),
            errors="coerce",
            utc=True,
            format="ISO8601",
        )
    seconds = (stamps - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)
    return pd.Series(seconds.to_numpy(dtype="float64"), index=values.index)


def _cast(values: pd.Series, role: Role, *, numbers: str = "float64") -> pd.Series:
    """Canonical values of one column; ``numbers`` is the dtype of a numeric column's."""
    if role == "datetime":
        return epoch_seconds(values)
    if role == "numeric":
        nums = pd.to_numeric(values, errors="coerce").astype("float64")
        return nums.replace([np.inf, -np.inf], np.nan).astype(numbers)
    missing = values.isna()
    canonical = normalise_text if role == "text" else _canonical_text
    if isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
        # Each distinct value is rendered once: a million rows of a thousand levels
        # cost a thousand calls, not a million.
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        levels = np.array([canonical(v) for v in uniques] + [""], dtype=object)
        text = pd.Series(levels[codes], index=values.index, dtype=object)
    else:
        text = values.map(canonical, na_action="ignore").astype(object)
    text[missing] = "" if role == "text" else MISSING_LEVEL
    return text


def _distinct(values: pd.Series) -> Any:
    """Distinct values of a string or categorical column (every value of other dtypes).

    Only where equal values cannot render differently: in an object column ``True`` and
    ``1`` are equal yet :func:`_canonical_text` renders them ``true`` and ``1``.
    """
    if isinstance(values.dtype, pd.StringDtype | pd.CategoricalDtype):
        return values.unique()
    return values


def normalise_text(value: Any) -> str:
    r"""Free text lower-cased, with every run of white space made one space.

    The text encodings read this form (see :func:`crispml.features.text_step`); the
    serving contract normalises requests the same way.

    .. versionadded:: 0.2

    Examples
    --------
    >>> normalise_text("  Late\tpayment,  TWICE ")
    'late payment, twice'
    """
    return " ".join(str(value).lower().split())


def _canonical_text(value: Any) -> str:
    """Render a category so that 1, 1.0 and '1' are one level, and True is 'true'."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)
