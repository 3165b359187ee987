"""Anomaly figures: precision@k interval, stability across seeds, driving columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from crispml.data import conform, infer_schema
from crispml.evaluate import AnomalyEvaluation, anomaly_figures, evaluate_anomaly, scores_frame
from crispml.evaluate._anomaly import _precision_at_k_ci, driving_columns, seed_stability
from crispml.models import anomaly_scores, precision_at_k
from crispml.search import detector_pipeline


def _cloud(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.normal(size=n), "c": ["x", "y"] * (n // 2)}
    )
    y = np.zeros(n, dtype=int)
    y[:10] = 1
    frame.loc[:9, "b"] += 6.0  # planted: only column b is unusual
    return frame, y


def test_metrics_match_sklearn_and_carry_intervals():
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.05).astype(int)
    scores = rng.normal(size=400) + 1.5 * y
    frame = scores_frame([str(i) for i in range(400)], scores, y, threshold=1.0)
    test, dist = anomaly_figures(frame, k=20, n_resamples=300, seed=0)
    assert test["roc_auc"].estimate == pytest.approx(roc_auc_score(y, scores))
    assert test["average_precision"].estimate == pytest.approx(average_precision_score(y, scores))
    assert test["precision_at_k"].estimate == precision_at_k(y, scores, 20)
    for est in test.values():
        assert est.low < est.estimate < est.high
    assert dist.flagged == int((scores > 1.0).sum()) and dist.n == 400
    unlabelled, _ = anomaly_figures(frame.drop(columns="y_true"), k=20, n_resamples=0)
    assert unlabelled == {}


def test_precision_at_k_weights_reproduce_a_resample():
    rng = np.random.default_rng(2)
    y = (rng.random(150) < 0.2).astype(int)
    scores = rng.normal(size=150) + y
    ci = _precision_at_k_ci(y, scores, 15, n_resamples=0, seed=0)
    assert ci.estimate == precision_at_k(y, scores, 15)
    from crispml.evaluate._bootstrap import resample_weights

    w = next(iter(resample_weights(150, 1, seed=3)))[0]
    drawn = np.repeat(np.arange(150), w.astype(int))
    expected = precision_at_k(y[drawn], scores[drawn], 15)
    order = np.argsort(-scores, kind="stable")
    before = np.cumsum(w[order]) - w[order]
    taken = np.clip(15 - before, 0, w[order])
    assert (taken * y[order]).sum() / 15 == pytest.approx(expected)


def test_stability_and_drivers_on_a_planted_column():
    frame, y = _cloud()
    schema = infer_schema(frame.assign(y=y), target="y")
    X = conform(frame, schema)
    pipe = detector_pipeline(schema, "isolation_forest", {}, contamination=0.05, seed=0)
    pipe.fit(X.iloc[100:])
    scores = anomaly_scores(pipe, X.iloc[:100])
    st = seed_stability(pipe, X.iloc[100:], X.iloc[:100], scores, k=5, seed=0)
    assert len(st.seeds) == 5 and 0.5 < st.spearman_min <= st.spearman_mean <= 1.0
    assert st.top_k_overlap_mean >= 0.6  # the planted rows stay on top whatever the seed
    drivers = driving_columns(lambda f: anomaly_scores(pipe, f), X.iloc[100:], X.iloc[:3])
    assert [d[0].column for d in drivers] == ["b", "b", "b"]
    assert all(d[0].contribution > 0 for d in drivers)


def test_evaluate_anomaly_round_trips_and_ranks_planted_rows_first():
    frame, y = _cloud()
    schema = infer_schema(frame.assign(y=y), target="y")
    X = conform(frame, schema)
    pipe = detector_pipeline(schema, "local_outlier_factor", {}, contamination=0.05, seed=0)
    pipe.fit(X.iloc[150:])
    result, saved = evaluate_anomaly(
        pipe,
        name="local_outlier_factor",
        detector="local_outlier_factor",
        X_train=X.iloc[150:],
        X_test=X.iloc[:150],
        test_ids=[str(i) for i in range(150)],
        y_test=y[:150],
        contamination=0.05,
        primary_metric="average_precision",
        n_resamples=100,
    )
    assert AnomalyEvaluation.from_json(result.to_json()) == result
    assert result.test["roc_auc"].estimate > 0.95
    assert {r.row_id for r in result.top_rows[:5]} <= {str(i) for i in range(10)}
    assert list(saved.columns) == ["row_id", "score", "flagged", "y_true"]
