"""The report read as a client: first screen, plots drawn for their question, features."""

import re

import pandas as pd

from crispml.features import FeatureDocumentation
from crispml.report import verify_run
from crispml.report._charts import auc_interval, candidates_plot, slices_plot
from crispml.report._html import segment_name


def _section(html, key):
    found = re.search(rf'<section id="{key}"[^>]*>(.*?)</section>', html, re.S)
    assert found, key
    return found.group(1)


def test_first_screen_says_verdict_why_fairness_figures_and_risks(run_project):
    html = (run_project / "report/report.html").read_text()
    top = html[: html.index("<nav>")]
    verdict = _section(top, "verdict")
    assert "Verdict: go" in verdict
    assert "roc auc is 0.8" in verdict and "the spec asks for at least 0.7" in verdict
    assert "Fairness (group): adverse impact ratio" in verdict
    assert "four-fifths rule" in verdict
    tiles = re.findall(r'<div class="l">(.*?)</div>', top)
    assert tiles[0] == "test roc_auc" and "decision threshold" in tiles
    assert "95% CI" in top[top.index('id="key-figures"') :]
    risks = re.findall(r"<li>(.*?)</li>", _section(top, "main-risks"), re.S)
    assert 1 <= len(risks) <= 3
    assert any("Adverse impact" in r for r in risks)
    assert verify_run(run_project).claim_mismatches == []


def test_plots_answer_their_question(run_project):
    html = (run_project / "report/report.html").read_text()
    board = _section(html, "leaderboard")
    assert board.count("<svg") == 1 and "[baseline]" in board and "(selected)" in board
    assert "test_brier" not in board and "diagnostic test_" not in board
    slices = _section(html, "slices")
    assert slices.count("<svg") == 1 and "(n=" in slices
    assert "segments.x1" not in slices
    fairness = _section(html, "fairness")
    assert "True positive rate (recall)" in fairness and "group = g1" in fairness
    assert "by_group" not in fairness and "fairness.svg" not in fairness


def test_feature_documentation_in_json_card_and_report(run_project):
    doc = FeatureDocumentation.read(run_project)
    by = {c.column: c for c in doc.columns}
    assert set(by) == {"x1", "x2", "city", "group", "outcome"}
    assert not by["group"].reaches_model and "protected" in by["group"].status
    assert by["x2"].reaches_model and 0.03 < by["x2"].missing_rate < 0.05
    assert set(by["city"].levels_kept) == {"a", "b", "c"}
    card = (run_project / "report/model_card.md").read_text()
    section = card[card.index("## Feature engineering") : card.index("## Quantitative")]
    assert "| group | categorical |" in section and "no: protected attribute" in section
    html = _section((run_project / "report/report.html").read_text(), "features")
    assert "<td>x2</td>" in html and "of 5 raw columns reach the model" in html


def test_card_caveats_are_written_from_the_findings(run_project):
    card = (run_project / "report/model_card.md").read_text()
    caveats = card[card.index("## Caveats") :].splitlines()
    items = [line for line in caveats if line.startswith("- ")]
    assert len(items) >= 3
    assert any("four-fifths" in item for item in items)
    assert any("Out of scope (from the spec): Any real lending decision." in i for i in items)


def test_auc_interval_narrows_with_rows_and_contains_the_estimate():
    small, large = auc_interval(0.8, 50, 50), auc_interval(0.8, 5000, 5000)
    assert small[0] < large[0] < 0.8 < large[1] < small[1]


def test_far_baseline_does_not_squash_the_zoomed_axis():
    board = pd.DataFrame(
        {
            "model": ["best", "second", "linear", "dummy"],
            "baseline": [False, False, True, True],
            "selected": [True, False, False, False],
            "test_roc_auc": [0.91, 0.9, 0.88, 0.5],
        }
    )
    svg = candidates_plot(board, "roc_auc", n_pos=200, n_neg=300)
    assert "0.5, off the axis" in svg and "best (selected)" in svg and "linear [baseline]" in svg


def test_slices_are_ranked_by_the_lower_bound():
    segments = [
        {"slice": "wide", "size": 5, "estimate": 0.6, "low": 0.05, "high": 0.95, "small": True},
        {"slice": "sure", "size": 500, "estimate": 0.3, "low": 0.25, "high": 0.35},
    ]
    svg = slices_plot(segments, {"estimate": 0.1}, "error rate")
    assert svg.index("sure  (n=500)") < svg.index("wide  (n=5)")
    assert (
        segment_name("dir", "> 0.378") == "dir > 0.378"
        and segment_name("dmi", "yes") == "dmi = yes"
    )
