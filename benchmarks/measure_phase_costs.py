"""Measure the engagement's per-phase costs on this machine and refit the cost model.

Runs whole engagements (``Project.run``, as ``crispml run`` does) on generated tables of
a few sizes and tasks, each with other settings of the work the late phases do
(bootstrap resamples, fairness alternatives, Word and PDF documents), reads each run's
``budget.json`` (seconds used per phase, and the features each phase ran with), and
fits, per phase, non-negative least squares of the seconds on the features that phase
depends on (:data:`TERMS`)::

    seconds = fixed_s + sum of coefficient x feature

The compute phases are fitted on the CPU seconds each used (``budget.json``'s ``cpu_s``:
this process and its finished children), which the other work of a shared machine
changes far less than wall seconds; the plan's pace (measured wall / predicted of the
phases run so far) turns them into wall seconds. Setup and seal (:data:`WALL_PHASES`) wait
on start-up and files more than they compute, and in this one process only the first run
pays the imports: their models are carried over from the existing file (wall seconds of a
quiet machine; the seal's set by hand, the command's exit being outside the measured
process). ``--on wall`` fits every phase on wall seconds instead; ``--from-file`` fits
again on the measurements stored in the file, without running anything.

The runs are deterministic (trials counted, not seconds), so the plan never reduces the
work being measured. The coefficients are written to
``src/crispml/search/phase_costs.json``, which the engagement's plan reads
(``crispml.search.phase_costs``). Usage::

    python benchmarks/measure_phase_costs.py            # measure and write
    python benchmarks/measure_phase_costs.py --dry-run  # measure and print only

The machine is shared with other work while this runs: the load average is recorded
with each run, and the plan rescales the predictions by the pace it observes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from crispml import Project
from crispml.exceptions import CrispError
from crispml.search import RunBudget
from crispml.spec import spec_from_dict

OUT = Path(__file__).resolve().parents[1] / "src/crispml/search/phase_costs.json"
RUNS: tuple[tuple[int, str, int, tuple[str, ...], int, tuple[str, ...]], ...] = (
    (2_000, "regression", 200, ("md", "html"), 0, ("lightgbm", "elastic_net")),
    (8_000, "binary", 1000, ("md", "html", "docx", "pdf"), 1, ("lightgbm", "elastic_net")),
    (20_000, "binary", 500, ("md", "html", "docx"), 2, ("lightgbm", "elastic_net")),
    (40_000, "regression", 1000, ("md", "html", "docx", "pdf"), 0, ("extra_trees",)),
    (40_000, "binary", 200, ("md", "html", "pdf"), 4, ("lightgbm", "elastic_net")),
    (8_000, "regression", 500, ("md", "html", "pdf"), 0, ("random_forest",)),
    (20_000, "regression", 1000, ("md", "html", "docx"), 0, ("lightgbm", "elastic_net")),
    (1_000, "binary", 1000, ("md", "html", "docx", "pdf"), 2, ("extra_trees", "lightgbm")),
    (2_000, "binary", 500, ("md", "html"), 1, ("lightgbm", "elastic_net")),
    (20_000, "binary", 1000, ("md", "html", "docx", "pdf"), 1, ("extra_trees",)),
)
"""Rows, task, ``evaluation.bootstrap``, ``report.formats``, the protected columns (binary:
the evaluation then re-scores fairness alternatives; each adds proxy checks to the audit and
group figures to the evaluation and report), and the families searched (tree ensembles give
the models of tens of MB that the late phases' size terms are fitted on; 1,000 and 2,000
rows search in cross-validation, whose fold bags are the delivered model)."""
MAX_TRIALS = 2
"""A short search: the phases after it are measured, not the search."""
TERMS: dict[str, tuple[str, ...]] = {
    "setup": (),
    "load": ("mcells",),
    "split": ("mcells",),
    "audit": ("mcells", "protected"),
    "evaluation": ("model_mb", "boot_mdraws", "attr_mb_krows", "alt_mrows", "protected"),
    "deployment": ("mcells", "model_mb"),
    "verdict": ("mcells",),
    "report": ("mcells", "docx", "pdf", "protected"),
    "seal": ("model_mb",),
}
"""The features each phase's cost is fitted on (see ``crispml.search._plan.FEATURES``)."""
WALL_PHASES = ("setup", "seal")
"""Phases whose models ``--on cpu`` carries over from the existing file (see above)."""


def diamonds_like(n: int, task: str, seed: int = 0, *, groups: int = 0) -> pd.DataFrame:
    """A table shaped like ggplot2's diamonds: 6 numeric and 3 ordered categorical columns.

    With ``groups``, that many more columns, random groups to protect (``group1`` .. : two
    levels, five levels, a numeric age put in quintiles, three levels).
    """
    rng = np.random.default_rng(seed)
    carat = rng.gamma(2.0, 0.4, n)
    cut = rng.choice(["Fair", "Good", "Very Good", "Premium", "Ideal"], n)
    color = rng.choice(list("DEFGHIJ"), n)
    clarity = rng.choice(["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"], n)
    depth = rng.normal(61.7, 1.4, n)
    table = rng.normal(57.4, 2.2, n)
    x = 6.5 * carat ** (1 / 3) + rng.normal(0, 0.05, n)
    grade = pd.Series(clarity).map({c: i for i, c in enumerate(sorted(set(clarity)))}).to_numpy()
    price = np.exp(8.3 + 1.7 * np.log(carat) + 0.06 * grade + rng.normal(0, 0.15, n))
    frame = pd.DataFrame(
        {
            "carat": carat.round(2),
            "cut": cut,
            "color": color,
            "clarity": clarity,
            "depth": depth.round(1),
            "table": table.round(0),
            "x": x.round(2),
            "y": (x + rng.normal(0, 0.05, n)).round(2),
            "z": (0.62 * x + rng.normal(0, 0.03, n)).round(2),
        }
    )
    makers = (
        lambda: rng.choice(["a", "b"], n),
        lambda: rng.choice(list("vwxyz"), n),
        lambda: rng.integers(18, 80, n),
        lambda: rng.choice(["p", "q", "r"], n, p=[0.6, 0.3, 0.1]),
    )
    for i in range(groups):
        frame[f"group{i + 1}"] = makers[i]()
    if task == "regression":
        frame["price"] = price.round(0)
    else:  # a noisy class: no single column may predict it (the audit would block the run)
        noisy = price * np.exp(rng.normal(0, 0.8, n))
        frame["price"] = np.where(noisy > np.median(noisy), "high", "low")
    return frame


def measure(
    run: tuple[int, str, int, tuple[str, ...], int, tuple[str, ...]], workdir: Path
) -> dict[str, object]:
    """Run one engagement; return, per phase, the seconds used and the features it ran with."""
    n, task, bootstrap, formats, protected, families = run
    frame = diamonds_like(n, task, groups=protected)
    spec = spec_from_dict(
        {
            "name": f"costs-{task}-{n}",
            "problem": {"task": task, "target": "price"},
            "data": {"source": "inline"},
            "search": {
                "time_budget_s": 30.0,
                "deterministic": True,
                "max_trials": MAX_TRIALS,
                "families": list(families),
            },
            "evaluation": {"bootstrap": bootstrap},
            "fairness": {"protected": [f"group{i + 1}" for i in range(protected)]},
            "report": {"formats": list(formats)},
            "tracking": {"enabled": True},  # the default: its start is the setup phase
        },
        source="measure_phase_costs",
    )
    load = os.getloadavg()[0]
    start = time.monotonic()
    folder = workdir / f"{task}-{n}-{bootstrap}-{protected}-{families[0]}"
    result = Project(spec, base_dir=folder, data=frame).run()
    wall_s = time.monotonic() - start
    budget = RunBudget.read(result.path)
    phases = {
        p: {"used_s": t.used_s, "cpu_s": t.cpu_s, **(t.work or {})}
        for p, t in budget.phases.items()
        if t.used_s is not None
    }
    # the seal runs after budget.json is written: the rest of the run's wall time
    phases["seal"] = {**phases["report"], "used_s": round(wall_s - budget.elapsed_s, 3)}
    return {
        "rows": n,
        "task": task,
        "protected": protected,
        "families": list(families),
        "load_1min": round(load, 2),
        "phases": phases,
    }


def fit(runs: list[dict[str, object]], on: str = "cpu") -> dict[str, dict[str, object]]:
    """Non-negative least squares per phase on (1, its features of :data:`TERMS`).

    ``on="cpu"`` fits the phases on their CPU seconds (wall seconds for runs that did not
    record CPU time), ``"wall"`` on wall seconds.
    """
    out: dict[str, dict[str, object]] = {}
    for phase, terms in TERMS.items():
        seen = [r["phases"][phase] for r in runs if phase in r["phases"]]
        design = np.array([[1.0, *(row.get(t, 0.0) for t in terms)] for row in seen])
        wall = on == "wall"
        seconds = [
            row["used_s"] if wall or row.get("cpu_s") is None else row["cpu_s"] for row in seen
        ]
        coef, _ = nnls(design, np.array(seconds, dtype=np.float64))
        out[phase] = {
            "fixed_s": round(float(coef[0]), 4),
            "terms": {t: round(float(c), 4) for t, c in zip(terms, coef[1:], strict=True)},
        }
    return out


def main() -> None:
    """Measure, fit, and write (or print) the coefficients."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    parser.add_argument(
        "--on", choices=("cpu", "wall"), default="cpu", help="seconds the phases are fitted on"
    )
    parser.add_argument(
        "--from-file", action="store_true", help="fit the stored measurements, run nothing"
    )
    args = parser.parse_args()
    previous = json.loads(OUT.read_text(encoding="utf-8")) if OUT.is_file() else {}
    runs = list(previous.get("measurements", [])) if args.from_file else []
    with tempfile.TemporaryDirectory() as tmp:
        for run in () if args.from_file else RUNS:
            try:
                runs.append(measure(run, Path(tmp)))
            except CrispError as exc:  # e.g. a parity failure: that run measures nothing
                print(json.dumps({"run": run, "failed": str(exc)[:200]}))
                continue
            print(json.dumps(runs[-1]), flush=True)
    loads = [float(r["load_1min"]) for r in runs]
    payload = {
        "about": "Linear cost model per engagement phase (seconds): fixed_s + sum of "
        "terms[feature] * feature (features: crispml.search._plan.FEATURES). Regenerate "
        "with: python benchmarks/measure_phase_costs.py",
        "machine": previous["machine"]
        if args.from_file
        else f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, measured "
        f"{datetime.now(UTC):%Y-%m-%d} on {len(runs)} deterministic runs (shared machine: "
        f"1-minute load average {min(loads):.1f} to {max(loads):.1f})",
        "fitted_on": f"{args.on} seconds"
        + (f"; {', '.join(WALL_PHASES)} carried over" if args.on == "cpu" else ""),
        "measurements": runs,
        "phases": fit(runs, args.on),
    }
    for phase in WALL_PHASES if args.on == "cpu" and "phases" in previous else ():
        payload["phases"][phase] = previous["phases"][phase]
    if "seal_note" in previous:
        payload["seal_note"] = previous["seal_note"]
    text = json.dumps(payload, indent=2) + "\n"
    if args.dry_run:
        print(text)
    else:
        OUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
