"""Bad requests against the real service (uvicorn on 127.0.0.1), and bad ``crispml predict``
inputs: a 4xx naming the field, or 200 with a documented warning; never a 5xx."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from crispml import Project
from crispml.cli import app as cli
from crispml.deploy._latency import running_server
from crispml.serve import ServeSettings, app_from_bundle
from crispml.spec import spec_from_dict
from tests.badinputs._files import FAST, frame

GOOD = {"x": 0.1, "z": 0.5, "city": "north"}


@pytest.fixture(scope="session")
def bundle(tmp_path_factory) -> Path:
    """One small finished run with a protected attribute ``sex`` (built once)."""
    table = frame(160).assign(sex=["f", "m"] * 80)
    spec = spec_from_dict(
        {
            "name": "corpus",
            "problem": {"task": "binary", "target": "y", "positive_label": "yes"},
            "data": {"source": "data.csv"},
            "fairness": {"protected": ["sex"]},
            **FAST,
        },
        source="test",
    )
    base = tmp_path_factory.mktemp("corpus-project")
    return Project(spec, base_dir=base, data=table).run().path


@pytest.fixture(scope="module")
def service(bundle, tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "inference.sqlite"
    app = app_from_bundle(bundle, ServeSettings(log_path=str(log), max_batch=1000))
    with running_server(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client, log


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


# name -> (path, raw body, expected status, a location that must be named (or None))
REQUESTS: dict[str, tuple[str, bytes, int, tuple[Any, ...] | None]] = {
    "empty object": ("/v1/predict", b"{}", 422, ("body", 0, "x")),
    "partial record": ("/v1/predict", _json({"x": 1.0}), 422, ("body", 0, "city")),
    "misspelt field": ("/v1/predict", _json({**GOOD, "City": "x"}), 422, ("body", 0, "City")),
    "extra field": ("/v1/predict", _json({**GOOD, "income": 3}), 422, ("body", 0, "income")),
    "string for a number": ("/v1/predict", _json({**GOOD, "x": "abc"}), 422, ("body", 0, "x")),
    "numeric string": ("/v1/predict", _json({**GOOD, "x": "1.5"}), 422, ("body", 0, "x")),
    "boolean for a category": (
        "/v1/predict",
        _json({**GOOD, "city": True}),
        422,
        ("body", 0, "city"),
    ),
    "number for a category": ("/v1/predict", _json({**GOOD, "city": 3}), 422, ("body", 0, "city")),
    "list as a value": ("/v1/predict", _json({**GOOD, "x": [1]}), 422, ("body", 0, "x")),
    "object as a value": (
        "/v1/predict",
        _json({**GOOD, "city": {"a": 1}}),
        422,
        ("body", 0, "city"),
    ),
    "null for a required field": (
        "/v1/predict",
        _json({**GOOD, "x": None}),
        422,
        ("body", 0, "x"),
    ),
    "NaN in JSON": (
        "/v1/predict",
        b'{"x": NaN, "z": 0.5, "city": "north"}',
        422,
        ("body", 0, "x"),
    ),
    "Infinity in JSON": (
        "/v1/predict",
        b'{"x": Infinity, "z": 0.5, "city": "north"}',
        422,
        ("body", 0, "x"),
    ),
    "invalid JSON": ("/v1/predict", b"{not json", 422, ("body",)),
    "empty body": ("/v1/predict", b"", 422, ("body",)),
    "JSON number": ("/v1/predict", b"42", 422, ("body", 0)),
    "JSON string": ("/v1/predict", b'"x"', 422, ("body", 0)),
    "JSON null": ("/v1/predict", b"null", 422, ("body", 0)),
    "list of non-objects": ("/v1/predict", b"[1, 2]", 422, ("body", 1)),
    "deeply nested JSON": ("/v1/predict", _deep(100_000), 422, ("body",)),
    "50 MB body": ("/v1/predict", b"[" + b" " * 50_000_000 + b"]", 413, ("body",)),
    "100,000 rows in one batch": ("/v1/predict", _json([GOOD] * 100_000), 413, ("body",)),
    "1,001 rows (batch limit)": ("/v1/predict", _json([{}] * 1001), 413, ("body",)),
    "unicode field name": ("/v1/predict", _json({**GOOD, "ville_été": "北"}), 422, None),
    "bad query option": (
        "/v1/predict?on_missing=maybe",
        _json(GOOD),
        422,
        ("query", "on_missing"),
    ),
    "explain a list": ("/v1/explain", _json([GOOD]), 422, ("body",)),
    "explain an empty object": ("/v1/explain", b"{}", 422, ("body", 0, "x")),
    "unseen unicode category": ("/v1/predict", _json({**GOOD, "city": "東🙂"}), 200, None),
    "number far out of range": ("/v1/predict", _json({**GOOD, "x": 1e308}), 200, None),
    "protected attribute sent": ("/v1/predict", _json({**GOOD, "sex": "f"}), 200, None),
    "empty list": ("/v1/predict", b"[]", 422, ("body",)),
}


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_bad_request_is_a_4xx_naming_the_field(service, name):
    client, _ = service
    path, body, status, loc = REQUESTS[name]
    reply = client.post(path, content=body, headers={"content-type": "application/json"})
    assert reply.status_code == status, reply.text[:500]
    payload = reply.json()
    if status >= 400:
        details = payload["detail"]
        assert all(isinstance(d["msg"], str) and d["msg"] for d in details)
        if loc is not None:
            assert any(tuple(d["loc"][: len(loc)]) == loc for d in details), details
        return
    for row in payload["predictions"]:
        assert set(row) >= {"prediction", "warnings", "imputed", "ignored"}


def test_documented_warnings_of_accepted_surprises(service):
    client, log = service
    unseen = client.post("/v1/predict", json={**GOOD, "city": "東🙂"}).json()["predictions"][0]
    assert any("city: category '東🙂' was not seen" in w for w in unseen["warnings"])
    far = client.post("/v1/predict", json={**GOOD, "x": 1e308}).json()["predictions"][0]
    assert any(w.startswith("x: 1e+308 is outside the observed range") for w in far["warnings"])
    sent = client.post("/v1/predict", json={**GOOD, "sex": "female-marker"}).json()
    assert sent["predictions"][0]["ignored"] == ["sex"]
    client.get("/v1/health")
    rows = _logged(log)
    assert rows and not any("female-marker" in r or '"sex"' in r for r in rows)


def _logged(log: Path) -> list[str]:
    import time

    for _ in range(40):  # the log flushes in the background, at most once a second
        if log.exists():
            with sqlite3.connect(log) as conn:
                rows = [r[0] for r in conn.execute("SELECT record FROM inference_log")]
            if rows:
                return rows
        time.sleep(0.1)
    return []


PREDICT_FILES = {
    "required column absent": (lambda f: f.drop(columns=["y", "city"]), "city absent"),
    "file is not UTF-8": (None, "data"),
    "no such bundle": ("nobundle", "no manifest.json"),
}


@pytest.mark.parametrize("name", sorted(PREDICT_FILES))
def test_predict_command_on_bad_input_exits_2(bundle, tmp_path, name):
    change, text = PREDICT_FILES[name]
    source = tmp_path / "in.csv"
    target = bundle
    if change is None:
        source.write_bytes(b"x,z,city\n1,2,caf\xe9\n")
    elif change == "nobundle":
        frame(10).to_csv(source, index=False)
        target = tmp_path
    else:
        change(frame(10)).to_csv(source, index=False)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(cli, ["predict", str(target), str(source), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    line = result.stderr.strip()
    assert line.startswith("error:") and "\n" not in line and text in line, line
    assert not out.exists()
