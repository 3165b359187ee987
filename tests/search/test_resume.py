from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import numpy as np, pandas as pd
    from crispml.data import conform, infer_schema
    from crispml.search import search_models

    store, mode, max_trials = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    frame["y"] = (frame["a"] + rng.normal(size=300) > 0).astype(int)
    schema = infer_schema(frame, target="y")
    X, y = conform(frame, schema), frame["y"].to_numpy()

    def show(cand):
        if not cand.baseline:
            print(json.dumps([cand.name, cand.status, cand.valid_score,
                              cand.info.get("restored", False)]), flush=True)

    result = search_models(
        X[:240], y[:240], X[240:], y[240:], schema=schema, task="binary", metric="roc_auc",
        families=("elastic_net",), deterministic=True, max_trials=max_trials, baselines=False,
        ensemble=False, study_dir=store, resume=(mode == "resume"), on_candidate=show,
    )
    restored = [c.name for c in result.candidates if c.info.get("restored")]
    print(json.dumps({"restored": restored, "n": len(result.candidates),
                      "best": result.best.name}), flush=True)
    """
)


@pytest.mark.slow
def test_resume_after_kill_keeps_finished_trials(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(SCRIPT)
    store = tmp_path / ".crispml"
    proc = subprocess.Popen(
        [sys.executable, str(script), str(store), "fresh", "1000"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    finished = []
    for line in proc.stdout:  # type: ignore[union-attr]
        name, status, value, _ = json.loads(line)
        if status == "ok":
            finished.append((name, value))
        if len(finished) >= 3:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert (store / "optuna.db").is_file()

    total = len(finished) + 2
    out = subprocess.run(
        [sys.executable, str(script), str(store), "resume", str(total)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    lines = [json.loads(x) for x in out.stdout.splitlines()]
    summary = lines[-1]
    kept = set(summary["restored"])
    assert {name for name, _ in finished} <= kept  # every finished trial survived the kill
    new = [x for x in lines[:-1] if not x[3]]
    assert 1 <= len(new) <= total - len(finished)  # only the missing trials ran again
    assert not {x[0] for x in new} & kept
