"""Load test of ``crispml serve`` at saturation, logging and validation on (issue 12 item 9).

Usage::

    .venv/bin/python benchmarks/serve_load.py RUN_FOLDER [--seconds 60] [--connections 8]

Starts ``python -m crispml.serve RUN_FOLDER`` on 127.0.0.1 (the shipped entry point, with
its inference log in a temporary folder and the strict input contract), drives
``/v1/predict`` with ``wrk`` (one thread, so the server keeps a core of the two) for
``--seconds`` (at most 120) with single records, then measures batch throughput with
batches of 1,000 records. Prints requests served, errors, p50/p99, the server's RSS at
start and end, and rows/s for batches. Asserts nothing; the targets of issue 12
(zero errors, RSS growth < 10 %, p99 <= 10 ms, >= 20k rows/s) are printed beside.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from crispml.deploy._latency import free_port

MAX_SECONDS = 120
LUA = """wrk.method = "POST"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
"""


def records(run: Path, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` complete, valid records drawn inside the contract's ranges and levels."""
    contract = json.loads((run / "model/contract.json").read_text(encoding="utf-8"))
    rng = np.random.default_rng(seed)
    out: list[dict[str, Any]] = []
    for _ in range(n):
        row: dict[str, Any] = {}
        for col in contract["columns"]:
            if col["type"] == "number":
                lo, hi = col.get("min"), col.get("max")
                row[col["name"]] = col["reference"] if lo is None else float(rng.uniform(lo, hi))
            elif col["type"] == "category":
                levels = [c for c in col["categories"] if c != "__missing__"] or [""]
                row[col["name"]] = str(rng.choice(levels))
            else:
                row[col["name"]] = "text"
        out.append(row)
    out[0] = {c["name"]: c["reference"] for c in contract["columns"]}
    return out


def rss_mb(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(
    run: Path, port: int, log: Path, pythonpath: str | None = None
) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "crispml.serve", str(run), "--port", str(port)]
    cmd += ["--log-path", str(log), "--max-batch", "1000"]
    env = {**os.environ, **({"PYTHONPATH": pythonpath} if pythonpath else {})}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server died")
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/ready", timeout=1.0).raise_for_status()
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server not ready after 60 s")


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def run_wrk(url: str, body: str, seconds: int, connections: int, work: Path) -> dict[str, Any]:
    script = work / "post.lua"
    script.write_text(LUA.format(body=body))
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    served = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: (.*)", out)
    socket_errors = sum(int(n) for n in re.findall(r"\d+", sockets.group(1))) if sockets else 0
    return {
        "requests": served,
        "req_per_s": served / seconds,
        "errors": (int(non2xx.group(1)) if non2xx else 0) + socket_errors,
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
    }


def batch_throughput(url: str, batch: list[dict[str, Any]], n: int) -> dict[str, Any]:
    errors = 0
    with httpx.Client(timeout=60) as client:
        client.post(url, json=batch)
        start = time.perf_counter()
        for _ in range(n):
            errors += client.post(url, json=batch).status_code != 200
        elapsed = time.perf_counter() - start
    return {
        "batches": n,
        "ms_per_batch": elapsed / n * 1000,
        "rows_per_s": len(batch) * n / elapsed,
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="a finished run folder")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument(
        "--pythonpath",
        help="serve another copy of crispml.serve, e.g. RUN/deploy/runtime (the shipped one)",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.exit(2, "error: wrk not found; install it (apt-get install -y wrk)\n")
    seconds = max(1, min(args.seconds, MAX_SECONDS))
    rows = records(args.run, 1000)
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1/predict"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        proc = start_server(args.run, port, work / "inference.sqlite", args.pythonpath)
        try:
            for _ in range(200):  # warm-up
                httpx.post(url, json=rows[0]).raise_for_status()
            rss_start = rss_mb(proc.pid)
            single = run_wrk(url, json.dumps(rows[0]), seconds, args.connections, work)
            rss_end = rss_mb(proc.pid)
            batch = batch_throughput(url, rows, args.batches)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    result = {
        "seconds": seconds,
        "connections": args.connections,
        "single_row": single,
        "rss_mb": {"start": rss_start, "end": rss_end, "growth": rss_end / rss_start - 1},
        "batch_1000": batch,
    }
    print(json.dumps(result, indent=2))
    print(
        f"targets: errors 0 (saw {single['errors'] + batch['errors']}), "
        f"RSS growth < 10% (saw {result['rss_mb']['growth']:.1%}), "
        f"p99 <= 10 ms (saw {single['p99_ms']:.2f}), "
        f">= 20k rows/s (saw {batch['rows_per_s']:,.0f})"
    )
    return result


if __name__ == "__main__":
    main()
