"""How the cost of each phase grows with the rows: 100k, 300k and 1M rows.

Run: .venv/bin/python benchmarks/scaling.py [--rows 100000 300000 1000000] [--trials 4]

For each size it writes the issue-16 table (``make_large.make_table``) as Parquet into a
fresh project, drafts the spec as ``crispml init`` does, fixes the search to a trial
count (deterministic mode, ``--trials`` trials of ``--families``: the same work at every
size, so only the rows change), and runs the engagement in a child process. The child
times each step and reads its peak resident memory: the kernel's high-water mark
(``VmHWM``) is reset before each step (``/proc/self/clear_refs``, Linux), so a step's
figure is its own peak, not the run's so far.

With ``--parallel`` the sizes run at once (less wall time; each size's seconds then
include waiting for the cores the others use; the peak memory figures are unaffected).

Printed: tables of wall seconds, CPU seconds and peak MB per step and size, with the growth
from the smallest to the largest size next to the growth of the rows (linear growth:
the same ratio), the table's in-memory size after crispml's loading (pandas
``memory_usage(deep=True)`` of ``crispml.data.load_table``'s frame, MiB), the floor of a
crispml process (resident memory after importing the engagement, LightGBM and
onnxruntime, before any data is read), the run's peak and its ratio to the table, the
test score and the 1-minute load average before each run. All memory figures are MiB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from make_large import make_table  # benchmarks/ is the script's folder

SIZES = (100_000, 300_000, 1_000_000)
FAMILIES = ("lightgbm", "elastic_net")
STEPS = {
    "Loading": "load",
    "Splitting": "split",
    "Auditing": "audit",
    "Searching": "search",
    "Evaluating": "evaluation",
    "Exporting": "deployment",
    "Deciding": "verdict",
    "Writing": "report",
    "Sealing": "seal",
}


def _status_mb(field: str) -> float:
    """A memory figure of ``/proc/self/status`` (``VmHWM``, ``VmRSS``), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(s for s in status if s.startswith(field))
    return int(line.split()[1]) / 1024


def _peak_mb() -> float:
    """The process's resident-memory high-water mark since the last reset, in MB."""
    return _status_mb("VmHWM")


def _cpu_s() -> float:
    """CPU seconds (user + system, every thread) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
        refs.write("5")


def one(rows: int, trials: int, families: tuple[str, ...], workdir: Path) -> dict[str, object]:
    """Run the engagement once on ``rows`` rows (in this process); return its figures."""
    import lightgbm  # noqa: F401  (the floor counts the libraries every run imports)
    import onnxruntime  # noqa: F401

    from crispml import data as cdata
    from crispml._engagement import Project
    from crispml._init import draft_spec

    floor = _status_mb("VmRSS")  # a crispml process before it reads any data

    source = workdir / "large.parquet"
    make_table(rows).to_parquet(source, index=False, compression="zstd")
    text, _ = draft_spec(
        str(source), target="churned", name=None, spec_dir=workdir, spec_name="crispml.yaml"
    )
    text = re.sub(r"deterministic: \S+", "deterministic: true", text)
    text = re.sub(r"max_trials: \S+", f"max_trials: {trials}", text)
    text = re.sub(r"families: \[[^]]*\]", f"families: [{', '.join(families)}]", text)
    spec_path = workdir / "crispml.yaml"
    spec_path.write_text(text)
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    peaks: dict[str, float] = {}

    @contextlib.contextmanager
    def step(title: str) -> Iterator[None]:
        name = next((v for k, v in STEPS.items() if title.startswith(k)), None)
        _reset_peak()
        start, start_cpu = time.monotonic(), _cpu_s()
        yield
        if name is not None:
            seconds[name] = seconds.get(name, 0.0) + time.monotonic() - start
            cpu[name] = cpu.get(name, 0.0) + _cpu_s() - start_cpu
            peaks[name] = max(peaks.get(name, 0.0), _peak_mb())

    start = time.monotonic()
    run = Project.from_yaml(spec_path).run(progress=step, command=["scaling.py"])
    wall = time.monotonic() - start
    loaded = cdata.load_table(source).frame
    metrics = json.loads((run.path / "metrics.json").read_text())
    return {
        "rows": rows,
        "seconds": seconds,
        "cpu_s": cpu,
        "peak_mb": peaks,
        "wall_s": wall,
        "floor_mb": floor,
        "table_mb": float(loaded.memory_usage(deep=True).sum()) / 2**20,
        "test": metrics.get("test", {}),
    }


def _row(label: str, values: list[float], rows: list[int], fmt: str) -> str:
    growth = values[-1] / values[0] if values[0] > 0 else float("nan")
    cells = "".join(f"{format(v, fmt):>12}" for v in values)
    return f"{label:<12}{cells}{growth:>10.1f}x  (rows {rows[-1] / rows[0]:.0f}x)"


def _run_sizes(
    sizes: list[int], trials: int, families: list[str], parallel: bool, save: Path | None
) -> tuple[list[dict[str, Any]], list[float]]:
    """Run each size in a child process (one after the other, or all at once)."""
    results, loads = [], []
    keep = ["--save", str(save)] if save is not None else []
    with tempfile.TemporaryDirectory() as tmp:
        children = []
        for rows in sizes:
            workdir = Path(tmp) / str(rows)
            workdir.mkdir()
            command = [
                sys.executable, __file__, "--one", str(rows), "--trials", str(trials),
                "--families", *families, "--workdir", str(workdir), *keep,
            ]  # fmt: skip
            loads.append(os.getloadavg()[0])
            child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
            children.append((child, None if parallel else child.communicate()[0]))
        for rows, (child, early) in zip(sizes, children, strict=True):
            out = early if early is not None else child.communicate()[0]
            if child.returncode:
                raise SystemExit(f"{rows:,} rows: the run failed (exit {child.returncode})")
            line = next(s for s in out.splitlines() if s.startswith("RESULT "))
            results.append(json.loads(line.removeprefix("RESULT ")))
            print(f"{rows:,} rows done in {results[-1]['wall_s']:.0f} s", file=sys.stderr)
    return results, loads


def main() -> None:
    """Run every size in its own process and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES))
    parser.add_argument(
        "--parallel", action="store_true", help="run the sizes at once (timings then share cores)"
    )
    parser.add_argument(
        "--save", type=Path, help="append each size's figures to this JSON-lines file as it ends"
    )
    parser.add_argument(
        "--tables-from", type=Path, help="print the tables of a --save file; run nothing"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        load = os.getloadavg()[0]
        figures = one(args.one, args.trials, tuple(args.families), args.workdir)
        figures.update(load_before=load, load_after=os.getloadavg()[0])
        print("RESULT " + json.dumps(figures))
        if args.save is not None:
            with open(args.save, "a", encoding="utf-8") as out:
                done = {**figures, "trials": args.trials, "families": args.families}
                out.write(json.dumps(done) + "\n")
        return
    if args.tables_from is not None:
        lines = args.tables_from.read_text(encoding="utf-8").splitlines()
        results = sorted((json.loads(s) for s in lines if s.strip()), key=lambda r: r["rows"])
        loads = [r["load_before"] for r in results]
        args.trials, args.families = results[0]["trials"], results[0]["families"]
    else:
        results, loads = _run_sizes(
            args.rows, args.trials, args.families, args.parallel, args.save
        )
    rows = [r["rows"] for r in results]
    header = f"{'':<12}" + "".join(f"{n:>12,}" for n in rows) + "    growth"
    steps = [s for s in STEPS.values() if all(s in r["seconds"] for r in results)]
    print(f"families {', '.join(args.families)}, {args.trials} trials (deterministic)")
    print("\nseconds per step\n" + header)
    for s in steps:
        print(_row(s, [r["seconds"][s] for r in results], rows, ".1f"))
    print(_row("whole run", [r["wall_s"] for r in results], rows, ".1f"))
    print("\nCPU seconds per step (user + system: less sensitive to a shared machine)\n" + header)
    for s in steps:
        print(_row(s, [r["cpu_s"][s] for r in results], rows, ".1f"))
    print("\npeak RSS per step, MB\n" + header)
    for s in steps:
        print(_row(s, [r["peak_mb"][s] for r in results], rows, ".0f"))
    print(_row("table", [r["table_mb"] for r in results], rows, ".0f"))
    print(_row("floor", [r["floor_mb"] for r in results], rows, ".0f"))
    peaks = [max(r["peak_mb"].values()) for r in results]
    print(_row("run peak", peaks, rows, ".0f"))
    ratios = [p / r["table_mb"] for p, r in zip(peaks, results, strict=True)]
    print(f"{'peak/table':<12}" + "".join(f"{v:>12.1f}" for v in ratios))
    scores = [r["test"].get("roc_auc", float("nan")) for r in results]
    print(f"\n{'test AUC':<12}" + "".join(f"{v:>12.4f}" for v in scores))
    print(f"{'load before':<12}" + "".join(f"{v:>12.2f}" for v in loads))
    after = [r.get("load_after", float("nan")) for r in results]
    print(f"{'load after':<12}" + "".join(f"{v:>12.2f}" for v in after))


if __name__ == "__main__":
    main()
