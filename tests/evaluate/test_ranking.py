"""Ranking figures: per-query NDCG@k and MAP, intervals that resample queries."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, ndcg_score

from crispml.evaluate import ranking_figures, ranking_improvement, ranking_predictions_frame
from crispml.models import per_query_metrics


def _queries(n_queries=40, size=8, signal=2.0, seed=0):
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(n_queries), size)
    rel = rng.integers(0, 4, n_queries * size)
    scores = signal * rel + rng.normal(size=n_queries * size)
    return groups, rel, scores


def test_per_query_figures_equal_scikit_learn_query_by_query():
    groups, rel, scores = _queries(n_queries=5)
    ndcg, ap = per_query_metrics(rel, scores, groups, k=3)
    for q in range(5):
        rows = groups == q
        assert ndcg[q] == pytest.approx(ndcg_score([rel[rows]], [scores[rows]], k=3))
        assert ap[q] == pytest.approx(average_precision_score(rel[rows] > 0, scores[rows]))


def test_queries_with_one_candidate_or_nothing_relevant_are_left_out():
    ndcg, ap = per_query_metrics(
        np.array([1, 0, 0, 2]),
        np.array([0.1, 0.2, 0.3, 0.4]),
        np.array(["a", "b", "b", "c"]),
        k=10,
    )
    assert np.isnan(ndcg).tolist() == [True, True, True] and np.isnan(ap).all()
    frame = ranking_predictions_frame(
        ["0", "1", "2", "3", "4"],
        np.array(["a", "b", "b", "c", "c"]),
        np.array([1, 0, 0, 2, 0]),
        np.array([0.1, 0.2, 0.3, 0.4, 0.1]),
    )
    figures = ranking_figures(frame, k=10, n_resamples=50)
    assert figures["ndcg"].n == 1 and figures["ndcg"].estimate == 1.0


def test_intervals_resample_queries_and_bracket_the_estimate():
    groups, rel, scores = _queries()
    frame = ranking_predictions_frame(
        [str(i) for i in range(len(rel))], groups, rel, scores, {"random": -scores}
    )
    figures = ranking_figures(frame, k=5, n_resamples=300, seed=1)
    reverse = ranking_figures(frame, k=5, column="score_random", n_resamples=300, seed=1)
    for name in ("ndcg", "map"):
        est = figures[name]
        assert est.n == 40  # queries, not rows
        assert est.low < est.estimate < est.high
        assert reverse[name].high < est.low  # ranking backwards is clearly worse
    again = ranking_figures(frame, k=5, n_resamples=300, seed=1)
    assert again == figures  # seeded
    # the unit is the query: four queries give a wider interval than forty
    wide = ranking_figures(frame[frame["group"].isin(["0", "1", "2", "3"])], k=5, n_resamples=300)
    assert (wide["ndcg"].high - wide["ndcg"].low) > (figures["ndcg"].high - figures["ndcg"].low)


def test_improvement_over_a_baseline_is_paired_by_query():
    groups, rel, scores = _queries(seed=3)
    frame = ranking_predictions_frame(
        [str(i) for i in range(len(rel))], groups, rel, scores, {"weak": scores + 3 * _noise()}
    )
    model = ranking_figures(frame, k=5, n_resamples=0)["ndcg"].estimate
    weak = ranking_figures(frame, k=5, column="score_weak", n_resamples=0)["ndcg"].estimate
    gain = ranking_improvement(frame, k=5, metric="ndcg", baseline="weak", n_resamples=300)
    assert gain.estimate == pytest.approx(model - weak) and gain.estimate > 0
    assert 0 < gain.low < gain.estimate < gain.high
    same = ranking_improvement(
        frame.assign(score_copy=frame["score"]), k=5, metric="map", baseline="copy"
    )
    assert (same.estimate, same.low, same.high) == (0.0, 0.0, 0.0)


def _noise():
    return np.random.default_rng(9).normal(size=40 * 8)
