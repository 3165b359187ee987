"""AutoML suite: crispml vs FLAML, AutoGluon and untuned LightGBM / CatBoost, equal budget.

Each system runs on each dataset in a fresh process (peers in their own venvs under
``.bench/``, see ``make bench-peers``), on the shared train/test split. Prints the primary
test metric (binary: roc_auc; regression: rmse), fit wall time, peak memory, the budget
overrun and the mean rank of each system.

    python benchmarks/automl_suite.py --budget 60 --systems crispml,flaml,autogluon \
        --data ../shared/datasets
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = {
    "crispml": ROOT / ".venv/bin/python",
    "lightgbm_default": ROOT / ".venv/bin/python",
    "catboost_default": ROOT / ".venv/bin/python",
    "flaml": ROOT / ".bench/flaml/bin/python",
    "autogluon_medium": ROOT / ".bench/autogluon/bin/python",
    "autogluon_best": ROOT / ".bench/autogluon/bin/python",
}
EXPANDS = {"autogluon": ["autogluon_medium", "autogluon_best"]}
DEFAULT_ROWS = ["lightgbm_default", "catboost_default"]
_START = [0.0]


# ---------------------------------------------------------------- worker (one process) --
def _load(data_dir: Path, name: str):  # type: ignore[no-untyped-def]
    import pandas as pd

    meta = json.loads((data_dir / name / "meta.json").read_text())
    train = pd.read_csv(data_dir / name / "train.csv.gz")
    test = pd.read_csv(data_dir / name / "test.csv.gz")
    target = meta["target"]
    if meta["task"] == "binary":
        positive = str(meta["positive_label"])
        for frame in (train, test):
            frame[target] = (frame[target].astype(str) == positive).astype(int)
    return meta, train, test, target


def _fit_predict(system: str, meta: dict, train, test, target: str, budget: float):  # type: ignore[no-untyped-def]
    task = meta["task"]
    X, y = train.drop(columns=[target]), train[target]
    Xt = test.drop(columns=[target])
    if system == "crispml":
        return _crispml(task, train, Xt, target, budget)
    if system in ("lightgbm_default", "catboost_default"):
        return _default_model(system, task, X, y, Xt)
    if system == "flaml":
        from flaml import AutoML

        automl = AutoML()
        metric = "roc_auc" if task == "binary" else "rmse"
        kind = "classification" if task == "binary" else "regression"
        automl.fit(X, y, task=kind, metric=metric, time_budget=budget, n_jobs=2, seed=0, verbose=0)
        return automl.predict_proba(Xt)[:, 1] if task == "binary" else automl.predict(Xt)
    if system.startswith("autogluon"):
        from autogluon.tabular import TabularPredictor

        preset = "medium_quality" if system.endswith("medium") else "best_quality"
        metric = "roc_auc" if task == "binary" else "root_mean_squared_error"
        path = tempfile.mkdtemp(prefix="ag-")
        predictor = TabularPredictor(label=target, eval_metric=metric, path=path, verbosity=0)
        predictor.fit(train, time_limit=budget, presets=preset, num_cpus=2)
        if task == "binary":
            return predictor.predict_proba(Xt)[1].to_numpy()
        return predictor.predict(Xt).to_numpy()
    raise SystemExit(f"unknown system {system!r}")


def _crispml(task: str, train, Xt, target: str, budget: float):  # type: ignore[no-untyped-def]
    import logging

    import numpy as np
    from sklearn.model_selection import train_test_split

    from crispml.data import conform, infer_schema
    from crispml.search import search_models

    logging.getLogger("optuna").setLevel(logging.WARNING)
    schema = infer_schema(train, target=target)
    X = conform(train, schema)
    y = train[target].to_numpy(dtype=np.float64 if task == "regression" else np.int64)
    fit_rows, valid_rows = train_test_split(
        np.arange(len(X)), test_size=0.2, random_state=0,
        stratify=None if task == "regression" else y,
    )  # fmt: skip
    metric = "roc_auc" if task == "binary" else "rmse"
    # The budget covers the whole fit: imports and schema inference come out of it.
    left = budget - (time.monotonic() - _START[0])
    result = search_models(
        X.iloc[fit_rows], y[fit_rows], X.iloc[valid_rows], y[valid_rows],
        schema=schema, task=task, metric=metric, time_budget_s=left, seed=0,
    )  # fmt: skip
    model = result.best.pipeline
    info = {"selected": result.best.name, "budget": result.budget}
    test = conform(Xt, schema)
    if task == "binary":
        return model.predict_proba(test)[:, 1], info
    return model.predict(test), info


def _default_model(system: str, task: str, X, y, Xt):  # type: ignore[no-untyped-def]
    cats = [c for c in X.columns if X[c].dtype == object or str(X[c].dtype) == "str"]
    if system == "lightgbm_default":
        import lightgbm as lgb

        for frame in (X, Xt):
            for col in cats:
                frame[col] = frame[col].astype("category")
        cls = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
        model = cls(n_jobs=2, verbose=-1).fit(X, y)
    else:
        import catboost as cb

        for frame in (X, Xt):
            for col in cats:
                frame[col] = frame[col].fillna("missing").astype(str)
        cls = cb.CatBoostRegressor if task == "regression" else cb.CatBoostClassifier
        model = cls(thread_count=2, verbose=False, allow_writing_files=False, random_seed=0)
        model.fit(X, y, cat_features=cats)
    return model.predict_proba(Xt)[:, 1] if task == "binary" else model.predict(Xt)


def worker(system: str, data_dir: Path, dataset: str, budget: float, out: Path) -> None:
    import numpy as np

    meta, train, test, target = _load(data_dir, dataset)
    start = _START[0] = time.monotonic()
    result = _fit_predict(system, meta, train, test, target, budget)
    fit_s = time.monotonic() - start
    pred, info = result if isinstance(result, tuple) else (result, {})
    y = test[target].to_numpy()
    if meta["task"] == "binary":
        from sklearn.metrics import roc_auc_score

        value = float(roc_auc_score(y, np.asarray(pred, dtype=float)))
    else:
        value = float(np.sqrt(np.mean((y - np.asarray(pred, dtype=float)) ** 2)))
    out.write_text(json.dumps({"metric": value, "fit_s": fit_s, "info": info}, default=str))


# ---------------------------------------------------------------- driver ----------------
def run_one(system: str, data_dir: Path, dataset: str, budget: float) -> dict:
    python = PYTHONS[system]
    if not python.exists():
        return {"error": f"{python} missing (run: make bench-peers)"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            str(python),
            __file__,
            "--worker",
            system,
            str(data_dir),
            dataset,
            str(budget),
            str(out),
        ]
        # Passive OpenMP waiting for every system: spinning threads are up to 15x slower on a
        # busy machine (see crispml/__init__.py), which would measure the load, not the system.
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_WAIT_POLICY": "PASSIVE"}
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0 or not out.exists():
            return {
                "error": err.strip().splitlines()[-1] if err.strip() else f"exit {proc.returncode}"
            }
        record = json.loads(out.read_text())
    record["peak_mb"] = usage.ru_maxrss / 1024
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--systems", default="crispml,flaml,autogluon")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/datasets")
    parser.add_argument("--datasets", default="adult,german,compas,diamonds")
    parser.add_argument("--json", type=Path, help="also write every result here")
    parser.add_argument(
        "--from-json", type=Path, nargs="+", help="print the table of saved results (later wins)"
    )
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        system, data_dir, dataset, budget, out = args.worker
        worker(system, Path(data_dir), dataset, float(budget), Path(out))
        return
    if args.from_json:
        merged: dict[str, dict[str, dict]] = {}
        for path in args.from_json:
            for dataset, rows in json.loads(path.read_text()).items():
                merged.setdefault(dataset, {}).update(rows)
        names = list(dict.fromkeys(s for rows in merged.values() for s in rows))
        print_table(merged, names, list(merged), args.budget)
        return
    systems = [s for name in args.systems.split(",") for s in EXPANDS.get(name, [name])]
    systems += [s for s in DEFAULT_ROWS if s not in systems]
    datasets = args.datasets.split(",")
    results: dict[str, dict[str, dict]] = {}
    for dataset in datasets:
        for system in systems:
            record = run_one(system, args.data.resolve(), dataset, args.budget)
            results.setdefault(dataset, {})[system] = record
            print(f"{dataset:9s} {system:18s} {json.dumps(record, default=str)[:300]}", flush=True)
            if args.json:
                args.json.write_text(json.dumps(results, indent=1, default=str))
    print_table(results, systems, datasets, args.budget)


def print_table(results: dict, systems: list[str], datasets: list[str], budget: float) -> None:
    ranks: dict[str, list[float]] = {s: [] for s in systems}
    for dataset in datasets:
        meta_task_higher = "diamonds" not in dataset  # rmse for regression: lower is better
        scored = {s: r["metric"] for s, r in results[dataset].items() if "metric" in r}
        order = sorted(scored, key=lambda s: -scored[s] if meta_task_higher else scored[s])
        for i, s in enumerate(order):
            ranks[s].append(i + 1.0)
    header = f"| system | {' | '.join(datasets)} | mean rank | max overrun | max peak MB |"
    print("\n" + header + "\n|" + "---|" * (len(datasets) + 4))
    for s in systems:
        cells, overruns, peaks = [], [], []
        for dataset in datasets:
            r = results[dataset].get(s, {})
            if "metric" in r:
                cells.append(f"{r['metric']:.4f} ({r['fit_s']:.0f} s)")
                overruns.append(100.0 * (r["fit_s"] - budget) / budget)
                peaks.append(r["peak_mb"])
            else:
                cells.append("error")
        mean_rank = sum(ranks[s]) / len(ranks[s]) if ranks[s] else float("nan")
        over = f"{max(overruns):+.1f}%" if overruns else "-"
        peak = f"{max(peaks):.0f}" if peaks else "-"
        wins = sum(1 for r in ranks[s] if r == 1.0)
        print(f"| {s} | {' | '.join(cells)} | {mean_rank:.2f} ({wins} won) | {over} | {peak} |")


if __name__ == "__main__":
    main()
