import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from crispml.evaluate import CalibratedModel, explain_model, output_sources
from crispml.evaluate._attribution import attribute, decompose
from crispml.evaluate._explain import ReasonPolicy
from crispml.models import WeightedEnsemble
from tests.evaluate._data import driver_frame, fitted_pipeline


def _margin(pipeline, X):
    """The member's own margin, from its library: raw score, decision function, probability."""
    encoded = pipeline[:-1].transform(X)
    estimator = pipeline[-1]
    if isinstance(estimator, LGBMClassifier):
        return estimator.predict(encoded, raw_score=True)
    if isinstance(estimator, LogisticRegression):
        return estimator.decision_function(encoded)
    return estimator.predict_proba(encoded)[:, 1]


@pytest.fixture(scope="module")
def fitted():
    X, y = driver_frame(900, 3)
    X.loc[X.index[::17], "noise"] = np.nan
    return (
        X,
        y,
        {
            "tree": fitted_pipeline(X[:600], y[:600], LGBMClassifier(n_estimators=40, verbose=-1)),
            "linear": fitted_pipeline(X[:600], y[:600], LogisticRegression(), "linear"),
            "forest": fitted_pipeline(
                X[:600],
                y[:600],
                RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0),
            ),
        },
    )


@pytest.mark.parametrize("name", ["tree", "linear", "forest"])
def test_attributions_add_up_to_the_margin(fitted, name):
    X, _, models = fitted
    found = attribute(decompose(models[name], X[:600], task="binary"), X[600:])
    assert found.values.shape == (300, 3) and found.columns == ["driver", "noise", "risk"]
    np.testing.assert_allclose(
        found.values.sum(axis=1) + found.base, _margin(models[name], X[600:]), atol=1e-8
    )


def test_ensemble_attributions_are_the_weighted_members(fitted):
    X, _, models = fitted
    ensemble = WeightedEnsemble(
        members=[models["tree"], models["linear"]], weights=[3, 1], task="binary"
    ).fit()
    found = attribute(decompose(ensemble, X[:600], task="binary"), X[600:])
    margin = 0.75 * _margin(models["tree"], X[600:]) + 0.25 * _margin(models["linear"], X[600:])
    np.testing.assert_allclose(found.values.sum(axis=1) + found.base, margin, atol=1e-8)
    assert found.spaces == ["log_odds"]


@pytest.mark.parametrize("estimator", [LGBMClassifier(n_estimators=60, verbose=-1), None])
def test_reasons_are_adverse_decisions_only_and_name_the_planted_driver(estimator):
    X, y = driver_frame(1500, 0)
    flavour = "tree" if estimator is not None else "linear"
    model = fitted_pipeline(X[:1000], y[:1000], estimator or LogisticRegression(), flavour)
    policy = ReasonPolicy(top_k=2, threshold=0.5, labels=("approve", "deny"))
    out = explain_model(
        model, X[1000:], y[1000:], task="binary", metric="roc_auc", background=X[:1000],
        policy=policy,
    )  # fmt: skip
    assert out["method"].startswith("exact")
    assert out["importance"][0]["column"] == "driver"
    codes = out["reason_codes"]
    denied = int((model.predict_proba(X[1000:])[:, 1] >= 0.5).sum())
    assert len(codes) == min(denied, 100)
    assert all(c["decision"] == "deny" and c["prediction"] >= 0.5 for c in codes)
    assert all(0 < len(c["reasons"]) <= 2 for c in codes)
    assert all(r["contribution"] > 0 for c in codes for r in c["reasons"])
    assert sum(c["reasons"][0]["column"] == "driver" for c in codes) >= 0.9 * len(codes)
    assert "weighed toward 'deny'" in codes[0]["reasons"][0]["statement"]


def test_favourable_positive_class_flips_the_adverse_direction():
    X, y = driver_frame(1200, 4)
    model = fitted_pipeline(X[:800], y[:800], LogisticRegression(), "linear")
    statements = {"driver": "Low {value}"}
    policy = ReasonPolicy(favourable=1, labels=("bad", "good"), statements=statements)
    out = explain_model(model, X[800:], y[800:], task="binary", metric="roc_auc", policy=policy)
    codes = out["reason_codes"]
    assert codes and all(c["decision"] == "bad" for c in codes)
    # class 0 is adverse: a low driver pushes toward it
    driver = [c for c in codes if c["reasons"] and c["reasons"][0]["column"] == "driver"]
    assert len(driver) >= 0.9 * len(codes)
    assert all(r["value"] < X["driver"].mean() for c in driver for r in c["reasons"][:1])
    assert driver[0]["reasons"][0]["statement"].startswith("Low ")


def test_missing_values_are_listed_apart_not_as_reasons(fitted):
    X, y, models = fitted
    out = explain_model(
        models["tree"], X[600:], y[600:], task="binary", metric="roc_auc", background=X[:600]
    )
    with_missing = [c for c in out["reason_codes"] if c["missing"]]
    assert with_missing and all(c["missing"] == ["noise"] for c in with_missing)
    assert all("noise" not in {r["column"] for r in c["reasons"]} for c in with_missing)


def test_small_perturbations_keep_the_top_reason(fitted):
    X, _, models = fitted
    rng = np.random.default_rng(1)
    members = decompose(models["tree"], X[:600], task="binary")
    test = X[600:].reset_index(drop=True)
    nudged = test.assign(driver=test["driver"] + rng.normal(0, 0.01, len(test)))
    a, b = attribute(members, test).values, attribute(members, nudged).values
    top_a, top_b = a.argmax(axis=1), b.argmax(axis=1)
    assert np.mean(top_a == top_b) >= 0.8


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


def test_statements_follow_the_value_side_or_level():
    policy = ReasonPolicy(
        labels=("approve", "deny"),
        statements={
            "dir": {"high": "High debt ratio ({value})"},
            "dmi": {"yes": "Mortgage insurance was denied"},
            "ccs": "Credit score {value}",
        },
        references={"dir": 0.3},
    )
    assert policy.statement("dir", 0.45) == "High debt ratio (0.45)"
    assert policy.statement("dir", 0.1) == "dir of 0.1 weighed toward 'deny'"  # no "low" text
    assert policy.statement("dmi", "yes") == "Mortgage insurance was denied"
    assert policy.statement("dmi", "no") == "dmi of no weighed toward 'deny'"
    assert policy.statement("ccs", 5.0) == "Credit score 5"
    assert policy.document()["references"] == {"dir": 0.3}


def test_a_value_at_the_median_has_no_side():
    policy = ReasonPolicy(
        statements={"ccs": {"high": "Bad credit ({value})"}}, references={"ccs": 1.0}
    )
    assert policy.statement("ccs", 5.0) == "Bad credit (5)"
    assert policy.statement("ccs", 1.0) == "ccs of 1 weighed toward '1'"


def test_bounded_seconds_explain_a_sample_measured_on_the_probe_rows(monkeypatch):
    from crispml.evaluate import _explain

    X, y = driver_frame(1500, 0)
    model = fitted_pipeline(
        X[:1000], y[:1000], LGBMClassifier(n_estimators=60, verbose=-1), "tree"
    )
    clock = iter(np.arange(0.0, 1000.0, 1.0))  # every attribution call "takes" 1 s
    monkeypatch.setattr(_explain.time, "perf_counter", lambda: float(next(clock)))
    per_row = 1.0 / _explain.PROBE_ROWS
    out = explain_model(
        model, X[1000:], y[1000:], task="binary", metric="roc_auc", background=X[:1000],
        max_seconds=60 * per_row,
    )  # fmt: skip
    assert out["n_rows"] == 60 and "60 of 500 rows" in out["note"]
    unbounded = explain_model(
        model, X[1000:], y[1000:], task="binary", metric="roc_auc", background=X[:1000]
    )
    assert unbounded["n_rows"] == 500 and "note" not in unbounded
    assert out["importance"][0]["column"] == unbounded["importance"][0]["column"] == "driver"


def test_the_plan_bounds_the_attribution_seconds():
    from crispml.search._plan import MIN_ATTRIBUTION_S, EngagementBudget

    plan = EngagementBudget(30.0, bootstrap=1000, clock=lambda: 0.0)
    plan.set_table(1_000, 5)
    assert plan.evaluation_work().attribution_s >= MIN_ATTRIBUTION_S
    assert EngagementBudget(30.0, deterministic=True).evaluation_work().attribution_s is None
