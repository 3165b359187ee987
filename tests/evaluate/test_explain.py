import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from crispml.evaluate import CalibratedModel, explain_model, output_sources
from tests.evaluate._data import driver_frame, fitted_pipeline


@pytest.mark.parametrize(
    ("estimator", "flavour", "method"),
    [
        (LGBMClassifier(n_estimators=60, verbose=-1), "tree", "shap.TreeExplainer"),
        (LogisticRegression(), "linear", "shap.LinearExplainer"),
    ],
)
def test_reason_codes_name_the_planted_driver(estimator, flavour, method):
    X, y = driver_frame(1500, 0)
    model = fitted_pipeline(X[:1000], y[:1000], estimator, flavour)
    out = explain_model(model, X[1000:], y[1000:], task="binary", metric="roc_auc")
    assert out["method"] == method
    assert out["importance"][0]["column"] == "driver"
    assert {r["column"] for r in out["importance"]} == {"driver", "noise", "risk"}
    codes = out["reason_codes"]
    assert len(codes) == 100
    # the highest-risk rows are high because of a high driver value
    assert sum(c["reasons"][0]["column"] == "driver" for c in codes) >= 90
    assert all(c["reasons"][0]["contribution"] > 0 for c in codes)
    assert codes[0]["prediction"] >= codes[-1]["prediction"]


def test_calibrated_model_is_explained_through_its_base():
    X, y = driver_frame(1500, 1)
    base = fitted_pipeline(X[:800], y[:800], LogisticRegression(), "linear")
    model = CalibratedModel(base=base, method="sigmoid").fit(X[800:1100], y[800:1100])
    out = explain_model(model, X[1100:], y[1100:], task="binary", metric="roc_auc", top_k=1)
    assert out["importance"][0]["column"] == "driver"
    assert all(len(c["reasons"]) <= 1 for c in out["reason_codes"])


def test_other_models_get_permutation_importance_on_raw_columns():
    X, y = driver_frame(800, 2)
    model = fitted_pipeline(X[:500], y[:500], KNeighborsClassifier(25), "linear")
    out = explain_model(model, X[500:], y[500:], task="binary", metric="roc_auc")
    assert out["method"].startswith("permutation")
    assert out["importance"][0]["column"] == "driver"
    assert out["reason_codes"] == []


def test_output_sources_map_one_hot_missing_indicators_and_rare_levels():
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame(
        {
            "a": np.where(rng.uniform(size=n) < 0.1, np.nan, rng.normal(size=n)),
            "b": rng.normal(size=n),
            "c": [f"lvl{i}" for i in rng.integers(0, 80, n)],  # > 64 levels: rare ones grouped
        }
    )
    y = rng.integers(0, 2, n)
    for flavour in ("tree", "linear"):
        model = fitted_pipeline(X, y, DecisionTreeClassifier(max_depth=2), flavour)
        pre = model[0]
        sources = output_sources(pre)
        assert len(sources) == pre.transform(X[:3]).shape[1]
        assert sources.count("a") == (2 if flavour == "linear" else 1)  # value + missing flag
        assert sources.count("b") == 1
        assert sources.count("c") == 64  # MAX_LEVELS columns, the rare levels sharing one
