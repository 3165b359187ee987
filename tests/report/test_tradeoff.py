"""The run's budget record and the report's accuracy / size / latency block."""

from __future__ import annotations

import json

import pandas as pd

from crispml.report._claims import check_claims
from crispml.search import RunBudget
from crispml.search._plan import PHASES


def test_budget_json_records_planned_and_used_per_phase(run_project):
    budget = RunBudget.read(run_project)
    assert set(budget.phases) == set(PHASES)
    assert budget.budget_s == 30 and budget.deterministic is True
    for name in PHASES:
        assert budget.phases[name].planned_s >= 0
        if name != "seal":
            assert budget.phases[name].used_s is not None
    assert budget.phases["seal"].used_s is None
    used = sum(t.used_s for t in budget.phases.values() if t.used_s is not None)
    # each figure is rounded to the millisecond: their sum may pass the total by 0.5 ms each
    assert used <= budget.elapsed_s + 0.0005 * len(budget.phases) + 1e-6
    assert set(budget.search_stages) == {"search", "ensemble", "refit"}
    manifest = json.loads((run_project / "manifest.json").read_text())
    assert "budget.json" in manifest["artifacts"]
    assert not (run_project / "search/budget.json").exists()


def test_report_shows_accuracy_against_size_for_the_top_candidates(run_project):
    html = (run_project / "report/report.html").read_text()
    assert "Accuracy, size and latency" in html
    board = pd.read_csv(run_project / "leaderboard.csv")
    assert "model_mb" in board.columns and "excluded" in board.columns
    selected = board[board["selected"]].iloc[0]
    assert 0 < selected["model_mb"] <= 100
    claims = json.loads((run_project / "report/claims.json").read_text())["claims"]
    sized = [c for c in claims if c["label"].endswith(" model_mb") and c["document"] == "report"]
    assert sized and all(c["artifact"] == "leaderboard.csv" for c in sized)
    assert any(c["label"] == "delivered single-row p99 ms" for c in claims)
    _, mismatches = check_claims(run_project)
    assert not mismatches
