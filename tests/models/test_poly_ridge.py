"""Ridge on pairwise products: the regression baseline of small tables."""

from __future__ import annotations

import math

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_val_score

from crispml.models import family_names, get_family
from crispml.models._ridge import MAX_COLUMNS, MAX_ROWS, product_terms


def test_it_is_a_regression_baseline_skipped_beyond_small_tables():
    family = get_family("poly_ridge")
    assert "poly_ridge" in family_names(baselines=True)
    assert family.tasks == {"regression"}
    assert family.estimate_fit_s(500, 10) < family.estimate_fit_s(1_500, 10)
    assert family.estimate_fit_s(1_500, 10) < family.estimate_fit_s(1_500, 20)
    assert math.isinf(family.estimate_fit_s(500, MAX_COLUMNS + 1))
    assert math.isinf(family.estimate_fit_s(MAX_ROWS + 1, 10))
    assert product_terms(3) == 9  # x1..x3, their squares and the three pairs


def test_it_beats_plain_ridge_where_the_target_has_curvature_and_interactions():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = X[:, 0] ** 2 + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] + rng.normal(scale=0.3, size=300)
    model = get_family("poly_ridge").build({}, task="regression", seed=0)
    poly = -cross_val_score(model, X, y, cv=5, scoring="neg_root_mean_squared_error").mean()
    flat = -cross_val_score(Ridge(), X, y, cv=5, scoring="neg_root_mean_squared_error").mean()
    assert poly < 0.5 * flat
    fitted = model.fit(X, y)
    assert get_family("poly_ridge").fit_info(fitted)["alpha_chosen"] > 0
