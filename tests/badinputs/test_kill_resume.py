"""Issue 12 item 8: SIGKILL ``crispml run`` at random points, then ``--resume``.

After every kill no run folder looks complete unless it verifies against its manifest,
the Optuna and MLflow stores stay readable, and ``--resume`` finishes keeping the
trials already done.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from crispml.report import verify_run
from tests.badinputs._files import frame, spec

pytestmark = pytest.mark.slow
ROUNDS = 5
CRISPML = [sys.executable, "-c", "from crispml.cli import main; main()"]


def _complete_trials(project: Path) -> int:
    storage = f"sqlite:///{project / '.crispml' / 'optuna.db'}"
    if not (project / ".crispml" / "optuna.db").exists():
        return 0
    total = 0
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=False):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        total += len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
    return total


def _mlflow_readable(project: Path) -> None:
    import mlflow

    db = project / ".crispml" / "mlflow.db"
    if db.exists():
        client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{db}")
        for experiment in client.search_experiments():
            client.search_runs([experiment.experiment_id], max_results=5)


def _check_folders(project: Path) -> list[Path]:
    runs = project / "runs"
    done = (
        [p for p in runs.iterdir() if p.is_dir() and not p.name.startswith(".")]
        if runs.is_dir()
        else []
    )
    for folder in done:
        assert verify_run(folder).ok, f"{folder} looks finished but does not verify"
    return done


def test_sigkill_at_random_points_then_resume(tmp_path):
    frame(400).to_csv(tmp_path / "data.csv", index=False)
    path = spec(
        tmp_path,
        search={"time_budget_s": 6, "families": ["lightgbm", "elastic_net"], "ensemble": True},
        tracking={"enabled": True},
    )
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    rng = random.Random(12)
    trials_seen = 0
    for _ in range(ROUNDS):
        proc = subprocess.Popen(
            [*CRISPML, "run", "--resume", str(path)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        delay = rng.uniform(3.0, 14.0)
        time.sleep(delay)
        finished_before_kill = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        finished = _check_folders(tmp_path)
        staged = len(list((tmp_path / "runs").glob(".staging-*"))) if finished is not None else 0
        for folder in finished:
            folder.rename(folder.with_name(f".finished-{folder.name}"))  # a later round's check
        _mlflow_readable(tmp_path)
        trials_now = _complete_trials(tmp_path)
        assert trials_now >= trials_seen, "a kill lost finished trials"
        trials_seen = trials_now
        print(
            f"round: killed at {delay:.1f} s (ended before: {finished_before_kill}), "
            f"{trials_now} trials kept, {len(finished)} finished folders, {staged} staging left"
        )
    done = subprocess.run(
        [*CRISPML, "run", "--resume", str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (folder,) = _check_folders(tmp_path)
    assert verify_run(folder).ok
    assert _complete_trials(tmp_path) >= trials_seen
    _mlflow_readable(tmp_path)
    print(f"resume: finished with {_complete_trials(tmp_path)} trials (>= {trials_seen} kept)")
