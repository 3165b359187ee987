"""The deployable model types (ensemble, calibrated model) and their export protocol."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from crispml.exceptions import CrispError
from crispml.models import (
    CalibratedModel,
    CalibrationMap,
    DeployableModel,
    IsotonicMap,
    SigmoidMap,
    WeightedAverage,
    WeightedEnsemble,
    decision_threshold,
    load_pipeline,
    save_pipeline,
)
from crispml.models._calibrated import CLIP


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    y = (X[:, 0] + rng.normal(size=600) > 0).astype(int)
    return X, y, LogisticRegression(C=0.01).fit(X[:300], y[:300])


def test_ensemble_describes_its_members_and_normalised_weights():
    X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    y = np.array([0, 1, 1, 1])
    a = make_pipeline(DummyClassifier(strategy="prior")).fit(X, y)
    b = make_pipeline(DummyClassifier(strategy="uniform")).fit(X, y)
    spec = WeightedEnsemble(members=[a, b], weights=[1, 3], task="binary").fit().export_spec()
    assert isinstance(spec, WeightedAverage)
    assert spec.members == (a, b) and spec.weights == (0.25, 0.75)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.weights = (0.5, 0.5)  # type: ignore[misc]


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibrated_model_describes_its_map(binary, method):
    X, y, base = binary
    model = CalibratedModel(base=base, method=method, threshold=0.3).fit(X[300:], y[300:])
    spec = model.export_spec()
    assert isinstance(spec, CalibrationMap) and spec.base is base and spec.threshold == 0.3
    p = base.predict_proba(X)[:, 1]
    if method == "isotonic":
        assert isinstance(spec.map, IsotonicMap)
        expected = np.interp(p, spec.map.x, spec.map.y)
    else:
        assert isinstance(spec.map, SigmoidMap) and spec.map.clip == CLIP
        q = np.clip(p, spec.map.clip, 1 - spec.map.clip)
        expected = 1 / (1 + np.exp(-(spec.map.a * np.log(q / (1 - q)) + spec.map.b)))
    # the description alone reproduces the model's probabilities
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], expected, atol=1e-12)


def test_set_threshold_changes_decisions_spec_and_clone(binary):
    X, y, base = binary
    model = CalibratedModel(base=base, method="sigmoid").fit(X[300:], y[300:])
    before = model.predict(X)
    assert model.set_threshold(0.2) is model
    assert model.threshold == model.threshold_ == 0.2 == decision_threshold(model)
    after = model.predict(X)
    assert after.sum() > before.sum()
    np.testing.assert_array_equal(after, (model.predict_proba(X)[:, 1] >= 0.2).astype(int))
    assert clone(model).threshold == 0.2
    with pytest.raises(ValueError, match=r"threshold=1.5 is outside \[0, 1\]"):
        model.set_threshold(1.5)
    assert model.threshold_ == 0.2  # a refused value leaves the model unchanged


def test_decision_threshold_defaults_for_models_without_one(binary):
    base = binary[2]
    assert decision_threshold(base) == 0.5
    ensemble = WeightedEnsemble(members=[base], weights=[1.0], task="binary").fit()
    assert decision_threshold(ensemble, default=0.4) == 0.4


def test_protocol_is_abstract():
    class Half(DeployableModel):
        pass

    with pytest.raises(TypeError, match="export_spec"):
        Half()  # type: ignore[abstract]


def test_moved_types_round_trip_and_keep_old_import_paths(binary, tmp_path):
    from crispml.evaluate import CalibratedModel as FromEvaluate
    from crispml.evaluate._calibration import CalibratedModel as FromCalibration
    from crispml.search import WeightedEnsemble as FromSearch
    from crispml.search._ensemble import WeightedEnsemble as FromEnsembleModule

    assert FromEvaluate is FromCalibration is CalibratedModel
    assert FromSearch is FromEnsembleModule is WeightedEnsemble
    X, y, base = binary
    calibrated = CalibratedModel(base=base, method="isotonic", threshold=0.4).fit(X[300:], y[300:])
    model = WeightedEnsemble(members=[calibrated, base], weights=[1, 1], task="binary").fit()
    back = load_pipeline(save_pipeline(model, tmp_path / "m.skops"))
    assert type(back) is WeightedEnsemble and type(back.members_[0]) is CalibratedModel
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    assert back.members_[0].export_spec().map == calibrated.export_spec().map


def test_only_crispmls_deployable_types_are_trusted(tmp_path):
    from crispml.models import _deployable

    path = tmp_path / "other.skops"
    spec = _deployable.SigmoidMap(a=1.0, b=0.0, clip=0.1)  # a crispml type, not a model
    path.write_bytes(sio.dumps(spec))
    with pytest.raises(CrispError, match="SigmoidMap"):
        load_pipeline(path)
