import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from crispml.evaluate import (
    CalibratedModel,
    calibration_summary,
    choose_calibration,
    expected_calibration_error,
)
from crispml.evaluate._calibration import calibrate_output, ece_interval, plot_reliability
from crispml.exceptions import DataError
from crispml.models import load_pipeline, save_pipeline
from crispml.models._calibrated import fit_temperature


class Known:
    """A 'model' whose probability for row i is known: p[i] (the rows are indices)."""

    def __init__(self, p):
        self.p = p

    def predict_proba(self, rows):
        p = self.p[np.asarray(rows, dtype=int)]
        return np.c_[1 - p, p]


def _data(n=20000, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.98, n)
    y = (rng.uniform(size=n) < p).astype(int)
    return p, y


def test_calibrated_model_has_ece_near_zero_and_a_miscalibrated_one_does_not():
    p, y = _data()
    assert expected_calibration_error(y, np.c_[1 - p, p]) < 0.02
    squashed = p**3  # systematically too low
    assert expected_calibration_error(y, np.c_[1 - squashed, squashed]) > 0.15


def test_ece_interval_excludes_zero_only_for_the_miscalibrated_model():
    p, y = _data(5000)
    bad = p**3
    good_ci = ece_interval(y, np.c_[1 - p, p], n_resamples=200)
    bad_ci = ece_interval(y, np.c_[1 - bad, bad], n_resamples=200)
    assert good_ci["low"] < 0.03
    assert bad_ci["low"] > 0.1


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_post_hoc_map_repairs_a_miscalibrated_model(method):
    p, y = _data()
    logit = np.log(p / (1 - p))
    wrong = p**3 if method == "isotonic" else 1 / (1 + np.exp(-(0.5 * logit - 1.0)))
    base = Known(wrong)
    rows = np.arange(len(p))
    model = CalibratedModel(base=base, method=method).fit(rows[:10000], y[:10000])
    after = model.predict_proba(rows[10000:])
    assert expected_calibration_error(y[10000:], after) < 0.03
    assert model.method_ == method
    if method == "isotonic":
        assert model.x_thresholds_.ndim == 1 and model.y_thresholds_.ndim == 1
    else:
        assert model.a_ == pytest.approx(2.0, abs=0.15)  # undoes the planted 0.5 * logit - 1
        assert model.b_ == pytest.approx(2.0, abs=0.2)


def test_choose_calibration_keeps_a_map_only_when_it_helps():
    p, y = _data(6000)
    rows = np.arange(len(p))
    kept, record = choose_calibration(Known(p**3), rows, y)
    assert kept is not None and record["kept"] in ("isotonic", "sigmoid")
    assert record["valid_log_loss"][record["kept"]] < record["valid_log_loss"]["none"]
    not_kept, record = choose_calibration(Known(p), rows, y)
    assert not_kept is None and record["kept"] is None


class KnownProba:
    """A 'model' whose class probabilities for row i are known: proba[i]."""

    def __init__(self, proba):
        self.proba = proba

    def predict_proba(self, rows):
        return self.proba[np.asarray(rows, dtype=int)]


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _multiclass(n=6000, k=5, sharpen=2.5, seed=0):
    """True class probabilities, labels drawn from them, and an over-confident model."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=1.5, size=(n, k))
    truth = _softmax(logits)
    y = np.array([rng.choice(k, p=row) for row in truth])
    return truth, y, _softmax(sharpen * logits)


def test_binary_maps_refuse_multiclass_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 2))
    y = rng.integers(0, 3, 300)
    base = LogisticRegression().fit(X, y)
    with pytest.raises(DataError, match=r"3 classes.*temperature"):
        CalibratedModel(base=base, method="isotonic").fit(X, y)


def test_temperature_undoes_a_planted_over_confidence():
    truth, y, sharp = _multiclass()
    assert fit_temperature(sharp, y) == pytest.approx(2.5, rel=0.1)
    assert fit_temperature(truth, y) == pytest.approx(1.0, rel=0.1)
    rows = np.arange(len(y))
    model = CalibratedModel(base=KnownProba(sharp), method="temperature").fit(rows, y)
    after = model.predict_proba(rows)
    assert np.abs(after - truth).max() < 0.1  # close to the true probabilities again
    assert np.array_equal(model.predict(rows), sharp.argmax(axis=1))  # ranking unchanged
    assert log_loss(y, after) < log_loss(y, sharp) - 0.1


def test_choose_calibration_keeps_temperature_for_multiclass_only_when_it_helps():
    truth, y, sharp = _multiclass(3000, seed=1)
    rows = np.arange(len(y))
    kept, record = choose_calibration(KnownProba(sharp), rows, y)
    assert kept is not None and record["kept"] == "temperature"
    assert set(record["valid_log_loss"]) == {"none", "temperature"}
    assert record["valid_log_loss"]["temperature"] < record["valid_log_loss"]["none"]
    assert record["temperature"] == pytest.approx(kept.temperature_) and kept.temperature_ > 1.5
    not_kept, record = choose_calibration(KnownProba(truth), rows, y)
    assert not_kept is None and record["kept"] is None and "temperature" not in record


def test_binary_choice_compares_temperature_with_the_other_maps():
    p, y = _data(4000)
    logit = np.log(p / (1 - p))
    sharp = 1 / (1 + np.exp(-3.0 * logit))  # over-confident, symmetric: one parameter fixes it
    _, record = choose_calibration(Known(sharp), np.arange(len(p)), y)
    assert set(record["valid_log_loss"]) == {"none", "isotonic", "sigmoid", "temperature"}
    assert record["valid_log_loss"]["temperature"] < record["valid_log_loss"]["none"]


def test_calibrate_output_applies_the_temperature_to_held_out_rows():
    _, y, sharp = _multiclass(2000)
    rows = np.arange(len(y))
    model = CalibratedModel(base=KnownProba(sharp), method="temperature").fit(rows, y)
    np.testing.assert_allclose(calibrate_output(model, sharp), model.predict_proba(rows))
    assert calibrate_output(object(), sharp) is sharp


def test_calibrated_model_round_trips_through_skops(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = (X[:, 0] + rng.normal(size=600) > 0).astype(int)
    base = LogisticRegression(C=0.01).fit(X[:300], y[:300])
    model = CalibratedModel(base=base, method="isotonic", threshold=0.3).fit(X[300:], y[300:])
    save_pipeline(model, tmp_path / "m.skops")
    loaded = load_pipeline(tmp_path / "m.skops")
    assert isinstance(loaded, CalibratedModel)
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.threshold_ == 0.3
    assert np.array_equal(loaded.predict(X), (model.predict_proba(X)[:, 1] >= 0.3).astype(int))


def test_temperature_model_round_trips_through_skops(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = np.digitize(X[:, 0] + rng.normal(size=600), [-0.5, 0.5])
    base = LogisticRegression(C=100.0).fit(X[:300], y[:300])
    model = CalibratedModel(base=base, method="temperature").fit(X[300:], y[300:])
    save_pipeline(model, tmp_path / "m.skops")
    loaded = load_pipeline(tmp_path / "m.skops")
    assert loaded.temperature_ == model.temperature_
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))


def test_summary_and_plot():
    p, y = _data(2000)
    summary = calibration_summary(y, np.c_[1 - p, p])
    assert sum(b["count"] for b in summary["bins"]) == 2000
    assert 0 < summary["brier"] < 0.25
    svg = plot_reliability({"uncalibrated": summary})
    assert svg.startswith(b"<?xml") and b"<svg" in svg


def test_cv_mode_fits_the_map_on_out_of_fold_predictions_over_every_search_row():
    from types import SimpleNamespace

    from crispml.evaluate._engagement import _calibrate, _search_oof

    _, y, sharp = _multiclass(3000, seed=2)
    best = SimpleNamespace(pipeline=KnownProba(sharp), oof_output=sharp)
    result = SimpleNamespace(best=best)
    oof = _search_oof(result, y)
    assert oof is not None
    model, record = _calibrate(result, None, y[:50], "multiclass", 0, None, oof)
    assert record["fitted_on"] == "out-of-fold predictions over train + valid"
    assert isinstance(model, CalibratedModel) and model.temperature_ == record["temperature"]
    holdout = sharp.copy()
    holdout[:100] = np.nan  # holdout mode: no prediction outside the validation rows
    best.oof_output = holdout
    assert _search_oof(result, y) is None
    assert _search_oof(SimpleNamespace(best=SimpleNamespace(oof_output=None)), y) is None
