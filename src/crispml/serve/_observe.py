"""Prometheus metrics and the sampled inference log of the service.

Written by hand on purpose: the serving runtime is kept to onnxruntime, FastAPI,
uvicorn, pydantic and numpy (no prometheus_client), and the text format needed here
(counters and histograms) is a few lines.
"""

from __future__ import annotations

import json
import queue
import random
import sqlite3
import threading
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class _Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.buckets, value)] += 1
        self.total += value
        self.n += 1

    def lines(self, name: str, labels: str = "") -> list[str]:
        out, running = [], 0
        sep = "," if labels else ""
        for bound, count in zip(self.buckets, self.counts, strict=False):
            running += count
            out.append(f'{name}_bucket{{{labels}{sep}le="{bound}"}} {running}')
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.n}')
        suffix = f"{{{labels}}}" if labels else ""
        out += [f"{name}_sum{suffix} {self.total}", f"{name}_count{suffix} {self.n}"]
        return out


class Metrics:
    """Request counts, a latency histogram per endpoint and the prediction distribution."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = {}
        self.latency: dict[str, _Histogram] = {}
        self.scores = _Histogram(SCORE_BUCKETS)
        self.labels: dict[str, int] = {}
        self.rows = 0

    def observe_request(self, path: str, status: int, seconds: float) -> None:
        """Count one request and its latency."""
        with self._lock:
            key = (path, status)
            self.requests[key] = self.requests.get(key, 0) + 1
            self.latency.setdefault(path, _Histogram(LATENCY_BUCKETS_S)).observe(seconds)

    def observe_predictions(self, rows: list[dict[str, Any]]) -> None:
        """Add predictions to the distribution (score histogram, label counts)."""
        with self._lock:
            self.rows += len(rows)
            for row in rows:
                decided = "probability" in row or "score" in row  # classes, or anomaly flags
                label = str(row["prediction"]) if decided else "value"
                self.labels[label] = self.labels.get(label, 0) + 1
                if "probability" in row:
                    self.scores.observe(row["probability"])

    def render(self) -> str:
        """Prometheus text exposition format (version 0.0.4)."""
        with self._lock:
            lines = [
                "# HELP crispml_requests_total HTTP requests by path and status.",
                "# TYPE crispml_requests_total counter",
            ]
            for (path, status), n in sorted(self.requests.items()):
                lines.append(f'crispml_requests_total{{path="{path}",status="{status}"}} {n}')
            lines += [
                "# HELP crispml_request_latency_seconds Request latency.",
                "# TYPE crispml_request_latency_seconds histogram",
            ]
            for path, hist in sorted(self.latency.items()):
                lines += hist.lines("crispml_request_latency_seconds", f'path="{path}"')
            lines += [
                "# HELP crispml_predictions_total Predicted rows by predicted label.",
                "# TYPE crispml_predictions_total counter",
            ]
            for label, n in sorted(self.labels.items()):
                lines.append(f'crispml_predictions_total{{label="{label}"}} {n}')
            lines += [
                "# HELP crispml_prediction_score Distribution of the predicted probability.",
                "# TYPE crispml_prediction_score histogram",
                *self.scores.lines("crispml_prediction_score"),
            ]
        return "\n".join(lines) + "\n"


class InferenceLog:
    """A sampled log of requests and predictions in SQLite, for drift monitoring.

    Request handlers append rows to a buffer; full buffers (or one a second) go to one
    background thread that writes them in a single transaction, so logging adds no
    disk wait and few thread switches to a request. An idle service's buffer is
    written within ``FLUSH_S`` seconds too.

    Parameters
    ----------
    path : str or Path
        The SQLite file (created with table ``inference_log`` if absent).
    sample_rate : float, default=1.0
        Fraction of requests logged (0 disables logging).
    seed : int, optional
        Seed of the sampling (tests).
    """

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS inference_log ("
        "ts REAL, model_version TEXT, endpoint TEXT, record TEXT, prediction TEXT)"
    )
    BATCH_ROWS = 512
    FLUSH_S = 1.0

    def __init__(self, path: str | Path, *, sample_rate: float = 1.0, seed: int | None = None):
        self.path = Path(path)
        self.sample_rate = sample_rate
        self._random = random.Random(seed)
        self._queue: queue.Queue[list[tuple[Any, ...]] | None] = queue.Queue()
        self._buffer: list[tuple[Any, ...]] = []
        self._flushed = time.monotonic()
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(self.path) as conn:
            conn.execute(self.SCHEMA)
        self._thread = threading.Thread(target=self._writer, daemon=True, name="inference-log")
        self._thread.start()

    def log(
        self,
        version: str,
        endpoint: str,
        records: list[Any],
        rows: list[dict[str, Any]],
        *,
        always: bool = False,
    ) -> None:
        """Buffer the request's records with their predictions, if this request is sampled.

        ``always`` logs regardless of the sample rate (explained decisions, which carry
        a decision id and must be retrievable).
        """
        sampled = self.sample_rate > 0 and self._random.random() < self.sample_rate
        if not (always or sampled):
            return
        now = time.time()
        items = [
            (now, version, endpoint, json.dumps(record, default=str), json.dumps(row))
            for record, row in zip(records, rows, strict=False)
        ]
        with self._lock:
            self._buffer.extend(items)
            due = time.monotonic() - self._flushed >= self.FLUSH_S
            if len(self._buffer) >= self.BATCH_ROWS or due:
                self._queue.put(self._buffer)
                self._buffer, self._flushed = [], time.monotonic()

    def close(self) -> None:
        """Write what is buffered and stop the writer thread."""
        with self._lock:
            if self._buffer:
                self._queue.put(self._buffer)
            self._buffer = []
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _writer(self) -> None:
        conn = sqlite3.connect(self.path)
        conn.execute("PRAGMA journal_mode=WAL")  # readers (monitoring) never block the writer
        conn.execute("PRAGMA synchronous=NORMAL")  # no fsync per commit; WAL keeps it consistent
        try:
            while (batch := self._next_batch()) is not None:
                if batch:
                    conn.executemany("INSERT INTO inference_log VALUES (?, ?, ?, ?, ?)", batch)
                    conn.commit()
        finally:
            conn.close()

    def _next_batch(self) -> list[tuple[Any, ...]] | None:
        """Return the next full batch; when idle for ``FLUSH_S``, whatever is buffered."""
        try:
            return self._queue.get(timeout=self.FLUSH_S)
        except queue.Empty:
            with self._lock:
                batch, self._buffer = self._buffer, []
                self._flushed = time.monotonic()
            return batch
