"""Generate the large binary table of issue 16: 1,000,000 rows x 30 columns.

Run: .venv/bin/python benchmarks/make_large.py [--rows N] [--out large.parquet]

The table is what a user would hand ``crispml init``: a Parquet file (zstd) or, with a
``.csv.gz`` name, a gzip CSV. Its 30 columns are the target ``churned`` (0/1, about 30 %
positive) and 29 features:

- 18 numeric columns (``num_00`` .. ``num_17``): normal, log-normal and uniform shapes, a
  few integer counts;
- 9 categorical columns with 3, 5, 12, 40, 100, 250, 500, 800 and 1,000 levels
  (``cat_3`` .. ``cat_1000``), level frequencies Zipf-like as real codes are;
- 1 boolean-like column (``is_member``, "yes"/"no");
- 1 date column (``signup_date``, ISO text over four years).

About 5 % of each feature's cells are missing (at random). The target is a logistic
function of eight numeric columns (one interaction and one threshold effect), three
categoricals (an effect per level, so high-cardinality columns carry signal) and the
date's month, plus noise: a model can learn it (AUC well above 0.5) but not perfectly.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROWS = 1_000_000
MISSING = 0.05
CARDINALITIES = (3, 5, 12, 40, 100, 250, 500, 800, 1000)
N_NUMERIC = 18


def _levels(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Draw ``n`` codes out of ``k`` with Zipf-like frequencies."""
    weights = 1.0 / np.arange(1, k + 1) ** 0.8
    return rng.choice(k, size=n, p=weights / weights.sum())


def make_table(rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """Return the table (features with 5 % missing, target ``churned`` complete).

    Parameters
    ----------
    rows : int, default=1_000_000
        Number of rows.
    seed : int, default=0
        Random seed.

    Returns
    -------
    pandas.DataFrame
        30 columns, ``churned`` last.
    """
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(rows, N_NUMERIC)).astype(np.float32)
    numeric[:, 3:6] = np.exp(numeric[:, 3:6] * 0.6)  # log-normal amounts
    numeric[:, 6:9] = rng.uniform(0, 100, size=(rows, 3))
    numeric[:, 9:12] = rng.poisson(3.0, size=(rows, 3))  # counts
    frame = pd.DataFrame(numeric, columns=[f"num_{i:02d}" for i in range(N_NUMERIC)])
    codes = {}
    for k in CARDINALITIES:
        codes[k] = _levels(rng, rows, k)
        labels = np.array([f"L{k}_{j:04d}" for j in range(k)], dtype=object)
        frame[f"cat_{k}"] = pd.Categorical.from_codes(codes[k], categories=labels).astype(object)
    member = rng.random(rows) < 0.4
    frame["is_member"] = np.where(member, "yes", "no")
    days = rng.integers(0, 4 * 365, size=rows)
    dates = pd.Timestamp("2021-01-01") + pd.to_timedelta(days, unit="D")
    frame["signup_date"] = dates.strftime("%Y-%m-%d")

    effect = {k: rng.normal(0, 0.6, size=k) for k in (12, 250, 1000)}
    logit = (
        0.8 * numeric[:, 0]
        - 0.6 * numeric[:, 1]
        + 0.5 * numeric[:, 2] * numeric[:, 13]
        + 0.4 * np.log(numeric[:, 3])
        + 0.02 * (numeric[:, 6] - 50)
        + 0.3 * (numeric[:, 9] > 4)
        + 0.25 * np.sin(numeric[:, 14] * 2)
        - 0.3 * np.abs(numeric[:, 15])
        + sum(effect[k][codes[k]] for k in effect)
        + 0.5 * member
        + 0.4 * np.cos(2 * np.pi * dates.month.to_numpy() / 12)
        - 1.0
    )
    prob = 1.0 / (1.0 + np.exp(-(logit + rng.normal(0, 0.8, size=rows))))
    target = (rng.random(rows) < prob).astype(np.int8)

    for name in frame.columns:
        hole = rng.random(rows) < MISSING
        if frame[name].dtype == object:
            frame[name] = frame[name].where(~hole, None)
        else:
            frame.loc[hole, name] = np.nan
    frame["churned"] = target
    return frame


def main() -> None:
    """Parse the arguments, write the table, print its shape and file size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("large.parquet"))
    args = parser.parse_args()
    start = time.monotonic()
    frame = make_table(args.rows, args.seed)
    if args.out.name.endswith((".csv", ".csv.gz")):
        frame.to_csv(args.out, index=False)
    else:
        frame.to_parquet(args.out, index=False, compression="zstd")
    mb = args.out.stat().st_size / 1e6
    print(
        f"{args.out}: {frame.shape[0]:,} rows x {frame.shape[1]} columns, {mb:.1f} MB, "
        f"positive rate {frame['churned'].mean():.3f}, {time.monotonic() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
