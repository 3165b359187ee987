"""Writing the handoff documents into a run folder, and re-sealing a finished one.

Policy (documented in the report's ``__init__``): during ``crispml run`` the documents
are written into the staged folder before the manifest, so the manifest hashes them
like every other artifact. ``crispml report RUN`` on a finished folder first checks
that every other artifact still matches the manifest, rewrites the documents, then
updates the manifest's entries for exactly those files, records the rebuild under
``report_rebuilds``, re-seals the manifest and signs it again with the key of whoever
rebuilt (:mod:`crispml._signing`; the card then names that key).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crispml._runfolder import MANIFEST, read_manifest, seal_manifest
from crispml._signing import sign_run, signer_identity, signing_key
from crispml._utils._io import (
    atomic_write_bytes,
    atomic_write_text,
    sha256_file,
    to_json,
    write_json,
)
from crispml.exceptions import ReportError
from crispml.features import FeatureDocumentation
from crispml.report._anomaly_card import refuse_anomaly_rebuild
from crispml.report._card import build_model_card, render_model_card_md
from crispml.report._claims import CLAIMS_FILE, Ledger
from crispml.report._compliance import build_compliance_map
from crispml.report._docx import check_template
from crispml.report._features import feature_documentation
from crispml.report._formats import (
    DOCUMENTS_FILE,
    FORMAT_FILES,
    OPTIONAL_FILES,
    REPORT_PDF,
    documents_record,
    print_report,
    word_documents,
)
from crispml.report._html import render_html
from crispml.report._ranking_card import refuse_ranking_rebuild
from crispml.report._record import RunRecord, read_run
from crispml.report._reproduce import reproduce_script
from crispml.report._verify import verify_run
from crispml.search import RunBudget

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HANDOFF_FILES = (
    "report/claims.json",
    "report/features.json",
    "report/model_card.md",
    "report/model_card.json",
    "report/compliance.json",
    "report/report.html",
    "reproduce.sh",
)
_MSG_TAMPERED = (
    "{path}: these artifacts no longer match manifest.json: {files}. The documents would "
    "describe altered results; run crispml verify {path} and restore the run folder first."
)
_MSG_UNSIGNED = (
    "{path}: {problem}. Re-signing would vouch for a manifest nobody can account for; "
    "restore the run folder as delivered (crispml verify {path} must pass) first."
)


def write_report(
    run_dir: str | Path,
    *,
    manifest: dict[str, Any] | None = None,
    template: str | Path | None = None,
    leave_out: Mapping[str, str] | None = None,
    model: Any | None = None,
) -> list[Path]:
    """Write the model card, the HTML report, the claims ledger, the compliance map, reproduce.sh.

    With ``report.formats`` asking for them, also the card and the report as Word
    documents and the report as PDF, and ``report/documents.json`` saying which were
    written (a PDF needs Chromium; without it the run records why and goes on).

    Parameters
    ----------
    run_dir : str or Path
        The staged folder during a run (pass ``manifest``), or a finished run folder
        (its ``manifest.json`` is then updated for the rewritten files).
    manifest : dict, optional
        The manifest about to be sealed, when the folder is still being staged.
    template : str or Path, optional
        The Word template; default: ``report.template`` of the run's spec (relative to
        the project folder, two levels above the run folder), else crispml's own.

        .. versionadded:: 0.1
    leave_out : mapping of str to str, optional
        Formats of ``report.formats`` not to write this time, each with the reason that
        ``report/documents.json`` records (the engagement's plan leaves out the PDF, then
        the Word documents, when the time left does not cover them).

        .. versionadded:: 0.1
    model : object, optional
        The delivered model, when the caller holds the one it saved in
        ``model/pipeline.skops`` (the engagement): the feature documentation is read
        from it instead of loading that file back (seconds for a large forest).

    Returns
    -------
    list of Path
        The files written (see :data:`HANDOFF_FILES`).

    Raises
    ------
    ReportError
        If the folder is not a run folder, a finished folder's other artifacts
        no longer match its manifest, or the Word template is missing or not a .docx.
    """
    root = Path(run_dir)
    refuse_anomaly_rebuild(root)
    refuse_ranking_rebuild(root)
    finished = manifest is None
    key = signing_key() if finished else None
    if key is not None:
        _check_sources(root)
        manifest = {**read_manifest(root), "signing": signer_identity(key)}
    record = read_run(root, manifest=manifest)
    features = feature_documentation(record, model)
    record = dataclasses.replace(record, features=features)
    formats = record.spec.report.formats
    skipped = {
        rel: why for fmt, why in (leave_out or {}).items() for rel in FORMAT_FILES.get(fmt, ())
    }
    word_template = check_template(template if template is not None else _template(record))
    card = build_model_card(record)
    sealed_later = () if finished else (MANIFEST, RunBudget.FILE)  # written after the documents
    compliance = build_compliance_map(
        root, will_write=HANDOFF_FILES + sealed_later, manifest=record.manifest
    )
    ledger = Ledger()
    texts = {
        "report/model_card.md": render_model_card_md(card, record, ledger),
        "report/model_card.json": to_json(card),
        "report/compliance.json": to_json(compliance),
        "report/report.html": render_html(record, card=card, compliance=compliance, ledger=ledger),
        "reproduce.sh": reproduce_script(record),
    }
    if features is not None:
        texts[FeatureDocumentation.FILE] = features.to_json()
    binaries: dict[str, bytes] = {}
    if "docx" in formats and "docx" not in (leave_out or {}):
        binaries = word_documents(
            record,
            card_md=texts["report/model_card.md"],
            compliance=compliance,
            ledger=ledger,
            template=word_template,
        )
    texts[CLAIMS_FILE] = ledger.to_json(record.evaluation)
    written = [atomic_write_text(root / rel, text) for rel, text in texts.items()]
    os.chmod(root / "reproduce.sh", 0o755)
    sealed = dict(record.manifest.get("artifacts") or {}) if finished else {}
    written += _write_formats(
        root, formats, binaries, template=word_template, sealed=sealed, skipped=skipped
    )
    if key is not None:
        _reseal(root, key)
    return written


def _write_formats(
    root: Path,
    formats: tuple[str, ...],
    binaries: dict[str, bytes],
    *,
    template: Path,
    sealed: dict[str, str],
    skipped: dict[str, str],
) -> list[Path]:
    """Write the Word documents, print the PDF, record them in ``report/documents.json``."""
    written = [atomic_write_bytes(root / rel, data) for rel, data in binaries.items()]
    problems = dict(skipped)
    if "pdf" in formats and REPORT_PDF not in skipped:
        if problem := print_report(root, sealed):
            problems[REPORT_PDF] = problem
        else:
            written.append(root / REPORT_PDF)
    for rel in OPTIONAL_FILES:  # a rebuild must not leave documents of an older one
        if root / rel not in written:
            (root / rel).unlink(missing_ok=True)
    documents = documents_record(root, formats, template, problems)
    return [*written, atomic_write_text(root / DOCUMENTS_FILE, documents.to_json())]


def _template(record: RunRecord) -> Path | None:
    """Resolve the spec's Word template against the project folder (two levels up)."""
    name = record.spec.report.template
    if name is None:
        return None
    path = Path(name)
    return path if path.is_absolute() else record.path.resolve().parent.parent / path


def _check_sources(root: Path) -> None:
    """Refuse a folder whose sources changed, or whose manifest is not validly signed.

    Re-signing a manifest someone re-sealed without the key would launder the edit.
    """
    result = verify_run(root)
    ours = HANDOFF_FILES + OPTIONAL_FILES
    bad = [f for f in result.differing + result.missing if f not in ours]
    if bad:
        raise ReportError(_MSG_TAMPERED.format(path=root, files=", ".join(bad)))
    if not result.signature.valid:
        raise ReportError(_MSG_UNSIGNED.format(path=root, problem=result.signature.problem))


def _reseal(root: Path, key: Ed25519PrivateKey) -> None:
    """Update the manifest's hashes of the rewritten documents, record the rebuild, re-sign."""
    manifest = read_manifest(root)
    artifacts = dict(manifest.get("artifacts") or {})
    changed = []
    for rel in HANDOFF_FILES + OPTIONAL_FILES:
        if not (root / rel).is_file():
            if artifacts.pop(rel, None) is not None:
                changed.append(rel)
            continue
        sha = sha256_file(root / rel)
        if artifacts.get(rel) != sha:
            changed.append(rel)
        artifacts[rel] = sha
    rebuilds = [*manifest.get("report_rebuilds", [])]
    rebuilds.append(
        {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "by": "crispml report",
            "changed": changed,
            "signed_by": signer_identity(key)["public_key_fingerprint"],
            "previously_signed_by": (manifest.get("signing") or {}).get("public_key_fingerprint"),
        }
    )
    manifest.update(
        {
            "artifacts": dict(sorted(artifacts.items())),
            "report_rebuilds": rebuilds,
            "signing": signer_identity(key),
        }
    )
    write_json(root / MANIFEST, seal_manifest(manifest))
    sign_run(root, key)
