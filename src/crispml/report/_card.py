"""The model card (Mitchell et al., "Model Cards for Model Reporting", FAccT 2019).

Built from the run record only; each section says what was not produced instead of
leaving a gap.
"""

from __future__ import annotations

from typing import Any

from crispml._utils._io import sha256_file
from crispml.report._extract import (
    findings,
    fmt,
    intervals,
    latency_rows,
    parity_summary,
    scalars,
    severity_counts,
    tables,
    verdict,
)
from crispml.report._record import RunRecord, dig

CARD_VERSION = 1
MODEL_FILES = ("model/pipeline.skops", "model/model.onnx", "model/schema.json")
OPTIONAL_ARTIFACTS = {  # path: (short name, what it holds)
    "audit/audit.json": ("data audit", "findings before modelling"),
    "evaluation/": ("held-out evaluation", "CIs, calibration, fairness, slices, importance"),
    "deploy/parity.json": ("ONNX parity", "native vs ONNX predictions certificate"),
    "deploy/latency.json": ("latency vs SLA", "p50/p95/p99 against the spec's SLA"),
    "search/budget.json": ("search budget", "planned vs actual time per stage"),
}
WHY_METRIC = {
    "roc_auc": "ranking quality independent of the decision threshold",
    "average_precision": "precision over all recall levels; informative when positives are rare",
    "log_loss": "quality of the predicted probabilities themselves",
    "accuracy": "share of correct decisions at the default threshold",
    "f1": "balance of precision and recall on the positive class",
    "brier": "calibration and sharpness of the probabilities",
    "macro_f1": "per-class quality weighting rare classes equally",
    "rmse": "typical error size, penalising large errors",
    "mae": "typical absolute error, robust to outliers",
    "r2": "share of the target's variance explained",
}
_SECTIONS = (
    ("model_details", "Model details"),
    ("intended_use", "Intended use"),
    ("factors", "Factors"),
    ("metrics", "Metrics"),
    ("evaluation_data", "Evaluation data"),
    ("training_data", "Training data"),
    ("quantitative_analyses", "Quantitative analyses"),
    ("ethical_considerations", "Ethical considerations"),
    ("caveats_and_recommendations", "Caveats and recommendations"),
)


def not_produced(record: RunRecord, *, short: bool = False) -> list[str]:
    """List the optional artifacts of other phases that this run does not contain."""
    missing = []
    for rel, (name, what) in OPTIONAL_ARTIFACTS.items():
        present = bool(record.evaluation) if rel.endswith("/") else (record.path / rel).is_file()
        if not present:
            missing.append(name if short else f"{rel} ({name}: {what})")
    return missing


def test_metric_rows(record: RunRecord) -> list[dict[str, Any]]:
    """Every test metric with its 95% CI when the evaluation produced one."""
    cis: dict[str, tuple[float | None, float | None]] = {}
    for path, _value, low, high in intervals(record.section("metrics")):
        for token in reversed(path.split(".")):
            if token in record.test_metrics and token not in cis:
                cis[token] = (low, high)
                break
    rows = []
    for name, value in record.test_metrics.items():
        low, high = cis.get(name, (None, None))
        rows.append(
            {
                "metric": name,
                "value": value,
                "ci_low": low,
                "ci_high": high,
                "primary": name == record.primary_metric,
                "why": WHY_METRIC.get(name, ""),
            }
        )
    return rows


def build_model_card(record: RunRecord) -> dict[str, Any]:
    """Fill the model card's sections from the run record.

    Parameters
    ----------
    record : RunRecord
        The run folder, read by :func:`crispml.report.read_run`.

    Returns
    -------
    dict
        One key per Mitchell et al. section, plus ``card_version``, ``run_id`` and
        ``not_produced`` (optional artifacts the run lacks).
    """
    audit_rows = findings(record.audit)
    card: dict[str, Any] = {
        "card_version": CARD_VERSION,
        "run_id": record.run_id,
        "not_produced": not_produced(record),
        "model_details": _details(record),
        "intended_use": {
            "primary_uses": dig(record.spec, "problem", "intended_use"),
            "out_of_scope": dig(record.spec, "problem", "out_of_scope"),
        },
        "factors": {
            "protected_attributes": record.protected,
            "protected_used_as_features": bool(dig(record.spec, "fairness", "use_as_features")),
            "segments_evaluated": [p for p, _ in tables(record.section("slices"))],
            "groups_evaluated": [p for p, _ in tables(record.section("fairness"))],
        },
        "metrics": {
            "primary_metric": record.primary_metric,
            "test": test_metric_rows(record),
            "validation": record.metrics.get("valid") or {},
            "decision_threshold": dict(scalars(record.section("threshold"))),
            "verdict": verdict(record),
        },
        "evaluation_data": _evaluation_data(record),
        "training_data": {
            **_data_inputs(record),
            "train_rows": dig(record.split, "sizes", "train"),
            "valid_rows": dig(record.split, "sizes", "valid"),
            "roles": _roles(record),
            "excluded_columns": record.schema.get("dropped", []),
            "audit_summary": severity_counts(audit_rows),
        },
        "quantitative_analyses": {
            "fairness": dict(tables(record.section("fairness"))),
            "slices": {p: rows[:10] for p, rows in tables(record.section("slices"))},
        },
        "ethical_considerations": {
            "audit_findings": [r for r in audit_rows if r["severity"] != "info"][:15],
            "fairness_intervals": [
                {"measure": p, "value": v, "ci_low": lo, "ci_high": hi}
                for p, v, lo, hi in intervals(record.section("fairness"))
            ],
        },
        "caveats_and_recommendations": _caveats(record, audit_rows),
    }
    return card


def _details(record: RunRecord) -> dict[str, Any]:
    hashes = {
        rel: sha256_file(record.path / rel) for rel in MODEL_FILES if (record.path / rel).is_file()
    }
    board = record.leaderboard
    family = None
    if "selected" in board.columns and "family" in board.columns and board["selected"].any():
        family = str(board.loc[board["selected"].astype(bool), "family"].iloc[0])
    packages = dict(sorted((record.manifest.get("packages") or {}).items()))
    return {
        "name": record.spec.get("name"),
        "task": record.task,
        "target": dig(record.spec, "problem", "target"),
        "selected_model": record.selected_model,
        "family": family,
        "crispml_version": packages.get("crispml"),
        "run_id": record.run_id,
        "created_at": record.manifest.get("created_at"),
        "seed": record.manifest.get("seed"),
        "spec_sha256": record.manifest.get("spec_sha256"),
        "artifact_sha256": hashes,
        "packages": packages,
    }


def _data_inputs(record: RunRecord) -> dict[str, Any]:
    data = dig(record.manifest, "inputs", "data") or {}
    return {
        "source": data.get("source") or dig(record.spec, "data", "source"),
        "raw_sha256": data.get("raw_sha256"),
        "table_sha256": data.get("table_sha256"),
        "n_rows": data.get("n_rows"),
        "n_columns": data.get("n_columns"),
        "rows_without_target": data.get("rows_without_target"),
    }


def _evaluation_data(record: RunRecord) -> dict[str, Any]:
    return {
        "description": "locked test set, scored once after selection on validation",
        "test_rows": dig(record.split, "sizes", "test"),
        "strategy": dig(record.spec, "split", "strategy"),
        "seed": dig(record.spec, "split", "seed"),
        "split_sha256": record.split.get("sha256")
        or dig(record.manifest, "inputs", "split_sha256"),
        "test_ids_sha256": dig(record.manifest, "inputs", "test_ids_sha256"),
    }


def _roles(record: RunRecord) -> dict[str, int]:
    roles: dict[str, int] = {}
    for col in record.schema.get("columns", []):
        role = str(col.get("role", "unknown"))
        roles[role] = roles.get(role, 0) + 1
    return roles


def _caveats(record: RunRecord, audit_rows: list[dict[str, Any]]) -> dict[str, Any]:
    items = []
    shift = [r for r in audit_rows if "shift" in f"{r['check']} {r['title']}".lower()]
    if shift:
        items.append(f"Distribution shift: {shift[0]['title']}")
    else:
        items.append(
            "Distribution shift: the model was tested on a split of the same data; "
            "monitor drift on live data before trusting the test metrics there."
        )
    for row in latency_rows(record):
        if row["meets_sla"] is False:
            items.append(f"Latency {row['measure']} = {fmt(row['ms'])} ms exceeds the SLA.")
    parity = parity_summary(record.parity)
    if parity and parity.get("passed") is False:
        items.append("The ONNX export did not pass its parity check; do not serve it.")
    saturation = [
        (p, v) for p, v in scalars(record.evaluation) if "saturation" in p or "learning" in p
    ]
    if saturation:
        items.append(f"Data saturation: {saturation[0][0]} = {fmt(saturation[0][1])}.")
    return {"items": items, "not_tested": not_produced(record)}


def render_model_card_md(card: dict[str, Any]) -> str:
    """Render the card as Markdown (one heading per Mitchell et al. section).

    Parameters
    ----------
    card : dict
        From :func:`build_model_card`.

    Returns
    -------
    str
    """
    name = card["model_details"].get("name") or card["run_id"]
    lines = [f"# Model card: {name}", "", f"Run `{card['run_id']}`.", ""]
    for key, title in _SECTIONS:
        lines += [f"## {title}", ""]
        lines += _md_section(key, card[key])
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md_section(key: str, body: dict[str, Any]) -> list[str]:
    if key == "metrics":
        return _md_metrics(body)
    if key == "quantitative_analyses":
        out = []
        for group in ("fairness", "slices"):
            for path, rows in body[group].items():
                out += [f"**{group}: {path}**", "", *_md_table(rows), ""]
        return out or ["No disaggregated results: the run has no fairness or slice evaluation."]
    if key == "ethical_considerations":
        out = [
            f"- [{r['severity']}] {r['check']}: {r['title']}"
            + (f" Action: {r['action']}" if r["action"] else "")
            for r in body["audit_findings"]
        ] or ["- No audit warnings (or no audit/audit.json was produced)."]
        out += [
            f"- {r['measure']}: {fmt(r['value'])} (95% CI {fmt(r['ci_low'])} to "
            f"{fmt(r['ci_high'])})"
            for r in body["fairness_intervals"]
        ]
        return out
    if key == "caveats_and_recommendations":
        out = [f"- {item}" for item in body["items"]]
        return out + [f"- Not produced by this run: {m}" for m in body["not_tested"]]
    return [f"- **{k}**: {_md_value(v)}" for k, v in body.items()]


def _md_metrics(body: dict[str, Any]) -> list[str]:
    rows = [
        {
            "metric": r["metric"] + (" (primary)" if r["primary"] else ""),
            "test": fmt(r["value"]),
            "95% CI": "—" if r["ci_low"] is None else f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]",
            "why": r["why"],
        }
        for r in body["test"]
    ]
    v = body["verdict"]
    out = [*_md_table(rows), "", f"Verdict: **{v['overall']}** (from {v['source']})."]
    out += [
        f"- {c['criterion']} {c['threshold']}: observed {fmt(c['observed'])} -> {c['result']}"
        for c in v["criteria"]
    ]
    if body["decision_threshold"]:
        out += ["", f"Decision threshold: {_md_value(body['decision_threshold'])}"]
    return out


def _md_table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    cols = list(dict.fromkeys(k for r in rows for k in r))
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(fmt(r.get(c)) for c in cols) + " |" for r in rows]
    return out


def _md_value(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "—"
        return "; ".join(f"{k}: {_md_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_md_value(v) for v in value) if value else "—"
    return fmt(value)
