"""/v1/rank belongs to ranking models: any other model answers with a one-line 422."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crispml.serve import ServingModel, create_app


def test_rank_on_a_classifier_points_to_predict(run_dir, loans):
    client = TestClient(create_app(ServingModel.from_bundle(run_dir)))
    record = loans.drop(columns="deny").iloc[0].to_dict()
    response = client.post("/v1/rank", json={"candidates": [record]})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (
        error["msg"] == "this model is a binary model, not a ranker: send records to /v1/predict"
    )
    assert "/v1/rank" in client.get("/openapi.json").json()["paths"]
