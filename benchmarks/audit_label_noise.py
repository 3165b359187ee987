"""Precision and recall of the audit's label check on planted label noise.

Run: .venv/bin/python benchmarks/audit_label_noise.py [rate]   (default rate 0.10)

Flips a known share of the labels (train and validation rows) and compares the rows
cleanlab flags (through crispml.audit.find_label_problems) with the flipped ones, on
synthetic data and on the adult and german benchmark datasets, when present.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from crispml.audit import find_label_problems
from crispml.audit._common import build_sample
from crispml.data import load_table, make_split, prepare_dataset
from crispml.spec import spec_from_dict

DATASETS = Path("/work/shared/datasets")


def synthetic(n: int = 20_000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(8)})
    frame["kind"] = rng.choice(["a", "b", "c"], size=n)
    logit = 2 * frame["x0"] - 1.5 * frame["x1"] + frame["x2"] + (frame["kind"] == "a")
    frame["y"] = np.where(rng.random(n) < 1 / (1 + np.exp(-4 * logit)), "yes", "no")
    return frame


def measure(name: str, frame: pd.DataFrame, target: str, rate: float) -> None:
    spec = spec_from_dict(
        {"name": name, "problem": {"task": "binary", "target": target}, "data": {"source": name}}
    ).resolved()
    dataset = prepare_dataset(load_table(frame), spec)
    split = make_split(dataset.frame, spec.split, target=target)
    labelled = np.concatenate([split.train, split.valid])
    rng = np.random.default_rng(1)
    flipped = rng.choice(labelled, size=round(rate * len(labelled)), replace=False)
    before = build_sample(dataset, split, cap=20_000, seed=0)
    noisy = dataset.y.copy()
    noisy[flipped] = 1 - noisy[flipped]
    sample = build_sample(replace(dataset, y=noisy), split, cap=20_000, seed=0)
    start = time.monotonic()
    flagged = set(find_label_problems(sample).positions.tolist())
    elapsed = time.monotonic() - start
    planted = set(flipped.tolist()) & set(sample.positions.tolist())
    hits = len(flagged & planted)
    precision = hits / max(len(flagged), 1)
    recall = hits / max(len(planted), 1)
    clean = set(find_label_problems(before).positions.tolist())
    print(
        f"{name:>10} rows={len(sample.positions):>6,} planted={len(planted):>5,} "
        f"flagged={len(flagged):>5,} precision={precision:.2f} recall={recall:.2f} "
        f"(flagged before planting: {len(clean):,}) {elapsed:.1f} s"
    )


def main() -> None:
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 0.10
    print(f"planted label noise: {rate:.0%} of train/valid rows flipped")
    measure("synthetic", synthetic(), "y", rate)
    for name, target in (("adult", "income"), ("german", "class")):
        path = DATASETS / name / "train.csv.gz"
        if path.is_file():
            measure(name, pd.read_csv(path), target, rate)


if __name__ == "__main__":
    main()
