"""The compliance map: evidence read from typed results, SR 11-7, per-row reasons."""

import json

from pydantic import BaseModel

from crispml.audit import AUDIT_FILE, AuditReport
from crispml.deploy import DeploymentResult
from crispml.evaluate import EvaluationResult, Verdict
from crispml.report import build_compliance_map
from crispml.report._compliance import _ITEMS, IMPORTANCE, SPEC, Explanations
from crispml.spec import ProjectSpec

TYPED = {
    SPEC: ProjectSpec,
    EvaluationResult.FILE: EvaluationResult,
    Verdict.FILE: Verdict,
    DeploymentResult.FILE: DeploymentResult,
    IMPORTANCE: Explanations,
}


def _item(compliance, framework, ident):
    return next(i for i in compliance["items"] if i["framework"] == framework and i["id"] == ident)


def test_every_evidence_field_is_a_field_of_its_typed_result():
    for item in _ITEMS:
        for evidence in item.evidence:
            artifact, _, field = evidence.partition("#")
            if artifact == AUDIT_FILE:
                assert field in AuditReport.__dataclass_fields__
            if artifact not in TYPED:
                continue
            model: type[BaseModel] = TYPED[artifact]
            for key in field.split("."):
                assert key in model.model_fields, evidence
                annotation = model.model_fields[key].annotation
                model = annotation if isinstance(annotation, type) else BaseModel


def test_sr_11_7_items_point_to_artifact_and_field(run_project):
    compliance = json.loads((run_project / "report/compliance.json").read_text())
    sr = [i for i in compliance["items"] if i["framework"] == "SR 11-7"]
    ids = {i["id"] for i in sr}
    for element in (
        "Conceptual soundness",
        "Data",
        "Implementation",
        "Outcomes analysis",
        "Ongoing monitoring",
        "Limitations and use",
    ):
        assert element in ids
    outcomes = _item(compliance, "SR 11-7", "Outcomes analysis")
    assert outcomes["covered"]
    detail = {(d["artifact"], d["field"]): d["holds"] for d in outcomes["evidence_detail"]}
    assert detail[("evaluation/evaluation.json", "test")].endswith("entries")
    assert detail[("evaluation/verdict.json", "criteria")] == "2 entries"
    # monitoring is not part of a run: left to the team, with what to do
    monitoring = _item(compliance, "SR 11-7", "Ongoing monitoring")
    assert not monitoring["covered"]
    assert monitoring["left_to_team"]
    assert compliance["summary"]["SR 11-7"]["total"] == len(sr)


LOCAL = (("NIST AI RMF", "MEASURE 2.9"), ("SR 11-7", "Sensitivity and explanations"))


def test_local_explanations_are_covered_only_with_per_row_reasons(run_copy):
    path = run_copy / IMPORTANCE
    importance = json.loads(path.read_text())
    assert importance["importance"], "the run has global importance"
    importance["reason_codes"] = []
    path.write_text(json.dumps(importance))
    global_only = build_compliance_map(run_copy)
    for framework, ident in LOCAL:
        item = _item(global_only, framework, ident)
        assert not item["covered"]
        assert item["evidence"] == [f"{IMPORTANCE}#importance"]
        assert item["missing"] == [f"{IMPORTANCE}#reason_codes"]
        assert "reason codes" in item["left_to_team"]
    row = {"position": 3, "prediction": 0.9, "reasons": [{"column": "x1", "value": 2.0}]}
    importance["reason_codes"] = [row]
    path.write_text(json.dumps(importance))
    with_reasons = build_compliance_map(run_copy)
    for framework, ident in LOCAL:
        item = _item(with_reasons, framework, ident)
        assert item["covered"]
        assert f"{IMPORTANCE}#reason_codes" in item["evidence"]
        assert item["left_to_team"] is None


def test_an_empty_folder_covers_nothing():
    import tempfile

    empty = build_compliance_map(tempfile.mkdtemp())
    assert all(not i["covered"] for i in empty["items"])
    assert {fw: s["covered"] for fw, s in empty["summary"].items()} == {
        "NIST AI RMF": 0,
        "EU AI Act Annex IV": 0,
        "SR 11-7": 0,
    }
