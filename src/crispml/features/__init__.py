"""Feature engineering: one scikit-learn pipeline built from the inferred schema."""

from __future__ import annotations

from crispml.features._pipeline import MAX_LEVELS, MAX_TEXT_TERMS, build_preprocessor

__all__ = ["MAX_LEVELS", "MAX_TEXT_TERMS", "build_preprocessor"]
