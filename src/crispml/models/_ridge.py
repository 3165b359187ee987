"""Ridge on pairwise products: a strong linear model for small regression tables.

On a few hundred rows, boosted trees have too little data to find smooth effects and
their interactions; a ridge regression on the features, their squares and their pairwise
products, its penalty chosen by efficient leave-one-out cross-validation inside the fit,
often predicts better and is still a linear model of named terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.linear_model import RidgeCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from crispml.models._base import ModelFamily, register

MAX_COLUMNS = 25
"""Widest preprocessed table the family fits (25 columns give 350 product terms)."""
MAX_ROWS = 2_000
"""Most rows of one fit: the family is for small tables, where trees run short of data."""
SECONDS_PER_GFLOP = 2.0
"""Seconds per 1e9 of ``rows x terms**2`` (the SVD inside ``RidgeCV``), measured on one
thread of the 2 shared cores: 2,000 rows x 30 columns (495 terms) took 1.6 s."""
ALPHAS = tuple(float(a) for a in np.logspace(-3, 4, 15))
"""Penalties RidgeCV chooses from (leave-one-out error, computed in closed form)."""


def product_terms(n_cols: int) -> int:
    """Columns after degree-2 expansion: each column, its square and every pair."""
    return n_cols + n_cols * (n_cols + 1) // 2


@register("poly_ridge")
class PolyRidgeFamily(ModelFamily):
    """Ridge regression on degree-2 polynomial terms, its penalty chosen in the fit.

    A baseline of regression tables (fitted once, before the search; selectable and an
    ensemble member like any candidate). It tunes nothing itself (``RidgeCV`` picks the
    penalty by leave-one-out error, exact and cheap for ridge); its estimated fit time
    is infinite, so it is not fitted, on tables wider than :data:`MAX_COLUMNS`
    preprocessed columns or longer than :data:`MAX_ROWS` rows, where the expansion is
    large and trees have data enough.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = PolyRidgeFamily().build({}, task="regression", seed=0).fit(X, y)
    >>> model[-1].alpha_ > 0
    True
    """

    tasks: ClassVar[frozenset[str]] = frozenset({"regression"})
    relative_cost: ClassVar[float] = 0.2
    """Unused by its own cost model (:meth:`estimate_fit_s`); for orderings by cost."""
    preprocessing: ClassVar[str] = "linear"
    glass_box: ClassVar[bool] = True
    baseline: ClassVar[bool] = True
    fit_overhead_s: ClassVar[float] = 0.05

    def defaults(self, task: str) -> dict[str, Any]:
        """Squares and pairwise products, not only interactions."""
        return {"interaction_only": False}

    def estimate_fit_s(self, n_rows: int, n_cols: int) -> float:
        """Seconds of one fit on the expanded matrix; infinite beyond the family's tables.

        The SVD of the expanded matrix costs ``rows x terms**2``, not the cells alone.
        """
        if n_cols > MAX_COLUMNS or n_rows > MAX_ROWS:
            return float("inf")
        flops = n_rows * product_terms(n_cols) ** 2 / 1e9
        return self.fit_overhead_s + SECONDS_PER_GFLOP * flops

    def build(
        self, params: Mapping[str, Any], *, task: str, seed: int, n_jobs: int | None = None
    ) -> BaseEstimator:
        """Return products -> standardisation -> ``RidgeCV`` as one estimator."""
        merged = {**self.defaults(task), **params}
        return Pipeline(
            [
                (
                    "products",
                    PolynomialFeatures(
                        degree=2, interaction_only=merged["interaction_only"], include_bias=False
                    ),
                ),
                ("scale", StandardScaler()),
                ("ridge", RidgeCV(alphas=ALPHAS)),
            ]
        )

    def fit_info(self, estimator: BaseEstimator) -> dict[str, Any]:
        """Return the penalty the leave-one-out error chose."""
        ridge = estimator[-1] if isinstance(estimator, Pipeline) else estimator
        return {"alpha_chosen": float(getattr(ridge, "alpha_", float("nan")))}
