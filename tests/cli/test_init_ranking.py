"""``crispml init`` drafts a ranking spec when told the query column, and hints otherwise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from typer.testing import CliRunner

from crispml.cli import app
from crispml.spec import load_spec

runner = CliRunner()
HINT = "looks like a ranking table: rerun with --task ranking --group query_id"


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "query_id": np.repeat(np.arange(20), 5),
            "price": rng.normal(size=100).round(3),
            "stars": rng.integers(1, 6, 100),
            "grade": rng.integers(0, 4, 100),
        }
    )


def test_group_drafts_a_ranking_spec_that_resolves_to_a_query_split(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _table().to_csv("results.csv", index=False)
    result = runner.invoke(app, ["init", "results.csv", "-t", "grade", "--group", "query_id"])
    assert result.exit_code == 0, result.output
    assert "task: ranking" in result.stdout and "looks like" not in result.stdout
    raw = yaml.safe_load(Path("crispml.yaml").read_text())
    assert raw["problem"]["group_column"] == "query_id"
    spec = load_spec("crispml.yaml").resolved()
    assert spec.split.strategy == "group" and spec.split.group_column == "query_id"
    assert spec.problem.primary_metric == "ndcg" and spec.problem.ndcg_k == 10
    assert spec.search.families == ("lightgbm_ranker", "xgboost_ranker")


def test_a_query_column_and_graded_target_get_a_hint_not_a_guess(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _table().to_csv("results.csv", index=False)
    result = runner.invoke(app, ["init", "results.csv", "-t", "grade"])
    assert result.exit_code == 0, result.output
    assert "task: multiclass" in result.stdout
    assert HINT in " ".join(result.stdout.split())
    assert load_spec("crispml.yaml").problem.task == "multiclass"


def test_no_hint_without_a_query_like_column(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _table().rename(columns={"query_id": "store"}).to_csv("results.csv", index=False)
    result = runner.invoke(app, ["init", "results.csv", "-t", "grade"])
    assert result.exit_code == 0 and "looks like" not in result.stdout


def test_ranking_needs_a_group_and_a_graded_target(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = _table()
    table["score"] = table["price"] * 1.5
    table.to_csv("results.csv", index=False)
    missing = runner.invoke(app, ["init", "results.csv", "-t", "grade", "--task", "ranking"])
    assert missing.exit_code == 2 and "--task ranking needs --group" in missing.output
    absent = runner.invoke(app, ["init", "results.csv", "-t", "grade", "--group", "qid"])
    assert absent.exit_code == 2 and "--group 'qid' is not a column" in absent.output
    fractional = runner.invoke(app, ["init", "results.csv", "-t", "score", "--group", "query_id"])
    assert fractional.exit_code == 2 and "not a graded relevance" in fractional.output
    assert "Traceback" not in missing.output + absent.output + fractional.output
    assert not Path("crispml.yaml").exists()


def test_run_refuses_a_family_that_is_not_a_ranker_before_any_work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _table().to_csv("results.csv", index=False)
    runner.invoke(app, ["init", "results.csv", "-t", "grade", "--group", "query_id"])
    text = Path("crispml.yaml").read_text()
    text = text.replace("families: [lightgbm_ranker, xgboost_ranker]", "families: [lightgbm]")
    text = text.replace("  uri: null", "  enabled: false\n  # uri: null")
    Path("crispml.yaml").write_text(text)
    result = runner.invoke(app, ["run", "crispml.yaml"])
    assert result.exit_code == 2
    assert "no ranker 'lightgbm'. Known: lightgbm_ranker, xgboost_ranker" in result.output
    assert "Auditing" not in result.output and "Traceback" not in result.output
    assert not Path("runs").exists() or not any(Path("runs").iterdir())
