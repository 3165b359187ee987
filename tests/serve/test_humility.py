"""Issue 12 item 5: each response says whether the row is out of the training distribution."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from crispml.serve import DensityCheck, ServeSettings, app_from_bundle, density_profile

RECORD = {"income": 42.0, "debt": 0.7, "region": "north", "owner": "no"}


@pytest.fixture(scope="module")
def client(run_dir):
    with TestClient(app_from_bundle(run_dir, ServeSettings())) as c:
        yield c


def _row(client, record, query=""):
    reply = client.post(f"/v1/predict{query}", json=record)
    assert reply.status_code == 200, reply.text
    return reply.json()["predictions"][0]


def test_typical_row_is_in_distribution(client):
    row = _row(client, RECORD)
    assert row["out_of_distribution"] is False and row["ood_reasons"] == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"income": 5000.0}, "income: 5000.0 is outside the observed range"),
        ({"region": "mars"}, "region: category 'mars' was not seen in training"),
    ],
)
def test_unusual_rows_are_flagged_with_the_reason(client, change, reason):
    row = _row(client, {**RECORD, **change})
    assert row["out_of_distribution"] is True
    assert any(r.startswith(reason) for r in row["ood_reasons"]), row["ood_reasons"]


def test_refuse_option_gives_422_with_the_reason(client):
    query = "?refuse_out_of_distribution=true"
    reply = client.post(f"/v1/predict{query}", json=[RECORD, {**RECORD, "income": 5000.0}])
    assert reply.status_code == 422
    (error,) = reply.json()["detail"]
    assert error["loc"] == ["body", 1] and error["type"] == "out_of_distribution"
    assert "income: 5000.0 is outside" in error["msg"]
    assert _row(client, RECORD, query)["out_of_distribution"] is False


def test_metadata_states_the_checks_and_the_certified_coverage(client):
    meta = client.get("/v1/metadata").json()
    assert meta["out_of_distribution"]["quantile"] == 0.995
    assert meta["conformal"]["nominal"] == pytest.approx(0.9)
    assert 0 < meta["conformal"]["empirical"] <= 1


def test_low_density_catches_a_combination_each_column_allows():
    rng = np.random.default_rng(1)
    x = rng.normal(size=2000)
    y = x + rng.normal(scale=0.2, size=2000)
    levels = np.array(["a"] * 1995 + ["b"] * 5)
    check = DensityCheck.from_dict(density_profile({"x": x, "y": y}, {"c": levels}))
    assert check.rare == {"c": frozenset({"b"})}
    inputs = {
        "x": np.array([[1.5], [1.5], [0.0]]),
        "y": np.array([[1.5], [-1.5], [0.0]]),
        "c": np.array([["a"], ["a"], ["b"]], dtype=object),
    }
    reasons = check.reasons(inputs)
    assert reasons[0] == []
    assert reasons[1][0].startswith("low-density region: Mahalanobis distance")
    assert reasons[2] == ["c: level 'b' was rare in training (under 0.5% of rows)"]
    flagged = np.mean([bool(r) for r in check.reasons({"x": x[:, None], "y": y[:, None]})])
    assert flagged == pytest.approx(0.005, abs=0.003)  # the stated training quantile


def test_each_row_carries_its_conformal_set_at_the_certified_coverage(run_dir, loans):
    import json

    from crispml.deploy import frame_records
    from crispml.serve import ServingModel

    served = ServingModel.from_bundle(run_dir)
    conformal = json.loads((run_dir / "evaluation/conformal.json").read_text())
    test = json.loads((run_dir / "data/split.json").read_text())["test"]
    rows = loans.iloc[test]
    names = [c.name for c in served.contract.columns]
    predictions = served.predict(frame_records(rows[names]), impute=True)
    covered = [
        str(t) in p["prediction_set"] for t, p in zip(rows["deny"], predictions, strict=True)
    ]
    assert np.mean(covered) == pytest.approx(conformal["empirical"], abs=0.02)
    assert served.metadata()["conformal"]["qhat"] == conformal["qhat"]
    for p in predictions:
        assert p["prediction_set"] == [
            c for c, q in p["probabilities"].items() if q >= 1 - conformal["qhat"]
        ]
