"""The documents of an anomaly-detection run, and the check of their figures.

The model card (Markdown) and the HTML report are rendered from the same sections
(:mod:`crispml.report._anomaly_sections`), which read the typed results only
(``evaluation/anomaly.json``, the verdict, the deployment result) and print every
figure through the claims ledger; the test figures and the flagged count are recomputed
by ``crispml verify`` from the saved test scores (``evaluation/anomaly_scores.parquet``).
``reproduce.sh`` is written as for the other tasks.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import pandas as pd

from crispml._utils._io import atomic_write_text, to_json
from crispml.evaluate import AnomalyEvaluation, anomaly_figures
from crispml.exceptions import ReportError
from crispml.report._anomaly_sections import (
    Bullets,
    Plot,
    Show,
    Table,
    anomaly_sections,
    markdown,
    verdict_section,
)
from crispml.report._claims import (
    CLAIMS_FILE,
    CLAIMS_VERSION,
    DOCUMENTS,
    Claim,
    ClaimMismatch,
    Ledger,
    Source,
    fmt,
)
from crispml.report._reproduce import reproduce_script
from crispml.spec import ProjectSpec, load_spec

DOCUMENT = "model_card"
HTML_DOCUMENT = "report"
_MSG_REBUILD = (
    "{path} is an anomaly-detection run: its model card (report/model_card.md) is written "
    "by the run and cannot be rebuilt by crispml report yet. Use the card in the run "
    "folder, or re-run the engagement."
)


def write_anomaly_report(run_dir: str | Path, *, manifest: dict[str, Any]) -> list[Path]:
    """Write the card, the HTML report, the claims ledger and ``reproduce.sh`` of an anomaly run.

    .. versionchanged:: 0.2
       Also writes ``report/report.html`` and ``reproduce.sh``; takes the manifest.

    Parameters
    ----------
    run_dir : str or Path
        The staged run folder holding the typed anomaly results.
    manifest : dict
        The manifest about to be sealed (run id, inputs, ``reproduction`` entry).

    Returns
    -------
    list of Path
        The files written.
    """
    root = Path(run_dir)
    result = AnomalyEvaluation.read(root)
    spec = load_spec(root / "spec.yaml")
    run_id = str(manifest.get("run_id") or root.name)
    ledger = Ledger()
    texts = {
        DOCUMENTS[DOCUMENT]: render_anomaly_card(root, result, ledger, run_id=run_id),
        DOCUMENTS[HTML_DOCUMENT]: render_anomaly_html(root, spec, result, ledger, run_id=run_id),
        "reproduce.sh": reproduce_script(_Facts(run_id, manifest, spec)),
    }
    texts[CLAIMS_FILE] = to_json(
        {
            "schema_version": CLAIMS_VERSION,
            "predictions": result.predictions,
            "task": "anomaly",
            "k": result.k,
            "n_resamples": result.n_resamples,
            "seed": result.seed,
            "claims": [asdict(c) for c in ledger.claims],
        }
    )
    written = [atomic_write_text(root / rel, text) for rel, text in texts.items()]
    os.chmod(root / "reproduce.sh", 0o755)
    return written


@dataclass(frozen=True)
class _Facts:
    """What ``reproduce.sh`` is written from (see :class:`RunFacts`)."""

    run_id: str
    manifest: dict[str, Any]
    spec: ProjectSpec


def refuse_anomaly_rebuild(root: Path) -> None:
    """Refuse to rebuild the documents of an anomaly run (they are written by the run).

    Raises
    ------
    ReportError
        If ``root`` holds an anomaly evaluation.
    """
    if (root / AnomalyEvaluation.FILE).is_file():
        raise ReportError(_MSG_REBUILD.format(path=root))


def _shower(ledger: Ledger, document: str) -> Show:
    def show(value: Any, source: Source, label: str) -> str:
        return ledger.show(value, source, document=document, label=label)

    return show


def render_anomaly_card(
    root: Path, result: AnomalyEvaluation, ledger: Ledger, *, run_id: str
) -> str:
    """Render the anomaly card as Markdown; every figure goes through ``ledger``."""
    spec = load_spec(root / "spec.yaml")
    sections = anomaly_sections(root, spec, result, _shower(ledger, DOCUMENT), plots=False)
    lines = [f"# Model card: {spec.name}", "", f"Run `{run_id}`.", "", *markdown(sections)]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_anomaly_html(
    root: Path, spec: ProjectSpec, result: AnomalyEvaluation, ledger: Ledger, *, run_id: str
) -> str:
    """Render ``report/report.html`` of an anomaly run; every figure goes through ``ledger``.

    One self-contained page (inline CSS and SVG, no network): the card's sections, the
    score histogram and the detectors compared on validation.
    """
    show = _shower(ledger, HTML_DOCUMENT)
    sections = anomaly_sections(root, spec, result, show, plots=True)
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("crispml.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["code"] = _code
    return env.get_template("anomaly_report.html.j2").render(
        name=spec.name,
        run_id=run_id,
        sections=sections,
        kinds={"Bullets": Bullets, "Table": Table, "Plot": Plot},
    )


def verdict_lines(root: Path) -> list[str]:
    """Return the verdict section of a card as Markdown lines."""
    return markdown([verdict_section(root)])


def _code(text: str) -> markupsafe.Markup:
    """Escape ``text`` and show its Markdown `code` spans as ``<code>``."""
    escaped = str(markupsafe.escape(text))
    return markupsafe.Markup(re.sub(r"`([^`]*)`", r"<code>\1</code>", escaped))


def check_anomaly_claims(root: Path, ledger: dict[str, Any]) -> tuple[int, list[ClaimMismatch]]:
    """Recompute the card's checkable figures from the saved test scores.

    Returns
    -------
    tuple
        ``(claims checked, mismatches)``.
    """
    frame = pd.read_parquet(root / ledger["predictions"])
    test, dist = anomaly_figures(
        frame, k=int(ledger["k"]), n_resamples=int(ledger["n_resamples"]), seed=int(ledger["seed"])
    )
    texts = {
        doc: (root / rel).read_text(encoding="utf-8") if (root / rel).is_file() else ""
        for doc, rel in DOCUMENTS.items()
    }
    checked, bad = 0, []
    for raw in ledger["claims"]:
        claim = Claim(**raw)
        if claim.shown not in texts.get(claim.document, ""):
            bad.append(ClaimMismatch(claim.label, claim.document, claim.shown, "", "not in"))
        if claim.check is None:
            continue
        checked += 1
        expected = _recompute(claim, test, dist, len(frame))
        if fmt(expected) != claim.shown:
            why = "recomputed from the scores:"
            bad.append(ClaimMismatch(claim.label, claim.document, claim.shown, fmt(expected), why))
    return checked, bad


def _recompute(claim: Claim, test: dict[str, Any], dist: Any, n_rows: int) -> Any:
    kind = (claim.check or {})["kind"]
    if kind == "count":
        return n_rows
    if kind == "flagged":
        return dist.flagged
    name = claim.field.split(".")[1]
    return getattr(test[name], (claim.check or {})["stat"])
