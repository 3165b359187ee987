import numpy as np
import pytest

from crispml.evaluate import choose_threshold, decision_report


def _data(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    p = rng.uniform(size=n)
    y = (rng.uniform(size=n) < p).astype(int)
    return y, p


def test_cost_objective_finds_the_bayes_threshold():
    # for calibrated p, predicting positive is cheaper when p * fn > (1 - p) * fp,
    # i.e. above fp / (fp + fn) = 1 / 6 for fp=1, fn=5
    y, p = _data(20000)
    record = choose_threshold(y, p, objective="cost", costs=(1.0, 5.0))
    assert record["threshold"] == pytest.approx(1 / 6, abs=0.04)
    report = decision_report(y, p, record["threshold"], (1.0, 5.0))
    worse = decision_report(y, p, 0.5, (1.0, 5.0))
    assert report["mean_cost"] < worse["mean_cost"]


def test_f1_threshold_beats_one_half_on_validation():
    y, p = _data()
    record = choose_threshold(y, p, objective="f1")
    assert record["valid_value"] >= decision_report(y, p, 0.5)["f1"]
    assert record["valid_value"] == pytest.approx(decision_report(y, p, record["threshold"])["f1"])


def test_precision_floor_is_respected_with_the_most_recall():
    y, p = _data()
    record = choose_threshold(y, p, objective="precision_at", min_precision=0.8)
    report = decision_report(y, p, record["threshold"])
    assert report["precision"] >= 0.8
    lower = decision_report(y, p, record["threshold"] - 0.02)
    assert lower["precision"] < 0.8 or lower["recall"] <= report["recall"]


def test_unreachable_precision_floor_says_so():
    y = np.array([0, 1, 0, 1])
    p = np.array([0.9, 0.1, 0.8, 0.2])
    record = choose_threshold(y, p, objective="precision_at", min_precision=0.9)
    assert "no threshold" in record["note"]
    assert decision_report(y, p, record["threshold"])["confusion"]["fp"] == 0


def test_confusion_matrix_counts():
    report = decision_report(np.array([0, 0, 1, 1]), np.array([0.2, 0.6, 0.4, 0.9]), 0.5)
    assert report["confusion"] == {"tn": 1, "fp": 1, "fn": 1, "tp": 1}
    assert report["selection_rate"] == 0.5


def test_unknown_objective_is_an_error():
    with pytest.raises(ValueError, match="objective"):
        choose_threshold(np.array([0, 1]), np.array([0.2, 0.8]), objective="youden")
