"""Data inventory and audit: findings with evidence, before any model is trained."""

from __future__ import annotations

from crispml.audit._audit import audit_data, audit_spec
from crispml.audit._canary import canary_findings
from crispml.audit._findings import (
    AUDIT_FILE,
    AUDIT_SCHEMA_VERSION,
    SEVERITIES,
    AuditReport,
    Finding,
    make_report,
)
from crispml.audit._labels import LabelIssues, find_label_problems

__all__ = [
    "AUDIT_FILE",
    "AUDIT_SCHEMA_VERSION",
    "SEVERITIES",
    "AuditReport",
    "Finding",
    "LabelIssues",
    "audit_data",
    "audit_spec",
    "canary_findings",
    "find_label_problems",
    "make_report",
]
