"""Adverse-action reasons at serving: exact, adverse only, plain words, missing apart, logged."""

from __future__ import annotations

import json
import sqlite3

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from crispml import Run
from crispml.data import Schema, conform
from crispml.deploy._latency import running_server
from crispml.evaluate._attribution import attribute, decompose
from crispml.serve import ServeSettings, ServingModel, app_from_bundle, create_app
from crispml.serve._attribution import NO_ADVERSE_ACTION, Attributor, statement

RISKY = {"income": 15.0, "debt": 0.95, "region": "north", "owner": "no"}
SAFE = {"income": 190.0, "debt": 0.05, "region": "east", "owner": "yes"}


@pytest.fixture(scope="module")
def served(run_dir):
    return ServingModel.from_bundle(run_dir)


@pytest.fixture(scope="module")
def app_and_log(served, tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "log.sqlite"
    return create_app(served, ServeSettings(log_path=str(log), log_sample_rate=0.0)), log


def test_bundle_ships_the_material_and_pins_shap_apart_for_trees(run_dir, served):
    assert served.attribution is not None
    trees = any(m["kind"] == "tree" for m in served.attribution.meta["members"])
    extra = run_dir / "deploy/requirements-explain.txt"
    assert extra.is_file() == trees
    assert not trees or extra.read_text().startswith("shap==")
    assert "shap" not in (run_dir / "deploy/requirements.txt").read_text()  # predict stays lean
    docker = (run_dir / "deploy/Dockerfile").read_text()
    assert "model/attribution.npz" in docker
    assert ("-r deploy/requirements-explain.txt" in docker) == trees


def test_without_shap_explain_says_what_to_install(run_dir, monkeypatch):
    def no_shap(self, *args):
        raise ImportError("No module named 'shap'")

    monkeypatch.setattr(Attributor, "warm", no_shap)
    monkeypatch.setattr(Attributor, "contributions", no_shap)
    with TestClient(create_app(ServingModel.from_bundle(run_dir))) as client:
        assert client.post("/v1/predict", json=RISKY).status_code == 200
        reply = client.post("/v1/explain", json=RISKY)
    assert reply.status_code == 501
    assert "pip install -r deploy/requirements-explain.txt" in reply.json()["detail"][0]["msg"]


def test_adverse_decision_gets_only_positive_reasons_and_a_logged_id(app_and_log):
    app, log = app_and_log
    with TestClient(app) as client:
        body = client.post("/v1/explain", json=RISKY).json()
        again = client.post("/v1/explain", json=RISKY).json()
    assert body["prediction"] == "yes" and body["adverse_action"] is True
    reasons = body["reasons"]
    assert reasons and all(r["contribution"] > 0 for r in reasons)
    sizes = [r["contribution"] for r in reasons]
    assert sizes == sorted(sizes, reverse=True)
    assert {r["column"] for r in reasons} <= set(RISKY)
    assert all(r["statement"] for r in reasons)
    assert body["decision_id"] != again["decision_id"]
    with sqlite3.connect(log) as conn:  # sample rate 0: explained decisions are still logged
        rows = conn.execute("SELECT endpoint, prediction FROM inference_log").fetchall()
    logged = [json.loads(p)["decision_id"] for e, p in rows if e == "explain"]
    assert logged == [body["decision_id"], again["decision_id"]]


def test_favourable_decision_gets_no_reasons(served):
    out = served.explain(SAFE)
    assert out["prediction"] == "no" and out["adverse_action"] is False
    assert out["reasons"] == [] and out["note"] == NO_ADVERSE_ACTION


def test_missing_input_is_missing_never_a_reason(served):
    out = served.explain({**RISKY, "debt": None})
    assert "debt" in out["missing"]
    assert "debt" not in {r["column"] for r in out["reasons"]}
    assert all(r["contribution"] > 0 for r in out["reasons"])


def test_statements_come_from_the_spec(served, monkeypatch):
    text = "Debt payments are high relative to income ({value})"
    monkeypatch.setitem(served.attribution.statements, "debt", text)
    reasons = served.explain(RISKY)["reasons"]
    by_column = {r["column"]: r["statement"] for r in reasons}
    assert by_column["debt"] == "Debt payments are high relative to income (0.95)"
    others = [s for c, s in by_column.items() if c != "debt"]
    assert all("weighed toward 'yes'" in s for s in others)


def test_serving_attributions_equal_the_batch_attributions(run_dir, served, loans):
    run = Run(run_dir)
    model = run._load()  # the fitted model as evaluated (reads the run's own skops file)
    schema = Schema.from_dict(run._contract["schema"])
    rows = loans.drop(columns="deny").head(40)
    X = conform(rows, schema)
    train = json.loads((run_dir / "data/split.json").read_text())["train"]
    background = conform(loans.iloc[train], schema)  # the training rows, as at deployment
    batch = attribute(decompose(model, background, task="binary"), X)
    checked = served.contract.check(
        rows.astype(object).where(rows.notna(), None).to_dict("records"), impute=True
    )
    values, base = served.attribution.contributions(checked.inputs)
    np.testing.assert_allclose(values, batch.values, atol=1e-5)
    np.testing.assert_allclose(base, batch.base, atol=1e-5)


def test_small_perturbations_keep_the_top_reason(served, loans):
    rng = np.random.default_rng(0)
    frame = loans.drop(columns="deny").dropna()
    adverse, kept = 0, 0
    for record in frame.head(120).to_dict("records"):
        out = served.explain(record)
        if not out["reasons"]:
            continue
        nudged = {
            **record,
            "income": record["income"] * (1 + rng.normal(0, 0.01)),
            "debt": float(np.clip(record["debt"] + rng.normal(0, 0.005), 0, 1)),
        }
        other = served.explain(nudged)["reasons"]
        adverse += 1
        kept += bool(other) and other[0]["column"] == out["reasons"][0]["column"]
    assert adverse >= 10
    assert kept / adverse >= 0.8


@pytest.mark.integration
def test_real_server_logs_every_explained_decision_with_its_id(run_dir, tmp_path):
    log = tmp_path / "inference.sqlite"
    app = app_from_bundle(run_dir, ServeSettings(log_path=str(log)))
    with running_server(app) as url:
        risky = httpx.post(f"{url}/v1/explain", json=RISKY).json()
        safe = httpx.post(f"{url}/v1/explain", json=SAFE).json()
    assert risky["adverse_action"] and risky["reasons"]
    assert not safe["adverse_action"] and safe["reasons"] == []
    with sqlite3.connect(log) as conn:  # the server's shutdown closed (flushed) the log
        rows = conn.execute("SELECT prediction FROM inference_log WHERE endpoint = 'explain'")
        logged = {json.loads(r[0])["decision_id"]: json.loads(r[0]) for r in rows}
    assert set(logged) == {risky["decision_id"], safe["decision_id"]}
    assert logged[risky["decision_id"]]["reasons"] == risky["reasons"]


def test_a_model_without_material_answers_501_after_checking_the_record(run_dir):
    document = json.loads((run_dir / "model/contract.json").read_text())
    bare = ServingModel((run_dir / "model/model.onnx").read_bytes(), document)
    with TestClient(create_app(bare)) as client:
        missing = client.post("/v1/explain", json={"debt": 0.5})
        reply = client.post("/v1/explain", json=RISKY)
    assert missing.status_code == 422
    assert reply.status_code == 501
    assert "no exact attributions" in reply.json()["detail"][0]["msg"]


def test_serving_statements_follow_the_value_side_or_level():
    table = {"debt": {"high": "High debt ({value})", "low": "Low debt ({value})"}}
    table["region"] = {"north": "Region with more defaults"}
    assert statement("debt", 0.9, table, "yes", 0.5) == "High debt (0.9)"
    assert statement("debt", 0.1, table, "yes", 0.5) == "Low debt (0.1)"
    assert statement("region", "north", table, "yes") == "Region with more defaults"
    assert statement("region", "east", table, "yes") == "region of east weighed toward 'yes'"
    assert statement("owner_flag", "no", table, "yes") == "owner flag of no weighed toward 'yes'"
    assert statement("debt", 0.5, table, "yes", 0.5) == "debt of 0.5 weighed toward 'yes'"
