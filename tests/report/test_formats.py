"""The validator formats: Word documents from a template, the PDF, and their record."""

import json
import re
import shutil
import subprocess

import pytest
from docx import Document
from typer.testing import CliRunner

from crispml.cli._app import app
from crispml.evaluate import EvaluationResult, Verdict
from crispml.exceptions import ReportError, SpecError
from crispml.report import (
    DEFAULT_TEMPLATE,
    HandoffDocuments,
    check_claims,
    check_template,
    verify_run,
    write_report,
)
from crispml.report._claims import fmt
from crispml.spec import spec_from_dict

from .conftest import SPEC

runner = CliRunner()


def _headings(doc):
    return [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]


def test_the_word_card_and_report_read_back_with_their_headings_and_tables(run_project):
    card = Document(str(run_project / "report/model_card.docx"))
    verdict = Verdict.read(run_project).overall
    assert _headings(card)[:3] == ["Model card: loans-report", "Model details", "Intended use"]
    assert "Caveats and recommendations" in _headings(card)
    report = Document(str(run_project / "report/report.docx"))
    heads = _headings(report)
    assert heads[0] == "Evaluation report: loans-report"
    for section in ("Verdict", "Test figures", "Explanations", "Compliance map", "Deployment"):
        assert section in heads
    # the shipped template's cover is filled in, and no placeholder is left anywhere
    texts = [p.text for p in report.paragraphs]
    assert f"Verdict: {verdict}" in texts
    assert not any("{{" in t for t in texts)
    # the metrics table: the primary metric's estimate and interval as the evaluation has them
    ev = EvaluationResult.read(run_project)
    table = next(t for t in report.tables if t.rows[0].cells[0].text == "metric")
    rows = {r.cells[0].text: [c.text for c in r.cells] for r in table.rows[1:]}
    est = ev.test[ev.primary_metric]
    assert rows[f"{ev.primary_metric} (primary)"][1:3] == [
        fmt(est.estimate),
        f"[{fmt(est.low)}, {fmt(est.high)}]",
    ]


def test_the_word_documents_are_sealed_and_their_figures_verified(run_project):
    manifest = json.loads((run_project / "manifest.json").read_text())
    for rel in ("report/model_card.docx", "report/report.docx", "report/documents.json"):
        assert rel in manifest["artifacts"]
    claims = json.loads((run_project / "report/claims.json").read_text())["claims"]
    documents = {c["document"] for c in claims}
    assert {"model_card", "report", "model_card_docx", "report_docx"} <= documents
    result = verify_run(run_project)
    assert result.ok, result.claim_mismatches


def test_a_figure_edited_in_the_word_report_is_a_claim_mismatch(run_copy):
    path = run_copy / "report/report.docx"
    doc = Document(str(path))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "metric")
    cell = table.rows[1].cells[1]
    cell.text = "0.9999"
    doc.save(str(path))
    _, bad = check_claims(run_copy)
    assert any(m.document == "report_docx" for m in bad)
    assert not verify_run(run_copy).ok


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) absent")
def test_the_pdf_report_shows_the_verdict(run_project):
    documents = HandoffDocuments.read(run_project)
    pdf = next(d for d in documents.documents if d.format == "pdf")
    if not pdf.written:
        pytest.skip(f"no PDF in this environment: {pdf.problem}")
    path = run_project / "report/report.pdf"
    assert path.read_bytes()[:5] == b"%PDF-"
    assert (
        "report/report.pdf" in json.loads((run_project / "manifest.json").read_text())["artifacts"]
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    verdict = Verdict.read(run_project).overall
    assert "loans-report" in text
    shown = re.search(r"verdict\W{0,3}(no-go|go)\b", text, flags=re.IGNORECASE)
    assert shown is not None, text[:500]
    assert shown.group(1).lower() == verdict


def test_without_a_browser_the_pdf_is_recorded_as_missing_and_the_run_verifies(
    run_copy, monkeypatch
):
    monkeypatch.setenv("CRISPML_CHROMIUM", "no-such-browser-here")
    (run_copy / "report/report.pdf").unlink(missing_ok=True)
    write_report(run_copy)
    documents = HandoffDocuments.read(run_copy)
    [pdf] = documents.missing
    assert pdf.path == "report/report.pdf"
    assert "Chromium" in pdf.problem
    assert "\n" not in pdf.problem
    assert not (run_copy / "report/report.pdf").exists()
    assert verify_run(run_copy).ok


def test_a_rebuild_keeps_the_word_documents_byte_identical(run_copy):
    before = {
        rel: (run_copy / rel).read_bytes()
        for rel in ("report/model_card.docx", "report/report.docx", "report/report.pdf")
        if (run_copy / rel).is_file()
    }
    write_report(run_copy)
    for rel, data in before.items():
        assert (run_copy / rel).read_bytes() == data, rel
    rebuild = json.loads((run_copy / "manifest.json").read_text())["report_rebuilds"][-1]
    assert rebuild["changed"] == []


def _client_template(path):
    doc = Document()
    doc.add_paragraph("ACME Bank model validation: {{ project }}", style="Title")
    doc.add_paragraph("Confidential. Verdict {{ verdict }}.")
    doc.styles["Normal"].font.name = "Arial"
    doc.save(str(path))
    return path


def test_a_client_template_gives_its_cover_and_styles(run_copy, tmp_path):
    template = _client_template(tmp_path / "acme.docx")
    write_report(run_copy, template=template)
    doc = Document(str(run_copy / "report/report.docx"))
    assert doc.paragraphs[0].text == "ACME Bank model validation: loans-report"
    assert doc.styles["Normal"].font.name == "Arial"
    assert "Evaluation report: loans-report" in _headings(doc)
    documents = HandoffDocuments.read(run_copy)
    assert documents.template == "acme.docx"
    assert verify_run(run_copy).ok


def test_a_template_without_heading_styles_still_gives_a_readable_document(run_copy, tmp_path):
    template = _client_template(tmp_path / "plain.docx")
    doc = Document(str(template))
    for level in (1, 2, 3):
        doc.styles.element.remove(doc.styles[f"Heading {level}"].element)
    doc.save(str(template))
    write_report(run_copy, template=template)
    report = Document(str(run_copy / "report/report.docx"))
    bold = [p.text for p in report.paragraphs if p.runs and p.runs[0].bold]
    assert "Evaluation report: loans-report" in bold
    assert "Compliance map" in bold


def test_cli_report_says_in_one_line_that_the_pdf_was_not_written(run_copy, monkeypatch):
    monkeypatch.setenv("CRISPML_CHROMIUM", "no-such-browser-here")
    (run_copy / "report/report.pdf").unlink(missing_ok=True)
    result = runner.invoke(app, ["report", str(run_copy)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "not written" in line]
    assert len(lines) == 1
    assert lines[0].startswith("not written: report/report.pdf: no Chromium")


def test_check_template_refuses_what_is_not_a_word_document(tmp_path):
    assert check_template(None) == DEFAULT_TEMPLATE
    with pytest.raises(ReportError, match="does not exist"):
        check_template(tmp_path / "missing.docx")
    fake = tmp_path / "fake.docx"
    fake.write_text("not a zip")
    with pytest.raises(ReportError, match=r"is not a Word document \(.docx\): not a zip"):
        check_template(fake)
    with pytest.raises(SpecError, match=r"report.template = 'cover.pdf' is not a .docx"):
        spec_from_dict({**SPEC, "report": {"template": "cover.pdf"}})
    with pytest.raises(SpecError, match=r"report\.formats leaves out"):
        spec_from_dict({**SPEC, "report": {"formats": ["docx"]}})


def test_cli_run_with_a_bad_template_is_one_line_and_exit_2(tmp_path):
    import yaml

    (tmp_path / "loans.csv").write_text("x1,outcome\n1,bad\n2,good\n")
    spec = {**SPEC, "report": {"template": "cover.docx"}}
    (tmp_path / "cover.docx").write_text("a text file, not Word")
    (tmp_path / "crispml.yaml").write_text(yaml.safe_dump(spec))
    result = runner.invoke(app, ["run", str(tmp_path / "crispml.yaml")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "report.template" in result.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
