"""Model selection: baselines, the requested families and the time budget."""

from __future__ import annotations

from crispml.search._deadline import Deadline
from crispml.search._search import Candidate, SearchResult, direction, search_models

__all__ = ["Candidate", "Deadline", "SearchResult", "direction", "search_models"]
