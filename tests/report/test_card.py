import json

import pytest

from crispml._runfolder import hash_tree, seal_manifest
from crispml._utils._io import write_json
from crispml.exceptions import ReportError
from crispml.report import HANDOFF_FILES, read_run, verify_run, write_report


def _load(run, rel):
    return json.loads((run / rel).read_text())


def test_engagement_writes_every_handoff_file_and_seals_them(run_project):
    manifest = _load(run_project, "manifest.json")
    for rel in HANDOFF_FILES:
        assert (run_project / rel).is_file()
        assert rel in manifest["artifacts"]
    assert verify_run(run_project).ok


def test_card_holds_the_numbers_of_the_run_files(run_project):
    card = _load(run_project, "report/model_card.json")
    metrics = _load(run_project, "metrics.json")
    manifest = _load(run_project, "manifest.json")
    split = _load(run_project, "data/split.json")
    by_name = {row["metric"]: row["value"] for row in card["metrics"]["test"]}
    assert by_name == metrics["test"]
    assert card["metrics"]["primary_metric"] == metrics["primary_metric"] == "roc_auc"
    assert card["model_details"]["selected_model"] == metrics["selected_model"]
    assert card["model_details"]["run_id"] == manifest["run_id"] == run_project.name
    data = manifest["inputs"]["data"]
    assert card["training_data"]["table_sha256"] == data["table_sha256"]
    assert card["training_data"]["n_rows"] == data["n_rows"] == 569
    assert card["training_data"]["train_rows"] == split["sizes"]["train"]
    assert card["evaluation_data"]["test_rows"] == split["sizes"]["test"] == len(split["test"])
    assert card["evaluation_data"]["split_sha256"] == split["sha256"]
    assert card["intended_use"]["out_of_scope"] == "Any clinical use."
    auc = metrics["test"]["roc_auc"]
    assert card["metrics"]["verdict"]["overall"] == ("go" if auc >= 0.9 else "no-go")
    md = (run_project / "report/model_card.md").read_text()
    for title in (
        "Model details",
        "Intended use",
        "Factors",
        "Metrics",
        "Evaluation data",
        "Training data",
        "Quantitative analyses",
        "Ethical considerations",
        "Caveats and recommendations",
    ):
        assert f"## {title}\n" in md
    assert f"| roc_auc (primary) | {auc:.4f} |" in md
    assert data["table_sha256"] in md


def test_card_lists_what_other_phases_did_not_produce(run_project):
    card = _load(run_project, "report/model_card.json")
    missing = " ".join(card["not_produced"])
    for rel in ("audit/audit.json", "evaluation/", "deploy/parity.json", "deploy/latency.json"):
        produced = (run_project / rel).exists()
        assert (rel in missing) != produced, rel


def test_html_shows_metrics_leaderboard_and_lineage(run_project):
    html = (run_project / "report/report.html").read_text()
    metrics = _load(run_project, "metrics.json")
    manifest = _load(run_project, "manifest.json")
    for value in metrics["test"].values():
        assert f"{value:.4f}" in html
    assert f"test roc_auc = {metrics['test']['roc_auc']:.4f}" in html  # first fact
    assert manifest["inputs"]["data"]["table_sha256"] in html
    assert manifest["inputs"]["split_sha256"] in html
    assert html.count("<svg") >= 1  # leaderboard plot, inline
    assert 'http-equiv="Content-Security-Policy"' in html
    assert html.index("Verdict:") < html.index('id="leaderboard"') < html.index('id="lineage"')


def test_report_rebuild_shows_other_phases_outputs_by_value(rich_run):
    run, outputs = rich_run
    write_report(run)
    card = _load(run, "report/model_card.json")
    html = (run / "report/report.html").read_text()
    evaluation = outputs["evaluation/metrics.json"]
    rows = {r["metric"]: r for r in card["metrics"]["test"]}
    for name, ci in evaluation.items():
        assert rows[name]["ci_low"] == pytest.approx(ci["ci_low"])
        assert rows[name]["ci_high"] == pytest.approx(ci["ci_high"])
        assert f"{ci['ci_low']:.4f} to {ci['ci_high']:.4f}" in html
    assert card["training_data"]["audit_summary"] == {"blocking": 1, "warning": 1, "info": 1}
    assert card["ethical_considerations"]["audit_findings"][0]["check"] == "leakage"
    fair = card["quantitative_analyses"]["fairness"]["fairness.by_group"]
    assert {r["name"]: r["selection_rate"] for r in fair} == {"group_a": 0.3141, "group_b": 0.4271}
    for number in (
        "0.3141",
        "0.4271",
        "0.1130",
        "0.0417",
        "0.1843",
        "0.8123",
        "0.4321",
        "0.0345",
        "61.7",
        "12.3456",
        "2.10e-07",
    ):
        assert number in html, number
    assert "<td>row 1</td><td>2</td><td>48</td>" in html  # the confusion matrix
    assert "AUC 0.9987" in html and "Cramer" in html
    assert "Data audit: 1 blocking and 1 warning finding(s)." in html
    caveats = card["caveats_and_recommendations"]["items"]
    assert "Latency single_row.p99_ms = 61.7000 ms exceeds the SLA." in caveats
    assert "single_row.p99_ms: 61.7000 ms, OVER the SLA of 50.0000 ms." in html
    assert "data:image/svg+xml;base64," in html  # the evaluation's own plot, embedded
    assert ">ROC and precision-recall</h3>" in html  # drawn from test_predictions.csv
    # every phase's output exists now that the search writes search/budget.json
    assert card["not_produced"] == [
        entry for entry in card["not_produced"] if not (run / entry.split(" ")[0]).exists()
    ]
    assert (run / "search/budget.json").exists() == (
        "search/budget.json" not in " ".join(card["not_produced"])
    )


def test_report_rebuild_reseals_the_manifest_and_records_it(rich_run):
    run, _ = rich_run
    before = (run / "report/report.html").read_bytes()
    write_report(run)
    manifest = _load(run, "manifest.json")
    assert (run / "report/report.html").read_bytes() != before
    assert manifest["report_rebuilds"][-1]["by"] == "crispml report"
    assert "report/report.html" in manifest["report_rebuilds"][-1]["changed"]
    assert verify_run(run).ok


def test_report_refuses_a_run_whose_results_were_altered(run_copy):
    metrics = run_copy / "metrics.json"
    metrics.write_text(metrics.read_text().replace('"roc_auc"', '"roc_auc" ', 1))
    with pytest.raises(ReportError, match=r"no longer match manifest.json: metrics.json"):
        write_report(run_copy)


def test_read_run_rejects_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(ReportError, match=r"is not a run folder \(no spec.yaml\)"):
        read_run(tmp_path)


def test_evaluation_verdict_replaces_the_point_estimate_check(rich_run):
    run, _ = rich_run
    (run / "evaluation/verdict.json").write_text(
        json.dumps(
            {
                "overall": "no-go",
                "criteria": [
                    {
                        "name": "roc_auc",
                        "threshold": ">= 0.995",
                        "observed": 0.9871,
                        "result": "fail",
                    }
                ],
            }
        )
    )
    from crispml.report._extract import verdict

    result = verdict(read_run(run))
    assert result["overall"] == "no-go"
    assert result["source"] == "evaluation/verdict"
    assert result["criteria"][0]["observed"] == 0.9871


ODD_CONTENTS = [
    None,
    42,
    "text only",
    [],
    [1, 2, 3],
    [[1, 2], [3]],
    {"a": None, "b": {"c": [None, {"d": "x"}]}},
    {"value": "not a number", "ci": [None, "x"]},
    {"findings": "not a list", "overall": {"verdict": None}},
    {"findings": [None, 3, {"severity": None}], "criteria": {"x": 1}},
    {"g1": {"rate": {"value": 0.5, "ci": [0.4, 0.6]}}, "g2": {"rate": {"value": 0.7}}},
    {"single_row": {"p99_ms": "fast"}, "max_abs_diff": None, "passed": "maybe"},
]


@pytest.mark.parametrize("content", ODD_CONTENTS, ids=range(len(ODD_CONTENTS)))
def test_unexpected_shapes_from_other_phases_never_break_the_documents(run_copy, content):
    for rel in (
        "audit/audit.json",
        "evaluation/verdict.json",
        "evaluation/fairness.json",
        "evaluation/summary.json",
        "deploy/latency.json",
        "deploy/parity.json",
        "search/budget.json",
    ):
        (run_copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (run_copy / rel).write_text(json.dumps(content))
    (run_copy / "evaluation/broken.json").write_text("{not json")
    manifest = _load(run_copy, "manifest.json")  # accept the odd files, as if a phase wrote them
    manifest["artifacts"] = hash_tree(run_copy)
    write_json(run_copy / "manifest.json", seal_manifest(manifest))
    write_report(run_copy)
    html = (run_copy / "report/report.html").read_text()
    assert "Verdict:" in html and "</html>" in html
    assert verify_run(run_copy).ok


def test_latency_rows_are_measurements_not_the_sla():
    from crispml.report._extract import latency_rows, parity_summary
    from crispml.report._record import RunRecord

    record = RunRecord.__new__(RunRecord)
    record.spec = {"deployment": {"latency_sla_ms": {"p99": 50.0}}}
    record.latency = {
        "http": {"single_row": {"p50_ms": 2.5, "p99_ms": 3.5}},
        "sla_ms": {"p50": None, "p99": 50.0},
    }
    rows = latency_rows(record)
    assert [r["measure"] for r in rows] == ["http.single_row.p50_ms", "http.single_row.p99_ms"]
    assert rows[1]["ms"] == 3.5 and rows[1]["sla_ms"] == 50.0 and rows[1]["meets_sla"]
    parity = {"max_abs_prob_diff": 1.8e-07, "decision_agreement": 1.0, "passed": True}
    assert parity_summary(parity)["max_abs_diff"] == 1.8e-07
