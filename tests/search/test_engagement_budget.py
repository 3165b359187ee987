"""The engagement's plan bounds the late phases' work and says what it reduced."""

from __future__ import annotations

import json
import re

import pytest

from crispml import Project
from crispml.search import PhaseCost, RunBudget, SizeCap, _plan
from crispml.search._plan import PHASES
from crispml.spec import spec_from_dict
from tests.conftest import binary_spec, make_binary


def _cost_model(monkeypatch, **phases: PhaseCost) -> None:
    """Make the plan read a cost model of 0.01 s per phase, but for ``phases``."""
    costs = {p: PhaseCost(0.01) for p in PHASES if p != "search"} | phases
    monkeypatch.setattr(_plan, "phase_costs", lambda: costs)


@pytest.fixture
def slow_late_phases(monkeypatch):
    """A cost model whose evaluation and PDF are predicted far beyond a 20 s budget."""
    _cost_model(
        monkeypatch,
        evaluation=PhaseCost(0.5, {"boot_mdraws": 2000.0}),  # 1000 x 75 rows: 150 s
        report=PhaseCost(0.5, {"pdf": 500.0}),
    )


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


@pytest.fixture
def late_phases_grow_with_the_model(monkeypatch):
    """A cost model whose export grows 1 s per model MB and whose bootstrap can shrink."""
    _cost_model(
        monkeypatch,
        evaluation=PhaseCost(0.01, {"boot_mdraws": 50.0}),  # 1000 x 75 rows: 3.75 s
        deployment=PhaseCost(0.01, {"model_mb": 1.0}),
    )


def test_the_budget_caps_the_model_size_it_can_evaluate_and_export(
    tmp_path, late_phases_grow_with_the_model
):
    frame = make_binary(300)
    spec = spec_from_dict(
        binary_spec(
            name="capped",
            data={"source": "inline"},
            search={
                "time_budget_s": 60,
                "families": ["random_forest", "elastic_net"],
                "max_trials": 4,
            },
            deployment={"max_model_mb": 50},
            report={"formats": ["html", "md"]},
        ),
        source="test",
    )
    run = Project(spec, base_dir=tmp_path, data=frame).run()
    budget = RunBudget.read(run.path)
    note = budget.phases["search"].note or ""
    match = re.search(r"models capped at (\d+\.\d+) MB, below deployment.max_model_mb", note)
    assert match, note
    cap = float(match.group(1))
    # the plan kept 3.75 s of bootstrap plus 2.5 MB of export for the late phases; at the
    # least bootstrap (100 resamples) that time exports a model of up to 2.5 + 3.4 MB
    assert 2.5 < cap <= 2.5 + 0.9 * 3.75 + 0.01
    board = run.leaderboard
    assert (board["model"] == "random_forest").any()
    for cand in board.itertuples():
        if isinstance(cand.excluded, str) and " MB > " in cand.excluded:
            assert cand.excluded.endswith("a 60 s budget can evaluate and export")
        elif cand.status == "ok":
            assert cand.model_mb <= cap  # ensembles too: members' sizes add up
    assert board.loc[board["selected"], "model_mb"].item() <= cap
    recorded = SizeCap.read(run.path)  # what the report's deliverability table says
    assert recorded.max_model_mb == pytest.approx(cap, abs=0.005)
    html = (run.path / "report/report.html").read_text()
    assert f"{recorded.max_model_mb:.3g} MB, {recorded.source}" in html
