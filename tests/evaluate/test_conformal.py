import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from crispml.evaluate import conformal_report


@pytest.mark.parametrize("coverage", [0.8, 0.9])
def test_classification_sets_cover_the_nominal_rate(coverage):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6000, 3))
    y = (X @ [1.0, -1.0, 0.5] + rng.logistic(size=6000) > 0).astype(int) + (X[:, 0] > 1)
    model = LogisticRegression().fit(X[:2000], y[:2000])
    report = conformal_report(
        model, X[2000:3500], y[2000:3500], X[3500:], y[3500:], task="multiclass", coverage=coverage
    )
    assert abs(report["empirical"] - coverage) <= 0.03
    assert report["nominal"] == coverage
    assert sum(report["set_size_counts"].values()) == 2500


def test_regression_intervals_cover_the_nominal_rate():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5000, 2))
    y = X @ [2.0, -1.0] + rng.standard_t(4, size=5000)
    model = LinearRegression().fit(X[:2000], y[:2000])
    report = conformal_report(
        model, X[2000:3500], y[2000:3500], X[3500:], y[3500:], task="regression", coverage=0.9
    )
    assert abs(report["empirical"] - 0.9) <= 0.03
    assert report["mean_width"] > 0


def test_calibrated_model_can_be_conformalised():
    from crispml.evaluate import CalibratedModel

    rng = np.random.default_rng(2)
    X = rng.normal(size=(4000, 2))
    y = (X[:, 0] + rng.logistic(size=4000) > 0).astype(int)
    base = LogisticRegression(C=0.001).fit(X[:1000], y[:1000])  # over-regularised: squashed
    model = CalibratedModel(base=base, method="isotonic").fit(X[1000:2000], y[1000:2000])
    report = conformal_report(
        model, X[2000:3000], y[2000:3000], X[3000:], y[3000:], task="binary", coverage=0.9
    )
    assert abs(report["empirical"] - 0.9) <= 0.03


def test_qhat_reproduces_mapies_sets_and_intervals():
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LinearRegression, LogisticRegression

    X, y = load_breast_cancer(return_X_y=True)
    model = LogisticRegression(max_iter=5000).fit(X[:250], y[:250])
    report = conformal_report(
        model, X[250:400], y[250:400], X[400:], y[400:], task="binary", coverage=0.9
    )
    proba = model.predict_proba(X[400:])
    sets = proba >= 1 - report["qhat"]
    assert sets.sum(axis=1).mean() == pytest.approx(report["mean_set_size"])
    assert sets[np.arange(len(sets)), y[400:]].mean() == pytest.approx(report["empirical"])
    rng = np.random.default_rng(0)
    Xr = rng.normal(size=(600, 2))
    yr = Xr @ np.array([1.0, -2.0]) + rng.normal(size=600)
    reg = LinearRegression().fit(Xr[:200], yr[:200])
    out = conformal_report(reg, Xr[200:400], yr[200:400], Xr[400:], yr[400:], task="regression")
    assert out["mean_width"] == pytest.approx(2 * out["qhat"])
