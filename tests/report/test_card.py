"""The documents of a real engagement: one model, one number, every figure in the ledger."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from typer.testing import CliRunner

from crispml import Run
from crispml._runfolder import hash_tree, read_manifest, seal_manifest
from crispml._utils._io import write_json
from crispml.cli._app import app
from crispml.deploy import DeploymentResult
from crispml.evaluate import EvaluationResult, Verdict
from crispml.exceptions import ReportError
from crispml.report import CLAIMS_FILE, HANDOFF_FILES, read_run, verify_run, write_report


def _load(run, rel):
    return json.loads((run / rel).read_text())


def _reseal(run):
    """Re-hash every file into the manifest, as someone holding crispml's own code could."""
    manifest = read_manifest(run)
    manifest["artifacts"] = hash_tree(run)
    write_json(run / "manifest.json", seal_manifest(manifest))


def _by_hand(run):
    """Brier, log loss, AUC, and accuracy / F1 at the delivered threshold, from the parquet."""
    frame = pd.read_parquet(run / "evaluation/test_predictions.parquet")
    threshold = _load(run, "model/schema.json")["decision_threshold"]
    y, p = frame["y_true"].to_numpy(), frame["probability"].to_numpy()
    decision = (p >= threshold).astype(int)
    assert (decision == frame["decision"]).all()
    return {
        "roc_auc": skm.roc_auc_score(y, p),
        "brier": skm.brier_score_loss(y, p),
        "log_loss": skm.log_loss(y, np.column_stack([1 - p, p])),
        "accuracy": skm.accuracy_score(y, decision),
        "f1": skm.f1_score(y, decision),
    }


def test_engagement_writes_every_handoff_file_and_seals_them(run_project):
    manifest = _load(run_project, "manifest.json")
    for rel in HANDOFF_FILES:
        assert (run_project / rel).is_file()
        assert rel in manifest["artifacts"]
    result = verify_run(run_project)
    assert result.ok, result.claim_mismatches
    assert result.claims_checked >= 20


def test_every_document_prints_the_delivered_models_figures(run_project):
    hand = _by_hand(run_project)
    evaluation = EvaluationResult.read(run_project)
    metrics = _load(run_project, "metrics.json")
    served = _load(run_project, "model/contract.json")["card"]
    card = _load(run_project, "report/model_card.json")
    rows = {r["metric"]: r for r in card["metrics"]["test"]}
    md = (run_project / "report/model_card.md").read_text()
    html = (run_project / "report/report.html").read_text()
    for name, value in hand.items():
        assert evaluation.test[name].estimate == pytest.approx(value, abs=1e-12), name
        assert metrics["test"][name] == pytest.approx(value, abs=1e-12), name
        assert served["test_metrics"][name] == pytest.approx(value, abs=1e-12), name
        assert rows[name]["estimate"] == pytest.approx(value, abs=1e-12), name
        assert f"{value:.4f}" in md and f"{value:.4f}" in html, name
    thr = evaluation.threshold
    assert metrics["decision_threshold"] == served["decision_threshold"] == thr
    assert f"decisions at the delivered threshold {thr:.4f}" in md
    assert "diagnostics" in md and "selected on validation" in md


def test_saved_predictions_are_the_delivered_models(run_project):
    frame = pd.read_parquet(run_project / "evaluation/test_predictions.parquet")
    table = pd.read_csv(run_project.parent.parent / "loans.csv").set_index(np.arange(1200))
    rows = table.iloc[frame["row_id"].astype(int)]
    proba = Run(run_project).predict_proba(rows)
    np.testing.assert_allclose(proba[:, 1], frame["probability"], atol=1e-12)


def test_every_interval_belongs_to_the_same_model(run_project):
    evaluation = EvaluationResult.read(run_project)
    for name, est in evaluation.test.items():
        assert est.low <= est.estimate <= est.high, name
        assert est.n == evaluation.n_test
    claims = _load(run_project, CLAIMS_FILE)
    checked = [c for c in claims["claims"] if c["check"]]
    assert {c["check"]["stat"] for c in checked if c["check"]["kind"] == "metric"} == {
        "estimate",
        "low",
        "high",
    }
    assert {c["document"] for c in checked} == {
        "model_card",
        "report",
        "model_card_docx",
        "report_docx",
    }


def test_verdict_is_decided_once_after_deployment(run_project):
    verdict = Verdict.read(run_project)
    deployed = DeploymentResult.read(run_project)
    rows = {c.name: c for c in verdict.criteria}
    assert rows["latency_p99_ms"].estimate == deployed.latency.checked_single_row.p99_ms
    assert rows["latency_p99_ms"].source.startswith("deploy/deployment.json")
    assert rows["roc_auc"].source == "evaluation/evaluation.json: test.roc_auc"
    assert _load(run_project, "metrics.json")["verdict"] == verdict.overall
    assert deployed.parity.passed and deployed.parity.max_abs_prob_diff < 1e-4


def test_a_planted_mismatch_fails_verify_naming_the_claim(run_copy):
    claims = _load(run_copy, CLAIMS_FILE)
    target = next(
        c for c in claims["claims"] if c["document"] == "model_card" and c["label"] == "test brier"
    )
    md = run_copy / "report/model_card.md"
    wrong = f"{target['value'] + 0.01:.4f}"
    md.write_text(md.read_text().replace(f"| {target['shown']} |", f"| {wrong} |", 1))
    target.update(shown=wrong, value=target["value"] + 0.01)
    write_json(run_copy / CLAIMS_FILE, claims)
    _reseal(run_copy)
    result = verify_run(run_copy)
    assert not result.differing and not result.ok
    assert [m.label for m in result.claim_mismatches] == ["test brier"]
    out = CliRunner().invoke(app, ["verify", str(run_copy)])
    assert out.exit_code == 1
    assert "'test brier' shows" in out.output


def test_a_figure_missing_from_its_document_fails_verify(run_copy):
    html = run_copy / "report/report.html"
    claims = _load(run_copy, CLAIMS_FILE)
    target = next(c for c in claims["claims"] if c["label"] == "tile roc_auc")
    html.write_text(html.read_text().replace(target["shown"], "0.9999"))
    _reseal(run_copy)
    reasons = {m.reason for m in verify_run(run_copy).claim_mismatches}
    assert reasons == {"is not in"}


def test_typed_results_round_trip_and_refuse_other_versions(run_project, tmp_path):
    for kind in (EvaluationResult, Verdict, DeploymentResult):
        text = (run_project / kind.FILE).read_text()
        assert kind.from_json(text).to_json() == text
        raw = json.loads(text)
        raw["schema_version"] = 99
        with pytest.raises(ReportError, match="schema_version 99 is not 1"):
            kind.from_json(json.dumps(raw))
        raw["schema_version"] = 1
        raw["surprise"] = 1
        with pytest.raises(ReportError, match="surprise"):
            kind.from_json(json.dumps(raw))


def test_html_sections_come_from_the_run(run_project):
    html = (run_project / "report/report.html").read_text()
    manifest = _load(run_project, "manifest.json")
    assert manifest["inputs"]["data"]["table_sha256"] in html
    assert manifest["inputs"]["split_sha256"] in html
    for section in ('id="threshold"', 'id="calibration"', 'id="fairness"', 'id="latency"'):
        assert section in html
    assert "Groups of group" in (run_project / "report/model_card.md").read_text()
    assert 'http-equiv="Content-Security-Policy"' in html
    assert html.index("Verdict:") < html.index('id="leaderboard"') < html.index('id="lineage"')


def test_report_rebuild_is_deterministic_and_recorded(run_copy):
    before = (run_copy / "report/report.html").read_bytes()
    (run_copy / "report/report.html").write_text("stale")
    write_report(run_copy)
    manifest = _load(run_copy, "manifest.json")
    assert (run_copy / "report/report.html").read_bytes() == before
    signer = manifest["signing"]["public_key_fingerprint"]
    assert manifest["report_rebuilds"][-1] | {"at": None} == {
        "at": None,
        "by": "crispml report",
        "changed": [],
        "signed_by": signer,
        "previously_signed_by": signer,
    }
    assert verify_run(run_copy).ok


def test_report_refuses_a_run_whose_results_were_altered(run_copy):
    metrics = run_copy / "metrics.json"
    metrics.write_text(metrics.read_text().replace('"roc_auc"', '"roc_auc" ', 1))
    with pytest.raises(ReportError, match=r"no longer match manifest.json: metrics.json"):
        write_report(run_copy)


def test_read_run_rejects_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(ReportError, match=r"is not a run folder \(no spec.yaml\)"):
        read_run(tmp_path)


def test_fairness_evidence_out_of_fold_calibration_and_tradeoff(run_project):
    fairness = _load(run_project, "evaluation/fairness.json")
    report = fairness["attributes"]["group"]
    split = _load(run_project, "data/split.json")
    oof = report["out_of_fold"]
    assert "out-of-fold" in oof["basis"]
    n_fit = len(split["train"]) + len(split["valid"])
    assert sum(g["count"] for g in oof["by_group"].values()) == n_fit
    assert sum(g["count"] for g in report["by_group"].values()) == len(split["test"])
    assert "adverse_impact_ratio" in report["gaps"] and "adverse_impact_ratio" in oof["gaps"]
    frame = pd.read_parquet(run_project / "evaluation/test_predictions.parquet")
    table = pd.read_csv(run_project.parent.parent / "loans.csv")
    groups = table["group"].to_numpy()[frame["row_id"].astype(int)]
    for group, stats in report["calibration_by_group"].items():
        rows = groups == group
        assert stats["mean_predicted"] == pytest.approx(frame["probability"][rows].mean())
        assert stats["observed"] == pytest.approx(frame["y_true"][rows].mean())
    delivered = [r for r in report["tradeoff"] if r["delivered"]]
    assert len(delivered) == 1
    assert delivered[0]["threshold"] == pytest.approx(fairness["threshold"], abs=1e-4)
    html = (run_project / "report/report.html").read_text()
    assert "what each threshold would give" in html and "(delivered)" in html
    assert "calibration in the large" in html


def test_card_quotes_the_adverse_action_reasons_of_test_decisions(run_project):
    card = (run_project / "report/model_card.md").read_text()
    codes = _load(run_project, "evaluation/importance.json")["reason_codes"][:3]
    assert codes, "the fixture has adverse decisions on its test rows"
    for code in codes:
        line = next(x for x in card.splitlines() if f"test row {code['position']} " in x)
        assert all(r["statement"] in line for r in code["reasons"])
        assert all(r["contribution"] > 0 for r in code["reasons"])
