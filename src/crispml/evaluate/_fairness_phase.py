"""The fairness part of the evaluation: group rates, gaps, group evidence, mitigation.

Everything is computed for the delivered model at the delivered threshold, on the
locked test set, and (cv mode) again on the out-of-fold predictions over train + valid,
which hold several times more rows of each group. Two protected columns also give their
intersection (``a & b``), under the same small-group rule.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from crispml.evaluate._calibration import calibrate_output
from crispml.evaluate._fairness import fairness_report, group_labels, mitigation_report
from crispml.evaluate._group_evidence import calibration_by_group, threshold_tradeoff
from crispml.evaluate._result import Estimate
from crispml.exceptions import DataError

if TYPE_CHECKING:
    from crispml.data import Dataset, Split
    from crispml.search import SearchResult
    from crispml.spec import ProjectSpec

logger = logging.getLogger(__name__)
SCHEMA_VERSION = 1
INTERSECTION = " & "
_OOF_BASIS = (
    "out-of-fold predictions of the selected model over train + valid (its CV folds; the "
    "calibration map and threshold were fitted on the validation part of these rows)"
)
_MSG_FAVOURABLE = (
    "problem.favourable_label = {label!r} is not a class of the target ({shown}). "
    "Name the outcome that benefits the person scored."
)


def oof_output(result: SearchResult, model: Any, split: Split) -> np.ndarray | None:
    """Delivered probabilities out of fold over train + valid (cv mode), else ``None``.

    A holdout search scores only the validation rows (its array is NaN elsewhere), so it
    gives no out-of-fold evidence over train + valid.
    """
    oof = result.best.oof_output
    if oof is None or len(oof) != len(split.train) + len(split.valid):
        return None
    if not np.isfinite(np.asarray(oof, dtype=np.float64)).all():
        return None
    return calibrate_output(model, np.asarray(oof, dtype=np.float64))


def _group_evidence(
    report: dict[str, Any],
    spec: ProjectSpec,
    dataset: Dataset,
    split: Split,
    groups: tuple[np.ndarray, np.ndarray | None],
    outputs: tuple[np.ndarray, np.ndarray | None],
    cut: float,
    favourable: int,
) -> None:
    """Add per-group calibration, the threshold trade-off and out-of-fold group rates."""
    (test_groups, oof_groups), (p_test, oof) = groups, outputs
    y_test = dataset.y[split.test]
    report["calibration_by_group"] = calibration_by_group(y_test, p_test, test_groups)
    report["tradeoff"] = threshold_tradeoff(
        y_test, p_test, test_groups, favourable=favourable, delivered=cut,
        keep=report["groups_in_gaps"],
    )  # fmt: skip
    if oof is None or oof_groups is None:
        report["out_of_fold"] = None
        return
    oof_report = fairness_report(
        dataset.y[np.concatenate([split.train, split.valid])],
        oof,
        oof_groups,
        task="binary",
        metric=spec.problem.primary_metric,
        threshold=cut,
        min_group_size=spec.evaluation.min_group_size,
        n_resamples=spec.evaluation.bootstrap,
        seed=spec.split.seed,
        favourable=favourable,
        min_class_size=spec.evaluation.min_group_class_size,
    )
    oof_report["basis"] = _OOF_BASIS
    report["out_of_fold"] = oof_report


def _groups(dataset: Dataset, column: str, rows: np.ndarray) -> np.ndarray:
    """Group labels of ``rows``; ``a & b`` columns are intersections of two protected ones."""
    if INTERSECTION not in column:
        return group_labels(dataset.frame[column].iloc[rows])
    left, right = column.split(INTERSECTION)
    a = group_labels(dataset.frame[left].iloc[rows])
    b = group_labels(dataset.frame[right].iloc[rows])
    return np.asarray([f"{x}{INTERSECTION}{z}" for x, z in zip(a, b, strict=True)], dtype=object)


def fairness_phase(
    spec: ProjectSpec,
    dataset: Dataset,
    split: Split,
    model: Any,
    y_test: np.ndarray,
    test_out: np.ndarray,
    threshold: float | None,
    metric: str,
    oof: np.ndarray | None = None,
) -> dict[str, Any]:
    """Group rates, gaps and (binary) group evidence for every protected column.

    ``oof`` holds the delivered probabilities out of fold over train + valid (see
    :func:`oof_output`); without it the out-of-fold rates are ``None``.
    """
    cfg = spec.evaluation
    cut = threshold if threshold is not None else 0.5
    fit_rows = np.concatenate([split.train, split.valid])
    favourable = _favourable_code(dataset.target, spec.problem.favourable_label)
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "protected": list(spec.fairness.protected),
        "used_as_features": spec.fairness.use_as_features,
        "min_group_size": cfg.min_group_size,
        "min_group_class_size": cfg.min_group_class_size,
        "threshold": threshold,
        "favourable_label": _favourable_label(dataset, favourable),
        "metric": metric,
        "attributes": {},
    }
    protected = list(spec.fairness.protected)
    if len(protected) >= 2:
        protected.append(
            f"{protected[0]}{INTERSECTION}{protected[1]}"
        )  # intersections, small-n rule
    for column in protected:
        groups = _groups(dataset, column, split.test)
        report = fairness_report(
            y_test,
            test_out,
            groups,
            task=spec.problem.task,
            metric=metric,
            threshold=cut,
            min_group_size=cfg.min_group_size,
            n_resamples=cfg.bootstrap,
            seed=spec.split.seed,
            favourable=favourable,
            min_class_size=cfg.min_group_class_size,
        )
        if spec.fairness.mitigate and spec.problem.task == "binary" and INTERSECTION not in column:
            report["mitigation"] = _mitigate(spec, dataset, split, model, column, threshold)
        if spec.problem.task == "binary":
            oof_groups = None if oof is None else _groups(dataset, column, fit_rows)
            _group_evidence(
                report, spec, dataset, split, (groups, oof_groups), (test_out[:, 1], oof),
                cut, favourable,
            )  # fmt: skip
        out["attributes"][column] = report
    return out


def _favourable_code(encoding: Any, label: Any) -> int:
    """Return the encoded favourable class: ``label``'s, else the negative class (0)."""
    if encoding.task != "binary" or label is None:
        return 0
    for code, cls in enumerate(encoding.classes):
        if str(cls) == str(label) or str(cls).lower() == str(label).lower():
            return code
    shown = ", ".join(map(str, encoding.classes))
    raise DataError(_MSG_FAVOURABLE.format(label=label, shown=shown))


def _favourable_label(dataset: Dataset, code: int) -> Any:
    classes = dataset.target.classes
    return str(classes[code]) if dataset.target.task == "binary" else None


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


def worst_gaps(fairness: dict[str, Any]) -> dict[str, Estimate]:
    """Return the worst value of each parity gap over the protected attributes."""
    out: dict[str, Estimate] = {}
    for report in fairness["attributes"].values():
        for name, interval in report.get("gaps", {}).items():
            if interval.get("estimate") is None:
                continue
            sign = -1.0 if name.endswith("ratio") else 1.0  # a low ratio, a high difference
            worst = out.get(name)
            if worst is None or sign * interval["estimate"] > sign * (worst.estimate or 0.0):
                out[name] = Estimate(**{k: interval[k] for k in Estimate.model_fields})
    return out
