"""Ensemble averaging and calibration maps as explicit ONNX steps, judged by parity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.tree import DecisionTreeClassifier

from crispml.deploy import check_parity, export_onnx, frame_records
from crispml.exceptions import DeploymentError
from crispml.models import (
    CalibrationMap,
    DeployableModel,
    IsotonicMap,
    SigmoidMap,
    WeightedAverage,
    get_family,
)


class StandInEnsemble(DeployableModel):
    """A third-party ensemble: it describes itself through the export protocol only."""

    def __init__(self, members, weights):
        self.members_ = members
        self.weights_ = np.asarray(weights, dtype=float)

    def export_spec(self):
        w = self.weights_ / self.weights_.sum()
        return WeightedAverage(members=tuple(self.members_), weights=tuple(w.tolist()))

    def predict_proba(self, X):
        probs = [w * m.predict_proba(X) for m, w in zip(self.members_, self.weights_, strict=True)]
        return np.sum(probs, axis=0) / self.weights_.sum()

    def predict(self, X):
        values = [w * m.predict(X) for m, w in zip(self.members_, self.weights_, strict=True)]
        return np.sum(values, axis=0) / self.weights_.sum()


class StandInCalibrated(DeployableModel):
    """A third-party calibrated model (a map on the positive probability)."""

    def __init__(self, base, method, threshold=0.5, *, x=None, y=None, a=None, b=None):
        self.base_, self.method_, self.threshold_ = base, method, threshold
        if method == "isotonic":
            self.x_thresholds_, self.y_thresholds_ = np.asarray(x), np.asarray(y)
        else:
            self.a_, self.b_ = a, b

    def predict_proba(self, X):
        p = self.base_.predict_proba(X)[:, 1]
        if self.method_ == "isotonic":
            q = np.interp(p, self.x_thresholds_, self.y_thresholds_)
        else:
            p = np.clip(p, 1e-6, 1 - 1e-6)
            q = expit(self.a_ * np.log(p / (1 - p)) + self.b_)
        return np.column_stack([1 - q, q])

    def export_spec(self):
        if self.method_ == "isotonic":
            mapping = IsotonicMap(x=tuple(self.x_thresholds_), y=tuple(self.y_thresholds_))
        else:
            mapping = SigmoidMap(a=self.a_, b=self.b_, clip=1e-6)
        return CalibrationMap(base=self.base_, map=mapping, threshold=self.threshold_)


def _lgbm(problem):
    family = get_family("lightgbm")
    params = {**family.defaults(problem.task), "n_estimators": 40}
    return problem.pipeline(family.build(params, task=problem.task, seed=0))


def _isotonic(problem, base):
    iso = IsotonicRegression(out_of_bounds="clip").fit(
        base.predict_proba(problem.X)[:, 1], problem.y
    )
    return StandInCalibrated(
        base, "isotonic", threshold=0.3, x=iso.X_thresholds_, y=iso.y_thresholds_
    )


def test_weighted_ensemble_matches_native(binary_problem):
    members = [
        _lgbm(binary_problem),
        binary_problem.pipeline(LogisticRegression(max_iter=500), flavour="linear"),
        binary_problem.pipeline(DecisionTreeClassifier(max_depth=3, random_state=0)),
    ]
    ensemble = StandInEnsemble(members, [0.5, 0.3, 0.2])
    served = binary_problem.serve(ensemble)
    report = check_parity(ensemble, served, binary_problem.frame, binary_problem.schema)
    assert report["passed"] and report["max_abs_prob_diff"] < 1e-5
    # the graph really averages: it differs from every single member
    scores, _ = served.scores(frame_records(binary_problem.frame.head(50)))
    for member in members:
        assert np.abs(scores - member.predict_proba(binary_problem.X.head(50))).max() > 1e-3


def test_regression_ensemble_matches_native(problems):
    problem = problems["regression"]
    members = [_lgbm(problem), problem.pipeline(Ridge(), flavour="linear")]
    ensemble = StandInEnsemble(members, [2.0, 1.0])
    report = check_parity(ensemble, problem.serve(ensemble), problem.frame, problem.schema)
    assert report["passed"] and report["max_rel_diff"] < 1e-5


def test_isotonic_calibration_and_threshold(binary_problem):
    model = _isotonic(binary_problem, _lgbm(binary_problem))
    served = binary_problem.serve(model)
    report = check_parity(model, served, binary_problem.frame, binary_problem.schema)
    assert report["passed"] and report["decision_agreement"] == 1.0
    rows = served.predict(frame_records(binary_problem.frame))
    native = model.predict_proba(binary_problem.X)[:, 1]
    assert [r["decision"] for r in rows] == list(native >= 0.3)
    assert all(r["threshold"] == 0.3 for r in rows)


def test_isotonic_map_equals_numpy_interp_on_knots_and_outside(binary_problem):
    base = _lgbm(binary_problem)
    model = _isotonic(binary_problem, base)
    served = binary_problem.serve(model)
    raw, _ = binary_problem.serve(base).scores(frame_records(binary_problem.frame))
    mapped, _ = served.scores(frame_records(binary_problem.frame))
    expected = np.interp(raw[:, 1], model.x_thresholds_, model.y_thresholds_)
    np.testing.assert_allclose(mapped[:, 1], expected, atol=1e-6)


def test_sigmoid_calibration_of_an_ensemble(binary_problem):
    members = [_lgbm(binary_problem), binary_problem.pipeline(LogisticRegression(), "linear")]
    model = StandInCalibrated(StandInEnsemble(members, [1, 1]), "sigmoid", a=-5.0, b=2.0)
    report = check_parity(
        model, binary_problem.serve(model), binary_problem.frame, binary_problem.schema
    )
    assert report["passed"] and report["max_abs_prob_diff"] < 1e-5


def test_real_calibrated_model_exports_with_parity(binary_problem):
    from crispml.evaluate import CalibratedModel

    base = _lgbm(binary_problem)
    half = len(binary_problem.X) // 2
    for method in ("sigmoid", "isotonic"):
        model = CalibratedModel(base=base, method=method, threshold=0.3)
        model.fit(binary_problem.X.iloc[half:], binary_problem.y[half:])
        report = check_parity(
            model, binary_problem.serve(model), binary_problem.frame, binary_problem.schema
        )
        assert report["passed"] and report["max_abs_prob_diff"] < 1e-5, (method, report)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_temperature_calibration_exports_with_parity(problems, task):
    from crispml.evaluate import CalibratedModel

    problem = problems[task]
    base = _lgbm(problem)
    half = len(problem.X) // 2
    model = CalibratedModel(base=base, method="temperature")
    model.fit(problem.X.iloc[half:], problem.y[half:])
    assert abs(np.log(model.temperature_)) > 0.1  # a real rescaling, not the identity
    served = problem.serve(model)
    report = check_parity(model, served, problem.frame, problem.schema)
    assert report["passed"] and report["max_abs_prob_diff"] < 1e-5, report
    scores, _ = served.scores(frame_records(problem.frame))
    raw, _ = problem.serve(base).scores(frame_records(problem.frame))
    assert np.abs(scores - raw).max() > 1e-3  # the graph really applies the temperature


def test_silent_difference_fails_the_parity_check(binary_problem):
    class Drifted(StandInCalibrated):
        def predict_proba(self, X):  # what the export reads (y_thresholds_) is not this
            out = super().predict_proba(X)
            q = np.clip(out[:, 1] + 0.01, 0, 1)
            return np.column_stack([1 - q, q])

    good = _isotonic(binary_problem, _lgbm(binary_problem))
    model = Drifted(good.base_, "isotonic", 0.3, x=good.x_thresholds_, y=good.y_thresholds_)
    with pytest.raises(DeploymentError, match=r"ONNX parity failed: max probability difference"):
        check_parity(
            model, binary_problem.serve(model), binary_problem.frame, binary_problem.schema
        )


def test_attributes_alone_do_not_make_an_ensemble(binary_problem):
    """Only the export protocol is read: members_/weights_ without it are not an ensemble."""

    class LooksLikeAnEnsemble:
        def __init__(self, members):
            self.members_, self.weights_ = members, np.array([1.0])

    fake = LooksLikeAnEnsemble([_lgbm(binary_problem)])
    with pytest.raises(DeploymentError, match="could not be converted to ONNX"):
        export_onnx(fake, binary_problem.contract, task="binary", n_classes=2)


def test_sigmoid_clip_comes_from_the_model(binary_problem):
    """The exported graph clips with the model's own constant (no copy in crispml.deploy)."""
    base = _lgbm(binary_problem)
    wide = StandInCalibrated(base, "sigmoid", a=1.0, b=0.0)
    wide.export_spec = lambda: CalibrationMap(
        base=base, map=SigmoidMap(a=1.0, b=0.0, clip=0.25), threshold=0.5
    )
    scores, _ = binary_problem.serve(wide).scores(frame_records(binary_problem.frame))
    assert scores[:, 1].min() >= 0.25 - 1e-6 and scores[:, 1].max() <= 0.75 + 1e-6
    assert np.isclose(scores[:, 1], 0.25, atol=1e-4).any()  # the clip binds on real rows
