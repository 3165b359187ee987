"""AutoML suite: crispml as a user runs it vs FLAML, AutoGluon and untuned LightGBM / CatBoost.

Every system gets the same budget and runs on the shared train/test split of each table
(``../shared/datasets``), in fresh processes:

- crispml exactly as a user runs it, in a temporary folder: ``crispml init train.csv.gz
  --target T``, ``time_budget_s`` set in the drafted spec, ``crispml run``, then ``crispml
  predict <run folder> test.csv.gz`` through the delivered model;
- each peer (in its own venv under ``.bench/``, see ``make bench-peers``) in a fit process
  (load the training table, fit with ``time_limit`` = the budget, save the model to a folder),
  then a predict process that loads the saved model and scores the test table.

Measured the same way for every system: the wall time of the fitting process (``crispml
run``; the peer's fit process, imports, loading and saving included) against the budget; the
peak resident memory of that process tree, polled with psutil every 0.2 s and summed over the
process and all its descendants (shared pages are counted once per process); the size of the
delivered model folder (crispml: ``<run>/model``; peers: what their fit saved). crispml's own
``budget.json`` (planned and used seconds per phase) is kept with its row. The primary test
metric is ROC AUC (binary) or RMSE (regression); the table ranks the systems per dataset (ties
share the mean rank, a failed run ranks last) and prints the mean rank.

The same features for all: the columns that crispml's drafted spec keeps out of the model (the
protected attributes ``crispml init`` proposes, with ``use_as_features: false``, and any
``data.drop`` or ``id_column``) are left out of every peer's input too, so the comparison is of
the systems, not of the columns they saw. Which columns those were is in the results file
(``columns_left_out``). ``--all-columns`` gives every peer every column instead.

    python benchmarks/automl_suite.py --budget 60 --json benchmarks/results/automl_suite_60s.json
    # later, crispml only, into the same file (the peers' rows are kept, ranks recomputed):
    python benchmarks/automl_suite.py --systems crispml \
        --merge-into benchmarks/results/automl_suite_60s.json
    python benchmarks/automl_suite.py --from-json benchmarks/results/automl_suite_60s.json
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = {
    "crispml": ROOT / ".venv/bin/python",
    "flaml": ROOT / ".bench/flaml/bin/python",
    "autogluon_medium": ROOT / ".bench/autogluon/bin/python",
    "autogluon_best": ROOT / ".bench/autogluon/bin/python",
    "lightgbm_default": ROOT / ".venv/bin/python",
    "catboost_default": ROOT / ".venv/bin/python",
}
SYSTEMS = list(PYTHONS)
EXPANDS = {"autogluon": ["autogluon_medium", "autogluon_best"], "all": SYSTEMS}
DATASETS = ["adult", "german", "compas", "diamonds"]
HIGHER_IS_BETTER = {"binary": True, "regression": False}
METRIC_NAMES = {"binary": "roc_auc", "regression": "rmse"}
POLL_S = 0.2
RSS_METHOD = (
    f"psutil poll every {POLL_S} s (MiB): peak_rss_mb = largest sum of RSS over the process "
    "and all its descendants; peak_process_mb = largest single process. Not the OS's "
    "ru_maxrss: a child forked from this driver inherits the driver's RSS as its floor."
)


# ------------------------------------------------------------ peers' worker processes --
def _load(data_dir: Path, name: str, part: str) -> tuple[dict[str, Any], Any, str]:
    """One part of a table, the binary target as 0/1 (1 = the README's positive label)."""
    import pandas as pd

    meta = json.loads((data_dir / name / "meta.json").read_text())
    frame = pd.read_csv(data_dir / name / f"{part}.csv.gz")
    target = meta["target"]
    if meta["task"] == "binary":
        frame[target] = (frame[target].astype(str) == str(meta["positive_label"])).astype(int)
    return meta, frame, target


def _categoricals(frame: Any) -> list[str]:
    return [c for c in frame.columns if frame[c].dtype == object or str(frame[c].dtype) == "str"]


def _as_model_input(system: str, X: Any) -> Any:
    """The untuned models' own categorical handling (LightGBM: category; CatBoost: str)."""
    X = X.copy()
    for col in _categoricals(X):
        if system == "lightgbm_default":
            X[col] = X[col].astype("category")
        else:
            X[col] = X[col].fillna("missing").astype(str)
    return X


def worker_fit(
    system: str, data_dir: Path, dataset: str, budget: float, model_dir: Path, drop: list[str]
) -> None:
    """Fit one peer on the training table within ``budget`` seconds; save it in model_dir."""
    meta, train, target = _load(data_dir, dataset, "train")
    train = train.drop(columns=drop)
    task = meta["task"]
    X, y = train.drop(columns=[target]), train[target]
    if system == "flaml":
        from flaml import AutoML

        automl = AutoML()
        kind = "classification" if task == "binary" else "regression"
        automl.fit(
            X, y, task=kind, metric=METRIC_NAMES[task], time_budget=budget, n_jobs=2, seed=0,
            verbose=0,
        )  # fmt: skip
        (model_dir / "flaml.pkl").write_bytes(pickle.dumps(automl))
    elif system.startswith("autogluon"):
        from autogluon.tabular import TabularPredictor

        preset = "medium_quality" if system.endswith("medium") else "best_quality"
        metric = "roc_auc" if task == "binary" else "root_mean_squared_error"
        predictor = TabularPredictor(
            label=target, eval_metric=metric, path=str(model_dir / "ag"), verbosity=0
        )
        predictor.fit(train, time_limit=budget, presets=preset, num_cpus=2)
    elif system == "lightgbm_default":
        import lightgbm as lgb

        cls = lgb.LGBMRegressor if task == "regression" else lgb.LGBMClassifier
        model = cls(n_jobs=2, verbose=-1).fit(_as_model_input(system, X), y)
        (model_dir / "lightgbm.pkl").write_bytes(pickle.dumps(model))
    elif system == "catboost_default":
        import catboost as cb

        cls = cb.CatBoostRegressor if task == "regression" else cb.CatBoostClassifier
        model = cls(thread_count=2, verbose=False, allow_writing_files=False, random_seed=0)
        model.fit(_as_model_input(system, X), y, cat_features=_categoricals(X))
        model.save_model(str(model_dir / "model.cbm"))
    else:
        raise SystemExit(f"unknown system {system!r}")


def worker_predict(
    system: str, data_dir: Path, dataset: str, model_dir: Path, out: Path, drop: list[str]
) -> None:
    """Score the test table with the model saved in model_dir; write the scores (.npy)."""
    import numpy as np

    meta, test, target = _load(data_dir, dataset, "test")
    test = test.drop(columns=drop)
    binary = meta["task"] == "binary"
    Xt = test.drop(columns=[target])
    if system.startswith("autogluon"):
        from autogluon.tabular import TabularPredictor

        predictor = TabularPredictor.load(str(model_dir / "ag"))
        pred = predictor.predict_proba(Xt)[1] if binary else predictor.predict(Xt)
    elif system == "catboost_default":
        import catboost as cb

        model = cb.CatBoostClassifier() if binary else cb.CatBoostRegressor()
        model.load_model(str(model_dir / "model.cbm"))
        Xm = _as_model_input(system, Xt)
        pred = model.predict_proba(Xm)[:, 1] if binary else model.predict(Xm)
    else:
        name = "flaml.pkl" if system == "flaml" else "lightgbm.pkl"
        model = pickle.loads((model_dir / name).read_bytes())  # written by worker_fit above
        Xm = Xt if system == "flaml" else _as_model_input(system, Xt)
        pred = model.predict_proba(Xm)[:, 1] if binary else model.predict(Xm)
    np.save(out, np.asarray(pred, dtype=np.float64))


# ------------------------------------------------------------ measuring one process -----
@dataclass
class Measured:
    """What one finished child process cost, measured from outside."""

    returncode: int
    wall_s: float
    peak_rss_mb: float
    peak_process_mb: float
    log_tail: str


def tree_rss(root: Any) -> tuple[int, int]:
    """RSS bytes of ``root`` and all its descendants: their sum and the largest one."""
    import psutil

    sizes = [0]
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):  # it may end between the two calls
            sizes.append(proc.memory_info().rss)
    return sum(sizes), max(sizes)


def measure(cmd: list[str], *, cwd: Path, log: Path, timeout_s: float) -> Measured:
    """Run ``cmd`` in its own process group; wall time, peak tree RSS, peak process RSS.

    Output goes to ``log``. What the command leaves running in its group is killed at the
    end, and so is the whole group past ``timeout_s``.
    """
    import psutil

    # Passive OpenMP waiting for every system: spinning threads are much slower on a busy
    # machine (see crispml/__init__.py), which would measure the load, not the system.
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_WAIT_POLICY": "PASSIVE"}
    with log.open("ab") as sink:
        start = time.monotonic()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        root = psutil.Process(proc.pid)
        peak_tree = peak_one = 0
        while True:
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - start > timeout_s:
                os.killpg(proc.pid, signal.SIGKILL)
            total, largest = tree_rss(root)
            peak_tree, peak_one = max(peak_tree, total), max(peak_one, largest)
            time.sleep(POLL_S)
        wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(ProcessLookupError):  # leftovers of this run (its own group)
        os.killpg(proc.pid, signal.SIGKILL)
    tail = log.read_text(errors="replace").strip().splitlines()[-3:]
    return Measured(
        returncode=proc.returncode,
        wall_s=round(wall, 2),
        peak_rss_mb=round(peak_tree / 2**20, 1),
        peak_process_mb=round(peak_one / 2**20, 1),
        log_tail=" | ".join(tail)[-400:],
    )


def folder_mb(path: Path) -> float:
    """Bytes of every file under ``path``, in MB (10^6)."""
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 2)


def _failed(step: str, run: Measured) -> dict[str, Any]:
    return {"error": f"{step} exit {run.returncode}: {run.log_tail}", "wall_s": run.wall_s}


# ------------------------------------------------------------ one system on one table --
def run_crispml(data_dir: Path, dataset: str, budget: float, work: Path) -> dict[str, Any]:
    """``crispml init`` + ``crispml run`` + ``crispml predict``, as a user types them."""
    meta = json.loads((data_dir / dataset / "meta.json").read_text())
    crispml = [str(PYTHONS["crispml"]), "-m", "crispml"]
    log, limit = work / "crispml.log", 10 * budget + 600
    init = measure(
        [*crispml, "init", str(data_dir / dataset / "train.csv.gz"), "--target", meta["target"]],
        cwd=work, log=log, timeout_s=limit,
    )  # fmt: skip
    if init.returncode:
        return _failed("crispml init", init)
    spec = work / "crispml.yaml"
    text, count = re.subn(r"time_budget_s: \S+", f"time_budget_s: {budget:g}", spec.read_text())
    if count != 1:
        return {"error": "crispml init drafted no single 'time_budget_s:' line to set"}
    spec.write_text(text)
    run = measure([*crispml, "run", spec.name], cwd=work, log=log, timeout_s=limit)
    folders = sorted((work / "runs").glob("*/budget.json"))
    if run.returncode or len(folders) != 1:
        return _failed("crispml run", run)
    folder = folders[0].parent
    scored = measure(
        [*crispml, "predict", str(folder), str(data_dir / dataset / "test.csv.gz"),
         "-o", str(work / "predictions.csv")],
        cwd=work, log=log, timeout_s=limit,
    )  # fmt: skip
    if scored.returncode:
        return _failed("crispml predict", scored)
    plan = json.loads(folders[0].read_text())
    record = _record(run, budget, folder_mb(folder / "model"), scored.wall_s)
    record["metric"] = _crispml_metric(meta, data_dir / dataset, folder, work / "predictions.csv")
    record["init_s"] = init.wall_s
    record["commit"] = _commit()
    record["budget_json"] = {
        "budget_s": plan.get("budget_s"),
        "elapsed_s": plan.get("elapsed_s"),
        "phases": {k: [v.get("planned_s"), v.get("used_s")] for k, v in plan["phases"].items()},
    }
    record["model_files_mb"] = {
        p.name: folder_mb(p) if p.is_dir() else round(p.stat().st_size / 1e6, 2)
        for p in sorted((folder / "model").iterdir())
    }
    return record


def columns_left_out(data_dir: Path, dataset: str) -> list[str]:
    """The table's columns that ``crispml init``'s draft keeps out of the model.

    Protected attributes when the draft says ``use_as_features: false``, ``data.drop`` and
    the ``id_column``: the peers are given the table without them.
    """
    import yaml

    meta = json.loads((data_dir / dataset / "meta.json").read_text())
    with tempfile.TemporaryDirectory(prefix="suite-init-") as tmp:
        done = subprocess.run(
            [str(PYTHONS["crispml"]), "-m", "crispml", "init",
             str(data_dir / dataset / "train.csv.gz"), "--target", meta["target"]],
            cwd=tmp, capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode:
            raise SystemExit(f"crispml init failed on {dataset}: {done.stderr.strip()[-300:]}")
        spec = yaml.safe_load((Path(tmp) / "crispml.yaml").read_text())
    fairness, data = spec.get("fairness") or {}, spec.get("data") or {}
    left = [] if fairness.get("use_as_features") else list(fairness.get("protected") or [])
    left += list(data.get("drop") or [])
    if data.get("id_column"):
        left.append(data["id_column"])
    return sorted(set(left))


def _commit() -> str:
    """The commit crispml ran from, marked when ``src/`` had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "src", "pyproject.toml")
    return (git("rev-parse", "--short", "HEAD") or "unknown") + ("+changes" if changed else "")


def _crispml_metric(meta: dict[str, Any], table: Path, folder: Path, predictions: Path) -> float:
    """The primary test metric of ``crispml predict``'s output.

    Binary: ``probability`` is that of the bundle's second class (``classes[1]`` of the
    served model), which is the positive label the drafted spec chose.
    """
    import pandas as pd

    from crispml.serve import ServingModel

    frame = pd.read_csv(predictions)
    truth = pd.read_csv(table / "test.csv.gz")[meta["target"]]
    if meta["task"] != "binary":
        return primary_metric("regression", truth.to_numpy(), frame["prediction"].to_numpy())
    second = ServingModel.from_bundle(folder, verify=False).classes[1]
    y = (truth.astype(str) == str(second)).astype(int).to_numpy()
    return primary_metric("binary", y, frame["probability"].to_numpy())


def run_peer(
    system: str, data_dir: Path, dataset: str, budget: float, work: Path, drop: list[str]
) -> dict[str, Any]:
    """The peer's fit process, then its predict process on the saved model (without ``drop``)."""
    python = PYTHONS[system]
    if not python.exists():
        return {"error": f"{python} missing (run: make bench-peers)"}
    model_dir, log, limit = work / "model", work / "peer.log", 10 * budget + 600
    model_dir.mkdir()
    me = [str(python), str(Path(__file__).resolve()), "--worker"]
    args = [system, str(data_dir), dataset, ",".join(drop)]
    fit = measure(
        [*me, "fit", *args, str(budget), str(model_dir)], cwd=work, log=log, timeout_s=limit
    )
    if fit.returncode:
        return _failed("fit", fit)
    out = work / "predictions.npy"
    scored = measure(
        [*me, "predict", *args, str(model_dir), str(out)], cwd=work, log=log, timeout_s=limit
    )
    if scored.returncode or not out.exists():
        return _failed("predict", scored)
    import numpy as np

    meta, test, target = _load(data_dir, dataset, "test")
    record = _record(fit, budget, folder_mb(model_dir), scored.wall_s)
    record["metric"] = primary_metric(meta["task"], test[target].to_numpy(), np.load(out))
    record["columns_left_out"] = drop
    return record


def _record(fit: Measured, budget: float, model_mb: float, predict_s: float) -> dict[str, Any]:
    return {
        "wall_s": fit.wall_s,
        "wall_over_budget": round(fit.wall_s / budget, 3),
        "peak_rss_mb": fit.peak_rss_mb,
        "peak_process_mb": fit.peak_process_mb,
        "model_mb": model_mb,
        "predict_s": predict_s,
    }


def primary_metric(task: str, y: Any, pred: Any) -> float:
    """ROC AUC (binary; ``pred`` is the positive class's probability) or RMSE."""
    import numpy as np
    from sklearn.metrics import roc_auc_score, root_mean_squared_error

    if task == "binary":
        return float(roc_auc_score(y, np.asarray(pred, dtype=float)))
    return float(root_mean_squared_error(np.asarray(y, float), np.asarray(pred, float)))


def run_one(
    system: str,
    data_dir: Path,
    dataset: str,
    budget: float,
    keep: Path | None = None,
    drop: list[str] | None = None,
) -> dict[str, Any]:
    """One system on one table, in a fresh folder; the row of the results file.

    The folder (run folder, saved model, logs) is removed afterwards unless ``keep`` is
    given: it is then made under ``keep`` and left there.
    """
    before = os.getloadavg()
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"suite-{system}-{dataset}-{budget:g}s-", dir=keep))
    try:
        if system == "crispml":
            record = run_crispml(data_dir, dataset, budget, work)
        else:
            record = run_peer(system, data_dir, dataset, budget, work, drop or [])
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    record["started_utc"] = started
    record["load_avg_before"] = [round(x, 2) for x in before]
    record["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    return record


# ------------------------------------------------------------ results: ranks, merge, table
def ranks(results: dict[str, dict[str, Any]], task: str) -> dict[str, float]:
    """Rank of each system on one table (1 = best; ties share the mean; failures last)."""
    higher = HIGHER_IS_BETTER[task]
    scored = {s: r["metric"] for s, r in results.items() if "metric" in r}
    failed = [s for s in results if s not in scored]
    order = sorted(scored.values(), reverse=higher)
    out: dict[str, float] = {}
    for system, value in scored.items():
        first = order.index(value)
        tied = order.count(value)
        out[system] = first + (tied + 1) / 2
    for system in failed:  # tied for the places after every finished run
        out[system] = len(scored) + (len(failed) + 1) / 2
    return out


def mean_ranks(doc: dict[str, Any]) -> dict[str, float]:
    """Mean rank of each system over the tables of a results document."""
    per_system: dict[str, list[float]] = {}
    for dataset, rows in doc["results"].items():
        for system, rank in ranks(rows, doc["tasks"][dataset]).items():
            per_system.setdefault(system, []).append(rank)
    return {s: sum(v) / len(v) for s, v in per_system.items()}


def merge(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``base`` with the rows of ``new`` replacing those of the same system and table."""
    if not math.isclose(base["budget_s"], new["budget_s"]):
        raise SystemExit(
            f"budgets differ: the results file has {base['budget_s']:g} s, the new rows "
            f"{new['budget_s']:g} s; re-run with --budget {base['budget_s']:g}."
        )
    merged = json.loads(json.dumps(base))
    merged["tasks"].update(new["tasks"])
    merged.setdefault("columns_left_out", {}).update(new.get("columns_left_out", {}))
    for dataset, rows in new["results"].items():
        merged["results"].setdefault(dataset, {}).update(rows)
    merged["mean_rank"] = mean_ranks(merged)
    return merged


def _cell(value: Any, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def render(doc: dict[str, Any]) -> str:
    """The Markdown tables of a results document: every run, then the mean ranks."""
    return "\n".join([*_run_lines(doc), "", *_summary_lines(doc)])


def _run_lines(doc: dict[str, Any]) -> list[str]:
    lines = [
        f"### Budget {doc['budget_s']:g} s",
        "",
        "wall: the fitting process from start to exit (crispml: `crispml run`); own: the "
        "engagement's elapsed_s in budget.json; RSS: peak of the process tree, summed.",
        "",
        "| table | system | metric | wall s | wall / budget | own s | peak RSS MB | model MB "
        "| rank |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for dataset, rows in doc["results"].items():
        task = doc["tasks"][dataset]
        rank = ranks(rows, task)
        for system, r in rows.items():
            if "metric" not in r:
                error = str(r.get("error", "no result"))
                step, last = error.split(":")[0], error.split(" | ")[-1]  # step, exception
                reason = (last if last.startswith(step) else f"{step}: {last}")[:90]
                cells = f"failed: {reason.replace('|', '/')} | | | | |"
                lines.append(f"| {dataset} | {system} | {cells} | {rank[system]:g} |")
                continue
            own = r.get("budget_json", {}).get("elapsed_s")
            lines.append(
                f"| {dataset} | {system} | {METRIC_NAMES[task]} {r['metric']:.4f} | "
                f"{r['wall_s']:.1f} | {r['wall_over_budget']:.2f} | {_cell(own, '.1f')} | "
                f"{_cell(r.get('peak_rss_mb'), '.0f')} | {_cell(r.get('model_mb'), '.2f')} | "
                f"{rank[system]:g} |"
            )
    return lines


def _summary_lines(doc: dict[str, Any]) -> list[str]:
    means = mean_ranks(doc)
    lines = [
        "| system | mean rank | wins | max wall / budget | max peak RSS MB | max model MB |",
        "|---|---|---|---|---|---|",
    ]
    for system in sorted(means, key=lambda s: means[s]):
        done = [r[system] for r in doc["results"].values() if "metric" in r.get(system, {})]
        wins = sum(
            1
            for dataset, rows in doc["results"].items()
            if system in rows and ranks(rows, doc["tasks"][dataset])[system] == 1
        )
        worst = {
            k: max((r[k] for r in done), default=None)
            for k in ("wall_over_budget", "peak_rss_mb", "model_mb")
        }
        lines.append(
            f"| {system} | {means[system]:.2f} | {wins} | "
            f"{_cell(worst['wall_over_budget'], '.2f')} | {_cell(worst['peak_rss_mb'], '.0f')} | "
            f"{_cell(worst['model_mb'], '.2f')} |"
        )
    return lines


# ------------------------------------------------------------ command line ---------------
def _systems(names: str) -> list[str]:
    chosen = [s for name in names.split(",") for s in EXPANDS.get(name, [name])]
    unknown = [s for s in chosen if s not in PYTHONS]
    if unknown:
        raise SystemExit(f"unknown system(s) {', '.join(unknown)}; use {', '.join(SYSTEMS)}")
    return chosen


def _write(path: Path | None, doc: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(doc, indent=1, default=str) + "\n")
        tmp.replace(path)


def run_suite(args: argparse.Namespace, budget: float, datasets: list[str]) -> dict[str, Any]:
    """Run every chosen system on every table, one process at a time."""
    data_dir = args.data.resolve()
    doc: dict[str, Any] = {
        "budget_s": budget,
        "rss_method": RSS_METHOD,
        "machine": {"cores": os.cpu_count()},
        "tasks": {},
        "results": {},
    }
    absent = [d for d in datasets if not (data_dir / d / "meta.json").exists()]
    if absent:
        raise SystemExit(f"no {', '.join(absent)} under {data_dir} (with meta.json): see --data")
    for dataset in datasets:
        meta = json.loads((data_dir / dataset / "meta.json").read_text())
        doc["tasks"][dataset] = meta["task"]
        drop = [] if args.all_columns else columns_left_out(data_dir, dataset)
        doc.setdefault("columns_left_out", {})[dataset] = drop
        for system in _systems(args.systems):
            record = run_one(system, data_dir, dataset, budget, args.keep, drop)
            doc["results"].setdefault(dataset, {})[system] = record
            print(f"{dataset:9s} {system:17s} {json.dumps(record, default=str)[:240]}", flush=True)
            if args.merge_into is None:
                doc["mean_rank"] = mean_ranks(doc)
                _write(args.json, doc)
    return doc


def main() -> None:
    """Parse the command line: run the suite, merge into a results file, or print one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, help="seconds per system and table (default 60)")
    parser.add_argument(
        "--systems",
        default="all",
        help=f"comma-separated: all, autogluon (both presets), {', '.join(SYSTEMS)}",
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared/datasets")
    parser.add_argument("--datasets", help=f"comma-separated (default {','.join(DATASETS)})")
    parser.add_argument("--json", type=Path, help="write the results here (after every run)")
    parser.add_argument(
        "--merge-into", type=Path, help="replace these systems' rows in this results file"
    )
    parser.add_argument("--from-json", type=Path, help="print the tables of a results file")
    parser.add_argument(
        "--keep", type=Path, help="leave each run's folder (run folder, model, log) under this"
    )
    parser.add_argument(
        "--all-columns",
        action="store_true",
        help="give the peers every column (default: leave out those crispml's draft leaves out)",
    )
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        step, system, data_dir, dataset, dropped, *rest = args.worker
        drop = [c for c in dropped.split(",") if c]
        if step == "fit":
            worker_fit(system, Path(data_dir), dataset, float(rest[0]), Path(rest[1]), drop)
        else:
            worker_predict(system, Path(data_dir), dataset, Path(rest[0]), Path(rest[1]), drop)
        return
    if args.from_json:
        print(render(json.loads(args.from_json.read_text())))
        return
    if args.merge_into:
        base = json.loads(args.merge_into.read_text())
        if args.budget is not None and not math.isclose(args.budget, base["budget_s"]):
            raise SystemExit(f"{args.merge_into} is at {base['budget_s']:g} s: drop --budget.")
        datasets = args.datasets.split(",") if args.datasets else list(base["results"])
        new = run_suite(args, base["budget_s"], datasets)
        doc = merge(base, new)
        _write(args.merge_into, doc)
    else:
        datasets = args.datasets.split(",") if args.datasets else DATASETS
        doc = run_suite(args, args.budget or 60.0, datasets)
    print("\n" + render(doc))


if __name__ == "__main__":
    sys.exit(main())
