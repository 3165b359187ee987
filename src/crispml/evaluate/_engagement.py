"""The evaluation phase of an engagement: everything fixed on validation, then test once.

Order (the test set is touched only in step 3):

1. on validation: post-hoc calibration (kept if it lowers out-of-fold log loss), the
   decision threshold, the conformal scores, the slice finder's tree, ThresholdOptimizer;
2. (ExponentiatedGradient, when asked, retrains on the training rows);
3. on test: the delivered model's predictions, saved to
   ``evaluation/test_predictions.parquet``; every headline figure is computed from that
   table (see :mod:`crispml.evaluate._result`); then calibration, confusion matrix,
   coverage, fairness, slices, explanations and the price of interpretability. The
   leaderboard's test columns score the other candidates too, as diagnostics only:
   selection used validation.

The typed :class:`EvaluationResult` is written to ``evaluation/evaluation.json``; the
detailed reports beside it each carry ``schema_version`` (1); an interval is always
``{estimate, low, high, level, n}`` (95% percentile bootstrap, ``None`` where undefined):

- ``calibration.json`` (classification): ``selection`` (``kept``, ``valid_log_loss`` per
  map, ``reason``, ``temperature`` when temperature scaling is kept), ``uncalibrated`` /
  ``calibrated``: ``ece``, ``ece_ci``, ``brier``, ``bins`` [{low, high, predicted,
  observed, count}] on test;
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
- ``alternatives.json`` (binary, protected columns): :class:`AlternativesResult`, with
  ``alternatives_outputs.parquet``, the probabilities its figures are measured from;
- plots: ``reliability.svg``, ``importance.svg``, ``fairness.svg``.

The verdict is not decided here: the engagement decides it after deployment, from this
result and the measured latency (:func:`crispml.evaluate.verdict`).
"""

from __future__ import annotations

import copy
import io
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crispml.evaluate._alternatives import AlternativesResult
from crispml.evaluate._alternatives_phase import alternatives_phase
from crispml.evaluate._baseline import compare_with_baseline
from crispml.evaluate._calibration import (
    CalibratedModel,
    calibrate_output,
    calibration_summary,
    choose_calibration,
    ece_interval,
    plot_reliability,
)
from crispml.evaluate._conformal import conformal_report
from crispml.evaluate._explain import ReasonPolicy, explain_model
from crispml.evaluate._fairness_phase import (
    _favourable_code,
    fairness_phase,
    oof_output,
    worst_gaps,
)
from crispml.evaluate._holdout import (
    HoldoutEvaluation,
    TestOutputs,
    evaluate_holdout,
    predict_candidates,
)
from crispml.evaluate._interpretability import price_of_interpretability
from crispml.evaluate._monotone import monotone_report
from crispml.evaluate._plots import plot_fairness, plot_importance
from crispml.evaluate._result import (
    PREDICTIONS_FILE,
    Decisions,
    Estimate,
    EvaluationResult,
    FinalRefit,
    figures_from_predictions,
    predictions_frame,
)
from crispml.evaluate._slices import slice_report
from crispml.evaluate._threshold import choose_threshold, decision_intervals, decision_report
from crispml.models import predict_output
from crispml.search import EvaluationWork, refit_all_rows

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
        Leaderboard of every candidate; its test columns are diagnostics.
    model : estimator
        The deployable model: a :class:`CalibratedModel` when calibration was kept,
        else the selected pipeline.
    threshold : float or None
        Decision threshold (binary), chosen on validation.
    result : EvaluationResult
        The typed result written to ``evaluation/evaluation.json``.
    """

    holdout: HoldoutEvaluation
    model: Any
    threshold: float | None
    result: EvaluationResult


def evaluate_engagement(
    folder: RunFolder,
    *,
    dataset: Dataset,
    split: Split,
    result: SearchResult,
    spec: ProjectSpec,
    work: EvaluationWork | None = None,
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
    work : EvaluationWork, optional
        The optional work the engagement's plan allows (bootstrap resamples, attribution
        rows, alternatives re-scored); default: the full work, ``evaluation.bootstrap``
        resamples.

        .. versionadded:: 0.1

    Returns
    -------
    EngagementEvaluation
    """
    work = work or EvaluationWork(n_resamples=spec.evaluation.bootstrap)
    if work.n_resamples != spec.evaluation.bootstrap:  # every interval below reads it here
        bounded = spec.evaluation.model_copy(update={"bootstrap": work.n_resamples})
        spec = spec.model_copy(update={"evaluation": bounded})
    task = spec.problem.task
    cfg, seed = spec.evaluation, spec.split.seed
    X_valid, y_valid = dataset.features(split.valid), dataset.y[split.valid]
    X_test, y_test = dataset.features(split.test), dataset.y[split.test]
    # 1. everything decided on validation
    held_out = _held_out_valid(result, len(y_valid))
    search_oof = _search_oof(result, dataset.y[np.concatenate([split.train, split.valid])])
    model, cal_record = _calibrate(result, X_valid, y_valid, task, seed, held_out, search_oof)
    valid_out = _valid_output(model, X_valid, task, held_out)
    threshold_record = _threshold(spec, y_valid, valid_out) if task == "binary" else None
    threshold = threshold_record["threshold"] if threshold_record else None
    if isinstance(model, CalibratedModel) and threshold is not None:
        model.set_threshold(threshold)
    # 2. the test set, once: every candidate's predictions (the delivered model's are the
    # selected pipeline's through its calibration map), saved, then every figure from them
    outputs = predict_candidates(result, X_test, task=task)
    test_out = _delivered_output(model, outputs.of(result.best), X_test, task)
    predictions = predictions_frame(
        split.test_ids, y_test, test_out, encoding=dataset.target, threshold=threshold
    )
    folder.write_bytes(PREDICTIONS_FILE, _parquet(predictions))
    test, basis, at_half = figures_from_predictions(
        predictions, task, n_resamples=cfg.bootstrap, seed=seed
    )
    holdout = evaluate_holdout(result, X_test, y_test, task=task, outputs=outputs)
    details = _details(
        spec,
        dataset,
        split,
        result,
        model,
        (held_out, valid_out, test_out, outputs),
        threshold,
        work,
    )
    ece = None
    if task != "regression":
        raw = outputs.of(result.best)
        calib = _calibration_record(
            cal_record, y_test, (test_out if raw is None else raw, test_out), cfg.bootstrap, seed
        )
        ece = Estimate(
            **calib["calibrated" if "calibrated" in calib else "uncalibrated"]["ece_ci"]
        )
        folder.write_json("evaluation/calibration.json", calib)
        folder.write_bytes("evaluation/reliability.svg", plot_reliability(calib))
    decisions = decisions_half = None
    if threshold_record is not None:
        costs = _costs(spec)
        chosen = float(threshold_record["threshold"])
        threshold_record["test"] = decision_report(y_test, test_out[:, 1], chosen, costs)
        threshold_record["test_ci"] = decision_intervals(
            y_test, test_out[:, 1], chosen, n_resamples=cfg.bootstrap, seed=seed
        )
        threshold_record["test_at_0_5"] = decision_report(y_test, test_out[:, 1], 0.5, costs)
        decisions = _decisions(threshold_record["test"])
        decisions_half = _decisions(threshold_record["test_at_0_5"])
        folder.write_json("evaluation/threshold.json", {"schema_version": 1, **threshold_record})
    for name, content in details.items():
        folder.write_json(f"evaluation/{name}.json", content)
    alternatives = alternatives_phase(
        spec, dataset, split, result, model, threshold, test_out,
        top=work.alternatives, outputs=outputs,
    )  # fmt: skip
    if alternatives is not None:  # the table first: the result names it
        folder.write_bytes(alternatives[0].outputs, _parquet(alternatives[1]))
        folder.write_text(AlternativesResult.FILE, alternatives[0].to_json())
    if details["fairness"]["attributes"]:
        folder.write_bytes("evaluation/fairness.svg", plot_fairness(details["fairness"]))
    folder.write_bytes("evaluation/importance.svg", plot_importance(details["importance"]))
    evaluation = EvaluationResult(
        task=task,
        primary_metric=result.metric,
        selected_model=result.best.name,
        model=_describe(model),
        calibration=getattr(model, "method_", None),
        temperature=getattr(model, "temperature_", None),
        threshold=threshold,
        threshold_objective=threshold_record["objective"] if threshold_record else None,
        n_test=len(y_test),
        n_resamples=cfg.bootstrap,
        seed=seed,
        test=test,
        basis=basis,
        test_at_0_5=at_half,
        decisions=decisions,
        decisions_at_0_5=decisions_half,
        ece=ece,
        fairness_gaps=worst_gaps(details["fairness"]),
        fairness_underpowered=[
            f"{column}: {note}"
            for column, report in details["fairness"]["attributes"].items()
            for note in report.get("underpowered", [])
        ],
        valid={result.metric: result.best.valid_score},
        conformal_nominal=details["conformal"].get("nominal"),
        conformal_test=details["conformal"].get("empirical"),
        candidates_on_test=_scored_on_test(holdout, result.metric),
        vs_baseline=compare_with_baseline(
            result,
            X_test,
            y_test,
            test_out,
            task=task,
            n_resamples=cfg.bootstrap,
            seed=seed,
            outputs=outputs,
        ),
    )
    if spec.deployment.refit == "all_rows":
        model, final = refit_on_all_rows(spec, dataset, split, result, model)
        evaluation = evaluation.model_copy(update={"final_refit": final})
    folder.write_text(EvaluationResult.FILE, evaluation.to_json())
    return EngagementEvaluation(holdout, model, threshold, evaluation)


def refit_on_all_rows(
    spec: ProjectSpec, dataset: Dataset, split: Split, result: SearchResult, model: Any
) -> tuple[Any, FinalRefit]:
    """Fit the selected configuration on train + valid + test (``refit: all_rows``).

    Calibration is carried over, not refitted: the map and the decision threshold fitted
    on validation before (from held-out predictions) are kept, and only the base model
    under them is replaced. Refitting the map would need held-out predictions of the new
    model, and none are left: every row is now a training row. The refit differs from the
    evaluated model by its rows only (same members, parameters, rounds and weights), so
    its outputs are on the scale the map was fitted for; the card says so.
    """
    rows = np.concatenate([split.train, split.valid, split.test])
    refit = refit_all_rows(
        result,
        dataset.features(rows),
        dataset.y[rows],
        schema=dataset.schema,
        task=spec.problem.task,
        seed=spec.split.seed,
        n_jobs=spec.search.n_jobs,
        monotone=dict(spec.features.monotone),
    )
    how = "none (uncalibrated model)"
    if isinstance(model, CalibratedModel):
        carried = copy.copy(model)
        carried.base, carried.base_ = refit, refit
        refit = carried
        how = (
            f"{model.method_} map and decision threshold fitted on held-out predictions "
            "before the refit, kept unchanged; only the base model was refitted"
        )
    replaced = (
        f"the {result.validation.get('n_folds')} bagged cross-validation fold models, each "
        "fitted on part of the non-test rows"
        if result.validation.get("mode") == "cv"
        else "the model fitted on train + valid"
    )
    return refit, FinalRefit(
        n_rows=len(rows), n_test_rows=len(split.test), replaced=replaced, calibration=how
    )


def _details(
    spec: ProjectSpec,
    dataset: Dataset,
    split: Split,
    result: SearchResult,
    model: Any,
    outputs: tuple[np.ndarray | None, np.ndarray, np.ndarray, TestOutputs],
    threshold: float | None,
    work: EvaluationWork,
) -> dict[str, dict[str, Any]]:
    """Compute the detailed reports: conformal, fairness, slices, importance, interpretability.

    ``outputs`` holds the held-out validation predictions (or ``None``), the delivered
    model's validation and test outputs and the candidates' test outputs; none of them is
    predicted again.
    """
    task, metric = spec.problem.task, result.metric
    cfg, seed = spec.evaluation, spec.split.seed
    held_out, valid_out, test_out, on_test = outputs
    X_valid, y_valid = dataset.features(split.valid), dataset.y[split.valid]
    X_test, y_test = dataset.features(split.test), dataset.y[split.test]
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
        test_output=test_out,
    )
    oof = oof_output(result, model, split) if task == "binary" else None
    fairness = fairness_phase(
        spec, dataset, split, model, y_test, test_out, threshold, metric, oof=oof
    )
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
        n_resamples=cfg.bootstrap,
        seed=seed,
    )
    importance = explain_model(
        model,
        X_test,
        y_test,
        task=task,
        metric=metric,
        seed=seed,
        background=dataset.features(split.train),
        policy=reason_policy(spec, dataset, split, threshold),
        max_rows=work.attribution_rows,
        max_seconds=work.attribution_s,
        output=test_out,
    )
    interp = price_of_interpretability(
        result, X_test, y_test, task=task, n_resamples=cfg.bootstrap, seed=seed, outputs=on_test
    )
    details = {
        "conformal": conformal,
        "fairness": fairness,
        "slices": slices,
        "importance": importance,
        "interpretability": interp,
    }
    if spec.features.monotone:  # ICE check of the constraints on the test rows
        details["monotone"] = monotone_report(
            model, X_test, spec.features.monotone, task=task, X_train=X_valid, seed=seed
        )
    return details


def reason_policy(
    spec: ProjectSpec, dataset: Dataset, split: Split | None, threshold: float | None
) -> ReasonPolicy:
    """Decision threshold, favourable class and statements of the adverse-action reasons."""
    target = dataset.target
    favourable = _favourable_code(target, spec.problem.favourable_label)
    return ReasonPolicy(
        top_k=spec.explain.top_k,
        threshold=0.5 if threshold is None else threshold,
        favourable=favourable,
        labels=tuple(str(c) for c in target.classes) or ("0", "1"),
        statements=dict(spec.explain.reason_statements),
        references=_medians(dataset.features(split.train)) if split is not None else {},
    )


def _medians(frame: pd.DataFrame) -> dict[str, float]:
    """Training median of every numeric column (which ``high``/``low`` statement applies)."""
    numeric = frame.select_dtypes("number")
    return {str(c): float(v) for c, v in numeric.median().items() if pd.notna(v)}


def _parquet(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _decisions(report: dict[str, Any]) -> Decisions:
    fields = ("threshold", "precision", "recall", "f1", "accuracy", "selection_rate")
    return Decisions(
        **report["confusion"],
        **{k: report[k] for k in fields},
        mean_cost=report.get("mean_cost"),
    )


def _scored_on_test(holdout: HoldoutEvaluation, metric: str) -> int:
    column = f"test_{metric}"
    board = holdout.leaderboard
    return int(board[column].notna().sum()) if column in board.columns else 0


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


def _search_oof(
    result: SearchResult, y_search: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Out-of-fold predictions of the selected model over train + valid, with their target.

    Cross-validation mode only: every search row then has a prediction from a model that
    did not see it, four times the validation rows to fit and judge a calibration map on.
    ``None`` in holdout mode (the array is NaN outside the validation rows).
    """
    oof = result.best.oof_output
    if oof is None or len(oof) != len(y_search):
        return None
    proba = np.asarray(oof, dtype=np.float64)
    return (proba, np.asarray(y_search)) if bool(np.isfinite(proba).all()) else None


def _valid_output(model: Any, X_valid: Any, task: str, held_out: np.ndarray | None) -> np.ndarray:
    if held_out is None:
        return predict_output(model, X_valid, task)
    return calibrate_output(model, held_out)


def _calibrate(
    result: SearchResult,
    X_valid: Any,
    y_valid: np.ndarray,
    task: str,
    seed: int,
    held_out: np.ndarray | None,
    search_oof: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Any, dict[str, Any]]:
    if task == "regression":
        return result.best.pipeline, {"kept": None, "reason": "regression"}
    if search_oof is not None:  # cv mode: every search row was held out once
        proba, y_oof = search_oof
        calibrated, record = choose_calibration(
            result.best.pipeline, None, y_oof, seed=seed, valid_proba=proba
        )
        record["fitted_on"] = "out-of-fold predictions over train + valid"
        return (calibrated if calibrated is not None else result.best.pipeline), record
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
    y_test: np.ndarray,
    test_outputs: tuple[np.ndarray, np.ndarray],
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    """Reliability of the selected pipeline's raw and (when kept) calibrated test outputs."""
    raw, test_out = test_outputs
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


def _delivered_output(model: Any, raw: np.ndarray | None, X_test: Any, task: str) -> np.ndarray:
    """Return the delivered model's test output from the selected pipeline's (``raw``).

    A :class:`CalibratedModel` is the selected pipeline under a calibration map, so its
    output is the map applied to the pipeline's output: the bagged pipeline predicts
    the test rows once. ``raw`` is ``None`` only when the search released the selected
    model (never in an engagement); the model then predicts.
    """
    if raw is None:
        return predict_output(model, X_test, task)
    return calibrate_output(model, raw)


def _describe(model: Any) -> str:
    if isinstance(model, CalibratedModel):
        return f"selected pipeline + {model.method_} calibration"
    return "selected pipeline"
