"""One scikit-learn preprocessing pipeline built from the inferred schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from crispml.data import Schema
from crispml.features._dates import DateFeatures
from crispml.features._embed import SentenceEmbedding

Flavour = Literal["tree", "linear"]

MAX_LEVELS = 64
"""Categorical levels one-hot encoded per column; rarer levels share one 'infrequent' column."""
MAX_TEXT_TERMS = 1000
"""Largest vocabulary of each of a text column's two TF-IDF encodings (words, characters)."""
MIN_TEXT_TERMS = 50
ROWS_PER_TEXT_TERM = 10
"""The vocabulary grows with the table: one term per this many training rows."""
WORD_PATTERN = r"[a-z0-9_]{2,}"
"""Words of two or more ASCII letters, digits or underscores.

Text arrives lower-cased with its white space collapsed (:func:`crispml.data.conform`),
so the vectorisers neither lower-case nor normalise: the ONNX graph then needs no
locale-dependent string normaliser, and an ASCII pattern reads the same in Python's
``re`` and in onnxruntime's RE2 tokenizer (parity is tested on accented text)."""


def build_preprocessor(schema: Schema, *, flavour: Flavour = "tree") -> ColumnTransformer:
    """Build the preprocessing step for the schema's feature columns.

    Every step is a stock scikit-learn transformer, so a fitted model runs without
    crispml installed.

    - numeric: kept as is for trees (they handle missing values); median-imputed with a
      missing-indicator and standardised for linear models;
    - categorical and boolean: (missing is already its own level) one-hot encoding of the
      ``MAX_LEVELS`` most frequent levels (unseen levels map to the infrequent column);
    - datetime (epoch seconds after :func:`crispml.data.conform`): calendar parts,
      cyclical encodings, days before the training reference date, missing indicators
      and days elapsed between date columns (:class:`DateFeatures`; imputed and
      standardised for linear models);
    - text: TF-IDF of word 1-2-grams beside TF-IDF of character 2-4-grams, each over the
      most frequent terms seen in at least two rows, one term per ``ROWS_PER_TEXT_TERM``
      rows between ``MIN_TEXT_TERMS`` and ``MAX_TEXT_TERMS`` (:func:`text_step`); the
      columns in ``schema.embedded`` instead become their sentence embedding
      (:class:`SentenceEmbedding`, ``features.text.method: embeddings``).

    .. versionchanged:: 0.2
       Datetime columns are used (they were dropped); text gets word and character
       n-grams sized by the table (it was 300 single words).

    Parameters
    ----------
    schema : Schema
        Roles of the columns; columns listed in ``schema.dropped`` are left out.
    flavour : {"tree", "linear"}, default="tree"
        Which family of models the output feeds.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted; input is the frame returned by :func:`crispml.data.conform`.

    Examples
    --------
    >>> import pandas as pd
    >>> from crispml.data import infer_schema
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "y": [0, 1, 0]})
    >>> pre = build_preprocessor(infer_schema(df, target="y"))
    >>> sorted(name for name, _, _ in pre.transformers)
    ['categorical', 'numeric']
    """
    used = [c for c in schema.features if c not in schema.dropped]
    numeric = [c for c in schema.names("numeric") if c in used]
    categorical = [c for c in schema.names("categorical", "boolean") if c in used]
    dates = [c for c in schema.names("datetime") if c in used]
    text = [c for c in schema.names("text") if c in used]
    steps: list[tuple[str, object, object]] = []
    if numeric:  # first: the LightGBM export reads the numeric passthrough prefix
        steps.append(("numeric", _numeric_step(flavour), numeric))
    if dates:
        steps.append(("dates", _date_step(flavour), dates))
    if categorical:
        steps.append(("categorical", _categorical_step(), categorical))
    for i, column in enumerate(text):  # scikit-learn step names may not contain "__"
        name = column.replace("__", "_")
        if column in schema.embedded:
            steps.append((f"embedding{i}_{name}", SentenceEmbedding(), column))
        else:
            steps.append((f"text{i}_{name}", text_step(schema.n_rows), column))
    return ColumnTransformer(
        steps, remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=True
    )


def _numeric_step(flavour: Flavour) -> object:
    if flavour == "tree":
        return "passthrough"
    return Pipeline(
        [
            (
                "impute",
                SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            ),
            ("scale", StandardScaler()),
        ]
    )


def _date_step(flavour: Flavour) -> DateFeatures:
    # For linear models DateFeatures imputes and standardises itself: one step whose ONNX
    # graph stays in double until its output, and whose outputs map to their columns.
    return DateFeatures(linear=flavour == "linear")


def text_step(n_rows: int) -> FeatureUnion:
    """TF-IDF of word 1-2-grams and of character 2-4-grams for one text column.

    .. versionadded:: 0.2

    Parameters
    ----------
    n_rows : int
        Rows of the table; the vocabulary of each encoding holds one term per
        ``ROWS_PER_TEXT_TERM`` rows, between ``MIN_TEXT_TERMS`` and ``MAX_TEXT_TERMS``.
        Terms seen in one row only are left out once the table has 100 rows or more.

    Returns
    -------
    sklearn.pipeline.FeatureUnion
        Unfitted; its input is one column of normalised text.

    Examples
    --------
    >>> step = text_step(20_000)
    >>> [(name, v.analyzer, v.ngram_range, v.max_features) for name, v in step.transformer_list]
    [('words', 'word', (1, 2), 1000), ('chars', 'char', (2, 4), 1000)]
    """
    terms = int(min(MAX_TEXT_TERMS, max(MIN_TEXT_TERMS, n_rows // ROWS_PER_TEXT_TERM)))
    min_df = 2 if n_rows >= 100 else 1
    common = {"lowercase": False, "max_features": terms, "min_df": min_df, "dtype": np.float32}
    words = TfidfVectorizer(
        analyzer="word", ngram_range=(1, 2), token_pattern=WORD_PATTERN, **common
    )
    chars = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), **common)
    return FeatureUnion([("words", words), ("chars", chars)])


def _categorical_step() -> OneHotEncoder:
    # Missing values arrive as their own string level (see crispml.data.conform). The
    # indicators are 0/1, exact in float32: half the bytes of the widest block of the
    # matrix (on a million rows of nine categoricals, 1.2 GB instead of 2.5 GB while the
    # blocks are stacked).
    return OneHotEncoder(
        handle_unknown="infrequent_if_exist",
        max_categories=MAX_LEVELS,
        sparse_output=False,
        dtype=np.float32,
    )


def monotone_signs(preprocessor: ColumnTransformer, monotone: Mapping[str, int]) -> list[int]:
    """Direction of every output column of a fitted preprocessor under ``monotone``.

    .. versionadded:: 0.2

    Parameters
    ----------
    preprocessor : sklearn.compose.ColumnTransformer
        Fitted, from :func:`build_preprocessor` (tree flavour: numeric columns pass
        through unchanged, so a raw column's direction is its output column's).
    monotone : mapping of str to int
        Raw numeric column -> ``1`` (increasing) or ``-1`` (decreasing).

    Returns
    -------
    list of int
        ``1``, ``-1`` or ``0`` (free) per output column, the form boosting libraries take.

    Raises
    ------
    ValueError
        If a constrained column is not a numeric output of the preprocessor.

    Examples
    --------
    >>> import pandas as pd
    >>> from crispml.data import infer_schema
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "y": [0, 1, 0]})
    >>> pre = build_preprocessor(infer_schema(df, target="y")).fit(df[["x", "c"]])
    >>> monotone_signs(pre, {"x": -1})
    [-1, 0, 0]
    """
    names = [str(n) for n in preprocessor.get_feature_names_out()]
    missing = sorted(c for c in monotone if f"numeric__{c}" not in names)
    if missing:
        raise ValueError(f"monotone columns {missing} are not numeric inputs of the model")
    return [
        int(monotone.get(n.removeprefix("numeric__"), 0)) if n.startswith("numeric__") else 0
        for n in names
    ]
