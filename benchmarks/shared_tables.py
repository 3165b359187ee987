"""crispml against untuned CatBoost and LightGBM on the four shared tables, the same columns.

A quick, comparable check of where crispml's accuracy stands (issue 15, item 5) without
the AutoML peers: on adult, german, compas (ROC AUC) and diamonds (RMSE), each on the
shared split (``train.csv.gz`` -> ``test.csv.gz``), it runs

- crispml as a user runs it (``crispml init`` + ``crispml run`` + ``crispml predict``, in
  a fresh process, the budget set in the drafted spec);
- untuned LightGBM and untuned CatBoost, each given the table without the columns
  crispml's drafted spec keeps out of the model (its proposed protected attributes,
  ``data.drop``, the id column), so all three see the same features.

It reuses ``automl_suite.py``'s runners, so a row here is measured exactly as the suite
measures it. For crispml it also keeps what explains the figure: the delivered
candidate, the trials fitted, the validation mode, and the search's planned and used
seconds (``budget.json``). Each row records the 1-minute load average before and after:
the machine is shared, so wall times are contended.

    python benchmarks/shared_tables.py --budget 30 --json benchmarks/results/shared_tables_30s.json
    python benchmarks/shared_tables.py --from-json benchmarks/results/shared_tables_30s.json

``--search-s S --tree DIR[,DIR...]`` measures the search alone instead, for comparing
source trees (e.g. ``git archive <base> src | tar -x -C /tmp/before``): each tree's
``search_models`` gets S seconds in a fresh process, on the split the engagement makes
(20 % of the training table locked away as its test, the rest 80/20 train/valid, seed
0), and its selected model is scored once on ``test.csv.gz``. The trees run interleaved,
table by table, so a busy machine slows them alike.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import automl_suite as suite  # noqa: E402  (the sibling script, found through HERE)

SYSTEMS = ("crispml", "catboost_default", "lightgbm_default")


def search_facts(run_folder: Path) -> dict[str, Any]:
    """What the run's search did: delivered candidate, trials, validation, seconds."""
    board = list(csv.DictReader((run_folder / "search/leaderboard.csv").open()))
    search = [r for r in board if r["baseline"] == "False" and r["family"] != "ensemble"]
    selected = next((r["model"] for r in board if r["selected"] == "True"), None)
    plan = json.loads((run_folder / "budget.json").read_text())
    folds = json.loads((run_folder / "search/folds.json").read_text())
    valid_col = next(c for c in board[0] if c.startswith("valid_"))
    return {
        "selected": selected,
        "trials_ok": sum(1 for r in search if r["status"] == "ok"),
        "trials": len(search),
        "validation": {k: folds.get(k) for k in ("mode", "n_folds", "repeats")},
        "search_planned_used_s": [
            plan["phases"].get("search", {}).get(k) for k in ("planned_s", "used_s")
        ],
        "top": [(r["model"], r[valid_col]) for r in board if r["status"] == "ok"][:5],
    }


def run_table(data_dir: Path, dataset: str, budget: float, systems: list[str]) -> dict[str, Any]:
    """Every system on one table; crispml's run folder is read, then removed."""
    drop = suite.columns_left_out(data_dir, dataset)
    rows: dict[str, Any] = {}
    for system in systems:
        keep = Path(tempfile.mkdtemp(prefix=f"shared-{dataset}-"))
        try:
            record = suite.run_one(system, data_dir, dataset, budget, keep, drop)
            if system == "crispml" and "metric" in record:
                folders = sorted(keep.glob("*/runs/*/budget.json"))
                record["search"] = search_facts(folders[0].parent)
        finally:
            shutil.rmtree(keep, ignore_errors=True)
        rows[system] = record
        print(f"{dataset:9s} {system:17s} {record.get('metric')} {record.get('search', '')}")
    return {"columns_left_out": drop, "results": rows}


def search_only(
    data_dir: Path, dataset: str, search_s: float, drop: list[str], trials: int = 0
) -> dict[str, Any]:
    """Child process: the engagement's split, ``search_models`` for ``search_s``, test score.

    ``trials`` > 0 counts the search in trials instead (deterministic mode): the same
    configurations whatever the machine's load.
    """
    import time

    import numpy as np
    from sklearn.model_selection import train_test_split

    import crispml
    from crispml.data import conform, infer_schema
    from crispml.search import search_models

    meta, train, target = suite._load(data_dir, dataset, "train")
    _, test, _ = suite._load(data_dir, dataset, "test")
    task = meta["task"]
    schema = infer_schema(train.drop(columns=drop), target=target)
    X, y = conform(train, schema), train[target].to_numpy()
    stratify = y if task == "binary" else None
    rows, _ = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0, stratify=stratify)
    fit, valid = train_test_split(
        rows, test_size=0.2, random_state=0, stratify=None if stratify is None else y[rows]
    )
    cpu, started = time.process_time(), time.monotonic()
    result = search_models(
        X.iloc[fit].reset_index(drop=True), y[fit], X.iloc[valid].reset_index(drop=True),
        y[valid], schema=schema, task=task, metric=suite.METRIC_NAMES[task],
        time_budget_s=search_s, seed=0, deterministic=trials > 0, max_trials=trials or None,
    )  # fmt: skip
    model, Xt = result.best.pipeline, conform(test, schema)
    pred = model.predict_proba(Xt)[:, 1] if task == "binary" else model.predict(Xt)
    return {
        "metric": suite.primary_metric(task, test[target].to_numpy(), pred),
        "selected": result.best.name,
        "valid": result.best.valid_score,
        "trials_ok": sum(1 for c in result.candidates if c.status == "ok" and not c.baseline),
        "validation": {k: result.validation.get(k) for k in ("mode", "n_folds", "repeats")},
        "wall_s": round(time.monotonic() - started, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "load_avg": round(os.getloadavg()[0], 2),
        "crispml_from": str(Path(crispml.__file__).parent.parent),
    }


def compare_trees(args: argparse.Namespace) -> dict[str, Any]:
    """Each tree's search on each table, interleaved; one row per (table, tree)."""
    doc: dict[str, Any] = {"search_s": args.search_s, "trials": args.trials, "tables": {}}
    for dataset in args.datasets.split(","):
        drop = suite.columns_left_out(args.data.resolve(), dataset)
        for tree in args.tree.split(","):
            env = {**os.environ, "PYTHONPATH": str(Path(tree).resolve())}
            cmd = [sys.executable, __file__, "--child", str(args.data.resolve()), dataset,
                   str(args.search_s), ",".join(drop), str(args.trials)]  # fmt: skip
            done = subprocess.run(cmd, env=env, capture_output=True, text=True)
            lines = done.stdout.strip().splitlines()
            row = json.loads(lines[-1]) if done.returncode == 0 else {"error": done.stderr[-300:]}
            doc["tables"].setdefault(dataset, {})[tree] = row
            print(f"{dataset:9s} {tree} {json.dumps(row)}", flush=True)
    return doc


def render(doc: dict[str, Any]) -> str:
    """One Markdown table: metric per system and table, crispml's gap, the load average."""
    lines = [
        f"### Budget {doc['budget_s']:g} s (commit {doc.get('commit')})",
        "",
        "| table | metric | crispml | catboost | lightgbm | crispml delivered | trials ok "
        "| search planned/used s | wall/budget | load before |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset, table in doc["tables"].items():
        rows = table["results"]
        me = rows.get("crispml", {})
        facts = me.get("search", {})

        def metric(system: str, rows: dict[str, Any] = rows) -> str:
            value = rows.get(system, {}).get("metric")
            return "-" if value is None else f"{value:.4f}"

        planned_used = facts.get("search_planned_used_s") or [None, None]
        lines.append(
            f"| {dataset} | {suite.METRIC_NAMES[doc['tasks'][dataset]]} | {metric('crispml')} "
            f"| {metric('catboost_default')} | {metric('lightgbm_default')} "
            f"| {facts.get('selected', me.get('error', '-'))} | {facts.get('trials_ok', '-')} "
            f"| {planned_used[0]}/{planned_used[1]} | {me.get('wall_over_budget', '-')} "
            f"| {me.get('load_avg_before', ['-'])[0]} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run the tables (or print a results file)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--data", type=Path, default=suite.ROOT.parent / "shared/datasets")
    parser.add_argument("--datasets", default=",".join(suite.DATASETS))
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--json", type=Path, help="write the results here (after every table)")
    parser.add_argument("--from-json", type=Path, help="print the table of a results file")
    parser.add_argument("--search-s", type=float, help="compare the search alone, this long")
    parser.add_argument("--tree", help="comma-separated source trees (with --search-s)")
    parser.add_argument(
        "--trials", type=int, default=0, help="with --search-s: count trials (deterministic)"
    )
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        data_dir, dataset, seconds, dropped, trials = args.child
        drop = [c for c in dropped.split(",") if c]
        row = search_only(Path(data_dir), dataset, float(seconds), drop, int(trials))
        print(json.dumps(row))
        return
    if args.search_s is not None:
        doc = compare_trees(args)
        if args.json is not None:
            args.json.write_text(json.dumps(doc, indent=1) + "\n")
        return
    if args.from_json:
        print(render(json.loads(args.from_json.read_text())))
        return
    doc: dict[str, Any] = {"budget_s": args.budget, "commit": suite._commit(), "tasks": {}}
    doc["tables"] = {}
    for dataset in args.datasets.split(","):
        meta = json.loads((args.data / dataset / "meta.json").read_text())
        doc["tasks"][dataset] = meta["task"]
        doc["tables"][dataset] = run_table(
            args.data.resolve(), dataset, args.budget, args.systems.split(",")
        )
        if args.json is not None:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    print(render(doc))


if __name__ == "__main__":
    main()
