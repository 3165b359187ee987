"""The report: ordering, acceptance, the blocking error and the JSON form."""

from __future__ import annotations

import json

import numpy as np
import pytest

from crispml.audit import AUDIT_SCHEMA_VERSION, Finding, make_report
from crispml.exceptions import AuditBlockedError, CrispError


def _findings():
    return [
        Finding("inventory:overview", "inventory", "info", "rows"),
        Finding("leakage:a", "leakage", "blocking", "a leaks", {"score": np.float64(0.999)}),
        Finding("missing:b", "inventory", "warning", "b is missing", {"n": np.int64(3)}),
        Finding("canary:shuffled-labels", "canary", "blocking", "canary", {"x": float("nan")}),
    ]


def test_sorted_most_serious_first_keeping_check_order():
    report = make_report(_findings())
    assert report.ids() == [
        "leakage:a",
        "canary:shuffled-labels",
        "missing:b",
        "inventory:overview",
    ]


def test_accept_marks_only_listed_blocking_findings():
    report = make_report(_findings(), accept=["leakage:a", "missing:b"])
    assert report["leakage:a"].accepted
    assert not report["missing:b"].accepted  # only blocking findings are accepted
    assert [f.id for f in report.blocking] == ["canary:shuffled-labels"]


def test_blocked_error_names_the_finding_and_how_to_accept():
    report = make_report(_findings(), accept=["canary:shuffled-labels"])
    with pytest.raises(AuditBlockedError) as info:
        report.raise_if_blocked()
    message = str(info.value)
    assert "\n" not in message
    assert "leakage:a (a leaks)" in message
    assert "audit: {accept: ['leakage:a']}" in message
    assert isinstance(info.value, CrispError)


def test_nothing_raised_when_every_blocking_finding_is_accepted():
    report = make_report(_findings(), accept=["leakage:a", "canary:shuffled-labels"])
    report.raise_if_blocked()
    assert report.blocking == []


def test_to_dict_is_strict_json_with_a_schema_version():
    payload = make_report(_findings(), summary={"rows": np.int64(10)}).to_dict()
    text = json.dumps(payload, allow_nan=False)
    back = json.loads(text)
    assert back["schema_version"] == AUDIT_SCHEMA_VERSION
    assert back["counts"] == {"blocking": 2, "warning": 1, "info": 1}
    assert back["summary"] == {"rows": 10}
    canary = next(f for f in back["findings"] if f["id"] == "canary:shuffled-labels")
    assert canary["evidence"] == {"x": None}
    assert back["findings"][0]["evidence"]["score"] == pytest.approx(0.999)
