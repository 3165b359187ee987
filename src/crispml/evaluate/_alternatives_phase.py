"""The alternatives step of the evaluation: the search's candidates on held-out rows.

The basis is what the search already holds: each candidate's out-of-fold predictions over
train + valid (cv mode), else its predictions on the validation split (holdout mode).
The test set does not enter the choice; once the alternative is named, it and the
delivered model are scored on test as a labelled diagnostic.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedKFold

from crispml._metrics import METRICS
from crispml.evaluate._alternatives import (
    RATIOS,
    AlternativePoint,
    AlternativesResult,
    AlternativeTest,
    PointKind,
    Scored,
    Setting,
    compare,
    disparity_value,
    measure,
    measures_for,
    outputs_table,
)
from crispml.evaluate._calibration import calibrate_output
from crispml.evaluate._fairness import _pool_small, group_labels
from crispml.evaluate._fairness_phase import _favourable_code
from crispml.evaluate._holdout import TestOutputs
from crispml.evaluate._threshold import choose_threshold
from crispml.models import predict_output

if TYPE_CHECKING:
    from crispml.data import Dataset, Split
    from crispml.search import Candidate, SearchResult
    from crispml.spec import ProjectSpec

logger = logging.getLogger(__name__)
TOP_CANDIDATES = 12
"""Distinct candidates (best validation score first) compared with the delivered model."""
ALTERNATIVE_RESAMPLES = 200
"""Bootstrap resamples (at most) of the other candidates' metric and fairness intervals.
They compare candidates with the delivered model, whose point keeps the spec's
``evaluation.bootstrap`` (and so equals the fairness section's evidence). With 1,000 each,
the alternatives were 60 % of COMPAS's evaluation (12 candidates x 4 protected groupings)."""
_SAME_OUTPUT = 1e-9
"""Candidates whose held-out probabilities differ by less than this are one model."""
_BASIS_OOF = "out-of-fold predictions over train + valid ({n} rows; the search's CV folds)"
_BASIS_VALID = "predictions on the validation split ({n} rows; models fitted on train)"
_NO_ALTERNATIVE = (
    "No candidate whose {metric} lies within the delivered model's 95% interval has a lower "
    "{lead} disparity: no less discriminatory alternative was found among the compared models."
)
_FOUND = (
    "{name} keeps {metric} within the delivered model's 95% interval and has the lowest "
    "{lead} disparity of those that do."
)
_NOTE_TO = (
    "fairlearn ThresholdOptimizer ({constraint}) on the delivered model's scores, "
    "cross-fitted in 2 folds of these rows; it needs the protected attribute at "
    "prediction time and randomises some decisions, so it is shown, never named."
)
_NOTE_EG = (
    "exponentiated_gradient retrains the model on every fold; it is not recomputed for "
    "this comparison (see the fairness section's mitigation, on test)."
)
_NOTE_RELEASED = (
    "{name}'s fitted model was released after the search to save memory (only the leading "
    "candidates keep theirs), so it has no test figure."
)


def alternatives_phase(
    spec: ProjectSpec,
    dataset: Dataset,
    split: Split,
    result: SearchResult,
    model: Any,
    threshold: float | None,
    test_out: np.ndarray,
    *,
    top: int = TOP_CANDIDATES,
    outputs: TestOutputs | None = None,
) -> tuple[AlternativesResult, pd.DataFrame] | None:
    """Compare the delivered model with the search's other candidates, then check on test.

    Parameters
    ----------
    spec : ProjectSpec
        The resolved spec (fairness criteria and mitigation, threshold objective).
    dataset, split : Dataset, Split
        The data and its parts (the test part is read only after the choice).
    result : SearchResult
        The finished search: candidates with their held-out predictions.
    model : estimator
        The delivered model (its calibration map is applied to the selected candidate).
    threshold : float or None
        The delivered threshold.
    test_out : numpy.ndarray
        The delivered model's test probabilities (already computed by the evaluation).
    top : int, default=TOP_CANDIDATES
        Other candidates compared at most (the engagement's plan may lower it).
    outputs : TestOutputs, optional
        The candidates' test outputs, when already computed: the alternative's is reused.

        .. versionadded:: 0.3

    Returns
    -------
    tuple or None
        The :class:`AlternativesResult` and the table of every compared model's
        probabilities it was measured from (``evaluation/alternatives_outputs.parquet``);
        ``None`` unless the task is binary and protected columns are given.
    """
    if spec.problem.task != "binary" or not spec.fairness.protected:
        return None
    rows, pick = _basis(result, split)
    if rows is None:
        return None
    setting = _setting(spec, dataset)
    groups = {c: group_labels(dataset.frame[c].iloc[rows]) for c in spec.fairness.protected}
    y = dataset.y[rows]
    valid_pos = np.flatnonzero(np.isin(rows, split.valid))
    scored = _scored(spec, result, model, threshold, y, valid_pos, pick, top)
    mitigated, mitigation_note = _mitigated(spec, scored[0], y, groups, setting)
    quick = dataclasses.replace(
        setting, n_resamples=min(setting.n_resamples, ALTERNATIVE_RESAMPLES)
    )
    others = [measure(s, y, groups, quick) for s in (*scored[1:], *mitigated)]
    points = [measure(scored[0], y, groups, setting), *others]
    lead = setting.measures[0]
    points, name = compare(points, metric=setting.metric, lead=lead)
    words = {"metric": setting.metric, "lead": lead, "name": name}
    conclusion = (_FOUND if name else _NO_ALTERNATIVE).format(**words)
    if name is not None:
        conclusion += _trade_offs(points[0], points_named(points, name), setting.measures[1:])
    if mitigation_note:
        conclusion = f"{conclusion} {mitigation_note}"
    test, note, test_table = _on_test(
        spec, dataset, split, result, (points, test_out, outputs), name, setting
    )
    basis = _BASIS_OOF if len(rows) > len(split.valid) else _BASIS_VALID
    table = outputs_table(
        y, groups, {s.name: s.output for s in (*scored, *mitigated)}, part="held_out"
    )
    alternatives = AlternativesResult(
        primary_metric=setting.metric, measures=list(setting.measures), lead_measure=lead,
        protected=list(spec.fairness.protected), basis=basis.format(n=len(rows)),
        n_rows=len(rows), delivered=points[0].name, points=points, alternative=name,
        conclusion=conclusion, test=test, test_note=note, favourable=setting.favourable,
        min_group_size=setting.min_group_size, min_class_size=setting.min_class_size,
        n_resamples=setting.n_resamples, seed=setting.seed,
        others_resamples=quick.n_resamples,
    )  # fmt: skip
    return alternatives, pd.concat([table, test_table], ignore_index=True)


def points_named(points: list[AlternativePoint], name: str) -> AlternativePoint:
    """Return the point called ``name``."""
    return next(p for p in points if p.name == name)


def _trade_offs(
    delivered: AlternativePoint, chosen: AlternativePoint, others: tuple[str, ...]
) -> str:
    """Name the other measures on which the alternative is less fair than the delivered model."""
    worse = [
        m
        for m in others
        if m in chosen.disparity
        and m in delivered.disparity
        and disparity_value(m, chosen.disparity[m].estimate)
        > disparity_value(m, delivered.disparity[m].estimate)
    ]
    if not worse:
        return ""
    return f" It is less fair than the delivered model on {', '.join(worse)} (see the table)."


def _basis(result: SearchResult, split: Split) -> tuple[np.ndarray | None, str]:
    """Rows every candidate has held-out predictions for, and the attribute holding them."""
    n_fit = len(split.train) + len(split.valid)
    oof = result.best.oof_output
    # holdout mode also keeps a full-length array, NaN outside the validation rows
    if oof is not None and len(oof) == n_fit and bool(np.isfinite(oof).all()):
        return np.concatenate([split.train, split.valid]), "oof_output"
    valid = result.best.valid_output
    if valid is not None and len(valid) == len(split.valid):
        return np.asarray(split.valid), "valid_output"
    return None, ""


def _setting(spec: ProjectSpec, dataset: Dataset) -> Setting:
    cfg = spec.evaluation
    return Setting(
        metric=spec.problem.primary_metric,
        measures=measures_for(list(spec.fairness.criteria)),
        favourable=_favourable_code(dataset.target, spec.problem.favourable_label),
        min_group_size=cfg.min_group_size,
        min_class_size=cfg.min_group_class_size,
        n_resamples=cfg.bootstrap,
        seed=spec.split.seed,
    )


def _top(result: SearchResult, pick: str, n_rows: int, top: int) -> list[Candidate]:
    """Return the selected candidate, then up to ``top`` distinct others, best first."""
    sign = 1.0 if METRICS[result.metric].greater_is_better else -1.0
    ranked = sorted(
        (
            c
            for c in result.candidates
            if c.status == "ok"
            and c.valid_score is not None
            and c.family != "dummy"
            and c is not result.best
            and getattr(c, pick) is not None
            and len(getattr(c, pick)) == n_rows
            and bool(np.isfinite(getattr(c, pick)).all())
        ),
        key=lambda c: -sign * float(c.valid_score),  # type: ignore[arg-type]
    )
    kept = [result.best]
    for cand in ranked:
        out = np.asarray(getattr(cand, pick), dtype=np.float64)
        if all(np.max(np.abs(out - np.asarray(getattr(k, pick)))) > _SAME_OUTPUT for k in kept):
            kept.append(cand)
        if len(kept) > top:
            break
    return kept


def _scored(
    spec: ProjectSpec,
    result: SearchResult,
    model: Any,
    threshold: float | None,
    y: np.ndarray,
    valid_pos: np.ndarray,
    pick: str,
    top: int,
) -> list[Scored]:
    """Score each candidate as it would be delivered: its probabilities and threshold."""
    out = []
    for cand in _top(result, pick, len(y), top):
        proba = np.asarray(getattr(cand, pick), dtype=np.float64)
        if cand is result.best:  # the delivered model: calibration map and threshold
            proba = calibrate_output(model, proba)
            cut = threshold if threshold is not None else 0.5
        else:  # its own threshold, chosen like the delivered one on the validation rows
            cut = _own_threshold(spec, y[valid_pos], proba[valid_pos, 1])
        kind: PointKind = "delivered" if cand is result.best else "candidate"
        out.append(Scored(cand.name, cand.family, kind, proba, cut, cand.valid_score))
    return out


def _own_threshold(spec: ProjectSpec, y_valid: np.ndarray, p1: np.ndarray) -> float:
    problem = spec.problem
    costs = (problem.costs.fp, problem.costs.fn) if problem.costs is not None else None
    objective = problem.threshold_objective or ("cost" if costs is not None else "f1")
    record = choose_threshold(
        y_valid, p1, objective=objective, costs=costs, min_precision=problem.min_precision
    )
    return float(record["threshold"])


class _Scores(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A fitted pass-through classifier: its one input column is the probability.

    fairlearn's ThresholdOptimizer post-processes an estimator; this one lets it act on
    held-out scores the search already computed, without refitting anything.
    """

    def fit(self, X: Any, y: Any) -> _Scores:
        """Record the two classes."""
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return the input column as the positive-class probability."""
        p = np.asarray(X, dtype=np.float64)[:, 0]
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Decide at 0.5 (unused by the mitigation)."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _mitigated(
    spec: ProjectSpec,
    delivered: Scored,
    y: np.ndarray,
    groups: dict[str, np.ndarray],
    setting: Setting,
) -> tuple[list[Scored], str | None]:
    """Return the mitigation the spec asks for as one more point, or a note why not."""
    method = spec.fairness.mitigate
    if method is None:
        return [], None
    if method == "exponentiated_gradient":
        return [], _NOTE_EG
    ratio = setting.measures[0] in RATIOS or setting.measures[0].startswith("demographic")
    constraint = "demographic_parity" if ratio else "equalized_odds"
    try:
        decided = _threshold_optimizer(delivered, y, groups, constraint, setting)
    except Exception as exc:  # reported in the result; the evaluation goes on
        logger.warning("ThresholdOptimizer for the alternatives failed: %s", exc)
        return [], f"ThresholdOptimizer could not be fitted ({type(exc).__name__}: {exc})."
    onehot = np.column_stack([1.0 - decided, decided])
    note = _NOTE_TO.format(constraint=constraint)
    return [Scored("threshold_optimizer", "mitigated", "mitigated", onehot, 0.5, None, note)], None


def _threshold_optimizer(
    delivered: Scored,
    y: np.ndarray,
    groups: dict[str, np.ndarray],
    constraint: str,
    setting: Setting,
) -> np.ndarray:
    """Cross-fitted decisions of ThresholdOptimizer on the first protected column."""
    from fairlearn.postprocessing import ThresholdOptimizer

    labels = next(iter(groups.values()))
    scores = delivered.output[:, 1:2]
    decided = np.zeros(len(y))
    strata = np.asarray([f"{g}|{v}" for g, v in zip(labels, y, strict=True)])
    _, counts = np.unique(strata, return_counts=True)
    folds = StratifiedKFold(2, shuffle=True, random_state=setting.seed)
    split_on = strata if counts.min() >= 2 else y
    for fit, held in folds.split(scores, split_on):
        fit_groups, held_groups = _pool_small(
            labels[fit], y[fit], labels[held], setting.min_group_size
        )
        mitigator = ThresholdOptimizer(
            estimator=_Scores().fit(scores[fit], y[fit]), constraints=constraint,
            prefit=True, predict_method="predict_proba",
        )  # fmt: skip
        mitigator.fit(scores[fit], y[fit], sensitive_features=fit_groups)
        decided[held] = mitigator.predict(
            scores[held], sensitive_features=held_groups, random_state=setting.seed
        )
    return decided


def _on_test(
    spec: ProjectSpec,
    dataset: Dataset,
    split: Split,
    result: SearchResult,
    measured: tuple[list[AlternativePoint], np.ndarray, TestOutputs | None],
    name: str | None,
    setting: Setting,
) -> tuple[list[AlternativeTest], str | None, pd.DataFrame]:
    """Score the delivered model and the chosen alternative on test (a diagnostic)."""
    empty = pd.DataFrame()
    if name is None:
        return [], None, empty
    points, test_out, outputs = measured
    cand = next(c for c in result.candidates if c.name == name)
    if cand.pipeline is None:
        return [], _NOTE_RELEASED.format(name=name), empty
    y = dataset.y[split.test]
    groups = {c: group_labels(dataset.frame[c].iloc[split.test]) for c in spec.fairness.protected}
    known = outputs.of(cand) if outputs is not None else None
    alt_out = (
        known
        if known is not None
        else predict_output(cand.pipeline, dataset.features(split.test), "binary")
    )
    out = []
    for label, proba, cut in (
        (points[0].name, test_out, points[0].threshold),
        (name, alt_out, points_named(points, name).threshold),
    ):
        scored = Scored(label, "", "candidate", proba, cut if cut is not None else 0.5)
        figures = measure(scored, y, groups, setting)
        test = AlternativeTest(
            name=label, threshold=figures.threshold, primary=figures.primary,
            disparity=figures.disparity,
        )  # fmt: skip
        out.append(test)
    table = outputs_table(y, groups, {points[0].name: test_out, name: alt_out}, part="test")
    return out, None, table
