"""The engagement's plan bounds the late phases' work and says what it reduced."""

from __future__ import annotations

import json

import pytest

from crispml import Project
from crispml.search import PhaseCost, RunBudget, _plan
from crispml.search._plan import PHASES
from crispml.spec import spec_from_dict
from tests.conftest import make_binary


@pytest.fixture
def slow_late_phases(monkeypatch):
    """A cost model whose evaluation and PDF are predicted far beyond a 20 s budget."""
    costs = {p: PhaseCost(0.01) for p in PHASES if p != "search"}
    costs["evaluation"] = PhaseCost(0.5, {"boot_mdraws": 2000.0})  # 1000 x 75 rows: 150 s
    costs["report"] = PhaseCost(0.5, {"pdf": 500.0})
    monkeypatch.setattr(_plan, "phase_costs", lambda: costs)


@pytest.mark.slow
def test_a_run_short_of_time_reduces_the_late_work_and_records_it(tmp_path, slow_late_phases):
    frame = make_binary(300)
    frame["group"] = ["a", "b"] * 150
    spec = spec_from_dict(
        {
            "name": "bounded",
            "problem": {"task": "binary", "target": "y", "positive_label": "yes"},
            "data": {"source": "inline"},
            "split": {"test_size": 0.25, "valid_size": 0.2, "seed": 0},
            "search": {"time_budget_s": 20, "families": ["elastic_net"], "ensemble": False},
            "fairness": {"protected": ["group"]},
            "evaluation": {"bootstrap": 1000},
            "report": {"formats": ["html", "md", "docx", "pdf"]},
            "tracking": {"enabled": False},
        },
        source="test",
    )
    run = Project(spec, base_dir=tmp_path, data=frame).run()
    budget = RunBudget.read(run.path)
    assert set(budget.reductions) == {"evaluation", "report"}
    evaluation = run.evaluation
    assert evaluation.n_resamples < 1000  # every interval drew fewer resamples
    assert (
        f"bootstrap resamples 1000 -> {evaluation.n_resamples}" in budget.reductions["evaluation"]
    )
    assert budget.phases["evaluation"].work["boot_mdraws"] == pytest.approx(
        evaluation.n_resamples * evaluation.n_test / 1e6
    )
    documents = json.loads((run.path / "report/documents.json").read_text())
    pdf = next(d for d in documents["documents"] if d["format"] == "pdf")
    assert pdf["written"] is False and "crispml report" in pdf["problem"]
    assert not (run.path / "report/report.pdf").exists()
    assert (run.path / "report/report.html").is_file()
