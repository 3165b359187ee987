"""Handoff documentation: model card, HTML report, compliance map, reproduce and verify.

Nothing imports this package but the engagement and the CLI: it reads a run folder's
typed results only, so
``crispml report RUN`` rebuilds the documents from a finished run without retraining.

Manifest policy. In ``crispml run`` the documents are written into the staged folder
before ``manifest.json``, which then hashes them with every other artifact.
``crispml report RUN`` refuses to document a folder whose other artifacts no longer
match the manifest; otherwise it rewrites the documents, updates the manifest's
entries for exactly those files, appends ``{at, by, changed}`` to
``report_rebuilds`` and re-seals the manifest (``manifest_sha256``), so
``crispml verify`` passes afterwards and the rebuild is on record.
"""

from __future__ import annotations

from crispml.exceptions import ReportError
from crispml.report._anomaly_card import write_anomaly_report
from crispml.report._build import HANDOFF_FILES, write_report
from crispml.report._card import build_model_card, render_model_card_md
from crispml.report._claims import CLAIMS_FILE, Claim, ClaimMismatch, Ledger, check_claims
from crispml.report._compliance import build_compliance_map
from crispml.report._docx import DEFAULT_TEMPLATE, check_template
from crispml.report._formats import DocumentEntry, HandoffDocuments
from crispml.report._ranking_card import write_ranking_report
from crispml.report._record import RunRecord, read_run
from crispml.report._verify import Verification, verify_run

__all__ = [
    "CLAIMS_FILE",
    "DEFAULT_TEMPLATE",
    "HANDOFF_FILES",
    "Claim",
    "ClaimMismatch",
    "DocumentEntry",
    "HandoffDocuments",
    "Ledger",
    "ReportError",
    "RunRecord",
    "Verification",
    "build_compliance_map",
    "build_model_card",
    "check_claims",
    "check_template",
    "read_run",
    "render_model_card_md",
    "verify_run",
    "write_anomaly_report",
    "write_ranking_report",
    "write_report",
]
