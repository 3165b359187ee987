from __future__ import annotations

import numpy as np
import pytest

from crispml.search import Deadline, WeightedEnsemble, plan_validation, search_models

CHEAP = ("lightgbm", "elastic_net", "xgboost")


def _search(data, **kwargs):
    schema, Xt, yt, Xv, yv = data
    options = {"task": "binary", "metric": "roc_auc", "families": CHEAP, "seed": 0, **kwargs}
    return search_models(Xt, yt, Xv, yv, schema=schema, **options)


@pytest.mark.slow
def test_deterministic_mode_gives_bit_identical_predictions(binary_data):
    families = ("lightgbm", "elastic_net", "random_forest")
    first = _search(binary_data, families=families, deterministic=True, max_trials=4)
    second = _search(binary_data, families=families, deterministic=True, max_trials=4)
    assert [c.name for c in first.candidates] == [c.name for c in second.candidates]
    assert [c.params for c in first.candidates] == [c.params for c in second.candidates]
    X = binary_data[3]
    np.testing.assert_array_equal(
        first.best.pipeline.predict_proba(X), second.best.pipeline.predict_proba(X)
    )
    trials = [c for c in first.candidates if not c.baseline and c.family != "ensemble"]
    assert len(trials) == 4
    assert first.budget["deterministic"] is True


def test_small_data_is_cross_validated_with_identical_folds_and_bagged_models(binary_data):
    result = _search(
        binary_data, families=("elastic_net",), deterministic=True, max_trials=2, ensemble=False
    )
    assert result.validation["mode"] == "cv"
    assert result.validation["n_folds"] == 5
    folds = result.validation["fold_of_row"]
    assert len(folds) == 240 and sorted(set(folds)) == [0, 1, 2, 3, 4]
    best = result.best.pipeline
    assert isinstance(best, WeightedEnsemble) and len(best.members_) == 5
    np.testing.assert_allclose(best.weights_, 0.2)
    # valid_output covers exactly the validation split, out of fold
    assert result.best.valid_output.shape == (60, 2)


def test_holdout_mode_refits_the_selected_model_on_train_and_valid(binary_data):
    result = _search(
        binary_data, families=("lightgbm",), deterministic=True, max_trials=1,
        validation="holdout", baselines=False,
    )  # fmt: skip
    assert result.validation["mode"] == "holdout"
    assert result.best.info["refit_rows"] == 240
    assert result.budget["stages"]["refit"]["planned_s"] > 0


def test_large_holdout_tunes_on_a_sample_and_delivers_a_model_fitted_on_every_row(
    binary_data, monkeypatch
):
    import crispml.search._validation as validation

    monkeypatch.setattr(validation, "TUNE_MAX_ROWS", 100)  # 180 training rows: a sample
    result = _search(
        binary_data, families=("lightgbm",), deterministic=True, max_trials=1,
        validation="holdout", baselines=False, ensemble=False,
    )  # fmt: skip
    assert result.validation["fit_rows"] == 100
    assert result.best.info["refit_rows"] == 240  # the refit is never skipped
    note = result.budget["stages"]["refit"]["note"]
    assert "random sample of 100 of the 180 training rows" in note and "all 240" in note
    assert result.best.valid_output.shape == (60, 2)  # every validation row is scored


def test_holdout_fit_sample_is_seeded_and_drawn_from_training_rows():
    y = np.array([0, 1] * 20_000)
    first = plan_validation(y, 30_000, task="binary", mode="holdout", max_fit_rows=5_000)
    again = plan_validation(y, 30_000, task="binary", mode="holdout", max_fit_rows=5_000)
    other = plan_validation(y, 30_000, task="binary", mode="holdout", max_fit_rows=5_000, seed=1)
    fit, held = first.folds[0]
    assert len(fit) == 5_000 and len(np.unique(fit)) == 5_000 and fit.max() < 30_000
    np.testing.assert_array_equal(fit, again.folds[0][0])
    assert not np.array_equal(fit, other.folds[0][0])
    np.testing.assert_array_equal(held, np.arange(30_000, 40_000))
    small = plan_validation(y[:20_000], 15_000, task="binary", mode="holdout")
    np.testing.assert_array_equal(small.folds[0][0], np.arange(15_000))


@pytest.mark.slow
def test_expired_deadline_skips_every_family_but_keeps_the_baselines(binary_data):
    now = [0.0]
    deadline = Deadline(5.0, clock=lambda: now[0])
    now[0] = 100.0
    result = _search(binary_data, time_budget_s=5.0, deadline=deadline)
    assert {c.family for c in result.candidates if c.status == "ok"} <= {
        "dummy", "linear", "tree", "ensemble",
    }  # fmt: skip
    assert not [c for c in result.candidates if c.family in CHEAP and c.status == "ok"]
    assert result.budget["overrun_s"] > 0  # the fake clock says we are 95 s late


@pytest.mark.slow
def test_budget_is_kept_on_a_tiny_budget(binary_data):
    result = _search(binary_data, time_budget_s=10.0, families=("lightgbm", "extra_trees"))
    record = result.budget
    assert record["budget_s"] == 10.0
    # The contract: within +5 % of the budget (plus 0.5 s for a loaded test machine).
    assert record["elapsed_s"] <= 10.0 * 1.05 + 0.5, record
    stages = record["stages"]
    assert set(stages) == {"search", "ensemble", "refit"}
    assert stages["search"]["planned_s"] < 10.0
    assert sum(s["actual_s"] for s in stages.values()) <= record["elapsed_s"] + 1e-6
    assert record["trials"].get("ok", 0) >= 2  # it did search, not just give up


@pytest.mark.slow
def test_regression_search_returns_values(regression_data):
    schema, Xt, yt, Xv, yv = regression_data
    result = search_models(
        Xt, yt, Xv, yv, schema=schema, task="regression", metric="rmse",
        families=("elastic_net", "lightgbm"), deterministic=True, max_trials=3,
    )  # fmt: skip
    prediction = result.best.pipeline.predict(Xv)
    assert prediction.shape == (60,)
    dummy = next(c for c in result.candidates if c.name == "dummy")
    assert result.best.valid_score < dummy.valid_score


def test_plan_uses_holdout_for_large_data_and_stratifies_folds():
    y = np.array([0] * 900 + [1] * 100)
    plan = plan_validation(y, 800, task="binary", mode="cv")
    for _, held in plan.folds:
        assert y[held].mean() == pytest.approx(0.1)
    big = plan_validation(np.zeros(20_000), 16_000, task="regression")
    assert big.mode == "holdout" and len(big.folds) == 1
    assert big.scored.tolist() == list(range(16_000, 20_000))


def test_progress_reports_trials_best_score_and_time_left(binary_data):
    seen = []
    _search(
        binary_data, families=("elastic_net",), deterministic=True, max_trials=3,
        baselines=False, ensemble=False, on_progress=seen.append,
    )  # fmt: skip
    assert [p.trials_done for p in seen] == [1, 2, 3]
    assert all(p.time_left_s is None for p in seen)  # deterministic: counted in trials
    best = max(p.last.valid_score for p in seen)
    assert seen[-1].best_score == best
    assert seen[-1].best_name in {p.last.name for p in seen}


def test_n_jobs_reaches_every_model_build(binary_data):
    from sklearn.linear_model import LogisticRegression

    from crispml.models import ModelFamily, register
    from crispml.models._base import _REGISTRY

    seen = []

    @register("records_threads")
    class Recording(ModelFamily):
        preprocessing = "linear"

        def build(self, params, *, task, seed, n_jobs=None):
            seen.append(n_jobs)
            return LogisticRegression()

    try:
        result = _search(
            binary_data, families=("records_threads",), deterministic=True, max_trials=1,
            ensemble=False, baselines=False, n_jobs=3,
        )  # fmt: skip
    finally:
        _REGISTRY.pop("records_threads")
    assert result.best.family == "records_threads"
    assert len(seen) >= 2 and set(seen) == {3}  # every fold and the refit


def test_a_search_where_every_model_fails_raises_a_crispml_error(binary_data):
    from crispml.exceptions import CrispError, SearchError
    from crispml.models import ModelFamily, register
    from crispml.models._base import _REGISTRY

    @register("always_fails")
    class Failing(ModelFamily):
        def build(self, params, *, task, seed, n_jobs=None):
            raise MemoryError("out of memory in build")

    try:
        with pytest.raises(SearchError) as info:
            _search(
                binary_data, families=("always_fails",), deterministic=True, max_trials=1,
                ensemble=False, baselines=False,
            )  # fmt: skip
    finally:
        _REGISTRY.pop("always_fails")
    assert isinstance(info.value, CrispError) and isinstance(info.value, RuntimeError)
    text = str(info.value)
    assert text.startswith("search: no model could be fitted")
    assert "always_fails" in text and "MemoryError: out of memory in build" in text
    assert "search.time_budget_s" in text and "\n" not in text


def test_a_family_with_nothing_to_tune_ends_a_deterministic_search(binary_data):
    from sklearn.linear_model import LogisticRegression

    from crispml.models import ModelFamily, register
    from crispml.models._base import _REGISTRY

    @register("untunable")
    class Untunable(ModelFamily):
        preprocessing = "linear"

        def build(self, params, *, task, seed, n_jobs=None):
            return LogisticRegression()

    try:  # no clock in deterministic mode: the loop must end when nothing is left to try
        result = _search(
            binary_data, families=("untunable",), deterministic=True, max_trials=5,
            ensemble=False, baselines=False,
        )  # fmt: skip
    finally:
        _REGISTRY.pop("untunable")
    assert [c.name for c in result.candidates if c.family == "untunable"] == ["untunable"]
