"""``deployment.refit: all_rows``: the delivered model is refitted on every row after the test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crispml._engagement import Project
from crispml.models import CalibratedModel, load_pipeline
from crispml.report import verify_run
from tests.conftest import binary_spec, make_binary, write_project

N_ROWS = 600  # a single tree on these rows keeps a calibration map (checked below)


def _run(folder: Path, **deployment: object) -> Path:
    search = {
        "time_budget_s": 20,
        "families": ["tree"],
        "deterministic": True,
        "max_trials": 2,
        "baselines": False,
    }
    spec = binary_spec(search=search, deployment=deployment)
    return Project.from_yaml(write_project(folder, make_binary(N_ROWS), spec)).run().path


@pytest.fixture(scope="module")
def refitted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("all_rows"), refit="all_rows")


def _tree(model: object) -> object:
    base = model.base_ if isinstance(model, CalibratedModel) else model
    return base.named_steps["model"]


def test_the_delivered_model_is_fitted_on_the_test_rows_too(refitted):
    evaluation = json.loads((refitted / "evaluation/evaluation.json").read_text())
    split = json.loads((refitted / "data/split.json").read_text())
    final = evaluation["final_refit"]
    assert final == {
        "n_rows": N_ROWS,
        "n_test_rows": len(split["test"]),
        "replaced": "the 5 bagged cross-validation fold models, each fitted on part of the "
        "non-test rows",
        "calibration": final["calibration"],
    }
    model = load_pipeline(refitted / "model/pipeline.skops")
    # the fitted tree's root holds every row it was trained on
    assert _tree(model).tree_.n_node_samples[0] == N_ROWS
    # the map (fitted on out-of-fold predictions in cv mode) and the threshold fitted on
    # validation are carried over unchanged
    assert isinstance(model, CalibratedModel)
    assert evaluation["calibration"] == model.method_
    assert model.method_ in ("isotonic", "sigmoid", "temperature")
    assert model.threshold_ == pytest.approx(evaluation["threshold"])
    assert "kept unchanged" in final["calibration"]


def test_the_card_says_the_test_figures_are_before_the_refit(refitted):
    card = (refitted / "report/model_card.md").read_text()
    assert "The test figures below are for the model before its final refit" in card
    assert f"refitted on all {N_ROWS} rows" in card
    report = (refitted / "report/report.html").read_text()
    assert "before its final refit" in report
    claims = json.loads((refitted / "report/claims.json").read_text())["claims"]
    fields = {c["field"] for c in claims if c["document"] == "model_card"}
    assert {"final_refit.n_rows", "final_refit.n_test_rows"} <= fields


def test_the_refitted_run_verifies_and_parity_holds_on_the_refit(refitted):
    result = verify_run(refitted)
    assert result.ok, result
    assert result.claims_checked > 0
    deployment = json.loads((refitted / "deploy/deployment.json").read_text())
    assert deployment["parity"]["passed"]
    served = json.loads((refitted / "model/contract.json").read_text())["card"]
    assert served["final_refit"]["n_rows"] == N_ROWS  # /v1/metadata says it too


def test_test_predictions_are_those_of_the_model_before_the_refit(refitted, tmp_path):
    default = _run(tmp_path / "default", format="none")
    before = pd.read_parquet(default / "evaluation/test_predictions.parquet")
    after = pd.read_parquet(refitted / "evaluation/test_predictions.parquet")
    pd.testing.assert_frame_equal(before, after)
    # and the delivered model is another fit: the default run's saw fewer rows
    delivered = load_pipeline(default / "model/pipeline.skops")
    fold_models = delivered.base_  # calibrated, over the bagged fold models of cv mode
    seen = [_tree(m).tree_.n_node_samples[0] for m in fold_models.members_]
    assert len(seen) > 1 and max(seen) < N_ROWS
    assert not np.isnan(after["probability"]).any()
