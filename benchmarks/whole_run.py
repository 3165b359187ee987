"""One engagement as a user runs it: ``crispml init`` then ``crispml run``, timed as a whole.

Prints the whole run's wall time against ``time_budget_s``, the seconds planned and used
per phase (``budget.json``), and the size of the delivered model files. The table is a
CSV path, or ``diamonds-like`` (generated: 40,455 rows shaped like ggplot2's diamonds)::

    python benchmarks/whole_run.py diamonds-like --target price --budget 60
    python benchmarks/whole_run.py /path/to/train.csv.gz --target price --budget 60

For the process-level wall time and peak memory, run it under ``farm-bench``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure_phase_costs import diamonds_like  # benchmarks/ is the script's folder

DIAMONDS_ROWS = 40_455


def run(table: str, target: str, budget_s: float, workdir: Path) -> dict[str, object]:
    """Init and run in ``workdir``; return the figures of the finished run."""
    if table == "diamonds-like":
        source = workdir / "diamonds_like.csv"
        diamonds_like(DIAMONDS_ROWS, "regression").to_csv(source, index=False)
    else:
        source = Path(table).resolve()
    crispml = [sys.executable, "-m", "crispml"]
    start = time.monotonic()
    subprocess.run(
        [*crispml, "init", str(source), "--target", target, "--output", "crispml.yaml"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    spec_path = workdir / "crispml.yaml"
    text = re.sub(r"time_budget_s: \S+", f"time_budget_s: {budget_s:g}", spec_path.read_text())
    spec_path.write_text(text)
    init_s = time.monotonic() - start
    subprocess.run([*crispml, "run", "crispml.yaml"], cwd=workdir, check=True)
    wall_s = time.monotonic() - start
    folder = max((workdir / "runs").iterdir(), key=lambda p: p.stat().st_mtime)
    budget = json.loads((folder / "budget.json").read_text())
    sizes = {
        p.name: round(p.stat().st_size / 1e6, 2)
        for p in (folder / "model").iterdir()
        if p.is_file()
    }
    verdict = json.loads((folder / "evaluation/verdict.json").read_text())
    return {
        "budget_s": budget_s,
        "init_s": round(init_s, 1),
        "whole_run_s": round(wall_s, 1),
        "whole_run_over_budget": round(wall_s / budget_s, 3),
        "engagement_elapsed_s": budget["elapsed_s"],
        "phases": {k: (v["planned_s"], v["used_s"]) for k, v in budget["phases"].items()},
        "search_stages": {
            k: (v["planned_s"], v["used_s"], v.get("note"))
            for k, v in budget["search_stages"].items()
        },
        "model_files_mb": sizes,
        "verdict": [(c["name"], c["result"], c["estimate"]) for c in verdict["criteria"]],
    }


def main() -> None:
    """Parse the arguments, run once, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("table")
    parser.add_argument("--target", required=True)
    parser.add_argument("--budget", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(args.table, args.target, args.budget, Path(tmp)), indent=1))


if __name__ == "__main__":
    main()
