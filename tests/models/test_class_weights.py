"""Class weights are a tuned choice of every portfolio family on classification tasks."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_limits

from crispml.models import get_family
from crispml.models._xgboost import BALANCED
from crispml.search import PORTFOLIO

WEIGHT_PARAM = {"catboost": "auto_class_weights"}


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with threadpool_limits(limits=1):  # 2 shared cores: OpenMP oversubscribes
        yield


@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("name", PORTFOLIO)
def test_class_weighting_is_searched_and_off_by_default(name, task):
    family = get_family(name)
    param = WEIGHT_PARAM.get(name, "class_weight")
    space = family.search_space(500, 10, task)
    assert param in space, f"{name} does not tune class weights"
    assert family.defaults(task).get(param, "none") == "none"
    assert param not in family.search_space(500, 10, "regression")


def _imbalanced(n_classes: int):
    weights = [0.95, 0.05] if n_classes == 2 else [0.8, 0.15, 0.05]
    X, y = make_classification(
        600, 6, n_informative=4, n_classes=n_classes, weights=weights, random_state=0
    )
    return X[:400], y[:400], X[400:], y[400:]


def test_xgboost_balanced_binary_weighs_positives_by_the_class_ratio():
    family = get_family("xgboost")
    X, y, Xv, yv = _imbalanced(2)
    est = family.build({"n_estimators": 20, "class_weight": "balanced"}, task="binary", seed=0)
    assert clone(est).get_params()["scale_pos_weight"] == BALANCED  # survives clone
    fitted = family.fit(est, X, y, Xv, yv)
    ratio = (y == 0).sum() / (y == 1).sum()
    assert fitted.get_params()["scale_pos_weight"] == pytest.approx(ratio)
    plain = family.fit(family.build({"n_estimators": 20}, task="binary", seed=0), X, y, Xv, yv)
    assert fitted.predict_proba(Xv)[:, 1].mean() > plain.predict_proba(Xv)[:, 1].mean()


def test_xgboost_balanced_multiclass_uses_sample_weights():
    family = get_family("xgboost")
    X, y, Xv, yv = _imbalanced(3)
    params = {"n_estimators": 20, "class_weight": "balanced"}
    fitted = family.fit(family.build(params, task="multiclass", seed=0), X, y, Xv, yv)
    plain = family.fit(family.build({"n_estimators": 20}, task="multiclass", seed=0), X, y, Xv, yv)
    assert fitted.get_params()["scale_pos_weight"] is None
    rare = int(np.argmin(np.bincount(y)))
    assert fitted.predict_proba(Xv)[:, rare].mean() > plain.predict_proba(Xv)[:, rare].mean()


def test_hist_gradient_boosting_passes_the_weighting_to_sklearn():
    family = get_family("hist_gradient_boosting")
    est = family.build({"class_weight": "balanced"}, task="binary", seed=0)
    assert est.get_params()["class_weight"] == "balanced"
    assert family.build({}, task="binary", seed=0).get_params()["class_weight"] is None
