"""Anomaly detection end to end: audit, detector search, evaluation, card, ONNX, serving."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from crispml import Project
from crispml.evaluate import AnomalyEvaluation
from crispml.exceptions import ReportError
from crispml.report import check_claims, verify_run, write_report
from crispml.serve import ServingModel, create_app
from crispml.spec import spec_from_dict

N_ROWS, N_PLANTED = 800, 32


def planted(seed: int = 0) -> pd.DataFrame:
    """Normal rows on a correlated cloud; planted outliers break the correlation."""
    rng = np.random.default_rng(seed)
    income = rng.normal(50, 10, N_ROWS)
    spend = 0.6 * income + rng.normal(0, 3, N_ROWS)
    region = rng.choice(["north", "south", "east"], N_ROWS)
    outlier = np.zeros(N_ROWS, dtype=bool)
    outlier[rng.choice(N_ROWS, N_PLANTED, replace=False)] = True
    spend[outlier] = 0.6 * income[outlier] + rng.choice([-1, 1], N_PLANTED) * rng.uniform(
        12, 25, N_PLANTED
    )
    frame = pd.DataFrame({"income": income.round(2), "spend": spend.round(2), "region": region})
    frame["fraud"] = np.where(outlier, "yes", "no")
    return frame


def _spec(labelled: bool, **search):
    problem = {"task": "anomaly", "contamination": 0.04}
    if labelled:
        problem |= {
            "target": "fraud",
            "positive_label": "yes",
            "success_criteria": {"average_precision": ">= 0.3", "rank_stability": ">= 0.5"},
        }
    return spec_from_dict(
        {
            "name": "planted",
            "problem": problem,
            "data": {"source": "inline"},
            "search": {"max_trials": 5, "deterministic": True, **search},
            "evaluation": {"bootstrap": 200},
            "tracking": {"enabled": False},
        },
        source="test",
    )


def _file_run(base):
    """A labelled run from a CSV file in ``base`` (replayable), without deployment."""
    planted().to_csv(base / "planted.csv", index=False)
    raw = _spec(True).model_dump(mode="json", exclude_none=True)
    raw["data"]["source"] = "planted.csv"
    raw["deployment"] = {"format": "none"}
    return Project(spec_from_dict(raw), base_dir=base).run()


@pytest.fixture(scope="module")
def labelled_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("labelled")
    return Project(_spec(True), base_dir=base, data=planted()).run()


@pytest.fixture(scope="module")
def unlabelled_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("unlabelled")
    data = planted().drop(columns="fraud")
    return Project(_spec(False), base_dir=base, data=data).run()


@pytest.mark.slow
def test_labelled_run_finds_the_planted_outliers_with_intervals(labelled_run):
    result = AnomalyEvaluation.read(labelled_run.path)
    assert result.labelled and result.primary_metric == "average_precision"
    assert result.detector in {"isolation_forest", "local_outlier_factor", "one_class_svm"}
    auc, ap, pk = (result.test[m] for m in ("roc_auc", "average_precision", "precision_at_k"))
    assert auc.estimate > 0.9 and ap.estimate > 0.5 and pk.estimate > 0.5
    for est in (auc, ap, pk):
        assert est.low <= est.estimate <= est.high
    assert result.k == round(0.04 * result.distribution.n)
    board = labelled_run.leaderboard
    assert board["selected"].sum() == 1 and len(board) == 5  # max_trials configurations
    chosen = board.loc[board["selected"]].iloc[0]
    assert chosen["valid_score"] == board["valid_score"].max()  # chosen on validation


@pytest.mark.slow
def test_labelled_run_serves_score_and_flag_with_onnx_parity(labelled_run):
    parity = json.loads((labelled_run.path / "deploy/parity.json").read_text())
    assert parity["passed"] and parity["task"] == "anomaly"
    assert parity["max_abs_prob_diff"] < 1e-4
    served = ServingModel.from_bundle(labelled_run.path)
    assert served.task == "anomaly"
    frame = planted()
    normal = frame.loc[frame["fraud"] == "no"].iloc[0].drop("fraud").to_dict()
    strange = {"income": 50.0, "spend": 80.0, "region": "north"}
    client = TestClient(create_app(served))
    body = client.post("/v1/predict", json=[normal, strange]).json()
    rows = body["predictions"]
    assert rows[0]["prediction"] is False and rows[1]["prediction"] is True
    assert rows[1]["score"] > rows[0]["score"]
    native = labelled_run.predict_output(pd.DataFrame([normal, strange]))
    assert np.abs(native - [r["score"] for r in rows]).max() < 1e-4
    assert list(labelled_run.predict(pd.DataFrame([normal, strange]))) == [False, True]
    reasons = client.post("/v1/explain", json=strange).json()["reasons"]
    assert reasons[0]["column"] == "spend"
    metrics = client.get("/metrics").text
    assert 'crispml_predictions_total{label="True"} 1' in metrics
    assert 'crispml_predictions_total{label="False"} 1' in metrics


@pytest.mark.slow
def test_batch_scoring_file_carries_score_and_flag(labelled_run, tmp_path):
    from crispml.deploy import predict_file

    rows = planted().drop(columns="fraud").head(50)
    rows.to_csv(tmp_path / "new.csv", index=False)
    out = predict_file(labelled_run.path, tmp_path / "new.csv", tmp_path / "scored.csv")
    native = labelled_run.predict_output(rows)
    assert np.abs(out["score"].to_numpy() - native).max() < 1e-4
    assert (out["prediction"] == (native > 0)).all()


@pytest.mark.slow
def test_cli_init_without_target_then_run(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from crispml.cli import app

    monkeypatch.chdir(tmp_path)
    planted().drop(columns="fraud").to_csv("tx.csv", index=False)
    runner = CliRunner()
    init = runner.invoke(app, ["init", "tx.csv"])
    assert init.exit_code == 0 and "task: anomaly" in init.stdout
    run = runner.invoke(app, ["run", "crispml.yaml"])
    assert run.exit_code == 0, run.output
    assert "Detector:" in run.stdout and "stability over 5 seeds" in run.stdout
    (folder,) = (tmp_path / "runs").iterdir()
    assert verify_run(folder).ok


@pytest.mark.slow
def test_labelled_card_figures_verify(labelled_run):
    card = (labelled_run.path / "report/model_card.md").read_text()
    result = AnomalyEvaluation.read(labelled_run.path)
    assert "precision@k" in card and "Most anomalous test rows" in card
    assert result.top_rows[0].row_id in card
    assert labelled_run.path.name in card and "q000" in card
    assert labelled_run.verdict.overall == "go" and "Overall: go" in card
    assert {c.name for c in labelled_run.verdict.criteria} == {
        "average_precision",
        "rank_stability",
    }
    checked, bad = check_claims(labelled_run.path)
    assert checked >= 10 and bad == []
    assert verify_run(labelled_run.path).ok
    with pytest.raises(ReportError, match="anomaly-detection run"):
        write_report(labelled_run.path)
    assert verify_run(labelled_run.path).ok  # refused before anything was written


@pytest.mark.slow
def test_unlabelled_run_reports_distribution_stability_and_top_rows(unlabelled_run):
    result = AnomalyEvaluation.read(unlabelled_run.path)
    assert not result.labelled and result.test == {}
    assert result.detector == "isolation_forest"  # the first family: nothing to score on
    assert 0.0 < result.distribution.flagged_share < 0.15
    assert result.stability.spearman_min > 0.8 and len(result.stability.seeds) == 5
    assert len(result.top_rows) == min(result.k, 10)
    drivers = {d.column for row in result.top_rows for d in row.drivers[:1]}
    assert drivers <= {"income", "spend", "region"} and "spend" in drivers
    audit = json.loads((unlabelled_run.path / "audit/audit.json").read_text())
    assert audit["summary"]["task"] == "anomaly"
    assert not any(f["check"] in {"labels", "leakage", "target"} for f in audit["findings"])
    agreement = unlabelled_run.leaderboard["rank_agreement_with_delivered"]
    assert agreement.iloc[0] == pytest.approx(1.0)
    assert verify_run(unlabelled_run.path).ok


@pytest.mark.slow
def test_a_deterministic_anomaly_run_replays_identically(tmp_path):
    from crispml._replay import replay_run

    run = _file_run(tmp_path)
    replay = replay_run(run.path, workdir=tmp_path / "replay")
    assert replay.identical and replay.data_matches and replay.n_rows == 160


@pytest.mark.slow
def test_labelled_run_writes_the_html_report_through_the_ledger(labelled_run):
    from crispml.report._claims import fmt

    path = labelled_run.path
    html = (path / "report/report.html").read_text()
    assert "default-src 'none'" in html and "<svg" in html  # self-contained, with the histogram
    assert "Detectors compared" in html and "Most anomalous test rows" in html
    result = AnomalyEvaluation.read(path)
    for name in ("roc_auc", "average_precision", "precision_at_k"):
        est = result.test[name]
        assert f"{fmt(est.low)} to {fmt(est.high)}" in html
    assert result.top_rows[0].row_id in html
    ledger = json.loads((path / "report/claims.json").read_text())
    report_claims = [c for c in ledger["claims"] if c["document"] == "report"]
    assert {c["field"] for c in report_claims} >= {"test.roc_auc.low", "stability.spearman_min"}
    assert any(c["artifact"] == "leaderboard.csv" for c in report_claims)
    assert set(json.loads((path / "manifest.json").read_text())["artifacts"]) >= {
        "report/report.html",
        "reproduce.sh",
        "budget.json",
    }


@pytest.mark.slow
def test_a_figure_edited_in_the_report_is_caught(labelled_run, tmp_path):
    import shutil

    from crispml.report._claims import fmt

    copy = tmp_path / labelled_run.path.name
    shutil.copytree(labelled_run.path, copy)
    auc = fmt(AnomalyEvaluation.read(copy).test["roc_auc"].estimate)
    html = copy / "report/report.html"
    html.write_text(html.read_text().replace(f"<td>{auc}</td>", "<td>0.9999</td>"))
    _, bad = check_claims(copy)
    assert [(b.document, b.label) for b in bad] == [("report", "roc_auc estimate")]


@pytest.mark.slow
def test_anomaly_runs_record_every_phase_in_the_budget(labelled_run, unlabelled_run):
    from crispml.search import RunBudget

    for run in (labelled_run, unlabelled_run):
        budget = RunBudget.read(run.path)
        ran = ("setup", "load", "split", "audit", "search", "evaluation", "deployment", "verdict")
        assert all(budget.phases[p].used_s is not None for p in (*ran, "report")), budget.phases
        assert budget.phases["search"].planned_s > 0 and budget.rows == N_ROWS
        assert budget.search_stages["trials"].used_s > 0
        assert sum(budget.trials.values()) == len(run.leaderboard)
        assert budget.elapsed_s >= sum(budget.phases[p].used_s for p in ran) - 1e-6


@pytest.mark.slow
def test_anomaly_reproduce_script_reruns_the_engagement(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    run = _file_run(tmp_path)
    script = run.path / "reproduce.sh"
    assert os.access(script, os.X_OK) and "data/snapshot/planted.csv" in script.read_text()
    crispml = Path(sys.executable).parent / "crispml"
    env = {**os.environ, "CRISPML_SKIP_INSTALL": "1", "CRISPML": str(crispml),
           "CRISPML_REPRODUCE_DIR": str(tmp_path / "work")}  # fmt: skip
    done = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    (rerun,) = (tmp_path / "work" / "runs").iterdir()
    first, again = AnomalyEvaluation.read(run.path), AnomalyEvaluation.read(rerun)
    assert again.detector == first.detector and again.test == first.test
    assert verify_run(rerun).ok
