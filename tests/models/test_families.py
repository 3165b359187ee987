from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from crispml.models import family_names, get_family, load_pipeline, predict_output, save_pipeline
from crispml.search import PORTFOLIO

# Small settings so every family fits in well under a second.
QUICK = {
    "catboost": {"iterations": 30},
    "lightgbm": {"n_estimators": 30},
    "xgboost": {"n_estimators": 30},
    "random_forest": {"n_estimators": 20},
    "extra_trees": {"n_estimators": 20},
    "hist_gradient_boosting": {"max_iter": 30},
    "elastic_net": {},
}


def _data(task):
    if task == "regression":
        X, y = make_regression(200, 6, noise=5.0, random_state=0)
    else:
        X, y = make_classification(200, 6, n_informative=4, random_state=0)
    return X[:150], y[:150], X[150:], y[150:]


def test_portfolio_families_are_registered_with_their_declarations():
    names = family_names(baselines=False)
    for name in PORTFOLIO:
        assert name in names
        family = get_family(name)
        assert family.name == name
        assert family.exports_onnx is True
        assert family.tasks == {"binary", "multiclass", "regression"}
        assert family.relative_cost > 0
    assert get_family("elastic_net").glass_box is True
    assert get_family("catboost").glass_box is False
    assert get_family("elastic_net").preprocessing == "linear"


@pytest.mark.parametrize("name", PORTFOLIO)
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_defaults_are_inside_the_search_space(name, task):
    family = get_family(name)
    space = family.search_space(1000, 20, task)
    assert space, f"{name} has nothing to tune"
    for key, value in family.defaults(task).items():
        if key in space:
            assert space[key]._contains(space[key].to_internal_repr(value)), (name, key, value)


@pytest.mark.parametrize("name", PORTFOLIO)
def test_cost_model_grows_with_rows_and_columns(name):
    family = get_family(name)
    small, more_rows = family.estimate_fit_s(1_000, 10), family.estimate_fit_s(100_000, 10)
    assert 0 < small < more_rows < family.estimate_fit_s(100_000, 100)


@pytest.mark.parametrize("name", PORTFOLIO)
@pytest.mark.parametrize("task", ["binary", "regression"])
def test_each_family_fits_predicts_and_round_trips_through_skops(name, task, tmp_path):
    family = get_family(name)
    Xt, yt, Xv, yv = _data(task)
    estimator = family.build(QUICK[name], task=task, seed=0)
    estimator = family.fit(estimator, Xt, yt, Xv, yv, time_left_s=None)
    out = predict_output(estimator, Xv, task)
    assert out.shape == ((50,) if task == "regression" else (50, 2))
    assert np.isfinite(out).all()
    pipe = Pipeline([("features", FunctionTransformer()), ("model", estimator)])
    back = load_pipeline(save_pipeline(pipe, tmp_path / "m.skops"))
    np.testing.assert_array_equal(predict_output(back, Xv, task), out)


@pytest.mark.parametrize("name", ["lightgbm", "xgboost", "catboost", "random_forest"])
def test_iterative_families_stop_at_the_deadline(name):
    family = get_family(name)
    Xt, yt, Xv, yv = _data("binary")
    estimator = family.build({}, task="binary", seed=0)
    estimator = family.fit(estimator, Xt, yt, Xv, yv, time_left_s=0.0)
    rounds = next(iter(family.fit_info(estimator).values()))
    assert rounds < 60  # defaults ask for hundreds or thousands of rounds
    if name != "lightgbm":
        assert estimator.stopped_at_deadline_


def test_refit_parameters_are_pinned_by_fit_info():
    family = get_family("catboost")
    Xt, yt, Xv, yv = _data("binary")
    est = family.fit(family.build({"iterations": 40}, task="binary", seed=0), Xt, yt, Xv, yv)
    info = family.fit_info(est)
    assert info["iterations"] == est.tree_count_
    assert 0 < info["learning_rate"] < 1
