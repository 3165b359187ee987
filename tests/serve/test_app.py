"""The REST service on a real run folder: predict, explain, 422/413/401, metrics, log, hashes."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from fastapi.testclient import TestClient

from crispml import Run
from crispml.serve import BundleError, ServeSettings, ServingModel, app_from_bundle, create_app

RECORD = {"income": 42.0, "debt": 0.7, "region": "north", "owner": "no"}


@pytest.fixture(scope="module")
def client(run_dir):
    with TestClient(app_from_bundle(run_dir, ServeSettings(max_batch=5))) as c:
        yield c


def test_predict_one_record_matches_the_native_model(client, run_dir, loans):
    reply = client.post("/v1/predict", json=RECORD)
    assert reply.status_code == 200
    body = reply.json()
    (row,) = body["predictions"]
    assert body["model_version"].startswith(run_dir.name + ":")
    native = Run(run_dir).predict_output(loans.head(0).reindex([0]).assign(**RECORD))[0, 1]
    assert row["probability"] == pytest.approx(native, abs=1e-4)
    assert row["decision"] == (row["probability"] >= row["threshold"])
    assert row["prediction"] == ("yes" if row["decision"] else "no")
    assert set(row["probabilities"]) == {"no", "yes"}


def test_predict_a_list(client, loans):
    records = loans.drop(columns="deny").head(3).to_dict("records")
    rows = client.post("/v1/predict", json=records).json()["predictions"]
    assert len(rows) == 3 and all(0 <= r["probability"] <= 1 for r in rows)


def test_bad_field_gives_422_naming_it(client):
    reply = client.post("/v1/predict", json=[RECORD, {**RECORD, "income": "lots"}])
    assert reply.status_code == 422
    (error,) = reply.json()["detail"]
    assert error["loc"] == ["body", 1, "income"]
    assert error["msg"] == "expected a number, got 'lots'"


def test_invalid_json_gives_422(client):
    reply = client.post("/v1/predict", content=b"{not json", headers={"content-type": "x"})
    assert reply.status_code == 422 and reply.json()["detail"][0]["type"] == "json_invalid"


def test_batch_and_body_limits_give_413(client, run_dir):
    assert client.post("/v1/predict", json=[RECORD] * 6).status_code == 413
    small = create_app(ServingModel.from_bundle(run_dir), ServeSettings(max_body_bytes=100))
    with TestClient(small) as other:
        reply = other.post("/v1/predict", json=[RECORD] * 3)
    assert (
        reply.status_code == 413 and "exceeds the limit of 100" in reply.json()["detail"][0]["msg"]
    )


def test_unseen_category_is_accepted_with_a_warning(client):
    (row,) = client.post("/v1/predict", json={**RECORD, "region": "mars"}).json()["predictions"]
    assert any("region: category 'mars' was not seen" in w for w in row["warnings"])


def test_explain_answers_one_record_with_the_served_decision(client):
    body = client.post("/v1/explain", json=RECORD).json()
    row = client.post("/v1/predict", json=RECORD).json()["predictions"][0]
    assert body["probability"] == pytest.approx(row["probability"])
    assert body["adverse_action"] == (row["prediction"] == "yes")
    assert all(r["contribution"] > 0 for r in body["reasons"])
    assert client.post("/v1/explain", json=[RECORD]).status_code == 422


def test_health_ready_metadata_and_docs(client, run_dir):
    assert client.get("/v1/health").json() == {"status": "ok"}
    assert client.get("/v1/ready").json()["ready"] is True
    meta = client.get("/v1/metadata").json()
    assert meta["task"] == "binary" and meta["classes"] == ["no", "yes"]
    names = [c["name"] for c in meta["input_contract"]["columns"]]
    assert names == ["income", "debt", "region", "owner"]
    assert meta["card"]["project"] == "loans" and "roc_auc" in meta["card"]["test_metrics"]
    spec = client.get("/openapi.json").json()
    assert {"/v1/predict", "/v1/explain", "/v1/metadata"} <= set(spec["paths"])
    assert "income" in json.dumps(spec["paths"]["/v1/predict"])


def test_metrics_count_requests_latency_and_predictions(client):
    before = client.get("/metrics").text
    client.post("/v1/predict", json=[RECORD, RECORD])
    text = client.get("/metrics").text
    assert 'crispml_requests_total{path="/v1/predict",status="200"}' in text
    assert 'crispml_request_latency_seconds_bucket{path="/v1/predict",le="+Inf"}' in text
    assert "crispml_prediction_score_count" in text

    def count(body):
        line = next(x for x in body.splitlines() if x.startswith("crispml_prediction_score_count"))
        return int(line.split()[-1])

    assert count(text) == count(before) + 2


def test_api_key_from_environment(run_dir, monkeypatch):
    monkeypatch.setenv("TEST_CRISPML_KEY", "s3cret")
    app = app_from_bundle(run_dir, ServeSettings(api_key_env="TEST_CRISPML_KEY"))
    with TestClient(app) as c:
        assert c.post("/v1/predict", json=RECORD).status_code == 401
        assert c.post("/v1/predict", json=RECORD, headers={"X-API-Key": "no"}).status_code == 401
        ok = c.post("/v1/predict", json=RECORD, headers={"X-API-Key": "s3cret"})
        assert ok.status_code == 200
        assert c.get("/v1/health").status_code == 200


def test_sampled_inference_log(run_dir, tmp_path):
    log = tmp_path / "log.sqlite"
    app = app_from_bundle(run_dir, ServeSettings(log_path=str(log), log_sample_rate=1.0))
    with TestClient(app) as c:
        c.post("/v1/predict", json=[RECORD, {**RECORD, "income": 150.0}])
    with sqlite3.connect(log) as conn:
        rows = conn.execute("SELECT endpoint, record, prediction FROM inference_log").fetchall()
    assert len(rows) == 2 and rows[0][0] == "predict"
    assert json.loads(rows[1][1])["income"] == 150.0
    assert "probability" in json.loads(rows[1][2])
    off = app_from_bundle(
        run_dir, ServeSettings(log_path=str(tmp_path / "off.sqlite"), log_sample_rate=0.0)
    )
    with TestClient(off) as c:
        c.post("/v1/predict", json=RECORD)
    with sqlite3.connect(tmp_path / "off.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM inference_log").fetchone()[0] == 0


@pytest.mark.parametrize(
    "victim", ["model/model.onnx", "model/contract.json", "deploy/runtime/crispml/serve/_app.py"]
)
def test_tampered_bundle_is_refused(run_dir, tmp_path, victim):
    copy = tmp_path / "bundle"
    shutil.copytree(run_dir, copy)
    with (copy / victim).open("ab") as handle:
        handle.write(b" ")
    with pytest.raises(BundleError, match=f"{victim} does not match its sha256"):
        app_from_bundle(copy)


def test_incomplete_bundle_is_refused(run_dir, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(run_dir, copy)
    (copy / "model/model.onnx").unlink()
    with pytest.raises(BundleError, match=r"model/model\.onnx is missing"):
        app_from_bundle(copy)
    with pytest.raises(BundleError, match=r"no manifest\.json"):
        app_from_bundle(tmp_path)
