"""Latency of the served path, in process (onnxruntime) and over HTTP (real uvicorn)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import numpy as np
import uvicorn

from crispml.exceptions import DeploymentError
from crispml.serve import ServeSettings, ServingModel, create_app

BATCH_ROWS = 1000


_URL = "/v1/predict?on_missing=impute"


def _percentiles(samples_s: list[float]) -> dict[str, float]:
    ms = np.asarray(samples_s) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 4),
        "p95_ms": round(float(np.percentile(ms, 95)), 4),
        "p99_ms": round(float(np.percentile(ms, 99)), 4),
        "n": len(samples_s),
    }


def _timed(call: Callable[[], Any], n: int) -> list[float]:
    call()  # warm-up
    out = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def free_port() -> int:
    """Return an unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(app: Any, *, timeout_s: float = 20.0) -> Iterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1 in a background thread; yield its base URL.

    Parameters
    ----------
    app : ASGI application
        E.g. from :func:`crispml.serve.create_app`.
    timeout_s : float, default=20.0
        How long to wait for the server to start and to stop.

    Yields
    ------
    str
        ``http://127.0.0.1:<port>``.

    Raises
    ------
    DeploymentError
        If the server does not start.
    """
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="crispml-latency-server")
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise DeploymentError("the latency check could not start a local uvicorn server")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout_s)


def measure_latency(
    served: ServingModel,
    records: Sequence[dict[str, Any]],
    *,
    sla_ms: dict[str, float | None],
    n_single: int = 300,
    n_batch: int = 10,
    http: bool = True,
) -> dict[str, Any]:
    """p50/p95/p99 of single rows and batches of 1,000, in process and over HTTP.

    Every measured call goes through the input contract and the ONNX graph (and, over
    HTTP, the real FastAPI app with metrics on). The single-row HTTP percentiles are
    checked against the SLA (what a client sees).

    Parameters
    ----------
    served : ServingModel
        The model as served.
    records : sequence of dict
        Raw records to send (cycled).
    sla_ms : dict
        ``{"p50": ..., "p95": ..., "p99": ...}`` in milliseconds (None = no target).
    n_single, n_batch : int
        Number of timed single-row and batch calls per mode.
    http : bool, default=True
        Also measure over HTTP against a uvicorn server on 127.0.0.1.

    Returns
    -------
    dict
        The content of ``deploy/latency.json``.
    """
    rows = list(records) or [{}]
    batch = [rows[i % len(rows)] for i in range(BATCH_ROWS)]
    cycle = iter(range(10**9))
    # Test rows may lack a required field: latency is measured on imputed scoring then.
    one = lambda: served.predict([rows[next(cycle) % len(rows)]], impute=True)  # noqa: E731
    result: dict[str, Any] = {
        "in_process": {
            "single_row": _percentiles(_timed(one, n_single)),
            f"batch_{BATCH_ROWS}": _percentiles(
                _timed(lambda: served.predict(batch, impute=True), n_batch)
            ),
        }
    }
    if http:
        result["http"] = _http_latency(served, rows, batch, n_single, n_batch)
    measured = result.get("http", result["in_process"])["single_row"]
    violations = [
        f"{key} {measured[f'{key}_ms']:.2f} ms > {target:g} ms"
        for key, target in sla_ms.items()
        if target is not None and measured[f"{key}_ms"] > target
    ]
    result["sla_ms"] = dict(sla_ms)
    result["checked"] = "http single_row" if http else "in_process single_row"
    result["meets_sla"] = not violations
    result["violations"] = violations
    return result


def _http_latency(
    served: ServingModel,
    rows: list[dict[str, Any]],
    batch: list[dict[str, Any]],
    n_single: int,
    n_batch: int,
) -> dict[str, Any]:
    # The measured batch must not hit the body limit (a table with long text cells).
    size = len(json.dumps(batch, default=str)) + 1
    limit = max(ServeSettings.max_body_bytes, size)
    app = create_app(served, ServeSettings(max_batch=BATCH_ROWS, max_body_bytes=limit))
    with running_server(app) as url, httpx.Client(base_url=url, timeout=30.0) as client:
        cycle = iter(range(10**9))

        def one() -> None:
            reply = client.post(_URL, json=rows[next(cycle) % len(rows)])
            reply.raise_for_status()

        def many() -> None:
            client.post(_URL, json=batch).raise_for_status()

        return {
            "single_row": _percentiles(_timed(one, n_single)),
            f"batch_{BATCH_ROWS}": _percentiles(_timed(many, n_batch)),
        }
