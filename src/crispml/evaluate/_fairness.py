"""Fairness per protected group, with fairlearn: MetricFrame, parity gaps, mitigation.

Point estimates come from fairlearn (``MetricFrame``, ``demographic_parity_difference``,
``equalized_odds_difference``...). The confidence intervals use crispml's vectorised
bootstrap instead of ``MetricFrame(n_boot=...)``: the latter recomputes a pandas group-by
per resample (seconds for 1,000 resamples) and gives no interval for the between-group
gaps, which need the same resample applied to every group at once.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from crispml.data import MISSING_LEVEL
from crispml.evaluate._bootstrap import (
    bootstrap_draws,
    bootstrap_metric,
    percentile_interval,
)

logger = logging.getLogger(__name__)
SCHEMA_VERSION = 1
MAX_LEVELS = 20
"""A protected column with more levels than this is cut into quartiles."""


def group_labels(values: pd.Series) -> np.ndarray:
    """Protected attribute values as group labels (strings; numeric with many levels binned).

    Parameters
    ----------
    values : pandas.Series
        Raw values of the protected column.

    Returns
    -------
    numpy.ndarray
        Object array of strings; missing values become ``MISSING_LEVEL``; a numeric column
        with more than ``MAX_LEVELS`` levels is cut into quartiles.

    Examples
    --------
    >>> group_labels(pd.Series([1, None, 0])).tolist()
    ['1.0', '__missing__', '0.0']
    """
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > MAX_LEVELS:
        values = pd.qcut(values, 4, duplicates="drop").astype(str)
    text = values.astype(object).where(values.notna(), MISSING_LEVEL)
    return np.asarray([str(v) for v in text], dtype=object)


def _group_rates(
    pred: np.ndarray, rows: np.ndarray, w: np.ndarray
) -> np.ndarray:  # weighted mean of pred over ``rows`` per resample
    sub = w[:, rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(
            (sub @ pred[rows].astype(np.float64)) / sub.sum(axis=1), dtype=np.float64
        )


def fairness_report(
    y: np.ndarray,
    output: np.ndarray,
    groups: np.ndarray,
    *,
    task: str,
    metric: str,
    threshold: float = 0.5,
    min_group_size: int = 30,
    n_resamples: int = 1000,
    seed: int = 0,
    favourable: int = 0,
    min_class_size: int = 10,
    group_metric: bool = True,
) -> dict[str, Any]:
    """Per-group metrics with bootstrap intervals and the parity gaps, for one attribute.

    Parameters
    ----------
    y : numpy.ndarray
        Encoded target.
    output : numpy.ndarray
        Probabilities (n, k) or regression values of the final model.
    groups : numpy.ndarray
        Group label of each row (see :func:`group_labels`).
    task : str
        binary, multiclass or regression.
    metric : str
        Primary metric, reported per group.
    threshold : float, default=0.5
        Decision threshold (binary) that turns probabilities into decisions.
    min_group_size : int, default=30
        Groups with fewer rows get a warning: their numbers are too noisy to act on.
    n_resamples : int, default=1000
        Bootstrap resamples.
    seed : int, default=0
        Seed of the resampling.
    favourable : int, default=0
        Encoded class of the favourable outcome (binary): the adverse impact ratio is the
        lowest group rate of favourable decisions over the highest.
    min_class_size : int, default=10
        Fewest positives and negatives each group in the gaps needs; groups below it
        are listed in ``underpowered`` (criteria on the gaps are then inconclusive).
    group_metric : bool, default=True
        Whether to give each group an interval of ``metric`` (the costliest part: a
        bootstrap of the metric per group). The fairness alternatives compare the gaps
        only and leave it out.

        .. versionadded:: 0.3

    Returns
    -------
    dict
        ``by_group`` (per group: ``count``, ``positives``, ``negatives`` and metrics,
        each ``{estimate, low, high}``), ``gaps`` (binary: adverse impact ratio,
        demographic parity difference / ratio, equalized odds difference, each with an
        interval), ``favourable``, ``underpowered``, ``warnings``.
    """
    y = np.asarray(y)
    groups = np.asarray(groups, dtype=object)
    levels = sorted(set(groups.tolist()))
    rows = {g: np.flatnonzero(groups == g) for g in levels}
    by_group: dict[str, dict[str, Any]] = {
        g: {
            "count": len(r),
            "positives": int((y[r] == 1).sum()),
            "negatives": int((y[r] != 1).sum()),
        }
        for g, r in rows.items()
    }
    for g, r in rows.items() if group_metric else ():
        by_group[g][metric] = bootstrap_metric(
            metric, y[r], output[r], n_resamples=n_resamples, seed=seed
        ).to_dict()
    out: dict[str, Any] = {"by_group": by_group, "gaps": {}, "warnings": []}
    small = [g for g in levels if len(rows[g]) < min_group_size]
    for g in small:
        msg = (
            f"group {g!r} has {len(rows[g])} test rows (< {min_group_size}); "
            "its numbers are too noisy to act on and it is left out of the gaps"
        )
        out["warnings"].append(msg)
        logger.info(msg)
    out["groups_in_gaps"] = [g for g in levels if g not in small]
    if task == "binary":
        out["favourable"] = favourable
        out["underpowered"] = [
            f"group {g!r}: {by_group[g]['positives']} positives and "
            f"{by_group[g]['negatives']} negatives on test (< {min_class_size} of either)"
            for g in out["groups_in_gaps"]
            if min(by_group[g]["positives"], by_group[g]["negatives"]) < min_class_size
        ]
        _binary_groups(out, y, output, groups, rows, threshold, n_resamples, seed, set(small))
    return out


def group_rates(y: np.ndarray, pred: np.ndarray, groups: np.ndarray, *names: str) -> pd.DataFrame:
    """Per-group rates of binary decisions with fairlearn's ``MetricFrame``.

    Parameters
    ----------
    y, pred : numpy.ndarray
        Encoded target and 0/1 decisions.
    groups : numpy.ndarray
        Group label of each row.
    *names : str
        Any of ``selection_rate``, ``tpr``, ``fpr``, ``fnr``.

    Returns
    -------
    pandas.DataFrame
        One row per group, one column per name.
    """
    by_group: pd.DataFrame = _rate_frame(y, pred, groups, *names).by_group
    return by_group


def _rate_frame(y: np.ndarray, pred: np.ndarray, groups: np.ndarray, *names: str) -> Any:
    """Return the fairlearn ``MetricFrame`` of the named rates (see :func:`group_rates`)."""
    from fairlearn import metrics as flm

    known = {
        "selection_rate": flm.selection_rate,
        "tpr": flm.true_positive_rate,
        "fpr": flm.false_positive_rate,
        "fnr": flm.false_negative_rate,
    }
    return flm.MetricFrame(
        metrics={name: known[name] for name in names},
        y_true=y,
        y_pred=pred,
        sensitive_features=pd.Series(groups, name="group"),
    )


def _binary_groups(
    out: dict[str, Any],
    y: np.ndarray,
    output: np.ndarray,
    groups: np.ndarray,
    rows: dict[str, np.ndarray],
    threshold: float,
    n_resamples: int,
    seed: int,
    small: set[str],
) -> None:
    pred = (output[:, 1] >= threshold).astype(int)
    names = ("selection_rate", "tpr", "fpr")
    frame = _rate_frame(y, pred, groups, *names)
    by_group = frame.by_group
    subsets = {
        "selection_rate": dict(rows),
        "tpr": {g: r[y[r] == 1] for g, r in rows.items()},
        "fpr": {g: r[y[r] == 0] for g, r in rows.items()},
    }
    draws = _rate_draws(pred, subsets, len(y), n_resamples, seed)
    for name, parts in subsets.items():
        levels = list(parts)
        for i, g in enumerate(levels):
            est = float(by_group[name].loc[g])
            out["by_group"][g][name] = percentile_interval(
                est, draws[name][:, i], n=len(parts[g])
            ).to_dict()
    favourable = int(out["favourable"])
    for stats in out["by_group"].values():
        rate = stats["selection_rate"]
        stats["favourable_rate"] = rate if favourable == 1 else {**rate, **_complement(rate)}
    big = [i for i, g in enumerate(rows) if g not in small]
    keep = ~np.isin(groups, list(small))
    if len(big) >= 2:
        big_draws = {k: v[:, big] for k, v in draws.items()}
        kept = frame if not small else _rate_frame(y[keep], pred[keep], groups[keep], *names)
        out["gaps"] = _gaps(kept, int(keep.sum()), big_draws)
        fav = big_draws["selection_rate"] if favourable == 1 else 1.0 - big_draws["selection_rate"]
        rates = [
            out["by_group"][g]["favourable_rate"]["estimate"] for g in np.asarray(list(rows))[big]
        ]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio_draws = np.nanmin(fav, axis=1) / np.nanmax(fav, axis=1) if fav.size else fav
            estimate = min(rates) / max(rates) if max(rates) > 0 else np.nan
        out["gaps"]["adverse_impact_ratio"] = percentile_interval(
            estimate, ratio_draws, n=int(keep.sum())
        ).to_dict()


def _rate_draws(
    pred: np.ndarray,
    subsets: dict[str, dict[str, np.ndarray]],
    n: int,
    n_resamples: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """Bootstrap draws of every group's rates, all from one set of resamples.

    The resample weights are drawn once and every rate (selection rate, TPR, FPR) of
    every group is computed from them; drawing them again per rate cost three times as
    much for the same draws (same seed). Returns rate name -> draws (resamples, groups).
    """
    widths = [len(parts) for parts in subsets.values()]

    def stat(w: np.ndarray) -> np.ndarray:
        columns = [
            _group_rates(pred, rows, w) for parts in subsets.values() for rows in parts.values()
        ]
        return np.stack(columns, axis=1).ravel()

    flat = bootstrap_draws(stat, n, n_resamples=n_resamples, seed=seed)
    every = flat.reshape(-1, sum(widths)) if flat.size else np.empty((0, sum(widths)))
    edges = np.cumsum([0, *widths])
    return {name: every[:, a:b] for name, a, b in zip(subsets, edges[:-1], edges[1:], strict=True)}


def _complement(rate: dict[str, Any]) -> dict[str, Any]:
    """Return the interval of ``1 - rate`` (the bounds swap)."""
    return {
        k: None if rate.get(v) is None else 1.0 - rate[v]
        for k, v in (("estimate", "estimate"), ("low", "high"), ("high", "low"))
    }


def _gaps(frame: Any, n: int, draws: dict[str, np.ndarray]) -> dict[str, Any]:
    """Parity gaps between the groups of ``frame`` (a fairlearn ``MetricFrame``), with intervals.

    The estimates are fairlearn's between-groups difference and ratio of the frame's
    rates, as ``demographic_parity_difference``, ``demographic_parity_ratio`` and
    ``equalized_odds_difference`` (worst case of the TPR and FPR differences) compute
    them, from the one frame instead of a new one each.
    """
    difference = frame.difference(method="between_groups")
    ratio = frame.ratio(method="between_groups")
    with np.errstate(invalid="ignore", divide="ignore"):
        sel = draws["selection_rate"]
        dp_diff = np.nanmax(sel, axis=1) - np.nanmin(sel, axis=1) if sel.size else sel
        dp_ratio = np.nanmin(sel, axis=1) / np.nanmax(sel, axis=1) if sel.size else sel
        tpr_gap = _spread(draws["tpr"])
        fpr_gap = _spread(draws["fpr"])
        eo = np.fmax(tpr_gap, fpr_gap) if tpr_gap.size else tpr_gap
    worst_odds = max(float(difference["tpr"]), float(difference["fpr"]))
    return {
        "demographic_parity_difference": percentile_interval(
            float(difference["selection_rate"]), dp_diff, n=n
        ).to_dict(),
        "demographic_parity_ratio": percentile_interval(
            float(ratio["selection_rate"]), dp_ratio, n=n
        ).to_dict(),
        "equalized_odds_difference": percentile_interval(worst_odds, eo, n=n).to_dict(),
    }


def _spread(values: np.ndarray) -> np.ndarray:
    if not values.size:
        return np.empty(0)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.nanmax(values, axis=1) - np.nanmin(values, axis=1), dtype=np.float64)


def mitigation_report(
    method: str,
    model: Any,
    *,
    X_fit: pd.DataFrame,
    y_fit: np.ndarray,
    groups_fit: np.ndarray,
    X_test: pd.DataFrame,
    y_test: np.ndarray,
    groups_test: np.ndarray,
    threshold: float,
    min_group_size: int = 30,
    seed: int = 0,
) -> dict[str, Any]:
    """Mitigate with fairlearn and compare with the unmitigated model on test.

    ``threshold_optimizer`` post-processes the fitted model (fitted on validation rows:
    pass them as ``X_fit``); ``exponentiated_gradient`` retrains the model step of the
    pipeline on the preprocessed training rows (pass those as ``X_fit``). Both target
    demographic parity. Groups with fewer than ``min_group_size`` rows in ``X_fit`` are
    pooled into one group (their labels are often all one class, which the mitigators
    cannot handle); when the pool is still too small or has one class, its rows are
    treated as the largest group.

    Parameters
    ----------
    method : {"threshold_optimizer", "exponentiated_gradient"}
        The fairlearn mitigator.
    model : estimator
        The final model (pipeline or :class:`CalibratedModel`).
    X_fit, y_fit, groups_fit : frame, arrays
        Rows the mitigator is fitted on (see above) and their groups.
    X_test, y_test, groups_test : frame, arrays
        Test rows and their groups.
    threshold : float
        Decision threshold of the unmitigated model.
    min_group_size : int, default=30
        Groups smaller than this in the fitting rows are pooled.
    seed : int, default=0
        Random state of the randomised predictions.

    Returns
    -------
    dict
        ``method``, ``constraint``, ``unmitigated`` and ``mitigated`` (accuracy,
        selection rate per group, demographic parity and equalized odds differences),
        and ``deployment`` (what using it means).
    """
    groups_fit, groups_test = _pool_small(groups_fit, y_fit, groups_test, min_group_size)
    base_pred = (np.asarray(model.predict_proba(X_test))[:, 1] >= threshold).astype(int)
    if method == "threshold_optimizer":
        from fairlearn.postprocessing import ThresholdOptimizer

        mitigator = ThresholdOptimizer(
            estimator=model,
            constraints="demographic_parity",
            prefit=True,
            predict_method="predict_proba",
        )
        mitigator.fit(X_fit, y_fit, sensitive_features=groups_fit)
        mitigated = mitigator.predict(X_test, sensitive_features=groups_test, random_state=seed)
        note = (
            "ThresholdOptimizer needs the protected attribute at prediction time and "
            "randomises some decisions; it is reported, not deployed."
        )
    elif method == "exponentiated_gradient":
        mitigated = _exponentiated_gradient(model, X_fit, y_fit, groups_fit, X_test, seed)
        note = (
            "ExponentiatedGradient retrains the model as a randomised mixture of models; "
            "the protected attribute is not needed at prediction time. It is reported, "
            "not deployed: re-run the engagement with it to ship it."
        )
    else:
        raise ValueError(f"fairness.mitigate={method!r}")
    return {
        "method": method,
        "constraint": "demographic_parity",
        "unmitigated": _decision_summary(y_test, base_pred, groups_test),
        "mitigated": _decision_summary(y_test, np.asarray(mitigated).astype(int), groups_test),
        "deployment": note,
    }


SMALL_GROUPS = "small groups (pooled)"


def _pool_small(
    fit: np.ndarray, y_fit: np.ndarray, test: np.ndarray, min_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pool groups too small to fit; if the pool itself is unusable, join the largest group."""
    fit, test = np.asarray(fit, dtype=str), np.asarray(test, dtype=str)
    levels, counts = np.unique(fit, return_counts=True)
    pooled = set(levels[counts < min_size].tolist()) | (set(test.tolist()) - set(levels))
    in_pool = np.isin(fit, list(pooled))
    usable = in_pool.sum() >= min_size and len(np.unique(np.asarray(y_fit)[in_pool])) == 2
    target = SMALL_GROUPS if usable else str(levels[np.argmax(counts)])

    def pool(values: np.ndarray) -> np.ndarray:
        return np.asarray([target if v in pooled else v for v in values], dtype=object)

    return pool(fit), pool(test)


def _exponentiated_gradient(
    model: Any,
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    groups: np.ndarray,
    X_test: pd.DataFrame,
    seed: int,
) -> np.ndarray:
    from fairlearn.reductions import DemographicParity, ExponentiatedGradient
    from sklearn.base import clone

    pipeline = getattr(model, "base_", model)
    features, step = pipeline[:-1], clone(pipeline[-1])
    mitigator = ExponentiatedGradient(step, DemographicParity(), max_iter=20)
    mitigator.fit(features.transform(X_train), y_train, sensitive_features=groups)
    return np.asarray(mitigator.predict(features.transform(X_test), random_state=seed))


def _decision_summary(y: np.ndarray, pred: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    from fairlearn import metrics as flm

    rates = group_rates(y, pred, groups, "selection_rate")["selection_rate"]
    kw = {"sensitive_features": groups}
    return {
        "accuracy": float((pred == y).mean()),
        "selection_rate_by_group": {str(k): float(v) for k, v in rates.items()},
        "demographic_parity_difference": float(flm.demographic_parity_difference(y, pred, **kw)),
        "equalized_odds_difference": float(flm.equalized_odds_difference(y, pred, **kw)),
    }
