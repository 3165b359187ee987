"""The documents' less discriminatory alternatives part, on a real engagement."""

import json

import pytest

from crispml._runfolder import hash_tree, read_manifest, seal_manifest
from crispml._utils._io import write_json
from crispml.evaluate import AlternativesResult, Estimate
from crispml.report import CLAIMS_FILE, Ledger, read_run, verify_run
from crispml.report._alternatives_html import (
    alternatives_block,
    alternatives_md,
    headline,
    pareto_plot,
)
from crispml.report._claims import fmt


def _claims(run):
    return json.loads((run / "report/claims.json").read_text())["claims"]


def test_report_and_card_show_the_section_with_every_figure_in_the_ledger(run_project):
    alt = AlternativesResult.read(run_project)
    html = (run_project / "report/report.html").read_text()
    section = html[html.index('id="alternatives"') :]
    assert "Less discriminatory alternatives" in section
    assert "<svg" in section[: section.index("</section>")]
    card = (run_project / "report/model_card.md").read_text()
    assert "**Less discriminatory alternative**" in card
    assert alt.conclusion.split(":")[0] in card
    shown = [c for c in _claims(run_project) if c["artifact"] == AlternativesResult.FILE]
    assert {c["document"] for c in shown} >= {"report"}
    delivered = alt.points[0]
    assert any(
        c["field"] == "points.0.primary.estimate" and c["shown"] == fmt(delivered.primary.estimate)
        for c in shown
    )
    result = verify_run(run_project)
    assert result.ok, result.claim_mismatches
    checked = [c for c in shown if c["check"] == {"kind": "alternatives", "field": c["field"]}]
    assert checked and len(checked) == len(shown)


def test_verify_recomputes_the_alternatives_figures_from_the_saved_table(run_copy):
    """A figure changed in the result (documents and seal kept coherent) is caught."""
    claims = json.loads((run_copy / CLAIMS_FILE).read_text())
    target = next(c for c in claims["claims"] if c["field"] == "points.0.primary.estimate")
    wrong = fmt(target["value"] - 0.05)
    for rel in ("report/report.html", "report/model_card.md"):
        path = run_copy / rel
        path.write_text(path.read_text().replace(target["shown"], wrong))
    for claim in claims["claims"]:
        if claim["field"] == target["field"]:
            claim.update(shown=wrong, value=target["value"] - 0.05)
    write_json(run_copy / CLAIMS_FILE, claims)
    manifest = read_manifest(run_copy)
    manifest["artifacts"] = hash_tree(run_copy)
    write_json(run_copy / "manifest.json", seal_manifest(manifest))
    result = verify_run(run_copy)
    assert not result.differing and not result.ok
    assert target["label"] in {m.label for m in result.claim_mismatches}


def test_delivered_point_is_the_fairness_sections_out_of_fold_evidence(run_project):
    """Same model, rows, threshold and bootstrap: the two parts of the report agree."""
    alt = AlternativesResult.read(run_project)
    fairness = json.loads((run_project / "evaluation/fairness.json").read_text())
    oof = fairness["attributes"]["group"]["out_of_fold"]["gaps"]
    delivered = alt.points[0]
    for measure in ("adverse_impact_ratio", "equalized_odds_difference"):
        ours = delivered.disparity[measure]
        assert ours.estimate == pytest.approx(oof[measure]["estimate"])
        assert ours.low == pytest.approx(oof[measure]["low"])
    assert delivered.threshold == pytest.approx(fairness["threshold"])


def _with_alternative(alt: AlternativesResult) -> AlternativesResult:
    """The run's result with its second point named as the alternative, and a test figure."""
    second = alt.points[1]
    interval = Estimate(estimate=0.9, low=0.8, high=0.95, level=0.95, n=100)
    fairer = dict.fromkeys(alt.measures, interval)
    points = [alt.points[0], second.model_copy(update={"disparity": fairer}), *alt.points[2:]]
    tests = [
        {"name": alt.delivered, "threshold": 0.5, "primary": interval, "disparity": fairer},
        {"name": second.name, "threshold": 0.4, "primary": interval, "disparity": fairer},
    ]
    raw = alt.model_dump() | {
        "points": [p.model_dump() for p in points],
        "alternative": second.name,
        "test": [{**t, "primary": interval.model_dump(), "disparity": {
            m: interval.model_dump() for m in alt.measures}} for t in tests],
    }  # fmt: skip
    return AlternativesResult.model_validate(raw)


def test_a_named_alternative_is_shown_with_its_figures_beside_the_delivered_model(run_copy):
    alt = _with_alternative(AlternativesResult.read(run_copy))
    (run_copy / AlternativesResult.FILE).write_text(alt.to_json())
    record = read_run(run_copy)
    ledger = Ledger()

    def show(value, source, label):
        return ledger.show(value, source, document="report", label=label)

    block = alternatives_block(record, show)
    finding = dict(block.facts)["finding"]
    assert finding.startswith(f"Less discriminatory alternative {alt.alternative}: roc_auc ")
    assert f"delivered {alt.delivered}: roc_auc" in finding
    assert "0.9000 [0.8000, 0.9500]" in finding
    assert [row[0] for row in block.tables[0][2]].count(f"{alt.alternative} (alternative)") == 1
    assert "diagnostic on the locked test set" in block.tables[1][0]
    assert "test diagnostic" in dict(block.facts)
    fields = {c.field for c in ledger.claims}
    assert {"test.1.primary.estimate", "points.1.primary.low"} <= fields
    lines = alternatives_md(record, show)
    assert any("Test set (diagnostic, after the choice)" in line for line in lines)
    assert headline(alt, show) in lines[3]


def test_no_alternative_is_said_plainly(run_project):
    alt = AlternativesResult.read(run_project).model_copy(update={"alternative": None})
    text = headline(alt, lambda value, source, label: fmt(value))
    assert text == alt.conclusion
    assert pareto_plot(alt).startswith("<svg")
