"""The evaluation phase of an engagement: everything fixed on validation, then test once.

Order (the test set is touched only in step 3):

1. on validation: post-hoc calibration (kept if it lowers out-of-fold log loss), the
   decision threshold, the conformal scores, the slice finder's tree, ThresholdOptimizer;
2. (ExponentiatedGradient, when asked, retrains on the training rows);
3. on test: leaderboard, metrics with intervals, calibration, confusion matrix, coverage,
   fairness, slices, explanations, price of interpretability, verdict.

Files written under ``evaluation/`` of the run folder. Each JSON carries
``schema_version`` (1); an interval is always ``{estimate, low, high, level, n}`` (95%
percentile bootstrap, ``None`` where undefined):

- ``metrics_ci.json``: ``model``, ``n_resamples``, ``seed``, ``n_test``, ``metrics``:
  name -> interval (every task metric, ``ece``, and the worst parity gaps);
- ``calibration.json`` (classification): ``selection`` (``kept``, ``valid_log_loss`` per
  map, ``reason``), ``uncalibrated`` / ``calibrated``: ``ece``, ``ece_ci``, ``brier``,
  ``bins`` [{low, high, predicted, observed, count}] on test;
- ``threshold.json`` (binary): ``objective``, ``threshold``, ``valid_value``,
  ``chosen_on``, ``test`` and ``test_at_0_5``: see :func:`decision_report`;
- ``conformal.json``: see :func:`conformal_report`;
- ``fairness.json``: ``protected``, ``min_group_size``, ``threshold``, ``attributes``:
  column -> ``by_group`` (group -> ``count`` and intervals of the primary metric,
  ``selection_rate``, ``tpr``, ``fpr``), ``gaps`` (intervals of
  ``demographic_parity_difference``, ``demographic_parity_ratio``,
  ``equalized_odds_difference`` over ``groups_in_gaps``), ``warnings``, ``mitigation``;
- ``slices.json``: see :func:`slice_report`;
- ``importance.json``: see :func:`explain_model`;
- ``interpretability.json``: see :func:`price_of_interpretability`;
- ``verdict.json``: see :func:`verdict`;
- plots: ``reliability.svg``, ``importance.svg``, ``fairness.svg``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from crispml.evaluate._bootstrap import metrics_with_ci
from crispml.evaluate._calibration import (
    CalibratedModel,
    calibration_summary,
    choose_calibration,
    ece_interval,
    plot_reliability,
)
from crispml.evaluate._conformal import conformal_report
from crispml.evaluate._explain import explain_model
from crispml.evaluate._fairness import fairness_report, group_labels, mitigation_report
from crispml.evaluate._holdout import HoldoutEvaluation, evaluate_holdout
from crispml.evaluate._interpretability import price_of_interpretability
from crispml.evaluate._monotone import monotone_report
from crispml.evaluate._plots import plot_fairness, plot_importance
from crispml.evaluate._slices import slice_report
from crispml.evaluate._threshold import choose_threshold, decision_intervals, decision_report
from crispml.evaluate._verdict import verdict
from crispml.models import predict_output

if TYPE_CHECKING:
    from crispml._runfolder import RunFolder
    from crispml.data import Dataset, Split
    from crispml.search import SearchResult
    from crispml.spec import ProjectSpec

logger = logging.getLogger(__name__)
SCHEMA_VERSION = 1


@dataclass
class EngagementEvaluation:
    """What the evaluation phase hands back to the engagement.

    Attributes
    ----------
    holdout : HoldoutEvaluation
        Leaderboard and test metrics of every candidate (uncalibrated pipelines).
    model : estimator
        The deployable model: a :class:`CalibratedModel` when calibration was kept,
        else the selected pipeline.
    threshold : float or None
        Decision threshold (binary), chosen on validation.
    verdict : dict
        The content of ``evaluation/verdict.json``.
    summary : dict
        Short figures for ``metrics.json`` (key ``evaluation``).
    """

    holdout: HoldoutEvaluation
    model: Any
    threshold: float | None
    verdict: dict[str, Any]
    summary: dict[str, Any] = field(default_factory=dict)


def evaluate_engagement(
    folder: RunFolder,
    *,
    dataset: Dataset,
    split: Split,
    result: SearchResult,
    spec: ProjectSpec,
) -> EngagementEvaluation:
    """Run the whole held-out evaluation and write ``evaluation/*`` into ``folder``.

    Parameters
    ----------
    folder : RunFolder
        The staged run folder.
    dataset : Dataset
        The engagement's data (features, encoded target, raw protected columns).
    split : Split
        Train / valid / test positions.
    result : SearchResult
        The finished search; ``result.best`` was chosen on validation.
    spec : ProjectSpec
        The resolved spec (problem costs and threshold objective, evaluation settings,
        fairness).

    Returns
    -------
    EngagementEvaluation
    """
    task, metric = spec.problem.task, result.metric
    cfg, seed = spec.evaluation, spec.split.seed
    X_valid, y_valid = dataset.features(split.valid), dataset.y[split.valid]
    X_test, y_test = dataset.features(split.test), dataset.y[split.test]
    # 1. everything decided on validation
    held_out = _held_out_valid(result, len(y_valid))
    model, cal_record = _calibrate(result, X_valid, y_valid, task, seed, held_out)
    valid_out = _valid_output(model, X_valid, task, held_out)
    threshold_record = _threshold(spec, y_valid, valid_out) if task == "binary" else None
    threshold = threshold_record["threshold"] if threshold_record else None
    if isinstance(model, CalibratedModel) and threshold is not None:
        model.set_params(threshold=threshold)
        model.threshold_ = threshold
    # 2. the test set, once (conformal scores come from validation rows)
    conformal = conformal_report(
        model,
        X_valid,
        y_valid,
        X_test,
        y_test,
        task=task,
        coverage=cfg.coverage,
        seed=seed,
        valid_output=valid_out if held_out is not None else None,
    )
    holdout = evaluate_holdout(result, X_test, y_test, task=task)
    test_out = predict_output(model, X_test, task)
    n_boot = cfg.bootstrap
    metrics_ci = metrics_with_ci(task, y_test, test_out, n_resamples=n_boot, seed=seed)
    measured = {k: v.to_dict() for k, v in metrics_ci.items()}
    folder.write_json("evaluation/conformal.json", conformal)
    if task != "regression":
        calib = _calibration_record(cal_record, result, X_test, y_test, test_out, n_boot, seed)
        measured["ece"] = calib["calibrated" if "calibrated" in calib else "uncalibrated"][
            "ece_ci"
        ]
        folder.write_json("evaluation/calibration.json", calib)
        folder.write_bytes("evaluation/reliability.svg", plot_reliability(calib))
    if threshold_record is not None:
        costs = _costs(spec)
        chosen = float(threshold_record["threshold"])
        threshold_record["test"] = decision_report(y_test, test_out[:, 1], chosen, costs)
        threshold_record["test_ci"] = decision_intervals(
            y_test, test_out[:, 1], chosen, n_resamples=n_boot, seed=seed
        )
        threshold_record["test_at_0_5"] = decision_report(y_test, test_out[:, 1], 0.5, costs)
        folder.write_json("evaluation/threshold.json", {"schema_version": 1, **threshold_record})
    fairness = _fairness(spec, dataset, split, model, y_test, test_out, threshold, metric)
    folder.write_json("evaluation/fairness.json", fairness)
    if fairness["attributes"]:
        folder.write_bytes("evaluation/fairness.svg", plot_fairness(fairness))
    measured.update(_worst_gaps(fairness))
    slices = slice_report(
        X_test,
        y_test,
        test_out,
        task=task,
        X_valid=X_valid,
        y_valid=y_valid,
        output_valid=valid_out,
        threshold=threshold if threshold is not None else 0.5,
        ids=split.test_ids,
        n_resamples=n_boot,
        seed=seed,
    )
    folder.write_json("evaluation/slices.json", slices)
    if spec.features.monotone:  # ICE check of the constraints on the test rows
        constraints = monotone_report(
            model, X_test, spec.features.monotone, task=task, X_train=X_valid, seed=seed
        )
        folder.write_json("evaluation/monotone.json", constraints)
    importance = explain_model(model, X_test, y_test, task=task, metric=metric, seed=seed)
    folder.write_json("evaluation/importance.json", importance)
    folder.write_bytes("evaluation/importance.svg", plot_importance(importance))
    interp = price_of_interpretability(
        result, X_test, y_test, task=task, n_resamples=n_boot, seed=seed
    )
    folder.write_json("evaluation/interpretability.json", interp)
    decision = verdict(spec.problem.success_criteria, measured)
    folder.write_json("evaluation/verdict.json", decision)
    folder.write_json(
        "evaluation/metrics_ci.json",
        {
            "schema_version": SCHEMA_VERSION,
            "model": _describe(model),
            "level": 0.95,
            "n_resamples": n_boot,
            "seed": seed,
            "n_test": len(y_test),
            "metrics": measured,
        },
    )
    summary = _summary(model, threshold, metrics_ci, conformal, fairness, interp, decision)
    return EngagementEvaluation(holdout, model, threshold, decision, summary)


def _held_out_valid(result: SearchResult, n_valid: int) -> np.ndarray | None:
    """Return validation predictions of the selected model from models that did not see them.

    With bagged cross-validation the final fold models have each seen most validation
    rows, so ``predict`` on them would be in-sample; the search keeps their out-of-fold
    predictions in ``valid_output``. Calibration and the threshold are fitted on these.
    """
    output = result.best.valid_output
    if output is None or len(output) != n_valid:
        return None
    return np.asarray(output, dtype=np.float64)


def _valid_output(model: Any, X_valid: Any, task: str, held_out: np.ndarray | None) -> np.ndarray:
    if held_out is None:
        return predict_output(model, X_valid, task)
    if isinstance(model, CalibratedModel):
        q = model.calibrate(held_out[:, 1])
        return np.column_stack([1.0 - q, q])
    return held_out


def _calibrate(
    result: SearchResult,
    X_valid: Any,
    y_valid: np.ndarray,
    task: str,
    seed: int,
    held_out: np.ndarray | None,
) -> tuple[Any, dict[str, Any]]:
    if task == "regression":
        return result.best.pipeline, {"kept": None, "reason": "regression"}
    calibrated, record = choose_calibration(
        result.best.pipeline, X_valid, y_valid, seed=seed, valid_proba=held_out
    )
    record["fitted_on"] = (
        "held-out validation predictions" if held_out is not None else "validation"
    )
    return (calibrated if calibrated is not None else result.best.pipeline), record


def _costs(spec: ProjectSpec) -> tuple[float, float] | None:
    costs = spec.problem.costs
    return (costs.fp, costs.fn) if costs is not None else None


def _threshold(spec: ProjectSpec, y_valid: np.ndarray, valid_out: np.ndarray) -> dict[str, Any]:
    problem = spec.problem
    objective = problem.threshold_objective or ("cost" if problem.costs is not None else "f1")
    record = choose_threshold(
        y_valid,
        valid_out[:, 1],
        objective=objective,
        costs=_costs(spec),
        min_precision=problem.min_precision,
    )
    record["chosen_on"] = "validation"
    return record


def _calibration_record(
    cal_record: dict[str, Any],
    result: SearchResult,
    X_test: Any,
    y_test: np.ndarray,
    test_out: np.ndarray,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    raw = predict_output(result.best.pipeline, X_test, "binary")
    record: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "selection": cal_record}
    record["uncalibrated"] = {
        **calibration_summary(y_test, raw),
        "ece_ci": ece_interval(y_test, raw, n_resamples=n_boot, seed=seed),
    }
    if cal_record.get("kept"):
        record["calibrated"] = {
            **calibration_summary(y_test, test_out),
            "ece_ci": ece_interval(y_test, test_out, n_resamples=n_boot, seed=seed),
        }
    return record


def _fairness(
    spec: ProjectSpec,
    dataset: Dataset,
    split: Split,
    model: Any,
    y_test: np.ndarray,
    test_out: np.ndarray,
    threshold: float | None,
    metric: str,
) -> dict[str, Any]:
    cfg = spec.evaluation
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "protected": list(spec.fairness.protected),
        "used_as_features": spec.fairness.use_as_features,
        "min_group_size": cfg.min_group_size,
        "threshold": threshold,
        "attributes": {},
    }
    for column in spec.fairness.protected:
        groups = group_labels(dataset.frame[column].iloc[split.test])
        report = fairness_report(
            y_test,
            test_out,
            groups,
            task=spec.problem.task,
            metric=metric,
            threshold=threshold if threshold is not None else 0.5,
            min_group_size=cfg.min_group_size,
            n_resamples=cfg.bootstrap,
            seed=spec.split.seed,
        )
        if spec.fairness.mitigate and spec.problem.task == "binary":
            report["mitigation"] = _mitigate(spec, dataset, split, model, column, threshold)
        out["attributes"][column] = report
    return out


def _mitigate(
    spec: ProjectSpec,
    dataset: Dataset,
    split: Split,
    model: Any,
    column: str,
    threshold: float | None,
) -> dict[str, Any]:
    method = spec.fairness.mitigate or ""
    fit_rows = split.valid if method == "threshold_optimizer" else split.train
    try:
        return mitigation_report(
            method,
            model,
            X_fit=dataset.features(fit_rows),
            y_fit=dataset.y[fit_rows],
            groups_fit=group_labels(dataset.frame[column].iloc[fit_rows]),
            X_test=dataset.features(split.test),
            y_test=dataset.y[split.test],
            groups_test=group_labels(dataset.frame[column].iloc[split.test]),
            threshold=threshold if threshold is not None else 0.5,
            min_group_size=spec.evaluation.min_group_size,
            seed=spec.split.seed,
        )
    except Exception as exc:  # reported in fairness.json; the engagement goes on
        logger.warning("fairness mitigation %s failed: %s", method, exc)
        return {"method": method, "error": f"{type(exc).__name__}: {exc}"}


def _worst_gaps(fairness: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the worst value of each parity gap over the protected attributes."""
    out: dict[str, dict[str, Any]] = {}
    for report in fairness["attributes"].values():
        for name, interval in report.get("gaps", {}).items():
            if interval.get("estimate") is None:
                continue
            sign = -1.0 if name.endswith("ratio") else 1.0  # a low ratio, a high difference
            if name not in out or sign * interval["estimate"] > sign * out[name]["estimate"]:
                out[name] = interval
    return out


def _describe(model: Any) -> str:
    if isinstance(model, CalibratedModel):
        return f"selected pipeline + {model.method_} calibration"
    return "selected pipeline"


def _summary(
    model: Any,
    threshold: float | None,
    metrics_ci: dict[str, Any],
    conformal: dict[str, Any],
    fairness: dict[str, Any],
    interp: dict[str, Any],
    decision: dict[str, Any],
) -> dict[str, Any]:
    gaps = {
        col: {k: v["estimate"] for k, v in rep.get("gaps", {}).items()}
        for col, rep in fairness["attributes"].items()
    }
    return {
        "model": _describe(model),
        "calibration": getattr(model, "method_", None),
        "threshold": threshold,
        "test_ci": {k: v.to_dict() for k, v in metrics_ci.items()},
        "conformal_coverage": {"nominal": conformal["nominal"], "test": conformal["empirical"]},
        "fairness_gaps": gaps,
        "price_of_interpretability": (interp.get("price") or {}).get("estimate"),
        "verdict": decision["overall"],
    }
