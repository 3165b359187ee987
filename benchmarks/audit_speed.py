"""Wall time and peak memory of the data audit on synthetic tables of 30 columns.

Run: .venv/bin/python benchmarks/audit_speed.py [rows ...]   (default: 10k, 100k, 1M)

Each size runs in its own process so that its peak resident memory (ru_maxrss) is its
own. "cpu s" is the audit's process CPU time: on a shared machine (see "load", the 1-min
load average) wall time is inflated by other processes; on an idle 2-core machine wall
time is close to CPU time, since the checks are mostly single-threaded. Model-based
checks run on a capped sample (spec.audit.sample_rows, 20,000 rows by default);
inventory, duplicates and cross-split checks read every row.
Target: under 30 s and under 2 GB at 1M rows on 2 cores.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

SIZES = (10_000, 100_000, 1_000_000)


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """20 numeric, 7 categorical, 1 boolean, 1 protected column and a binary target."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {f"num{i}": rng.normal(size=n) for i in range(20)}
    for i, levels in enumerate((3, 5, 10, 20, 50, 200, 1000)):
        codes = rng.integers(0, levels, size=n)
        data[f"cat{i}"] = pd.array(np.char.add("L", codes.astype(str)), dtype="str")
    data["flag"] = rng.random(n) < 0.3
    data["group"] = pd.array(rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1]), dtype="str")
    frame = pd.DataFrame(data)
    logit = (
        frame["num0"] - 0.8 * frame["num1"] + 0.5 * (frame["cat0"] == "L1") + 0.3 * frame["flag"]
    )
    frame["target"] = np.where(rng.random(n) < 1 / (1 + np.exp(-2 * logit)), "yes", "no")
    return frame


def one(n: int) -> dict[str, float]:
    from crispml.audit import audit_data
    from crispml.data import load_table, make_split, prepare_dataset
    from crispml.spec import spec_from_dict

    frame = synthetic(n)
    spec = spec_from_dict(
        {
            "name": "bench",
            "problem": {"task": "binary", "target": "target", "positive_label": "yes"},
            "data": {"source": "bench.csv"},
            "fairness": {"protected": ["group"]},
        }
    ).resolved()
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.monotonic()
    dataset = prepare_dataset(load_table(frame), spec)
    del frame
    split = make_split(dataset.frame, spec.split, target="target")
    prepared = time.monotonic() - start
    start, cpu = time.monotonic(), time.process_time()
    report = audit_data(dataset, split, spec)
    audit_s, audit_cpu = time.monotonic() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "rows": n,
        "columns": dataset.frame.shape[1],
        "prepare_and_split_s": round(prepared, 2),
        "audit_s": round(audit_s, 2),
        "audit_cpu_s": round(audit_cpu, 2),
        "load_avg_1min": round(os.getloadavg()[0], 1),
        "peak_rss_mb": round(peak),
        "rss_after_making_data_mb": round(rss_data),
        "findings": len(report.findings),
        "checks_s": {k: round(v, 2) for k, v in report.timings_s.items()},
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(one(int(sys.argv[2]))))
        return
    sizes = [int(a) for a in sys.argv[1:]] or list(SIZES)
    head = f"{'rows':>10} {'cols':>5} {'prep s':>7} {'audit s':>8} {'cpu s':>6} {'load':>5}"
    print(f"{head} {'peak MB':>8}  wall time per check (s)")
    for n in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        checks = " ".join(f"{k}={v}" for k, v in r["checks_s"].items())
        print(
            f"{r['rows']:>10,} {r['columns']:>5} {r['prepare_and_split_s']:>7} "
            f"{r['audit_s']:>8} {r['audit_cpu_s']:>6} {r['load_avg_1min']:>5} "
            f"{r['peak_rss_mb']:>8}  {checks}"
        )


if __name__ == "__main__":
    main()
