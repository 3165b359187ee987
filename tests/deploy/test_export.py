"""ONNX export: every family, the ensemble and calibration steps, certified by parity."""

from __future__ import annotations

import numpy as np
import pytest
from catboost import CatBoostClassifier, CatBoostRegressor
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from xgboost import XGBClassifier, XGBRegressor

from crispml.deploy import TOLERANCE, check_parity
from crispml.exceptions import DeploymentError
from crispml.models import get_family


def _registry(name: str, task: str):
    family = get_family(name)
    params = {"n_estimators": 60} if name == "lightgbm" else {}
    return family.build({**family.defaults(task), **params}, task=task, seed=0), family


def _direct(name: str, task: str):
    classify = task != "regression"
    models = {
        "xgboost": (XGBClassifier if classify else XGBRegressor)(n_estimators=40, max_depth=3),
        "catboost": (CatBoostClassifier if classify else CatBoostRegressor)(
            iterations=40, verbose=0, random_seed=0, thread_count=1, allow_writing_files=False
        ),
        "random_forest": (RandomForestClassifier if classify else RandomForestRegressor)(
            n_estimators=15, max_depth=6, random_state=0
        ),
        "extra_trees": (ExtraTreesClassifier if classify else ExtraTreesRegressor)(
            n_estimators=15, max_depth=6, random_state=0
        ),
    }
    return models[name]


REGISTRY = ["dummy", "linear", "tree", "lightgbm"]
DIRECT = ["xgboost", "catboost", "random_forest", "extra_trees"]


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("name", REGISTRY)
def test_registry_families_export_with_parity(problems, name, task):
    problem = problems[task]
    model, family = _registry(name, task)
    pipeline = problem.pipeline(model, flavour=family.preprocessing)
    served = problem.serve(pipeline)
    report = check_parity(pipeline, served, problem.frame, problem.schema)
    assert report["passed"]
    assert report["n_test_rows"] == len(problem.frame)
    assert {"missing", "unseen_category", "extreme_low", "extreme_high"} <= set(
        report["edge_cases"]
    )
    key = "max_rel_diff" if task == "regression" else "max_abs_prob_diff"
    assert report[key] <= TOLERANCE
    if task != "regression":
        assert report["decision_agreement"] == 1.0


@pytest.mark.parametrize("task", ["binary", "regression"])
@pytest.mark.parametrize("name", DIRECT)
def test_other_families_export_with_parity(problems, name, task):
    problem = problems[task]
    pipeline = problem.pipeline(_direct(name, task))
    report = check_parity(pipeline, problem.serve(pipeline), problem.frame, problem.schema)
    assert report["passed"]
    assert "split_threshold" in report["edge_cases"]  # trees: values on their thresholds


def test_trees_route_missing_values_like_scikit_learn(binary_problem):
    # skl2onnx writes "missing goes right" for every split; sklearn learns the side.
    pipeline = binary_problem.pipeline(_direct("random_forest", "binary"))
    served = binary_problem.serve(pipeline)
    rows = [{"x1": None, "x2": v, "city": "north", "member": "no"} for v in (5.0, 50.0, 95.0)]
    native = pipeline.predict_proba(
        binary_problem.X.iloc[:0]
        .reindex(range(3))
        .assign(x1=np.nan, x2=[5.0, 50.0, 95.0], city="north", member="no")
    )
    scores, _ = served.scores(rows)
    np.testing.assert_allclose(scores, native, atol=1e-5)


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_hist_gradient_boosting_exports_with_parity(problems, task):
    problem = problems[task]
    cls = HistGradientBoostingRegressor if task == "regression" else HistGradientBoostingClassifier
    pipeline = problem.pipeline(cls(max_iter=20))
    report = check_parity(pipeline, problem.serve(pipeline), problem.frame, problem.schema)
    assert report["passed"] and "missing" in report["edge_cases"]


def test_unconvertible_model_is_refused_with_a_clear_message(binary_problem):
    from sklearn.neighbors import NearestCentroid

    pipeline = binary_problem.pipeline(NearestCentroid(), flavour="linear")
    with pytest.raises(DeploymentError, match="NearestCentroid could not be converted to ONNX"):
        binary_problem.serve(pipeline)


def test_graph_has_raw_columns_as_named_inputs(binary_problem):
    pipeline = binary_problem.pipeline(_registry("lightgbm", "binary")[0])
    served = binary_problem.serve(pipeline)
    inputs = {i.name: i.type for i in served.session.get_inputs()}
    assert inputs == {
        "x1": "tensor(double)",
        "x2": "tensor(double)",
        "city": "tensor(string)",
        "member": "tensor(string)",
    }
    assert [o.name for o in served.session.get_outputs()] == ["probabilities", "label"]


def test_unseen_category_goes_to_the_infrequent_bucket(binary_problem):
    # 'west' is rare; with max_categories the encoder has an infrequent column.
    from crispml.features import build_preprocessor

    pre = build_preprocessor(binary_problem.schema, flavour="linear")
    pre.set_params(categorical__max_categories=3)
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    pipeline = Pipeline([("features", pre), ("model", LogisticRegression())])
    pipeline.fit(binary_problem.X, binary_problem.y)
    assert pipeline[0].named_transformers_["categorical"].infrequent_categories_[0] is not None
    report = check_parity(
        pipeline, binary_problem.serve(pipeline), binary_problem.frame, binary_problem.schema
    )
    assert report["passed"] and "unseen_category" in report["edge_cases"]


def test_lightgbm_splits_compare_doubles_as_lightgbm_does():
    # Neighbouring float32 values (the model fits on float32 numbers, see conform) get a
    # LightGBM threshold between them that float32 cannot represent; a float32 graph
    # rounds it onto one of them and flips those rows.
    import lightgbm as lgb
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from crispml.data import TargetEncoding, conform, infer_schema
    from crispml.deploy import build_contract, contract_document, export_onnx
    from crispml.features import build_preprocessor
    from crispml.serve import ServingModel

    rng = np.random.default_rng(3)
    base = rng.uniform(0.5, 0.9, size=40).astype(np.float32)
    x = np.concatenate([base, np.nextafter(base, np.float32(1))]).astype(np.float64)
    frame = pd.DataFrame({"x": x, "y": np.r_[np.zeros(40), np.ones(40)].astype(int)})
    schema = infer_schema(frame, target="y")
    X = conform(frame, schema)
    model = lgb.LGBMClassifier(
        n_estimators=5, min_child_samples=1, min_data_in_bin=1, verbose=-1, n_jobs=1
    )
    pipeline = Pipeline([("features", build_preprocessor(schema)), ("model", model)])
    pipeline.fit(X, frame["y"].to_numpy())
    contract = build_contract(schema, X)
    graph = export_onnx(pipeline, contract, task="binary", n_classes=2, threshold=0.5)
    doc = contract_document(contract, TargetEncoding("binary", (0, 1)), threshold=0.5, card={})
    served = ServingModel(graph.SerializeToString(), doc)
    assert served.session.get_inputs()[0].type == "tensor(double)"
    report = check_parity(pipeline, served, frame, schema)
    assert report["passed"] and report["max_abs_prob_diff"] < 1e-6


def test_hist_gradient_boosting_splits_compare_doubles_and_are_probed():
    # HistGradientBoosting compares the float32 numbers widened to double with float64
    # thresholds (bin midpoints); a float32 graph rounded them, and a value on a split
    # went the other way (diamonds: a member 0.5 % off the price). Parity now probes
    # the model's own thresholds.
    import pandas as pd
    from sklearn.pipeline import Pipeline

    from crispml.data import TargetEncoding, conform, infer_schema
    from crispml.deploy import build_contract, contract_document, export_onnx
    from crispml.deploy._parity import split_thresholds
    from crispml.features import build_preprocessor
    from crispml.serve import ServingModel

    rng = np.random.default_rng(3)
    x = rng.uniform(50.0, 60.0, size=400).round(1)
    frame = pd.DataFrame({"x": x, "y": 3.0 * x + rng.normal(0.0, 1.0, size=400)})
    schema = infer_schema(frame, target="y")
    X = conform(frame, schema)
    model = HistGradientBoostingRegressor(max_iter=30, random_state=0)
    pipeline = Pipeline([("features", build_preprocessor(schema)), ("model", model)])
    pipeline.fit(X, frame["y"].to_numpy())
    probed = split_thresholds(pipeline)["x"]
    assert any(float(np.float32(t)) > t for t in probed)  # float32 rounds these up
    contract = build_contract(schema, X)
    graph = export_onnx(pipeline, contract, task="regression")
    doc = contract_document(contract, TargetEncoding("regression", ()), threshold=None, card={})
    report = check_parity(pipeline, ServingModel(graph.SerializeToString(), doc), frame, schema)
    assert report["passed"] and report["max_rel_diff"] < 1e-6
    assert "split_threshold" in report["edge_cases"]


def test_edge_cases_probe_every_column(binary_problem):
    from crispml.deploy import edge_cases

    base = {"x1": 0.1, "x2": 50.0, "city": "north", "member": "no"}
    records, kinds = edge_cases(base, binary_problem.contract, {"x2": [20.5, 70.25]})
    assert sorted(k for k in kinds if k.startswith("missing:")) == [
        "missing:city",
        "missing:member",
        "missing:x1",
        "missing:x2",
    ]
    assert {"unseen_category:city", "unseen_category:member"} <= set(kinds)
    low = records[kinds.index("extreme_low:x2")]["x2"]
    high = records[kinds.index("extreme_high:x2")]["x2"]
    assert low < binary_problem.contract.columns[1].min and high > 1000
    on_split = [r["x2"] for r, k in zip(records, kinds, strict=True) if k == "split_threshold:x2"]
    assert on_split == [20.5, 70.25]
    assert all(sum(r[c] != base[c] for c in base) == 1 for r in records)  # one change each


def test_parity_on_a_large_test_set_compares_a_seeded_sample(binary_problem):
    from crispml.deploy import Parity

    model, family = _registry("lightgbm", "binary")
    pipeline = binary_problem.pipeline(model, flavour=family.preprocessing)
    served = binary_problem.serve(pipeline)
    frame = binary_problem.frame
    full = check_parity(pipeline, served, frame, binary_problem.schema)
    assert (full["n_test_rows"], full["n_test_rows_total"], full["sample"]) == (240, 240, "")
    sampled = check_parity(pipeline, served, frame, binary_problem.schema, max_rows=50)
    assert sampled["passed"]
    assert (sampled["n_test_rows"], sampled["n_test_rows_total"]) == (50, 240)
    assert sampled["sample"].startswith("a seeded sample of 50 of the 240 rows")
    again = check_parity(pipeline, served, frame, binary_problem.schema, max_rows=50)
    assert again["worst_case"] == sampled["worst_case"]  # the same seeded rows
    assert Parity.model_validate(sampled).n_test_rows_total == 240


def test_sample_positions_keeps_order_and_is_seeded():
    from crispml._utils._sample import sample_positions

    positions = np.arange(1000, 2000)
    kept = sample_positions(positions, 100, seed=3)
    assert len(kept) == 100 and len(set(kept)) == 100
    assert set(kept) <= set(positions) and (np.diff(kept) > 0).all()
    np.testing.assert_array_equal(kept, sample_positions(positions, 100, seed=3))
    assert not np.array_equal(kept, sample_positions(positions, 100, seed=4))
    np.testing.assert_array_equal(sample_positions(positions, 1000, seed=3), positions)
