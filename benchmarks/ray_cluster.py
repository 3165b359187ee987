"""Trials per minute of the Ray backend on a simulated cluster of 1 and 2 one-CPU workers.

Run: .venv/bin/python benchmarks/ray_cluster.py [trials]   (default 16 trials)

For each N in (1, 2) it starts a local Ray cluster on 127.0.0.1 (a head node with no
CPUs, plus N worker nodes of 1 CPU each, through ``ray.cluster_utils.Cluster``), runs
the same search (fixed trial count, no baselines or ensemble, one thread per fit) with
``backend="ray"``, and prints the trials completed per minute, measured from the start
of the search to the last trial's result, with the mean fit seconds of a trial (the
proposals differ between runs, so their cost does too) and the 1-minute load average
before the run. The machine's own cores bound what N = 2 can show: on a 2-core machine
shared with other work, expect less than 2x.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pandas as pd

from crispml.data import conform, infer_schema
from crispml.search import Candidate, search_models

WORKERS = (1, 2)
FAMILIES = ("lightgbm", "random_forest", "elastic_net")


def make_table(n: int = 6000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(10)})
    frame["kind"] = rng.choice(["a", "b", "c", "d"], size=n)
    logit = frame["x0"] - 0.7 * frame["x1"] + 0.5 * frame["x2"] * frame["x3"]
    frame["y"] = (logit + (frame["kind"] == "a") + rng.normal(0, 1, n) > 0).astype(int)
    return frame


def run(n_workers: int, trials: int, frame: pd.DataFrame) -> tuple[int, float, float]:
    import ray
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "include_dashboard": False},
    )
    for _ in range(n_workers):
        cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False)
    try:
        schema = infer_schema(frame, target="y")
        X, y = conform(frame, schema), frame["y"].to_numpy()
        n_train = int(0.8 * len(frame))
        finished: list[float] = []
        fit_s: list[float] = []

        def note(cand: Candidate) -> None:
            if not cand.baseline and cand.status != "skipped":
                finished.append(time.monotonic())
                fit_s.append(cand.fit_s)

        start = time.monotonic()
        search_models(
            X.iloc[:n_train], y[:n_train], X.iloc[n_train:], y[n_train:],
            schema=schema, task="binary", metric="roc_auc", families=FAMILIES,
            time_budget_s=3600.0, seed=0, baselines=False, ensemble=False,
            max_trials=trials, n_jobs=1, validation="holdout", on_candidate=note,
            backend="ray",
        )  # fmt: skip
        return len(finished), finished[-1] - start, float(np.mean(fit_s))
    finally:
        ray.shutdown()
        cluster.shutdown()


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    frame = make_table()
    print(f"{len(frame)} rows, {trials} trials, families {', '.join(FAMILIES)}")
    print("workers  trials  seconds  trials/min  fit s/trial  load before")
    for n in WORKERS:
        load = os.getloadavg()[0]
        done, seconds, fit_s = run(n, trials, frame)
        rate = 60 * done / seconds
        print(f"{n:>7}  {done:>6}  {seconds:>7.1f}  {rate:>10.1f}  {fit_s:>11.2f}  {load:>11.2f}")


if __name__ == "__main__":
    main()
