"""A/B of the learned portfolio on held-out tables: the search with and without it.

The tables are the ``HELD_OUT`` ones of ``benchmarks/learn_portfolio.py`` (package tables
that are not in the portfolio's corpus). Each table is split once (60 % train, 20 %
valid, 20 % test, seed 0); the search runs at a short budget with ``portfolio=True`` and
``portfolio=False``, interleaved (run 1: with, then without; run 2: without, then with,
so neither arm always runs on a warmer machine), and the selected model is scored on the
test rows with the task's primary metric. Usage::

    .venv/bin/python benchmarks/portfolio_ab.py [--budget 20] [--runs 2]
"""

from __future__ import annotations

import os

# One thread per fit: the machine is shared, and OpenMP spinning makes timings erratic.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from learn_portfolio import HELD_OUT, Table, prepared

MAX_ROWS = 5000


def one_run(table: Table, *, portfolio: bool, budget: float, seed: int) -> dict[str, Any]:
    """Search one table with or without the portfolio; return the test score and facts."""
    import pandas as pd
    from sklearn.model_selection import train_test_split

    from crispml._metrics import score
    from crispml.data import conform, infer_schema
    from crispml.models import predict_output
    from crispml.search import search_models
    from crispml.spec import DEFAULT_METRIC

    frame, y = prepared(table, MAX_ROWS, 0)
    schema = infer_schema(pd.concat([frame, pd.Series(y, name="__y")], axis=1), target="__y")
    X = conform(frame, schema)
    stratify = None if table.task == "regression" else y
    rest, test = train_test_split(
        np.arange(len(y)), test_size=0.2, random_state=0, stratify=stratify
    )
    train, valid = train_test_split(
        rest, test_size=0.25, random_state=0, stratify=None if stratify is None else y[rest]
    )
    metric = DEFAULT_METRIC[table.task]
    start = time.monotonic()
    result = search_models(
        X.iloc[train], y[train], X.iloc[valid], y[valid], schema=schema, task=table.task,
        metric=metric, time_budget_s=budget, seed=seed, n_jobs=1, portfolio=portfolio,
    )  # fmt: skip
    elapsed = time.monotonic() - start
    output = predict_output(result.best.pipeline, X.iloc[test], table.task)
    fitted = ("ok", "excluded", "pruned")
    trials = [c for c in result.candidates if not c.baseline and c.status in fitted]
    trials = [c for c in trials if c.family != "ensemble"]
    return {
        "table": table.name, "task": table.task, "metric": metric, "portfolio": portfolio,
        "seed": seed, "test": float(score(metric, y[test], output)), "best": result.best.name,
        "trials": len(trials), "elapsed_s": round(elapsed, 1), "rows": len(y),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the interleaved A/B and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="also write the runs as JSON")
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("crispml").setLevel(logging.ERROR)
    rows: list[dict[str, Any]] = []
    for table in HELD_OUT:
        for run in range(args.runs):
            arms = (True, False) if run % 2 == 0 else (False, True)
            for arm in arms:
                rec = one_run(table, portfolio=arm, budget=args.budget, seed=run)
                rows.append(rec)
                print(
                    f"  {table.name:22s} run {run + 1} {'with   ' if arm else 'without'} "
                    f"{rec['metric']} {rec['test']:.4f}  best {rec['best']:28s} "
                    f"trials {rec['trials']:3d}  {rec['elapsed_s']:5.1f} s",
                    flush=True,
                )
    print(f"\nheld-out test metric, budget {args.budget:g} s, {args.runs} runs per arm")
    print(f"{'table':22s} {'metric':8s} {'with portfolio':>22s} {'without':>22s}")
    for table in HELD_OUT:
        mine = [r for r in rows if r["table"] == table.name]
        cells = []
        for arm in (True, False):
            values = [r["test"] for r in mine if r["portfolio"] is arm]
            cells.append(" / ".join(f"{v:.4f}" for v in values) + f" ({np.mean(values):.4f})")
        print(f"{table.name:22s} {mine[0]['metric']:8s} {cells[0]:>22s} {cells[1]:>22s}")
    if args.out is not None:
        args.out.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
