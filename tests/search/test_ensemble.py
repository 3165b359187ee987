from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import make_pipeline

from crispml.data import conform
from crispml.models import load_pipeline, save_pipeline
from crispml.search import Candidate, WeightedEnsemble, greedy_selection
from crispml.search._finish import build_ensemble
from crispml.search._trial import FoldData
from crispml.search._validation import plan_validation


def test_greedy_selection_mixes_models_with_opposite_errors():
    y = np.linspace(0, 10, 50)
    weights, rmse = greedy_selection([y - 2.0, y + 2.0, y + 5.0], y, "rmse", rounds=10)
    assert weights.sum() == pytest.approx(1.0)
    assert weights[0] == pytest.approx(weights[1])  # the two opposite errors cancel
    assert weights[2] == 0.0
    assert rmse == pytest.approx(0.0)


def test_greedy_selection_keeps_the_single_best_when_mixing_does_not_help():
    y = np.array([0, 1, 0, 1])
    good = np.array([[0.9, 0.1], [0.1, 0.9], [0.8, 0.2], [0.2, 0.8]])
    bad = good[:, ::-1]
    weights, auc = greedy_selection([bad, good], y, "roc_auc")
    assert weights.tolist() == [0.0, 1.0]
    assert auc == 1.0


def _candidate(name, output, score):
    return Candidate(name, "lightgbm", {}, valid_score=score, valid_output=output)


def _fold_data(y):
    frame = pd.DataFrame({"x": np.arange(len(y), dtype=float)})
    plan = plan_validation(y, len(y) // 2, task="regression", mode="holdout")
    return FoldData(frame, y, plan, None, "regression")  # type: ignore[arg-type]


def test_ensemble_is_kept_only_if_it_beats_the_best_single_model():
    y = np.linspace(0, 10, 40)
    data = _fold_data(y)
    low, high = _candidate("low", y - 1.0, 1.0), _candidate("high", y + 1.0, 1.0)
    built = build_ensemble([low, high], data, "rmse", low)
    assert built is not None and built.valid_score == pytest.approx(0.0)
    assert built.params["weights"] == {"low": 0.5, "high": 0.5}
    same = _candidate("same", y - 1.0, 1.0)
    assert build_ensemble([low, same], data, "rmse", low) is None


def test_weighted_ensemble_averages_and_round_trips(tmp_path):
    X = (
        conform(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}), None)
        if False
        else pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    )
    y = np.array([0, 1, 1, 1])
    prior = make_pipeline(DummyClassifier(strategy="prior")).fit(X, y)
    uniform = make_pipeline(DummyClassifier(strategy="uniform")).fit(X, y)
    ens = WeightedEnsemble(members=[prior, uniform], weights=[3, 1], task="binary").fit()
    assert ens.weights_.tolist() == [0.75, 0.25]
    expected = 0.75 * np.array([0.25, 0.75]) + 0.25 * np.array([0.5, 0.5])
    np.testing.assert_allclose(ens.predict_proba(X)[0], expected)
    assert ens.predict(X).tolist() == [1, 1, 1, 1]
    back = load_pipeline(save_pipeline(ens, tmp_path / "ens.skops"))
    np.testing.assert_array_equal(back.predict_proba(X), ens.predict_proba(X))
    assert [type(m) for m in back.members_] == [type(m) for m in ens.members_]


def test_weighted_ensemble_rejects_bad_weights():
    with pytest.raises(ValueError, match="one per member"):
        WeightedEnsemble(members=[object()], weights=[0.5, 0.5], task="binary").fit()


def test_multiclass_weights_are_chosen_on_held_out_log_loss_only():
    """Weights minimise the primary metric (log loss) over the plan's held-out rows."""
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(0)
    n, k = 400, 4
    y = rng.integers(0, k, n)

    def noisy():  # confident, right 70 % of the time; the two err on different rows
        label = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
        return 0.85 * np.eye(k)[label] + 0.15 / k

    one, two = noisy(), noisy()
    plan = plan_validation(y, n // 2, task="multiclass", mode="holdout")
    frame = pd.DataFrame({"x": np.arange(n, dtype=float)})
    data = FoldData(frame, y, plan, None, "multiclass")  # type: ignore[arg-type]
    outputs = {}
    for name, proba in (("one", one), ("two", two)):
        out = np.full((n, k), np.nan)  # holdout: nothing outside the validation rows
        out[plan.scored] = proba[plan.scored]
        outputs[name] = out
    held = plan.scored
    scores = {m: log_loss(y[held], outputs[m][held], labels=range(k)) for m in outputs}
    cands = [_candidate(m, outputs[m], scores[m]) for m in outputs]
    best = min(cands, key=lambda c: c.valid_score)
    built = build_ensemble(cands, data, "log_loss", best)
    assert built is not None and np.isfinite(built.valid_score)
    w = built.params["weights"]
    mixed = w.get("one", 0.0) * one[held] + w.get("two", 0.0) * two[held]
    assert built.valid_score == pytest.approx(log_loss(y[held], mixed, labels=range(k)))
    assert built.valid_score < min(scores.values())
    grid = [log_loss(y[held], a * one[held] + (1 - a) * two[held]) for a in np.linspace(0, 1, 21)]
    assert built.valid_score <= min(grid) + 1e-3  # the 1/20 weight grid's best, near enough
