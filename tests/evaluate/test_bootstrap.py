import numpy as np
import pytest

from crispml.evaluate import METRICS, bootstrap_metric, metrics_with_ci, score
from crispml.evaluate._bootstrap import resample_weights, weighted_metric


def _outputs(task: str, n: int = 300):
    rng = np.random.default_rng(1)
    if task == "regression":
        y = rng.normal(size=n)
        return y, y + rng.normal(scale=0.5, size=n)
    k = 2 if task == "binary" else 3
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y]
    logits[: n // 10] = np.round(logits[: n // 10])  # ties in the scores
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, p


@pytest.mark.parametrize(
    ("task", "names"),
    [
        ("binary", ["roc_auc", "log_loss", "accuracy", "f1", "brier"]),
        ("multiclass", ["log_loss", "accuracy", "macro_f1"]),
        ("regression", ["rmse", "mae", "r2"]),
    ],
)
def test_weighted_metric_with_unit_weights_equals_sklearn(task, names):
    y, out = _outputs(task)
    ones = np.ones((1, len(y)))
    for name in names:
        assert weighted_metric(name, y, out, ones)[0] == pytest.approx(score(name, y, out))


def test_weighted_metric_equals_metric_on_the_resampled_rows():
    y, out = _outputs("binary")
    rng = np.random.default_rng(3)
    idx = rng.integers(0, len(y), len(y))
    w = np.bincount(idx, minlength=len(y))[None, :].astype(float)
    for name in ("roc_auc", "log_loss", "f1", "brier"):
        assert weighted_metric(name, y, out, w)[0] == pytest.approx(score(name, y[idx], out[idx]))


def test_every_metric_has_a_weighted_form():
    y, out = _outputs("binary")
    assert set(METRICS) == {
        "roc_auc",
        "average_precision",
        "log_loss",
        "accuracy",
        "f1",
        "brier",
        "macro_f1",
        "rmse",
        "mae",
        "r2",
    }
    with pytest.raises(KeyError):
        weighted_metric("nope", y, out, np.ones((1, len(y))))


def test_resample_weights_are_seeded_and_sum_to_n():
    a = np.vstack(list(resample_weights(50, 30, seed=4, block=7)))
    b = np.vstack(list(resample_weights(50, 30, seed=4, block=7)))
    c = np.vstack(list(resample_weights(50, 30, seed=5, block=7)))
    assert a.shape == (30, 50)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.all(a.sum(axis=1) == 50)


def test_interval_brackets_the_estimate_and_shrinks_with_n():
    small = bootstrap_metric("accuracy", *_outputs("binary", 200), n_resamples=300)
    large = bootstrap_metric("accuracy", *_outputs("binary", 5000), n_resamples=300)
    assert small.low <= small.estimate <= small.high
    assert (large.high - large.low) < (small.high - small.low)


def test_auc_interval_covers_the_truth_for_a_known_model():
    # scores from two normals 1 sd apart: true AUC = Phi(1/sqrt(2)) = 0.7602
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 4000)
    s = 1 / (1 + np.exp(-(rng.normal(size=4000) + y)))
    ci = bootstrap_metric("roc_auc", y, np.c_[1 - s, s], n_resamples=500)
    assert ci.low < 0.7602 < ci.high


def test_one_class_sample_gives_no_interval_instead_of_an_error():
    ci = bootstrap_metric("roc_auc", np.ones(20, int), np.full((20, 2), 0.5), n_resamples=50)
    assert ci.to_dict()["low"] is None


def test_metrics_with_ci_covers_every_metric_of_the_task():
    out = metrics_with_ci("regression", *_outputs("regression"), n_resamples=100)
    assert set(out) == {"rmse", "mae", "r2"}
