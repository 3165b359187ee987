"""The claims ledger: every figure a document prints, where it came from, and its check.

The card and the report print figures only through :meth:`Ledger.show`, which formats
the value and records a :class:`Claim` (the text shown, the value, the artifact and
field it was read from, and how to recompute it). The ledger is written to
``report/claims.json``; :func:`check_claims` recomputes every checkable claim from the
delivered model's saved test predictions and names each one that does not match.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from crispml._utils._io import to_json
from crispml.evaluate import (
    EvaluationResult,
    decision_report,
    figures_from_predictions,
)
from crispml.report._alternatives_check import CHECK_KIND, AlternativesCheck

CLAIMS_FILE = "report/claims.json"
CLAIMS_VERSION = 1
DOCUMENTS = {
    "model_card": "report/model_card.md",
    "report": "report/report.html",
    "model_card_docx": "report/model_card.docx",
    "report_docx": "report/report.docx",
}
CheckKind = Literal["metric", "decisions", "count", "alternatives"]


def fmt(value: Any) -> str:
    """Format a figure for the documents: 4 decimals, or 1 for large magnitudes.

    Examples
    --------
    >>> fmt(0.876543), fmt(1234.56), fmt(3), fmt(None)
    ('0.8765', '1234.6', '3', '—')
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        value = float(value)
        if not math.isfinite(value):
            return "—"
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.2e}"
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.4f}"
    return str(value)


@dataclass(frozen=True)
class Source:
    """Where a figure is read: the artifact, the field, and how to recompute it.

    Attributes
    ----------
    artifact : str
        Run-folder path of the typed result, e.g. ``evaluation/evaluation.json``.
    field : str
        Dotted field of that result, e.g. ``test.roc_auc.low``.
    check : dict or None
        How :func:`check_claims` recomputes it from the test predictions:
        ``{"kind": "metric", "metric", "basis", "stat"}``,
        ``{"kind": "decisions", "basis", "cell"}``, ``{"kind": "count"}``, or
        ``{"kind": "alternatives", "field"}`` (recomputed from the compared models'
        saved probabilities, see :mod:`crispml.report._alternatives_check`).
    """

    artifact: str
    field: str
    check: dict[str, str] | None = None


@dataclass(frozen=True)
class Claim:
    """One figure printed in a document."""

    document: str
    label: str
    shown: str
    value: float | int | None
    artifact: str
    field: str
    check: dict[str, str] | None = None


@dataclass
class Ledger:
    """Collects the claims of the documents of one run."""

    claims: list[Claim] = field(default_factory=list)

    def show(self, value: Any, source: Source, *, document: str, label: str) -> str:
        """Format ``value`` for ``document`` and record it as a claim; return the text."""
        shown = fmt(value)
        number = None if value is None else (int(value) if _is_int(value) else float(value))
        self.claims.append(
            Claim(document, label, shown, number, source.artifact, source.field, source.check)
        )
        return shown

    def to_json(self, evaluation: EvaluationResult) -> str:
        """Return the ledger as the text of ``report/claims.json``."""
        return to_json(
            {
                "schema_version": CLAIMS_VERSION,
                "predictions": evaluation.predictions,
                "task": evaluation.task,
                "n_resamples": evaluation.n_resamples,
                "seed": evaluation.seed,
                "claims": [asdict(c) for c in self.claims],
            }
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def metric_source(metric: str, basis: str, stat: str, *, at_half: bool = False) -> Source:
    """Source of a test metric's estimate or bound in :class:`EvaluationResult`."""
    group = "test_at_0_5" if at_half else "test"
    check = {"kind": "metric", "metric": metric, "basis": basis, "stat": stat}
    return Source(EvaluationResult.FILE, f"{group}.{metric}.{stat}", check)


def decisions_source(cell: str, *, at_half: bool = False) -> Source:
    """Source of a confusion count or rate of the decisions (delivered threshold or 0.5)."""
    group = "decisions_at_0_5" if at_half else "decisions"
    return Source(
        EvaluationResult.FILE,
        f"{group}.{cell}",
        {"kind": "decisions", "basis": group, "cell": cell},
    )


@dataclass(frozen=True)
class ClaimMismatch:
    """A claim that does not match its recomputation, or is not in its document."""

    label: str
    document: str
    shown: str
    expected: str
    reason: str

    def __str__(self) -> str:
        return f"{self.document}: '{self.label}' shows {self.shown}, {self.reason} {self.expected}"


def check_claims(run_dir: str | Path) -> tuple[int, list[ClaimMismatch]]:
    """Recompute every checkable claim from ``evaluation/test_predictions.parquet``.

    Parameters
    ----------
    run_dir : str or Path
        A finished run folder.

    Returns
    -------
    tuple
        ``(claims checked, mismatches)``; a claim mismatches when its recomputed value
        differs beyond the rounding of the text shown, or when the text shown is not in
        its document.
    """
    root = Path(run_dir)
    path = root / CLAIMS_FILE
    if not path.is_file():
        return 0, []
    ledger = json.loads(path.read_text(encoding="utf-8"))
    if ledger["task"] == "anomaly":
        from crispml.report._anomaly_card import check_anomaly_claims  # imports this module

        return check_anomaly_claims(root, ledger)
    if ledger["task"] == "ranking":
        from crispml.report._ranking_card import check_ranking_claims  # imports this module

        return check_ranking_claims(root, ledger)
    frame = pd.read_parquet(root / ledger["predictions"])
    task = ledger["task"]
    test, _, at_half = figures_from_predictions(
        frame, task, n_resamples=int(ledger["n_resamples"]), seed=int(ledger["seed"])
    )
    texts = {doc: _read(root / rel) for doc, rel in DOCUMENTS.items()}
    decisions = _decision_reports(frame) if task == "binary" else {}
    checked, bad = 0, []
    alternatives = AlternativesCheck(root)
    for raw in ledger["claims"]:
        claim = Claim(**raw)
        if claim.shown not in texts.get(claim.document, claim.shown):
            bad.append(_mismatch(claim, "the document", "is not in"))
        if claim.check is None:
            continue
        checked += 1
        if claim.check["kind"] == CHECK_KIND:
            expected = alternatives.value(claim.check["field"])
        else:
            expected = _recompute(claim.check, len(frame), test, at_half, decisions)
        if fmt(expected) != claim.shown or not _close(expected, claim.value):
            bad.append(_mismatch(claim, fmt(expected), "recomputed from the predictions:"))
    return checked, bad


def _mismatch(claim: Claim, expected: str, reason: str) -> ClaimMismatch:
    return ClaimMismatch(claim.label, claim.document, claim.shown, expected, reason)


def _decision_reports(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Confusion counts and rates of the saved decisions, and of decisions at 0.5."""
    y = np.asarray(frame["y_true"])
    p1 = np.asarray(frame["probability"], dtype=np.float64)
    decided = np.asarray(frame["decision"], dtype=np.float64)
    return {
        "decisions": decision_report(y, decided, 0.5),
        "decisions_at_0_5": decision_report(y, p1, 0.5),
    }


def _recompute(
    check: dict[str, str],
    n_rows: int,
    test: Any,
    at_half: Any,
    decisions: dict[str, dict[str, Any]],
) -> float | int | None:
    kind = check["kind"]
    if kind == "count":
        return n_rows
    if kind == "metric":
        group = at_half if check["basis"] == "decisions_at_0_5" else test
        value = getattr(group[check["metric"]], check["stat"])
        return None if value is None else float(value)
    report, cell = decisions[check["basis"]], check["cell"]
    if cell in report["confusion"]:
        return int(report["confusion"][cell])
    value = report[cell]
    return None if value is None else float(value)


def _close(expected: float | int | None, value: float | int | None) -> bool:
    if expected is None or value is None:
        return expected is None and value is None
    return abs(float(expected) - float(value)) <= 1e-9 * max(1.0, abs(float(expected)))


def _read(path: Path) -> str:
    if path.suffix == ".docx":
        from crispml.report._docx import docx_text

        return docx_text(path)
    return path.read_text(encoding="utf-8") if path.is_file() else ""
