from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from crispml.data import Schema, conform, epoch_seconds, infer_schema
from crispml.features import DateFeatures, build_preprocessor, civil_from_seconds

DAY = 86_400.0


def elapsed_frame(n: int = 1600, seed: int = 0) -> pd.DataFrame:
    """Two ISO date columns; only the days between them (> 30) predict the target."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.uniform(0, 4 * 365, n), unit="D")
    duration = rng.uniform(0, 60, n)
    end = start + pd.to_timedelta(duration, unit="D")
    y = (duration > 30) ^ (rng.random(n) < 0.03)
    return pd.DataFrame(
        {
            "opened": start.strftime("%Y-%m-%dT%H:%M:%S"),
            "closed": end.strftime("%Y-%m-%dT%H:%M:%S"),
            "noise": rng.normal(size=n),
            "y": np.where(y, "yes", "no"),
        }
    )


def test_calendar_matches_pandas_over_centuries():
    rng = np.random.default_rng(1)
    seconds = np.concatenate(
        [rng.uniform(-6e9, 6e9, 20_000).round(), np.arange(-40_000, 40_000) * DAY]
    )
    parts = civil_from_seconds(seconds)
    stamps = pd.DatetimeIndex(pd.to_datetime(seconds, unit="s"))
    expected = {
        "year": stamps.year,
        "month": stamps.month,
        "day": stamps.day,
        "day_of_week": stamps.day_of_week,
        "day_of_year": stamps.day_of_year,
    }
    for name, values in expected.items():
        np.testing.assert_array_equal(parts[name], np.asarray(values, dtype=float), name)
    np.testing.assert_array_equal(np.floor(parts["hour"]), np.asarray(stamps.hour, dtype=float))
    assert np.isnan(civil_from_seconds(np.array([np.nan]))["year"]).all()


def test_conform_turns_dates_into_epoch_seconds():
    frame = pd.DataFrame(
        {
            "when": ["2020-01-01", "2020-01-02T12:00:00", None, "2020-01-03", "bad"],
            "x": [1.0, 2.0, 3.0, 4.0, 5.0],
            "y": [0, 1, 0, 1, 0],
        }
    )
    frame.loc[4, "when"] = "2020-01-04"
    schema = infer_schema(frame, target="y")
    assert schema["when"].role == "datetime" and "when" in schema.features
    X = conform(frame, schema)
    start = pd.Timestamp("2020-01-01", tz="UTC").timestamp()
    assert X["when"].tolist()[:2] == [start, start + 1.5 * DAY]
    assert np.isnan(X["when"].iloc[2])
    assert schema["when"].min == start and schema["when"].max == start + 3 * DAY
    aware = pd.Series(pd.to_datetime(["2020-01-01 01:00"]).tz_localize("Europe/Paris"))
    assert epoch_seconds(aware).iloc[0] == start  # 01:00 in Paris is midnight UTC


def test_parts_reference_and_missingness():
    train = pd.DataFrame({"a": [0.0, 10 * DAY, np.nan], "b": [DAY * 40, DAY * 41.25, DAY * 50]})
    t = DateFeatures(cyclical=False).fit(train)
    names = list(t.get_feature_names_out())
    assert "a_hour" not in names and "b_hour" in names  # a holds midnights only
    assert "a_missing" in names and "b_missing" not in names
    assert names[-1] == "b_minus_a_days"
    assert t.reference_s_ == 50 * DAY
    fresh = pd.DataFrame({"a": [np.nan, 20 * DAY], "b": [DAY * 60, np.nan]})
    out = pd.DataFrame(t.transform(fresh), columns=names)
    assert out["a_days_before_reference"].tolist()[1] == 30.0  # reference fixed at fit
    assert out["b_days_before_reference"].tolist()[0] == -10.0
    assert out["a_missing"].tolist() == [1.0, 0.0]
    assert out["b_hour"].tolist()[0] == 0.0 and np.isnan(out["b_hour"].iloc[1])
    assert np.isnan(out["b_minus_a_days"]).all()
    assert t.sources_ == [n.split("_")[0] for n in names]


def test_imputed_outputs_have_no_missing_values():
    X = pd.DataFrame({"a": [0.0, np.nan, 3 * DAY, 5 * DAY]})
    t = DateFeatures(linear=True).fit(X)
    out = t.transform(X)
    assert not np.isnan(out).any()
    names = list(t.get_feature_names_out())
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-6)
    missing = out[:, names.index("a_missing")]
    assert missing[1] > 0 > missing[0]  # standardised indicator


@parametrize_with_checks([DateFeatures()])
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


@pytest.mark.parametrize("flavour", ["tree", "linear"])
def test_preprocessor_has_a_date_step(flavour):
    frame = elapsed_frame(n=60)
    frame.loc[:4, "closed"] = None
    schema = infer_schema(frame, target="y")
    pre = build_preprocessor(schema, flavour=flavour).fit(conform(frame, schema))
    names = list(pre.get_feature_names_out())
    assert "dates__closed_minus_opened_days" in names and "dates__closed_missing" in names
    assert names[0] == "numeric__noise"  # numeric passthrough stays first
    out = pre.transform(conform(frame, schema))
    assert out.shape == (60, len(names))
    assert np.isnan(out).any() == (flavour == "tree")  # trees take NaN; linear imputes


def _holdout_auc(frame: pd.DataFrame, schema: Schema) -> float:
    X, y = conform(frame, schema), (frame["y"] == "yes").to_numpy()
    model = Pipeline(
        [
            ("features", build_preprocessor(schema)),
            ("model", HistGradientBoostingClassifier(max_iter=80, random_state=0)),
        ]
    )
    model.fit(X.iloc[:1000], y[:1000])
    return float(roc_auc_score(y[1000:], model.predict_proba(X.iloc[1000:])[:, 1]))


def test_elapsed_time_between_dates_predicts_the_target():
    frame = elapsed_frame()
    schema = infer_schema(frame, target="y")
    assert schema.names("datetime") == ["opened", "closed"]
    with_dates = _holdout_auc(frame, schema)
    without = Schema(schema.columns, schema.target, schema.n_rows, ("opened", "closed"))
    chance = _holdout_auc(frame, without)
    assert with_dates > 0.9
    assert 0.4 < chance < 0.6
