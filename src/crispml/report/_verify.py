"""``crispml verify``: re-hash a run folder against its manifest, check its signature and claims.

Replaying the engagement is the engagement's own business (:mod:`crispml._replay`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from crispml._runfolder import MANIFEST, hash_tree, seal_manifest
from crispml._signing import SignatureCheck, check_signature, load_public_key
from crispml.exceptions import ReportError
from crispml.report._claims import ClaimMismatch, check_claims

_MSG_NO_MANIFEST = (
    "{path} has no manifest.json, so there is nothing to verify against. "
    "Pass a finished run folder (runs/<run-id>)."
)

_NOT_CHECKED = SignatureCheck(False, None, False, "manifest.json cannot be read")


@dataclass(frozen=True)
class Verification:
    """Result of re-hashing a run folder.

    Attributes
    ----------
    checked : int
        Files listed in the manifest.
    differing, missing, extra : list of str
        Files whose sha256 differs, listed files that are gone, and files the
        manifest does not list. ``manifest.json`` appears in ``differing`` when its
        own seal (``manifest_sha256``) does not match or it cannot be read.
    claims_checked : int
        Figures of the documents recomputed from the saved test predictions.
    claim_mismatches : list of ClaimMismatch
        Claims whose recomputed value differs beyond rounding, or whose text is not in
        its document.
    signature : SignatureCheck
        The ed25519 signature of ``manifest.json`` (``signature.json``).

        .. versionadded:: 0.1
    """

    checked: int
    differing: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    claims_checked: int = 0
    claim_mismatches: list[ClaimMismatch] = field(default_factory=list)
    signature: SignatureCheck = field(default_factory=lambda: _NOT_CHECKED)

    @property
    def ok(self) -> bool:
        """True when every file matches, nothing is missing or extra, every claim holds.

        The manifest's signature must hold too.
        """
        files_ok = not (self.differing or self.missing or self.extra or self.claim_mismatches)
        return files_ok and self.signature.valid


def verify_run(run_dir: str | Path, *, key: str | Path | None = None) -> Verification:
    """Re-hash every artifact of a run folder, compare with ``manifest.json``, check claims.

    The signature of ``manifest.json`` is checked with the folder's ``public_key.pem``,
    or with ``key`` when given (pinning the signer).

    Parameters
    ----------
    run_dir : str or Path
        A finished run folder.
    key : str or Path, optional
        PEM file of the key the manifest must be signed with (the signer's
        ``public_key.pem``, or a private key whose public half is used).

    Returns
    -------
    Verification

    Raises
    ------
    ReportError
        If the folder has no ``manifest.json``.
    SigningError
        If ``key`` cannot be read or holds no ed25519 key.

    Examples
    --------
    >>> import tempfile
    >>> verify_run(tempfile.mkdtemp())  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ReportError: ... has no manifest.json ...
    """
    root = Path(run_dir)
    if not (root / MANIFEST).is_file():
        raise ReportError(_MSG_NO_MANIFEST.format(path=root))
    pinned = load_public_key(key) if key is not None else None
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        listed: dict[str, str] = dict(manifest["artifacts"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError):
        return Verification(checked=0, differing=[MANIFEST])
    actual = hash_tree(root)
    differing = sorted(rel for rel, sha in listed.items() if rel in actual and actual[rel] != sha)
    stored_seal = manifest.get("manifest_sha256")
    if stored_seal is not None and seal_manifest(manifest)["manifest_sha256"] != stored_seal:
        differing.insert(0, MANIFEST)
    missing = sorted(rel for rel in listed if rel not in actual)
    sealed = not (missing or differing)  # claims are checked on the files as sealed
    claims, mismatches = check_claims(root) if sealed else (0, [])
    return Verification(
        checked=len(listed),
        differing=differing,
        missing=missing,
        extra=sorted(rel for rel in actual if rel not in listed),
        claims_checked=claims,
        claim_mismatches=mismatches,
        signature=check_signature(root, manifest, pinned=pinned),
    )
