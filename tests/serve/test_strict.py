"""Issue 12: a strict contract, protected attributes ignored, logs outside the run, OpenAPI."""

from __future__ import annotations

import json
import sqlite3

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crispml.cli import app as cli
from crispml.data import conform, infer_schema
from crispml.deploy import build_contract
from crispml.deploy._latency import running_server
from crispml.report import verify_run
from crispml.serve import (
    BundleError,
    ServeSettings,
    ServingModel,
    app_from_bundle,
    create_app,
    default_log_path,
)
from crispml.serve._attribution import Attributor
from crispml.serve._openapi import ExplainResponse, MetadataResponse, PredictResponse
from crispml.serve._runtime import make_session
from crispml.serve._server import check_log_path

RECORD = {"income": 42.0, "debt": 0.7, "region": "north", "owner": "no"}
PROTECTED = "protected attribute, not a model input"


@pytest.fixture(scope="module")
def served(run_dir):
    """The run's model with a protected attribute 'sex' declared in its contract."""
    document = json.loads((run_dir / "model/contract.json").read_text())
    document["ignored"] = {**document["ignored"], "sex": PROTECTED}
    model = ServingModel((run_dir / "model/model.onnx").read_bytes(), document, version="t")
    model.attribution = Attributor.from_files(run_dir, make_session)  # the run's material
    return model


@pytest.fixture(scope="module")
def client(served):
    with TestClient(create_app(served)) as c:
        yield c


def _locs(reply):
    return {tuple(e["loc"]) for e in reply.json()["detail"]}


def test_contract_requires_the_columns_complete_in_training(run_dir, loans):
    contract = json.loads((run_dir / "model/contract.json").read_text())
    assert (
        loans["debt"].isna().any() and not loans[["income", "region", "owner"]].isna().any().any()
    )
    assert contract["required"] == ["income", "region", "owner"]
    assert contract["ignored"] == {"deny": "the target, not a model input"}
    assert contract["on_unknown"] == "reject"


def test_empty_and_partial_records_get_422_naming_the_fields(client):
    reply = client.post("/v1/predict", json={})
    assert reply.status_code == 422
    assert _locs(reply) == {("body", 0, "income"), ("body", 0, "region"), ("body", 0, "owner")}
    assert "?on_missing=impute" in reply.json()["detail"][0]["msg"]
    partial = client.post("/v1/predict", json={"income": 42.0})
    assert _locs(partial) == {("body", 0, "region"), ("body", 0, "owner")}
    empty_batch = client.post("/v1/predict", json=[])
    assert empty_batch.status_code == 422 and empty_batch.json()["detail"][0]["type"] == "empty"


def test_missing_optional_column_is_scored_and_named(client):
    (row,) = client.post("/v1/predict", json={**RECORD, "debt": None}).json()["predictions"]
    assert row["imputed"] == ["debt"] and row["warnings"] == ["imputed (missing): debt"]


def test_impute_opt_in_scores_with_a_warning_on_every_row(client):
    reply = client.post("/v1/predict?on_missing=impute", json=[{}, {"income": 42.0}])
    assert reply.status_code == 200
    rows = reply.json()["predictions"]
    assert rows[0]["imputed"] == ["income", "debt", "region", "owner"]
    assert rows[1]["warnings"] == ["imputed (missing): debt, region, owner"]
    bad = client.post("/v1/predict?on_missing=maybe", json=RECORD)
    assert bad.status_code == 422 and _locs(bad) == {("query", "on_missing")}


def test_spec_impute_makes_no_column_required(loans):
    schema = infer_schema(loans, target="deny")
    strict = build_contract(schema, conform(loans, schema))
    lenient = build_contract(schema, conform(loans, schema), on_missing="impute")
    assert strict.required == ["income", "region", "owner"] and lenient.required == []


def test_unknown_field_is_422_unless_warn(client):
    reply = client.post("/v1/predict", json={**RECORD, "Income": 42.0})
    assert reply.status_code == 422 and _locs(reply) == {("body", 0, "Income")}
    assert reply.json()["detail"][0]["type"] == "unknown_field"
    (row,) = client.post("/v1/predict?on_unknown=warn", json={**RECORD, "Income": 1}).json()[
        "predictions"
    ]
    assert row["ignored"] == ["Income"]


def test_booleans_are_refused_where_training_saw_none(client):
    reply = client.post("/v1/predict", json={**RECORD, "owner": True})
    assert reply.status_code == 422 and _locs(reply) == {("body", 0, "owner")}
    assert "levels seen in training: no, yes" in reply.json()["detail"][0]["msg"]


def test_protected_attribute_is_ignored_said_and_never_logged(served, tmp_path):
    log = tmp_path / "log.sqlite"
    with TestClient(create_app(served, ServeSettings(log_path=str(log)))) as c:
        plain = c.post("/v1/predict", json=RECORD).json()["predictions"][0]
        reply = c.post("/v1/predict", json={**RECORD, "sex": "female"})
    (row,) = reply.json()["predictions"]
    assert row["probability"] == plain["probability"]
    assert row["ignored"] == ["sex"] and row["warnings"][0].startswith(f"sex: {PROTECTED}")
    with sqlite3.connect(log) as conn:
        stored = conn.execute("SELECT record FROM inference_log").fetchall()
    assert len(stored) == 2 and all(json.loads(r[0]) == RECORD for r in stored)
    assert "female" not in log.read_bytes().decode("latin-1")


def test_protected_columns_are_declared_by_build_contract(loans):
    frame = loans.assign(sex=["f", "m"] * (len(loans) // 2))
    schema = infer_schema(frame, target="deny", drop=["sex"])
    contract = build_contract(schema, conform(frame, schema), protected=("sex",))
    assert "sex" not in contract.names and contract.ignored["sex"] == PROTECTED


def test_responses_match_their_documented_models(client):
    PredictResponse.model_validate(client.post("/v1/predict", json=[RECORD]).json())
    ExplainResponse.model_validate(client.post("/v1/explain", json=RECORD).json())
    MetadataResponse.model_validate(client.get("/v1/metadata").json())


def test_openapi_states_exact_types_responses_and_the_key(client):
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/v1/predict"]["post"]
    assert {"200", "401", "413", "422"} <= set(post["responses"])
    assert post["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PredictResponse"
    }
    assert post["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    assert post["security"] == [{"ApiKey": []}]
    assert spec["components"]["securitySchemes"]["ApiKey"]["name"] == "X-API-Key"
    record = spec["paths"]["/v1/explain"]["post"]["requestBody"]["content"]["application/json"]
    props = record["schema"]["properties"]
    assert props["income"]["type"] == "number" and props["debt"]["type"] == ["number", "null"]
    assert props["region"]["type"] == "string"
    assert record["schema"]["required"] == ["income", "region", "owner"]
    assert record["schema"]["additionalProperties"] is False
    for path in ("/v1/explain", "/v1/metadata"):
        method = next(iter(spec["paths"][path].values()))
        assert "200" in method["responses"] and "401" in method["responses"]


def test_docs_are_served_from_installed_files(client):
    html = client.get("/docs").text
    assert "/docs/static/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    script = client.get("/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert client.get("/docs/static/swagger-ui.css").status_code == 200


def test_default_log_is_outside_the_run_and_verify_stays_green(run_dir):
    log = default_log_path(run_dir)
    assert run_dir.resolve() not in log.parents
    assert log.parts[-4:-1] == (".crispml", "serving", run_dir.name)
    with pytest.raises(BundleError, match="inside the run folder"):
        check_log_path(run_dir, run_dir / "logs" / "inference.sqlite")
    app = app_from_bundle(run_dir, ServeSettings(log_path=str(log)))
    with running_server(app) as url:
        assert httpx.post(f"{url}/v1/predict", json=RECORD).status_code == 200
        assert httpx.post(f"{url}/v1/predict", json={}).status_code == 422
    assert log.is_file()
    result = verify_run(run_dir)
    assert result.ok, (result.extra, result.missing, result.differing)


def test_dockerfile_declares_volume_healthcheck_and_logs_there(run_dir):
    docker = (run_dir / "deploy/Dockerfile").read_text()
    assert 'VOLUME ["/var/lib/crispml/serving"]' in docker
    assert "HEALTHCHECK" in docker and "/v1/ready" in docker
    assert '"--log-path", "/var/lib/crispml/serving/inference.sqlite"' in docker


def test_predict_command_refuses_a_file_without_a_required_column(run_dir, loans, tmp_path):
    source = tmp_path / "in.csv"
    loans.drop(columns=["deny", "owner"]).head(20).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    runner = CliRunner()
    result = runner.invoke(cli, ["predict", str(run_dir), str(source), "-o", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert "required column(s) owner absent" in result.output
    assert "--on-missing impute" in result.output
    args = ["predict", str(run_dir), str(source), "-o", str(out), "--on-missing", "impute"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert scored["warnings"].str.contains("imputed \\(missing\\):.*owner").all()
