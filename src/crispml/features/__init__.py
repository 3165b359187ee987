"""Feature engineering: one scikit-learn pipeline built from the inferred schema."""

from __future__ import annotations

from crispml.features._dates import MAX_DATE_PAIRS, DateFeatures, civil_from_seconds
from crispml.features._dates_onnx import register_date_converter
from crispml.features._document import (
    FeatureColumn,
    FeatureDocumentation,
    document_features,
    find_preprocessors,
)
from crispml.features._embed import (
    EMBEDDING_DIM,
    EMBEDDING_MODEL,
    SentenceEmbedding,
    check_embeddings,
    register_embedding_converter,
)
from crispml.features._pipeline import (
    MAX_LEVELS,
    MAX_TEXT_TERMS,
    build_preprocessor,
    monotone_signs,
    text_step,
)

__all__ = [
    "EMBEDDING_DIM",
    "EMBEDDING_MODEL",
    "MAX_DATE_PAIRS",
    "MAX_LEVELS",
    "MAX_TEXT_TERMS",
    "DateFeatures",
    "FeatureColumn",
    "FeatureDocumentation",
    "SentenceEmbedding",
    "build_preprocessor",
    "check_embeddings",
    "civil_from_seconds",
    "document_features",
    "find_preprocessors",
    "monotone_signs",
    "register_date_converter",
    "register_embedding_converter",
    "text_step",
]
