"""Engagements as a user runs them, timed as a whole, against ``time_budget_s``.

A table is a CSV path (``crispml init`` then ``crispml run``), ``diamonds-like``
(generated: 40,455 rows shaped like ggplot2's diamonds), or ``demo`` (``crispml demo``).
For each table, budget and repeat it prints the whole run's wall time against the budget,
the seconds planned and used per phase (``budget.json``), the pace the plan observed, what
it reduced, the size of the delivered model folder and the machine's load average::

    python benchmarks/whole_run.py diamonds-like --target price --budget 60
    python benchmarks/whole_run.py ../shared/datasets/diamonds/train.csv.gz --target price
    python benchmarks/whole_run.py demo --budget 30 --budget 60 --repeat 2 --markdown

It also prints the run's CPU seconds (the command and its children): on a shared machine the
wall time grows with the other work, the CPU time far less. For peak memory, run it under
``/usr/bin/time -v``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure_phase_costs import diamonds_like  # benchmarks/ is the script's folder

DIAMONDS_ROWS = 40_455


def _init(table: str, target: str, budget_s: float, workdir: Path) -> None:
    """``crispml init`` on the table, then set ``time_budget_s`` as a user would."""
    if table == "diamonds-like":
        source = workdir / "diamonds_like.csv"
        diamonds_like(DIAMONDS_ROWS, "regression").to_csv(source, index=False)
    else:
        source = Path(table).resolve()
    subprocess.run(
        [sys.executable, "-m", "crispml", "init", str(source), "--target", target,
         "--output", "crispml.yaml"],
        cwd=workdir, check=True, capture_output=True,
    )  # fmt: skip
    spec_path = workdir / "crispml.yaml"
    text = re.sub(r"time_budget_s: \S+", f"time_budget_s: {budget_s:g}", spec_path.read_text())
    spec_path.write_text(text)


def run(table: str, target: str | None, budget_s: float, workdir: Path) -> dict[str, object]:
    """Run one engagement in ``workdir``; return the figures of the finished run."""
    crispml = [sys.executable, "-m", "crispml"]
    init_s = 0.0
    if table == "demo":
        command = [*crispml, "demo", "--dir", "demo", "--budget", f"{budget_s:g}"]
        runs = workdir / "demo/runs"
    else:
        start = time.monotonic()
        _init(table, target or "", budget_s, workdir)
        init_s = time.monotonic() - start
        command = [*crispml, "run", "crispml.yaml"]
        runs = workdir / "runs"
    load_before = os.getloadavg()[0]
    start = time.monotonic()  # the whole run: the process of crispml run (or demo)
    cpu_before = _children_cpu_s()
    subprocess.run(command, cwd=workdir, check=True, capture_output=True)
    wall_s = time.monotonic() - start
    cpu_s = _children_cpu_s() - cpu_before
    folder = max(runs.iterdir(), key=lambda p: p.stat().st_mtime)
    budget = json.loads((folder / "budget.json").read_text())
    model_mb = sum(p.stat().st_size for p in (folder / "model").rglob("*") if p.is_file()) / 1e6
    return {
        "table": Path(table).parent.name if table.endswith(".csv.gz") else table,
        "budget_s": budget_s,
        "whole_run_s": round(wall_s, 1),
        "ratio": round(wall_s / budget_s, 3),
        "cpu_s": round(cpu_s, 1),
        "init_s": round(init_s, 1),
        "start_up_s": budget.get("spent_before_s"),
        "until_budget_json_s": budget["elapsed_s"],
        "after_budget_json_s": round(wall_s - budget["elapsed_s"], 1),
        "pace": budget.get("pace"),
        "phases": {k: (v["planned_s"], v["used_s"]) for k, v in budget["phases"].items()},
        "phases_cpu_s": {k: v.get("cpu_s") for k, v in budget["phases"].items()},
        "search_stages": {
            k: (v["planned_s"], v["used_s"]) for k, v in budget["search_stages"].items()
        },
        "reductions": budget.get("reductions", {}),
        "model_folder_mb": round(model_mb, 1),
        "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def _children_cpu_s() -> float:
    """CPU seconds (user + system) of this process's finished children so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def markdown(rows: list[dict[str, object]]) -> str:
    """One line per run: the figures of the closing note's table."""
    lines = [
        "| table | budget s | whole s | ratio | pace | evaluation p/u | deployment p/u | "
        "report p/u | search p/u | model MB | load 1 min | reduced |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ph: dict[str, tuple[float, float]] = r["phases"]  # type: ignore[assignment]

        def pu(name: str, ph: dict[str, tuple[float, float]] = ph) -> str:
            planned, used = ph[name]
            return f"{planned:.1f}/{used:.1f}"

        reduced = "; ".join(r["reductions"]) or "-"  # type: ignore[arg-type]
        lines.append(
            f"| {r['table']} | {r['budget_s']:g} | {r['whole_run_s']} | {r['ratio']} | "
            f"{r['pace']} | {pu('evaluation')} | {pu('deployment')} | {pu('report')} | "
            f"{pu('search')} | {r['model_folder_mb']} | {r['load_1min']} | {reduced} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Parse the arguments, run each table x budget x repeat, print JSON (and Markdown)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table")
    parser.add_argument("--target", help="the target column (not for demo)")
    parser.add_argument("--budget", type=float, action="append", help="seconds (repeatable)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = parser.parse_args()
    if args.table != "demo" and not args.target:
        parser.error("--target is required for a table (crispml init needs it)")
    rows = []
    for budget_s in args.budget or [60.0]:
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(run(args.table, args.target, budget_s, Path(tmp)))
            print(json.dumps(rows[-1]), flush=True)
    if args.markdown:
        print(markdown(rows))


if __name__ == "__main__":
    main()
