"""Time the evaluation's bootstrap on 100k rows (1,000 resamples) and print the figures.

Run: .venv/bin/python benchmarks/bench_evaluate.py
"""

from __future__ import annotations

import time

import numpy as np

from crispml.evaluate import bootstrap_metric
from crispml.evaluate._calibration import ece_interval


def main(n: int = 100_000, resamples: int = 1000) -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, n)
    s = 1 / (1 + np.exp(-(rng.normal(size=n) + y)))
    proba = np.c_[1 - s, s]
    for name in ("roc_auc", "log_loss", "accuracy", "f1", "brier"):
        start = time.perf_counter()
        ci = bootstrap_metric(name, y, proba, n_resamples=resamples)
        elapsed = time.perf_counter() - start
        print(
            f"{name:9s} {resamples} resamples x {n} rows: {elapsed:5.2f} s  "
            f"{ci.estimate:.4f} [{ci.low:.4f}, {ci.high:.4f}]"
        )
    start = time.perf_counter()
    ece = ece_interval(y, proba, n_resamples=resamples)
    print(
        f"ece       {resamples} resamples x {n} rows: {time.perf_counter() - start:5.2f} s  "
        f"{ece['estimate']:.4f} [{ece['low']:.4f}, {ece['high']:.4f}]"
    )


if __name__ == "__main__":
    main()
