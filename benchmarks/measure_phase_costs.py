"""Measure the engagement's per-phase costs on this machine and refit the cost model.

Runs whole engagements (``Project.run``, as ``crispml run`` does) on generated tables of
a few sizes and tasks, reads each run's ``budget.json`` (seconds used per phase) and the
delivered model's size, and fits, per phase, non-negative least squares::

    seconds = fixed_s + per_mcell_s * rows * columns / 1e6 + per_model_mb_s * model_mb

The coefficients are written to ``src/crispml/search/phase_costs.json``, which the
engagement's plan reads (``crispml.search.phase_costs``). Usage::

    python benchmarks/measure_phase_costs.py            # measure and write
    python benchmarks/measure_phase_costs.py --dry-run  # measure and print only

The machine is shared with other work while this runs, so the seconds are upper
figures; re-measure when the machine or the library versions change.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from crispml import Project
from crispml.exceptions import CrispError
from crispml.search import RunBudget
from crispml.search._plan import PHASES
from crispml.spec import spec_from_dict

OUT = Path(__file__).resolve().parents[1] / "src/crispml/search/phase_costs.json"
SIZES = ((2_000, "regression"), (8_000, "binary"), (20_000, "binary"), (40_000, "binary"))
"""Larger tables are binary: regression runs of 20k+ rows of this table stop on an ONNX
parity failure (relative difference ~1e-3 > 1e-4), which no phase cost can be read from."""
BUDGET_S = 30.0


def diamonds_like(n: int, task: str, seed: int = 0) -> pd.DataFrame:
    """A table shaped like ggplot2's diamonds: 6 numeric and 3 ordered categorical columns."""
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
    if task == "regression":
        frame["price"] = price.round(0)
    else:  # a noisy class: no single column may predict it (the audit would block the run)
        noisy = price * np.exp(rng.normal(0, 0.8, n))
        frame["price"] = np.where(noisy > np.median(noisy), "high", "low")
    return frame


def measure(n: int, task: str, workdir: Path) -> dict[str, float]:
    """Run one engagement; return seconds used per phase, the table size and model MB."""
    frame = diamonds_like(n, task)
    spec = spec_from_dict(
        {
            "name": f"costs-{task}-{n}",
            "problem": {"task": task, "target": "price"},
            "data": {"source": "inline"},
            "search": {"time_budget_s": BUDGET_S},
            "tracking": {"enabled": True},  # the default: its start is the setup phase
        },
        source="measure_phase_costs",
    )
    run = Project(spec, base_dir=workdir / f"{task}-{n}", data=frame).run()
    budget = RunBudget.read(run.path)
    model_mb = (run.path / "model/pipeline.skops").stat().st_size / 1e6
    used = {p: t.used_s for p, t in budget.phases.items() if t.used_s is not None}
    return {**used, "mcells": n * frame.shape[1] / 1e6, "model_mb": model_mb}


MODEL_PHASES = ("evaluation", "deployment", "report")
"""Phases that handle the fitted model: their cost may grow with its size."""


def fit(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Non-negative least squares per phase on (1, million cells[, model MB])."""
    out = {}
    for phase in PHASES:
        if phase == "search":
            continue
        seen = [r.get(phase) for r in rows]
        if phase == "seal" or any(v is None for v in seen):
            # The seal hashes budget.json, so it cannot be in it: a share of the report's.
            out[phase] = {"fixed_s": 0.3, "per_mcell_s": 0.5, "per_model_mb_s": 0.01}
            continue
        with_model = phase in MODEL_PHASES
        design = np.array(
            [[1.0, r["mcells"], *([r["model_mb"]] if with_model else [])] for r in rows]
        )
        coef, _ = nnls(design, np.array(seen, dtype=np.float64))
        coef = np.append(coef, 0.0) if not with_model else coef
        out[phase] = {
            "fixed_s": round(float(coef[0]), 4),
            "per_mcell_s": round(float(coef[1]), 4),
            "per_model_mb_s": round(float(coef[2]), 4),
        }
    return out


def main() -> None:
    """Measure, fit, and write (or print) the coefficients."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, task in SIZES:
            try:
                rows.append(measure(n, task, Path(tmp)))
            except CrispError as exc:  # e.g. a parity failure: that run measures nothing
                print(json.dumps({"rows": n, "task": task, "failed": str(exc)[:200]}))
                continue
            print(json.dumps({"rows": n, "task": task, **rows[-1]}))
    payload = {
        "about": "Linear cost model per engagement phase (seconds): fixed_s + per_mcell_s * "
        "rows*columns/1e6 + per_model_mb_s * model MB. Regenerate with: python "
        "benchmarks/measure_phase_costs.py",
        "machine": f"{platform.node()} {platform.machine()}, measured "
        f"{datetime.now(UTC):%Y-%m-%d} on {len(rows)} runs of {BUDGET_S:g} s (shared machine)",
        "measurements": rows,
        "phases": fit(rows),
    }
    text = json.dumps(payload, indent=2) + "\n"
    if args.dry_run:
        print(text)
    else:
        OUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
