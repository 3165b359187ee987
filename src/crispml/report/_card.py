"""The model card (Mitchell et al., "Model Cards for Model Reporting", FAccT 2019).

Built from the run's typed results. ``model_card.json`` holds the figures as numbers
with the field each one was read from; ``model_card.md`` prints them through the claims
ledger, so ``crispml verify`` can recompute each one from the saved test predictions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crispml._utils._io import sha256_file
from crispml.evaluate import EvaluationResult, Verdict
from crispml.report._alternatives_html import alternatives_md
from crispml.report._claims import Ledger, Source, decisions_source, fmt, metric_source
from crispml.report._features import features_md
from crispml.report._record import RunRecord
from crispml.report._risks import risks

CARD_VERSION = 3
DOCUMENT = "model_card"
MODEL_FILES = ("model/pipeline.skops", "model/model.onnx", "model/schema.json")
WHY_METRIC = {
    "roc_auc": "ranking quality independent of the decision threshold",
    "average_precision": "precision over all recall levels; informative when positives are rare",
    "log_loss": "quality of the predicted probabilities themselves",
    "accuracy": "share of correct decisions",
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
    ("feature_engineering", "Feature engineering"),
    ("quantitative_analyses", "Quantitative analyses"),
    ("ethical_considerations", "Ethical considerations"),
    ("caveats_and_recommendations", "Caveats and recommendations"),
)
_CELLS = ("tn", "fp", "fn", "tp", "precision", "recall", "selection_rate")
Show = Callable[[Any, Source, str], str] | None


def basis_text(evaluation: EvaluationResult, metric: str) -> str:
    """Say what a test figure was computed on, naming the delivered threshold."""
    basis = evaluation.basis[metric]
    if basis == "decisions":
        return f"decisions at the delivered threshold {fmt(evaluation.threshold)}"
    if basis == "probabilities":
        if evaluation.task == "multiclass" and metric != "log_loss":
            return "most probable class"
        return "delivered probabilities"
    return "predicted values"


def metric_rows(record: RunRecord) -> list[dict[str, Any]]:
    """Every test figure of the delivered model with its interval and basis."""
    ev = record.evaluation
    rows = []
    for name, est in ev.test.items():
        rows.append(
            {
                "metric": name,
                "primary": name == ev.primary_metric,
                "basis": basis_text(ev, name),
                "why": WHY_METRIC.get(name, ""),
                "estimate": est.estimate,
                "low": est.low,
                "high": est.high,
                "sources": {
                    s: metric_source(name, ev.basis[name], s) for s in ("estimate", "low", "high")
                },
            }
        )
    for name, est in ev.test_at_0_5.items():
        rows.append(
            {
                "metric": f"{name} at 0.5",
                "primary": False,
                "basis": "decisions at the conventional 0.5 cut-off (comparison only)",
                "why": WHY_METRIC.get(name, ""),
                "estimate": est.estimate,
                "low": est.low,
                "high": est.high,
                "sources": {
                    s: metric_source(name, "decisions_at_0_5", s, at_half=True)
                    for s in ("estimate", "low", "high")
                },
            }
        )
    return rows


def selection_note(record: RunRecord, show: Show = None) -> str:
    """Say how the model was selected and what the leaderboard's test columns are."""
    ev = record.evaluation
    valid = ev.valid.get(ev.primary_metric)
    field = f"valid.{ev.primary_metric}"
    source = Source(EvaluationResult.FILE, field)
    shown = show(valid, source, "validation score") if show else fmt(valid)
    others = max(ev.candidates_on_test - 1, 0)
    text = (
        f"{ev.selected_model} was selected on validation ({ev.primary_metric} "
        f"{shown}); the test set played no part in the selection, the calibration "
        "or the threshold."
    )
    if others:
        text += (
            f" The leaderboard also scores {others} other candidate(s) on test: "
            "these are diagnostics, not a second selection."
        )
    if ev.final_refit is not None:
        text += " " + refit_note(record, show)
    return text


def refit_note(record: RunRecord, show: Show = None) -> str:
    """Say that the delivered model was refitted on every row after the test figures.

    Parameters
    ----------
    record : RunRecord
        A run whose evaluation has ``final_refit`` (``deployment.refit: all_rows``).
    show : callable, optional
        The ledger's ``show`` (figures become claims); plain formatting when ``None``.

    Returns
    -------
    str
    """
    final = record.evaluation.final_refit
    if final is None:
        return ""
    test_src = Source(EvaluationResult.FILE, "final_refit.n_test_rows", {"kind": "count"})
    rows_src = Source(EvaluationResult.FILE, "final_refit.n_rows")
    n_rows = show(final.n_rows, rows_src, "refit rows") if show else fmt(final.n_rows)
    n_test = (
        show(final.n_test_rows, test_src, "refit test rows") if show else fmt(final.n_test_rows)
    )
    return (
        "The test figures below are for the model before its final refit: after the "
        f"evaluation, the same configuration was refitted on all {n_rows} rows, the "
        f"{n_test} test rows included (deployment.refit: all_rows), and that refit is the "
        f"model exported and served, in place of {final.replaced}. It has no held-out "
        f"figure of its own. Calibration: {final.calibration}."
    )


def build_model_card(record: RunRecord) -> dict[str, Any]:
    """Fill the model card's sections from the run's typed results.

    Parameters
    ----------
    record : RunRecord
        The run folder, read by :func:`crispml.report.read_run`.

    Returns
    -------
    dict
        One key per Mitchell et al. section, plus ``card_version`` and ``run_id``.
    """
    ev, spec = record.evaluation, record.spec
    return {
        "card_version": CARD_VERSION,
        "run_id": record.run_id,
        "model_details": _details(record),
        "intended_use": {
            "primary_uses": spec.problem.intended_use,
            "out_of_scope": spec.problem.out_of_scope,
        },
        "factors": {
            "protected_attributes": list(spec.fairness.protected),
            "protected_used_as_features": spec.fairness.use_as_features,
            "slice_columns": sorted((record.detail("slices") or {}).get("segments", {})),
        },
        "metrics": {
            "primary_metric": ev.primary_metric,
            "selection": selection_note(record),
            "test": [{k: v for k, v in r.items() if k != "sources"} for r in metric_rows(record)],
            "decision_threshold": _threshold(record),
            "verdict": record.verdict.model_dump(mode="json"),
            "source": EvaluationResult.FILE,
            "predictions": ev.predictions,
        },
        "evaluation_data": _evaluation_data(record),
        "training_data": _training_data(record),
        "feature_engineering": {
            "source": "report/features.json",
            "columns": []
            if record.features is None
            else [c.model_dump(mode="json") for c in record.features.columns],
        },
        "quantitative_analyses": {
            "fairness": (record.detail("fairness") or {}).get("attributes", {}),
            "worst_slices": (record.detail("slices") or {}).get("worst_slices", [])[:10],
        },
        "ethical_considerations": {
            "audit_findings": _audit_rows(record),
            "fairness_gaps": {k: v.model_dump() for k, v in ev.fairness_gaps.items()},
        },
        "caveats_and_recommendations": {"items": caveats(record)},
    }


def _details(record: RunRecord) -> dict[str, Any]:
    hashes = {
        rel: sha256_file(record.path / rel) for rel in MODEL_FILES if (record.path / rel).is_file()
    }
    board = record.leaderboard
    family = None
    if {"selected", "family"}.issubset(board.columns) and board["selected"].any():
        family = str(board.loc[board["selected"].astype(bool), "family"].iloc[0])
    packages = dict(sorted((record.manifest.get("packages") or {}).items()))
    ev = record.evaluation
    return {
        "name": record.spec.name,
        "task": ev.task,
        "target": record.spec.problem.target,
        "selected_model": ev.selected_model,
        "delivered_model": ev.model,
        "calibration": ev.calibration,
        "decision_threshold": ev.threshold,
        "family": family,
        "crispml_version": packages.get("crispml"),
        "run_id": record.run_id,
        "created_at": record.manifest.get("created_at"),
        "seed": record.manifest.get("seed"),
        "spec_sha256": record.manifest.get("spec_sha256"),
        "signing_key_fingerprint": (record.manifest.get("signing") or {}).get(
            "public_key_fingerprint"
        ),
        "artifact_sha256": hashes,
        "packages": packages,
    }


def _threshold(record: RunRecord) -> dict[str, Any] | None:
    ev = record.evaluation
    if ev.decisions is None:
        return None
    detail = record.detail("threshold") or {}
    return {
        "threshold": ev.threshold,
        "objective": ev.threshold_objective,
        "chosen_on": detail.get("chosen_on", "validation"),
        "at_threshold": ev.decisions.model_dump(),
        "at_0_5": ev.decisions_at_0_5.model_dump() if ev.decisions_at_0_5 else None,
    }


def _evaluation_data(record: RunRecord) -> dict[str, Any]:
    ev = record.evaluation
    return {
        "description": "locked test set, split off before any modelling",
        "test_rows": ev.n_test,
        "strategy": record.spec.split.strategy,
        "seed": record.spec.split.seed,
        "split_sha256": record.split.get("sha256"),
        "test_ids_sha256": (record.manifest.get("inputs") or {}).get("test_ids_sha256"),
        "predictions": ev.predictions,
        "bootstrap": f"{ev.n_resamples} resamples, seed {ev.seed}, 95% percentile intervals",
    }


def _fitted_on(record: RunRecord) -> str:
    final = record.evaluation.final_refit
    if final is None:
        return "train + valid (the model the test figures are for)"
    return "train + valid + test, refitted after the evaluation (see Metrics)"


def _training_data(record: RunRecord) -> dict[str, Any]:
    data = (record.manifest.get("inputs") or {}).get("data") or {}
    sizes = record.split.get("sizes") or {}
    roles: dict[str, int] = {}
    for col in record.schema.columns:
        roles[col.role] = roles.get(col.role, 0) + 1
    audit = record.audit
    counts = None
    if audit is not None:
        counts = {s: len(audit.by_severity(s)) for s in ("blocking", "warning", "info")}
    return {
        "source": data.get("source") or str(record.spec.data.source),
        "raw_sha256": data.get("raw_sha256"),
        "table_sha256": data.get("table_sha256"),
        "n_rows": data.get("n_rows"),
        "n_columns": data.get("n_columns"),
        "rows_without_target": data.get("rows_without_target"),
        "train_rows": sizes.get("train"),
        "valid_rows": sizes.get("valid"),
        "delivered_model_fitted_on": _fitted_on(record),
        "roles": roles,
        "excluded_columns": list(record.schema.dropped),
        "audit_summary": counts,
    }


def _audit_rows(record: RunRecord) -> list[dict[str, str]]:
    if record.audit is None:
        return []
    return [
        {"id": f.id, "severity": f.severity, "title": f.title, "action": f.action}
        for f in record.audit.findings
        if f.severity != "info"
    ][:15]


def caveats(record: RunRecord, show: Show = None) -> list[str]:
    """List the limitations a reader must know: the run's risks, then standing caveats."""
    items = risks(record, show)
    items.append(
        "The test set is a split of the same data as training: the figures hold for data "
        "like it. Monitor drift on live data (crispml monitor) before trusting them there, "
        "and retrain when it drifts."
    )
    if record.spec.problem.out_of_scope:
        items.append(f"Out of scope (from the spec): {record.spec.problem.out_of_scope}")
    return items


def render_model_card_md(card: dict[str, Any], record: RunRecord, ledger: Ledger) -> str:
    """Render the card as Markdown; every figure goes through ``ledger``.

    Parameters
    ----------
    card : dict
        From :func:`build_model_card`.
    record : RunRecord
        The run the card describes (figures are read from its typed results).
    ledger : Ledger
        Records each printed figure as a claim.

    Returns
    -------
    str
    """
    name = card["model_details"].get("name") or card["run_id"]
    lines = [f"# Model card: {name}", "", f"Run `{card['run_id']}`.", ""]

    def show(value: Any, source: Source, label: str) -> str:
        return ledger.show(value, source, document=DOCUMENT, label=label)

    for key, title in _SECTIONS:
        lines += [f"## {title}", ""]
        if key == "metrics":
            lines += _md_metrics(record, show)
        elif key == "quantitative_analyses":
            lines += _md_quantitative(record, show)
        elif key == "ethical_considerations":
            lines += _md_ethics(record, show)
        elif key == "feature_engineering":
            lines += features_md(record, show)
        elif key == "caveats_and_recommendations":
            lines += [f"- {item}" for item in caveats(record, show)]
        else:
            lines += [f"- **{k}**: {_md_value(v)}" for k, v in card[key].items()]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _md_metrics(record: RunRecord, show: Callable[[Any, Source, str], str]) -> list[str]:
    ev = record.evaluation
    out = [selection_note(record, show), ""]
    rows = show(ev.n_test, Source(EvaluationResult.FILE, "n_test", {"kind": "count"}), "test rows")
    out += [
        f"Test figures of the delivered model ({ev.model}) on {rows} test rows, "
        "with 95% bootstrap intervals:",
        "",
        *metric_table_md(record, show, why=True),
    ]
    out += ["", *_md_threshold(record, show), "", *verdict_lines(record, show)]
    return out


def metric_table_md(
    record: RunRecord, show: Callable[[Any, Source, str], str], *, why: bool
) -> list[str]:
    """Markdown table of the delivered model's test figures, each through ``show``.

    ``why`` adds the column saying why each metric is reported (the card has it; the
    Word report leaves it out).
    """
    extra = " why |" if why else ""
    out = [f"| metric | test | 95% CI | computed on |{extra}", "|---|---|---|---|" + "---|" * why]
    for row in metric_rows(record):
        src, metric = row["sources"], row["metric"]
        value = show(row["estimate"], src["estimate"], f"test {metric}")
        low = show(row["low"], src["low"], f"test {metric} CI low")
        high = show(row["high"], src["high"], f"test {metric} CI high")
        mark = " (primary)" if row["primary"] else ""
        reason = f" {row['why']} |" if why else ""
        out.append(f"| {metric}{mark} | {value} | [{low}, {high}] | {row['basis']} |{reason}")
    return out


def _md_threshold(record: RunRecord, show: Callable[[Any, Source, str], str]) -> list[str]:
    ev = record.evaluation
    if ev.decisions is None:
        return []
    thr = show(ev.threshold, Source(EvaluationResult.FILE, "threshold"), "decision threshold")
    out = [
        f"Decision threshold: {thr}, chosen on validation to optimise "
        f"{ev.threshold_objective}. Confusion counts on the test set:",
        "",
        "| cut-off | TN | FP | FN | TP | precision | recall | selection rate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for at_half, decisions, name in (
        (False, ev.decisions, f"delivered {fmt(ev.threshold)}"),
        (True, ev.decisions_at_0_5, "0.5 (comparison)"),
    ):
        if decisions is None:
            continue
        cells = [
            show(getattr(decisions, c), decisions_source(c, at_half=at_half), f"{c} at {name}")
            for c in _CELLS
        ]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def verdict_lines(record: RunRecord, show: Callable[[Any, Source, str], str]) -> list[str]:
    """Write the verdict and each criterion's figure, printed through ``show``."""
    v = record.verdict
    out = [f"Verdict: **{v.overall}** ({v.rule})."]
    for i, c in enumerate(v.criteria):
        stats = ("estimate", "low", "high") if c.low is not None else ("estimate",)
        figures = [
            show(getattr(c, stat), criterion_source(record, i, stat), f"criterion {c.name} {stat}")
            for stat in stats
        ]
        ci = f", 95% CI [{figures[1]}, {figures[2]}]" if len(figures) == 3 else ""
        where = f" from {c.source}" if c.source else ""
        note = f" ({c.note})" if c.note else ""
        out.append(
            f"- {c.name} {c.op} {fmt(c.threshold)}: {figures[0]}{ci}{where} -> {c.result}{note}"
        )
    if not v.criteria:
        out.append("- The spec sets no success criteria: nothing to pass or fail.")
    return out


def criterion_source(record: RunRecord, index: int, stat: str) -> Source:
    """Source of a verdict criterion's figure; test metrics are checked like the table's."""
    c = record.verdict.criteria[index]
    ev = record.evaluation
    check = None
    if c.name in ev.test:
        check = {"kind": "metric", "metric": c.name, "basis": ev.basis[c.name], "stat": stat}
    return Source(Verdict.FILE, f"criteria.{index}.{stat}", check)


def _md_quantitative(record: RunRecord, show: Callable[[Any, Source, str], str]) -> list[str]:
    fairness_doc = record.detail("fairness") or {}
    fairness = fairness_doc.get("attributes", {})
    out: list[str] = []
    artifact = "evaluation/fairness.json"
    for column, report in fairness.items():
        favourable = fairness_doc.get("favourable_label")
        out += [
            f"**Groups of {column}** (test set, decisions at the delivered threshold, 95% CI; "
            f"favourable outcome: {favourable})",
            "",
            "| group | rows | positives | favourable rate | selection rate | TPR | FPR |",
            "|---|---|---|---|---|---|---|",
        ]
        for group, stats in report.get("by_group", {}).items():
            path = f"attributes.{column}.by_group.{group}"
            cells = [
                interval_text(stats.get(k), artifact, f"{path}.{k}", f"{column}={group} {k}", show)
                for k in ("favourable_rate", "selection_rate", "tpr", "fpr")
            ]
            head = f"| {group} | {stats.get('count')} | {stats.get('positives')} | "
            out.append(head + " | ".join(cells) + " |")
        out += ["", "| gap | value [95% CI] |", "|---|---|"]
        for name, gap in report.get("gaps", {}).items():
            text = interval_text(gap, artifact, f"attributes.{column}.gaps.{name}", name, show)
            out.append(f"| {name} | {text} |")
        out += [
            "",
            *[f"- Too small to decide a criterion: {n}" for n in report.get("underpowered", [])],
        ]
        out += [*_md_group_evidence(report, column, show), ""]
    out += alternatives_md(record, show)
    worst = (record.detail("slices") or {}).get("worst_slices", [])[:10]
    if worst:
        out += ["**Worst slices** (test set, error rate with 95% CI)", ""]
        out += ["| slice | rows | error [95% CI] |", "|---|---|---|"]
        for i, sl in enumerate(worst):
            text = interval_text(
                sl, "evaluation/slices.json", f"worst_slices.{i}", f"slice {sl['slice']}", show
            )
            out.append(f"| {sl['slice']} | {sl.get('size')} | {text} |")
    return out or ["No protected attributes or slices were evaluated."]


def _md_group_evidence(
    report: dict[str, Any], column: str, show: Callable[[Any, Source, str], str]
) -> list[str]:
    """Out-of-fold gaps and calibration in the large of one protected column."""
    art, out = "evaluation/fairness.json", []
    oof = report.get("out_of_fold")
    if oof:
        out += ["", f"Out of fold ({oof['basis']}):", ""]
        for name, gap in oof.get("gaps", {}).items():
            path = f"attributes.{column}.out_of_fold.gaps.{name}"
            out.append(f"- {name}: {interval_text(gap, art, path, f'{name} oof', show)}")
    for group, stats in (report.get("calibration_by_group") or {}).items():
        path = f"attributes.{column}.calibration_by_group.{group}"
        mean = show(stats["mean_predicted"], Source(art, f"{path}.mean_predicted"), "mean p")
        observed = show(stats["observed"], Source(art, f"{path}.observed"), "observed")
        out.append(f"- {column}={group}: mean prediction {mean}, observed rate {observed}")
    return out


def interval_text(
    interval: Any, artifact: str, path: str, label: str, show: Callable[[Any, Source, str], str]
) -> str:
    """``estimate [low, high]`` of an interval mapping, each figure through ``show``."""
    if not isinstance(interval, dict):
        return "—"
    est = show(interval.get("estimate"), Source(artifact, f"{path}.estimate"), label)
    if interval.get("low") is None:
        return est
    low = show(interval["low"], Source(artifact, f"{path}.low"), f"{label} CI low")
    high = show(interval["high"], Source(artifact, f"{path}.high"), f"{label} CI high")
    return f"{est} [{low}, {high}]"


def _md_ethics(record: RunRecord, show: Callable[[Any, Source, str], str]) -> list[str]:
    out = [
        f"- [{r['severity']}] {r['title']}" + (f" Action: {r['action']}" if r["action"] else "")
        for r in _audit_rows(record)
    ] or ["- No audit warnings."]
    for gap in record.evaluation.fairness_gaps:
        est = record.evaluation.fairness_gaps[gap].model_dump()
        text = interval_text(est, EvaluationResult.FILE, f"fairness_gaps.{gap}", gap, show)
        out.append(f"- {gap} (worst over the protected attributes): {text}")
    return out + _md_reasons(record)


def _md_reasons(record: RunRecord, n: int = 3) -> list[str]:
    """Plain adverse-action reasons of the first test decisions (words only, no figures)."""
    codes = (record.detail("importance") or {}).get("reason_codes", [])[:n]
    return [
        f"- Adverse-action reasons, test row {c['position']} (decision {c['decision']!r}): "
        + ("; ".join(r["statement"] for r in c["reasons"]) or "none pushes toward it")
        for c in codes
    ]


def _md_value(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_md_value(v)}" for k, v in value.items()) if value else "—"
    if isinstance(value, list | tuple):
        return ", ".join(_md_value(v) for v in value) if value else "—"
    return fmt(value)
