"""Experiment tracking: an adapter over MLflow (SQLite store by default)."""

from __future__ import annotations

from crispml.tracking._mlflow import EngagementTracker, default_tracking_uri, flatten

__all__ = ["EngagementTracker", "default_tracking_uri", "flatten"]
