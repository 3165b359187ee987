"""The evaluation predicts the test rows with the delivered model once; consumers reuse it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crispml import data as cdata
from crispml._runfolder import RunFolder
from crispml.evaluate import PREDICTIONS_FILE, evaluate_engagement, predict_candidates
from crispml.models import predict_output
from crispml.search import search_models
from crispml.spec import spec_from_dict


def _table(n: int = 700, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["g1", "g2"], size=n, p=[0.6, 0.4])
    x1 = rng.normal(size=n) + np.where(group == "g2", 0.5, 0.0)
    x2 = rng.normal(size=n)
    logit = 1.5 * x1 - x2
    y = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    return pd.DataFrame({"x1": x1, "x2": x2, "group": group, "outcome": y})


def _engagement(tmp_path):
    spec = spec_from_dict(
        {
            "name": "one-prediction",
            "problem": {"task": "binary", "target": "outcome", "positive_label": "yes"},
            "data": {"source": "in-memory"},
            "fairness": {"protected": ["group"]},
            "search": {"families": ["lightgbm"], "deterministic": True, "max_trials": 1},
            "evaluation": {"bootstrap": 50},
            "tracking": {"enabled": False},
        },
        source="test",
    )
    dataset = cdata.prepare_dataset(cdata.load_table(_table()), spec, store=tmp_path)
    split = cdata.make_split(dataset.frame, spec.split, target="outcome")
    result = search_models(
        dataset.features(split.train), dataset.y[split.train],
        dataset.features(split.valid), dataset.y[split.valid],
        schema=dataset.schema, task="binary", metric="roc_auc", families=("lightgbm",),
        deterministic=True, max_trials=1, seed=0,
    )  # fmt: skip
    return spec, dataset, split, result


def test_every_consumer_reuses_the_one_test_prediction(tmp_path):
    spec, dataset, split, result = _engagement(tmp_path)
    assert result.validation["mode"] == "cv"  # the delivered model is a fold bag
    X_test = dataset.features(split.test)
    pipeline = result.best.pipeline
    original = pipeline.predict_proba
    on_test: list[int] = []

    def counted(X):
        if isinstance(X, pd.DataFrame) and X.equals(X_test):
            on_test.append(len(X))
        return original(X)

    pipeline.predict_proba = counted  # the instance attribute shadows the method
    evaluation = evaluate_engagement(
        RunFolder(tmp_path / "runs", "r1"), dataset=dataset, split=split, result=result, spec=spec
    )
    # holdout leaderboard, calibration record, conformal sets, price of interpretability,
    # the alternatives and the reason codes each predicted the test rows again before
    assert on_test == [len(X_test)]
    del pipeline.predict_proba
    # the saved predictions are the delivered model's (through its calibration map, if kept)
    saved = pd.read_parquet(tmp_path / "runs/.staging-r1" / PREDICTIONS_FILE)
    delivered = predict_output(evaluation.model, X_test, "binary")[:, 1]
    np.testing.assert_allclose(saved["probability"].to_numpy(), delivered, rtol=1e-12)


def test_test_outputs_hold_each_fitted_candidate_once(tmp_path):
    _, dataset, split, result = _engagement(tmp_path)
    X_test = dataset.features(split.test)
    outputs = predict_candidates(result, X_test, task="binary")
    fitted = [c for c in result.candidates if c.pipeline is not None]
    assert set(outputs.by_name) == {c.name for c in fitted} and outputs.n_rows == len(X_test)
    for cand in fitted:
        np.testing.assert_array_equal(
            outputs.of(cand), predict_output(cand.pipeline, X_test, "binary")
        )
