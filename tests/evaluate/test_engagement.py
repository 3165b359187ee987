import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from crispml._engagement import Project, _families
from crispml.cli._app import app
from crispml.evaluate import CalibratedModel
from crispml.exceptions import SpecError
from crispml.models import load_pipeline
from crispml.spec import spec_from_dict

EVALUATION_FILES = {
    "evaluation.json",
    "test_predictions.parquet",
    "calibration.json",
    "threshold.json",
    "conformal.json",
    "fairness.json",
    "slices.json",
    "importance.json",
    "interpretability.json",
    "verdict.json",
    "reliability.svg",
    "importance.svg",
    "fairness.svg",
}


def _table(n=1500, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["g1", "g2"], size=n, p=[0.7, 0.3])
    x1 = rng.normal(size=n) + np.where(group == "g2", 0.8, 0.0)
    x2 = rng.normal(size=n)
    city = rng.choice(["a", "b", "c"], size=n)
    logit = 2.0 * x1 - 1.0 * x2 + np.where(city == "c", 1.0, 0.0) - 0.5
    y = np.where(rng.uniform(size=n) < 1 / (1 + np.exp(-logit)), "bad", "good")
    return pd.DataFrame({"x1": x1, "x2": x2, "city": city, "group": group, "outcome": y})


def _spec(**over):
    raw = {
        "name": "synthetic",
        "problem": {
            "task": "binary",
            "target": "outcome",
            "positive_label": "bad",
            "success_criteria": {"roc_auc": ">= 0.6", "demographic_parity_difference": "<= 0.9"},
            "costs": {"fp": 1, "fn": 4},
        },
        "data": {"source": "in-memory"},
        "fairness": {"protected": ["group"]},
        "search": {"time_budget_s": 30, "families": []},
        "evaluation": {"bootstrap": 200},
        "tracking": {"enabled": False},
    }
    for key, value in over.items():
        raw[key] = {**raw.get(key, {}), **value}
    return spec_from_dict(raw, source="test")


@pytest.mark.slow
def test_engagement_writes_every_evaluation_file(tmp_path):
    run = Project(_spec(), base_dir=tmp_path, data=_table()).run()
    files = {p.name for p in (run.path / "evaluation").iterdir()}
    assert files >= EVALUATION_FILES
    # slices 2: every level and row in a segment, rounded edges; importance 2: exact reasons
    versions = {"slices.json": 2, "importance.json": 2}
    for name in {f for f in files if f.endswith(".json")}:
        found = json.loads((run.path / "evaluation" / name).read_text())["schema_version"]
        assert found == versions.get(name, 1)
    record = json.loads((run.path / "metrics.json").read_text())
    assert {"task", "primary_metric", "selected_model", "valid", "test", "search"} <= set(record)
    assert record["verdict"] == "go"
    assert run.verdict.overall == "go"
    threshold = json.loads((run.path / "evaluation/threshold.json").read_text())
    assert threshold["objective"] == "cost" and threshold["chosen_on"] == "validation"
    contract = json.loads((run.path / "model/schema.json").read_text())
    assert contract["decision_threshold"] == threshold["threshold"]
    model = load_pipeline(run.path / "model/pipeline.skops")
    calibration = json.loads((run.path / "evaluation/calibration.json").read_text())
    assert isinstance(model, CalibratedModel) == (calibration["selection"]["kept"] is not None)
    fairness = json.loads((run.path / "evaluation/fairness.json").read_text())
    assert set(fairness["attributes"]["group"]["by_group"]) == {"g1", "g2"}
    importance = json.loads((run.path / "evaluation/importance.json").read_text())
    assert "group" not in {r["column"] for r in importance["importance"]}  # not a feature
    labels = run.predict(_table(20, seed=9))
    assert set(labels) <= {"bad", "good"}


@pytest.mark.slow
def test_strict_run_exits_3_on_no_go(tmp_path):
    spec = _spec(problem={"success_criteria": {"roc_auc": ">= 0.999"}}, search={"families": []})
    _table().to_csv(tmp_path / "data.csv", index=False)
    raw = json.loads(spec.model_dump_json())
    raw["data"]["source"] = "data.csv"
    (tmp_path / "crispml.yaml").write_text(yaml.safe_dump(raw))
    runner = CliRunner()
    lenient = runner.invoke(app, ["run", str(tmp_path / "crispml.yaml")])
    assert lenient.exit_code == 0, lenient.output
    assert "no-go" in lenient.output
    strict = runner.invoke(app, ["run", str(tmp_path / "crispml.yaml"), "--strict"])
    assert strict.exit_code == 3


def test_interpretable_only_keeps_glass_box_families():
    spec = _spec(search={"families": ["lightgbm", "linear"], "interpretable_only": True})
    assert _families(spec) == ("linear",)
    assert _families(_spec(search={"families": ["lightgbm"]})) == ("lightgbm",)
    lonely = _spec(
        search={"families": ["lightgbm"], "interpretable_only": True, "baselines": False}
    )
    with pytest.raises(SpecError, match="glass-box"):
        _families(lonely)


def test_spec_threshold_objective_needs_its_inputs():
    with pytest.raises(SpecError, match="costs"):
        _spec(problem={"costs": None, "threshold_objective": "cost"})
    with pytest.raises(SpecError, match="min_precision"):
        _spec(problem={"threshold_objective": "precision_at"})
    spec = _spec(problem={"threshold_objective": "precision_at", "min_precision": 0.7})
    assert spec.evaluation.coverage == 0.9 and spec.fairness.mitigate is None


@pytest.mark.slow
def test_regression_engagement_reports_intervals_and_coverage(tmp_path):
    spec = spec_from_dict(
        {
            "name": "diabetes",
            "problem": {
                "task": "regression",
                "target": "target",
                "success_criteria": {"rmse": "<= 1000", "r2": ">= 0.99"},
            },
            "data": {"source": "sklearn:diabetes"},
            "search": {"time_budget_s": 10, "families": []},
            "evaluation": {"bootstrap": 100, "coverage": 0.8},
            "tracking": {"enabled": False},
        },
        source="test",
    )
    run = Project(spec, base_dir=tmp_path).run()
    conformal = json.loads((run.path / "evaluation/conformal.json").read_text())
    assert conformal["kind"] == "intervals" and conformal["nominal"] == 0.8
    assert not (run.path / "evaluation/calibration.json").exists()
    results = {r.name: r.result for r in run.verdict.criteria}
    assert results == {"rmse": "pass", "r2": "fail"}
    frame = pd.read_parquet(run.path / "evaluation/test_predictions.parquet")
    rmse = float(np.sqrt(np.mean((frame["y_true"] - frame["prediction"]) ** 2)))
    assert run.evaluation.test["rmse"].estimate == pytest.approx(rmse, rel=1e-12)
    assert run.evaluation.basis["rmse"] == "values"
