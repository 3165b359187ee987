"""Serving benchmark: native pipeline vs ONNX in process; crispml serve vs mlflow models serve.

Usage::

    .venv/bin/python benchmarks/serving.py [RUN_FOLDER] [--seconds 15] [--connections 8]

Without RUN_FOLDER it runs the demo engagement (HMDA) first. HTTP load comes from
``wrk`` (``apt-get install -y wrk``) with a Lua POST script, the same for both
servers, one after the other, on 127.0.0.1 only; without wrk an async httpx client
is used. Prints figures, asserts nothing (targets are in issue 6).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import skops.io as sio

from crispml import Run
from crispml.data import Schema, conform
from crispml.deploy._latency import free_port
from crispml.models import load_pipeline
from crispml.serve import ServingModel

BIN = Path(sys.executable).parent


def demo_run(workdir: Path) -> Path:
    """The demo engagement (HMDA) with LightGBM as the model (baselines off)."""
    from crispml import Project
    from crispml.cli._app import DEMO_SPEC
    from crispml.spec import spec_from_dict

    raw = json.loads(json.dumps(DEMO_SPEC))
    raw["search"].update({"time_budget_s": 30, "baselines": False})
    raw["tracking"] = {"enabled": False}
    spec = spec_from_dict(raw, source="benchmark")
    return Project(spec, base_dir=workdir / "demo").run().path


def per_call_ms(call, n: int) -> float:
    call()
    start = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - start) / n * 1000.0


def in_process(run: Path, rows: pd.DataFrame) -> dict[str, float]:
    contract = json.loads((run / "model/schema.json").read_text())
    schema = Schema.from_dict(contract["schema"])
    pipeline = load_pipeline(run / "model/pipeline.skops")
    served = ServingModel.from_bundle(run)
    one_frame = rows.head(1)
    one_record = rows.head(1).to_dict("records")
    batch_frame = pd.concat([rows] * (1000 // len(rows) + 1)).head(1000)
    batch_records = batch_frame.to_dict("records")
    return {
        "native_single_ms": per_call_ms(
            lambda: pipeline.predict_proba(conform(one_frame, schema)), 200
        ),
        "onnx_single_ms": per_call_ms(lambda: served.predict(one_record), 2000),
        "native_batch_ms": per_call_ms(
            lambda: pipeline.predict_proba(conform(batch_frame, schema)), 20
        ),
        "onnx_batch_ms": per_call_ms(lambda: served.predict(batch_records), 20),
    }


def mlflow_model(run: Path, workdir: Path) -> Path:
    import mlflow.sklearn

    data = (run / "model/pipeline.skops").read_bytes()
    trusted = sio.get_untrusted_types(data=data)
    target = workdir / "mlflow-model"
    mlflow.sklearn.save_model(
        load_pipeline(run / "model/pipeline.skops"),
        str(target),
        serialization_format="skops",
        skops_trusted_types=trusted,
        pyfunc_predict_fn="predict_proba",
    )
    return target


def wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} not ready")


LUA = """wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
"""


def load_wrk(url: str, body: str, seconds: int, connections: int, workdir: Path) -> dict:
    script = workdir / f"post-{abs(hash(url))}.lua"
    script.write_text(LUA.format(body=body))
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": _ms(lat["50"]),
        "p99": _ms(lat["99"]),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1000.0}[unit]


async def _httpx_load(url: str, body: str, seconds: int, connections: int) -> dict:
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker() -> None:
            while time.monotonic() < stop:
                start = time.perf_counter()
                reply = await client.post(
                    url, content=body, headers={"content-type": "application/json"}
                )
                reply.raise_for_status()
                latencies.append(time.perf_counter() - start)

        await asyncio.gather(*(worker() for _ in range(connections)))
    ms = np.asarray(latencies) * 1000
    return {
        "rps": len(ms) / seconds,
        "p50": float(np.percentile(ms, 50)),
        "p99": float(np.percentile(ms, 99)),
        "non_2xx": 0,
    }


def load(url: str, body: str, seconds: int, connections: int, workdir: Path) -> dict:
    if shutil.which("wrk"):
        return load_wrk(url, body, seconds, connections, workdir)
    return asyncio.run(_httpx_load(url, body, seconds, connections))


def http(
    run: Path, record: dict, conformed: dict, seconds: int, connections: int, workdir: Path
) -> dict:
    """crispml gets the raw record (and checks it); MLflow the conformed row it needs."""
    results = {}
    port = free_port()
    crisp = subprocess.Popen(
        [
            str(BIN / "crispml"),
            "serve",
            str(run),
            "--port",
            str(port),
            "--log-path",
            str(workdir / "inference.sqlite"),
            "--log-sample-rate",
            "1.0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/v1/ready", crisp)
        results["crispml serve"] = load(
            f"http://127.0.0.1:{port}/v1/predict",
            json.dumps(record),
            seconds,
            connections,
            workdir,
        )
    finally:
        crisp.terminate()
        crisp.wait()
    model = mlflow_model(run, workdir)
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",  # mlflow starts `uvicorn` by name
        "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}",
    }
    mlf = subprocess.Popen(
        [
            str(BIN / "mlflow"),
            "models",
            "serve",
            "-m",
            str(model),
            "--env-manager",
            "local",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/ping", mlf)
        body = json.dumps({"dataframe_records": [conformed]})
        results["mlflow models serve"] = load(
            f"http://127.0.0.1:{port}/invocations", body, seconds, connections, workdir
        )
    finally:
        if mlf.poll() is None:
            os.killpg(mlf.pid, 15)
            mlf.wait()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run", nargs="?", type=Path)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="crispml-bench-"))
    run = args.run or demo_run(workdir)
    opened = Run(run)
    names = [c["name"] for c in json.loads((run / "model/contract.json").read_text())["columns"]]
    test = _test_rows(run, names)
    print(f"run {run.name}: selected model {opened.selected_model}; {len(names)} input columns")
    proc = in_process(run, test)
    print(f"\n{'in process, per call':28s} {'native':>12s} {'ONNX':>12s} {'speed-up':>9s}")
    for label, key in (("single row", "single"), ("batch of 1,000", "batch")):
        native, onnx = proc[f"native_{key}_ms"], proc[f"onnx_{key}_ms"]
        print(f"  {label:26s} {native:9.3f} ms {onnx:9.4f} ms {native / onnx:8.1f}x")
    record = test.head(1).to_dict("records")[0]
    schema = Schema.from_dict(json.loads((run / "model/schema.json").read_text())["schema"])
    conformed = conform(test.head(1), schema).to_dict("records")[0]
    res = http(run, record, conformed, args.seconds, args.connections, workdir)
    tool = "wrk" if shutil.which("wrk") else "httpx"
    setup = f"{args.connections} connections, {args.seconds} s, {tool}, 127.0.0.1"
    print(f"\nHTTP, one row per request ({setup})")
    print(f"  {'server':22s} {'req/s':>9s} {'p50 ms':>9s} {'p99 ms':>9s} {'non-2xx':>8s}")
    for name, r in res.items():
        print(f"  {name:22s} {r['rps']:9.0f} {r['p50']:9.2f} {r['p99']:9.2f} {r['non_2xx']:8d}")
    ratio = res["crispml serve"]["rps"] / max(res["mlflow models serve"]["rps"], 1e-9)
    print(f"  throughput ratio crispml / mlflow: {ratio:.1f}x")


def _test_rows(run: Path, names: list[str]) -> pd.DataFrame:
    split = json.loads((run / "data/split.json").read_text())
    manifest = json.loads((run / "manifest.json").read_text())
    source = manifest["inputs"]["data"]["source"]
    from crispml.data import load_table

    table = load_table(source, base_dir=run.parent.parent).frame
    positions = [p for p in split["test"] if p < len(table)][:200]
    return table.iloc[positions][names].reset_index(drop=True)


if __name__ == "__main__":
    main()
