"""The families' default configurations: what the first trials of a search fit."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression

from crispml.models import get_family


def _inside(dist, value):
    if hasattr(dist, "choices"):
        return value in dist.choices
    return dist.low <= value <= dist.high


def _data(task, n=600):
    if task == "regression":
        X, y = make_regression(n, 6, noise=10.0, random_state=0)
    else:
        X, y = make_classification(n, 6, n_informative=4, random_state=0)
    cut = int(0.75 * n)
    return X[:cut], y[:cut], X[cut:], y[cut:]


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_catboost_default_keeps_catboosts_automatic_learning_rate(task):
    import catboost as cb

    Xt, yt, Xv, yv = _data(task)
    family = get_family("catboost")
    params = {"iterations": 60}
    fitted = family.fit(family.build(params, task=task, seed=0), Xt, yt, Xv, yv)
    # CatBoost alone, told nothing but the rounds, with the same validation set
    cls = cb.CatBoostRegressor if task == "regression" else cb.CatBoostClassifier
    alone = cls(iterations=60, random_seed=0, verbose=False, allow_writing_files=False)
    alone.fit(Xt, yt, eval_set=(Xv, yv), early_stopping_rounds=100)
    chosen = family.fit_info(fitted)["learning_rate"]
    assert chosen == pytest.approx(alone.get_all_params()["learning_rate"])
    assert chosen != pytest.approx(0.03)  # CatBoost's fallback when l2_leaf_reg is given


def test_catboost_default_is_inside_its_search_space():
    family = get_family("catboost")
    space = family.search_space(1000, 10, "binary")
    for key, value in family.defaults("binary").items():
        if key in space:
            assert _inside(space[key], value)


def test_lightgbm_default_is_lightgbms_own_with_early_stopping():
    import lightgbm as lgb

    family = get_family("lightgbm")
    params = family.build({}, task="binary", seed=0).get_params()
    plain = lgb.LGBMClassifier().get_params()
    for key in ("learning_rate", "num_leaves", "min_child_samples", "colsample_bytree"):
        assert params[key] == plain[key]
    assert params["subsample"] == 1.0
    Xt, yt, Xv, yv = _data("binary")
    fitted = family.fit(family.build({}, task="binary", seed=0), Xt, yt, Xv, yv)
    assert family.fit_info(fitted)["n_estimators"] < params["n_estimators"]


def test_lightgbm_default_is_inside_its_search_space():
    family = get_family("lightgbm")
    space = family.search_space(1000, 10, "binary")
    tuned = {k: v for k, v in family.defaults("binary").items() if k in space}
    assert tuned  # the default is the first point of the tuning
    for key, value in tuned.items():
        assert _inside(space[key], value), key
    assert np.isfinite(list(tuned.values())).all()
