"""The AutoML suite's pure parts: ranks, merging a crispml re-run into saved results, tables.

No benchmark runs here: the results documents are made by the test.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "automl_suite.py"


@pytest.fixture(scope="module")
def suite() -> Any:
    spec = importlib.util.spec_from_file_location("automl_suite", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["automl_suite"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _row(metric: float, wall: float = 30.0) -> dict[str, Any]:
    return {
        "metric": metric,
        "wall_s": wall,
        "wall_over_budget": wall / 30.0,
        "peak_rss_mb": 500.0,
        "model_mb": 2.5,
    }


def _doc(budget: float = 30.0) -> dict[str, Any]:
    return {
        "budget_s": budget,
        "tasks": {"german": "binary", "diamonds": "regression"},
        "results": {
            "german": {"crispml": _row(0.80), "flaml": _row(0.82), "lightgbm_default": _row(0.79)},
            "diamonds": {
                "crispml": _row(540.0),
                "flaml": _row(530.0),
                "lightgbm_default": {"error": "fit exit 1: Traceback | File x | MemoryError: y"},
            },
        },
    }


def test_ranks_follow_the_metric_direction(suite: Any) -> None:
    doc = _doc()
    assert suite.ranks(doc["results"]["german"], "binary") == {
        "flaml": 1.0,
        "crispml": 2.0,
        "lightgbm_default": 3.0,
    }
    # RMSE: lower is better; a failed run ranks after every finished one
    assert suite.ranks(doc["results"]["diamonds"], "regression") == {
        "flaml": 1.0,
        "crispml": 2.0,
        "lightgbm_default": 3.0,
    }


def test_ties_share_the_mean_rank(suite: Any) -> None:
    rows = {"a": _row(0.9), "b": _row(0.9), "c": _row(0.7), "d": {"error": "x"}, "e": {}}
    assert suite.ranks(rows, "binary") == {"a": 1.5, "b": 1.5, "c": 3.0, "d": 4.5, "e": 4.5}


def test_merge_replaces_only_the_new_rows_and_recomputes_ranks(suite: Any) -> None:
    base = _doc()
    assert suite.mean_ranks(base)["crispml"] == 2.0
    rerun = {
        "budget_s": 30.0,
        "tasks": {"german": "binary", "diamonds": "regression"},
        "results": {"german": {"crispml": _row(0.85)}, "diamonds": {"crispml": _row(520.0)}},
    }
    merged = suite.merge(base, rerun)
    assert merged["results"]["german"]["crispml"]["metric"] == 0.85
    assert merged["results"]["german"]["flaml"] == base["results"]["german"]["flaml"]
    failed = merged["results"]["diamonds"]["lightgbm_default"]
    assert failed == {"error": "fit exit 1: Traceback | File x | MemoryError: y"}
    assert list(merged["results"]["german"]) == ["crispml", "flaml", "lightgbm_default"]
    assert merged["mean_rank"] == {"crispml": 1.0, "flaml": 2.0, "lightgbm_default": 3.0}
    assert base["results"]["german"]["crispml"]["metric"] == 0.80  # the base is not modified


def test_merge_refuses_another_budget(suite: Any) -> None:
    with pytest.raises(SystemExit, match="re-run with --budget 30"):
        suite.merge(_doc(30.0), _doc(60.0))


def test_render_shows_every_run_and_the_mean_ranks(suite: Any) -> None:
    doc = _doc()
    doc["results"]["german"]["crispml"]["budget_json"] = {"elapsed_s": 28.49}
    text = suite.render(doc)
    lines = text.splitlines()
    assert "| german | crispml | roc_auc 0.8000 | 30.0 | 1.00 | 28.5 | 500 | 2.50 | 2 |" in lines
    assert "| diamonds | flaml | rmse 530.0000 | 30.0 | 1.00 | - | 500 | 2.50 | 1 |" in lines
    failed = next(line for line in lines if line.startswith("| diamonds | lightgbm_default"))
    assert (
        failed
        == "| diamonds | lightgbm_default | failed: fit exit 1: MemoryError: y | | | | | | 3 |"
    )
    assert {line.count("|") for line in lines if line.startswith("| ")} == {10, 7}
    summary = lines[
        lines.index(
            "| system | mean rank | wins | max wall / budget | max peak RSS MB | max model MB |"
        )
        + 2 :
    ]
    assert summary[0] == "| flaml | 1.00 | 2 | 1.00 | 500 | 2.50 |"
    assert summary[-1].startswith("| lightgbm_default | 3.00 | 0 |")


def test_from_json_prints_a_saved_file(suite: Any, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_doc()))
    sys_argv = sys.argv
    sys.argv = ["automl_suite.py", "--from-json", str(path)]
    try:
        suite.main()
    finally:
        sys.argv = sys_argv
    assert "| crispml | 2.00 | 0 |" in capsys.readouterr().out


def test_tree_rss_sums_the_descendants(suite: Any) -> None:
    import psutil

    # a parent whose child holds 150 MB until the test closes the child's input
    child = (
        "import sys; b = bytearray(150 * 2**20); b[::4096] = b'x' * len(b[::4096]); "
        "print('ready', flush=True); sys.stdin.read()"
    )
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    proc = subprocess.Popen(
        [sys.executable, "-c", parent], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        total, largest = suite.tree_rss(psutil.Process(proc.pid))
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)
    assert largest >= 150 * 2**20
    assert total > largest  # the parent's own RSS is added


def test_measure_returns_the_exit_code_and_the_log(suite: Any, tmp_path: Path) -> None:
    run = suite.measure(
        [sys.executable, "-c", "import sys; print('parent done'); sys.exit(3)"],
        cwd=tmp_path,
        log=tmp_path / "log",
        timeout_s=120,
    )
    assert run.returncode == 3
    assert run.log_tail == "parent done"
    assert run.wall_s > 0


def test_folder_mb_sums_nested_files(suite: Any, tmp_path: Path) -> None:
    (tmp_path / "ag" / "models").mkdir(parents=True)
    (tmp_path / "ag" / "models" / "m.pkl").write_bytes(b"0" * 1_500_000)
    (tmp_path / "model.onnx").write_bytes(b"0" * 500_000)
    assert suite.folder_mb(tmp_path) == 2.0


def test_peers_are_given_the_columns_crispml_models(suite: Any, tmp_path: Path) -> None:
    # a table whose drafted spec proposes `sex` as protected (not used as a feature)
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    table = tmp_path / "people"
    table.mkdir()
    n = 300
    frame = pd.DataFrame(
        {
            "income": rng.normal(50, 10, n).round(1),
            "sex": rng.choice(["female", "male"], n),
            "debt": rng.normal(5, 2, n).round(2),
            "default": rng.choice(["no", "yes"], n),
        }
    )
    frame.to_csv(table / "train.csv.gz", index=False)
    (table / "meta.json").write_text(json.dumps({"target": "default", "task": "binary"}))
    assert suite.columns_left_out(tmp_path, "people") == ["sex"]
