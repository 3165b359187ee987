"""Feature documentation read from fitted preprocessors."""

import numpy as np
import pandas as pd
from sklearn.ensemble import VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from crispml.data import conform, infer_schema
from crispml.features import (
    MAX_LEVELS,
    FeatureDocumentation,
    build_preprocessor,
    document_features,
    find_preprocessors,
)


def _table(n=400, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "row_id": [f"id{i:05d}" for i in range(n)],
            "income": rng.normal(50, 10, size=n),
            "shop": [f"s{i % (MAX_LEVELS + 6):03d}" for i in range(n)],
            "opened": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D"),
            "region": rng.choice(["n", "s"], size=n),
            "flat": 1,
            "y": rng.integers(0, 2, size=n),
        }
    )
    frame.loc[: n // 10 - 1, "income"] = np.nan
    # the first levels are frequent, the last ones rare enough to be pooled
    frame.loc[: n // 2, "shop"] = "s000"
    return frame


def _fitted(frame, flavour):
    schema = infer_schema(frame, target="y", exclude=("region",))
    X = conform(frame, schema)
    pre = build_preprocessor(schema, flavour=flavour).fit(X)
    return schema, pre


def test_every_raw_column_is_documented_with_its_fate():
    frame = _table()
    schema, pre = _fitted(frame, "linear")
    doc = document_features(schema, [pre], protected=("region",))
    by = {c.column: c for c in doc.columns}
    assert list(by) == list(frame.columns)
    assert by["income"].reaches_model
    assert by["income"].missing_rate == 0.1
    assert "median" in by["income"].imputation and "missing-indicator" in by["income"].imputation
    assert not by["region"].reaches_model and "protected" in by["region"].status
    assert not by["row_id"].reaches_model and by["row_id"].status.startswith("identifier")
    assert not by["flat"].reaches_model and by["flat"].status.startswith("constant")
    assert not by["y"].reaches_model and by["y"].status.startswith("the target")
    parts = by["opened"].derived
    assert "opened_year" in parts and "opened_month" in parts
    total = sum(c.n_derived for c in doc.columns)
    assert total == doc.n_model_inputs == len(pre.get_feature_names_out())


def test_one_hot_levels_kept_and_pooled_match_the_encoder():
    frame = _table()
    schema, pre = _fitted(frame, "tree")
    shop = next(c for c in document_features(schema, [pre]).columns if c.column == "shop")
    encoder = pre.named_transformers_["categorical"]
    assert len(shop.levels_kept) + 1 == MAX_LEVELS  # one output is the infrequent column
    assert set(shop.infrequent_levels) == set(encoder.infrequent_categories_[0])
    assert "infrequent" in shop.encoding
    assert shop.n_derived == MAX_LEVELS
    assert shop.imputation.startswith("none")
    income = next(c for c in document_features(schema, [pre]).columns if c.column == "income")
    assert income.encoding == "as is" and income.derived == ["income"]


def test_ensemble_members_with_two_flavours_are_both_described():
    frame = _table()
    schema, tree = _fitted(frame, "tree")
    _, linear = _fitted(frame, "linear")
    ensemble = VotingClassifier(
        [("a", Pipeline([("pre", tree)])), ("b", Pipeline([("pre", linear)]))]
    )
    ensemble.estimators_ = [
        Pipeline([("pre", tree), ("m", LogisticRegression())]),
        Pipeline([("pre", linear), ("m", LogisticRegression())]),
    ]
    found = find_preprocessors(ensemble)
    assert {id(p) for p in found} == {id(tree), id(linear)}
    doc = document_features(schema, found)
    income = next(c for c in doc.columns if c.column == "income")
    assert doc.flavours == ["linear", "tree"]
    assert (
        income.imputation.startswith("linear models: median")
        and "tree models: none" in income.imputation
    )
    assert FeatureDocumentation.from_json(doc.to_json()) == doc
