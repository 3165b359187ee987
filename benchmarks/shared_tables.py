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
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
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
    search = [r for r in board if r["baseline"] == "False"]
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
        "top": [(r["model"], r[valid_col]) for r in search if r["status"] == "ok"][:5],
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
    args = parser.parse_args()
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
