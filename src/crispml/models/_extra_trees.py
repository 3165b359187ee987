"""Extra trees: randomised split thresholds, fast and diverse (good ensemble members)."""

from __future__ import annotations

from typing import ClassVar

from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

from crispml.models._base import register
from crispml.models._random_forest import RandomForestFamily


@register("extra_trees")
class ExtraTreesFamily(RandomForestFamily):
    """scikit-learn's extremely randomised trees, grown in chunks until the deadline.

    Same defaults, search space and chunked fit as the random forest; only the
    estimators differ (random split thresholds: faster, and diverse ensemble members).
    """

    relative_cost: ClassVar[float] = 1.0
    fit_overhead_s: ClassVar[float] = 0.7
    estimator_classes: ClassVar[tuple[type, type]] = (ExtraTreesClassifier, ExtraTreesRegressor)
