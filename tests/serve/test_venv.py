"""Real servers: the bundle in a fresh serving-only venv, and ``crispml serve``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from crispml.deploy._latency import free_port

RECORD = {"income": 42.0, "debt": 0.7, "region": "north", "owner": "no"}


def _wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/v1/ready", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("server did not become ready")


def _serve_and_predict(command: list[str], env: dict[str, str], port: int) -> dict:
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc)
        reply = httpx.post(f"{url}/v1/predict", json=[RECORD, {**RECORD, "income": 180.0}])
        assert reply.status_code == 200, reply.text
        bad = httpx.post(f"{url}/v1/predict", json={**RECORD, "debt": "high"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", 0, "debt"]
        return reply.json()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.integration
def test_bundle_serves_from_a_fresh_venv_with_only_its_requirements(run_dir, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", "-r", str(run_dir / "deploy/requirements.txt")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr
    python = str(venv / "bin/python")
    for library in ("pandas", "sklearn", "lightgbm", "crispml"):
        probe = subprocess.run([python, "-c", f"import {library}"], capture_output=True)
        assert probe.returncode != 0, f"{library} is importable in the serving venv"
    port = free_port()
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    log = tmp_path / "inference.sqlite"
    start = [str(run_dir / "deploy/start.sh"), "--port", str(port), "--log-path", str(log)]
    body = _serve_and_predict(start, env, port)
    probs = [row["probability"] for row in body["predictions"]]
    assert probs[0] > probs[1]  # a higher income lowers the denial probability
    assert log.is_file()


@pytest.mark.slow
@pytest.mark.integration
def test_crispml_serve_answers_a_real_request(run_dir, tmp_path):
    port = free_port()
    crispml = Path(sys.executable).parent / "crispml"
    env = {**os.environ, "CRISPML_API_KEY": ""}
    command = [str(crispml), "serve", str(run_dir), "--port", str(port)]
    command += ["--log-path", str(tmp_path / "log.sqlite")]
    body = _serve_and_predict(command, env, port)
    assert body["model_version"].startswith(run_dir.name)
    assert {"prediction", "probability", "decision", "threshold"} <= set(body["predictions"][0])
