"""Less discriminatory alternatives: the accuracy-disparity Pareto front of the candidates.

Each point is one model as it would be delivered (its probabilities, its decision
threshold) measured on held-out rows that are not the test set: the primary metric and
the parity gaps of the spec's fairness criteria (always the adverse impact ratio on the
favourable outcome and the equalized odds difference), each with a 95% bootstrap
interval, the worst over the protected columns. The named alternative is the candidate
whose primary metric stays within the delivered model's interval and that lowers the
lead disparity most; it is chosen from these held-out rows only.

The computation here takes arrays; :mod:`crispml.evaluate._alternatives_phase` feeds it
the search's candidates and writes :class:`AlternativesResult`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from crispml._metrics import METRICS
from crispml._utils._result import PhaseResult
from crispml.evaluate._bootstrap import bootstrap_metric
from crispml.evaluate._fairness import fairness_report
from crispml.evaluate._result import Estimate

ALTERNATIVES_FILE = "evaluation/alternatives.json"
OUTPUTS_FILE = "evaluation/alternatives_outputs.parquet"
"""Every compared model's probabilities on the held-out rows (and the two on test)."""
RATIOS = frozenset({"adverse_impact_ratio", "demographic_parity_ratio"})
"""Parity figures where higher is fairer (a ratio of rates); the others are differences."""
BASE_MEASURES = ("adverse_impact_ratio", "equalized_odds_difference")
"""Disparity measures every comparison shows, besides the spec's fairness criteria."""
PointKind = Literal["delivered", "candidate", "mitigated"]


class AlternativePoint(BaseModel):
    """One model on the accuracy-disparity plane (held-out rows, never the test set).

    Attributes
    ----------
    name, family : str
        Leaderboard name and family (``mitigated`` points name their method).
    kind : {"delivered", "candidate", "mitigated"}
        The delivered model, another search candidate, or a fairness-aware mitigation.
    valid_score : float or None
        The search's validation score (the basis of the selection).
    threshold : float or None
        Its decision threshold (``None`` for a mitigation that decides by itself).
    primary : Estimate
        Primary metric with its interval.
    disparity : dict of str to Estimate
        Each measure (worst over the protected columns) with its interval.
    within_ci : bool
        Whether the primary metric is no worse than the delivered model's interval bound.
    pareto : bool
        Whether no other point is at least as good on both the primary metric and the
        lead disparity, and better on one.
    note : str or None
        What is special about it (e.g. how a mitigation would have to be deployed).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    family: str
    kind: PointKind
    valid_score: float | None
    threshold: float | None
    primary: Estimate
    disparity: dict[str, Estimate]
    within_ci: bool = False
    pareto: bool = False
    note: str | None = None


class AlternativeTest(BaseModel):
    """A secondary, diagnostic figure on the locked test set (after the choice was made)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    threshold: float | None
    primary: Estimate
    disparity: dict[str, Estimate]


class AlternativesResult(PhaseResult):
    """The Pareto front of accuracy and disparity, and the less discriminatory alternative.

    Attributes
    ----------
    primary_metric : str
        The spec's primary metric (higher or lower is better as the metric says).
    measures : list of str
        Disparity measures compared (parity gaps, worst over ``protected``).
    lead_measure : str
        The measure the front and the choice use: the first fairness criterion of the
        spec, else the adverse impact ratio.
    protected : list of str
        Protected columns the gaps are computed over.
    basis : str
        Which rows the points were measured on (never the test set).
    n_rows : int
        How many.
    delivered : str
        Name of the delivered model's point.
    points : list of AlternativePoint
        Every compared model, delivered first.
    alternative : str or None
        The less discriminatory alternative, or ``None`` when no candidate within the
        delivered model's interval lowers the lead disparity.
    conclusion : str
        One sentence saying what was found.
    test : list of AlternativeTest
        The delivered model and the alternative on the test set, computed after the
        choice: a labelled diagnostic, never a basis of it.
    test_note : str or None
        Why the alternative has no test figure, when it has none.
    favourable, min_group_size, min_class_size, n_resamples, seed : int
        How every figure was measured (see :class:`Setting`), so that
        :func:`recompute` gives the same figures from ``outputs``.
    others_resamples : int or None
        Bootstrap resamples of the held-out points other than the delivered model's
        (``None``: ``n_resamples``, as results written before it measured them).

        .. versionadded:: 0.3
    outputs : str
        The saved table of every compared model's probabilities (``part`` is
        ``held_out`` or ``test``; ``y_true``; ``group:<column>``; ``p:<model>``).
    """

    FILE = ALTERNATIVES_FILE

    primary_metric: str
    measures: list[str]
    lead_measure: str
    protected: list[str]
    basis: str
    n_rows: int
    delivered: str
    points: list[AlternativePoint]
    alternative: str | None
    conclusion: str
    test: list[AlternativeTest]
    test_note: str | None = None
    favourable: int
    min_group_size: int
    min_class_size: int
    n_resamples: int
    seed: int
    outputs: str = OUTPUTS_FILE
    others_resamples: int | None = None

    def point(self, name: str) -> AlternativePoint:
        """Return the point named ``name``."""
        return next(p for p in self.points if p.name == name)

    def setting(self, *, other: bool = False) -> Setting:
        """How the figures were measured (``other``: a held-out point not delivered)."""
        resamples = self.n_resamples
        if other and self.others_resamples is not None:
            resamples = self.others_resamples
        return Setting(
            metric=self.primary_metric, measures=tuple(self.measures),
            favourable=self.favourable, min_group_size=self.min_group_size,
            min_class_size=self.min_class_size, n_resamples=resamples, seed=self.seed,
        )  # fmt: skip


@dataclass(frozen=True)
class Scored:
    """One model's held-out output, ready to be measured.

    Attributes
    ----------
    name, family, kind : str
        As in :class:`AlternativePoint`.
    output : numpy.ndarray
        Probabilities (n, 2) on the basis rows (hard decisions as one-hot for a
        mitigation).
    threshold : float
        Decision threshold applied to ``output[:, 1]``.
    valid_score : float or None
        The search's validation score.
    note : str or None
        Carried to the point.
    """

    name: str
    family: str
    kind: PointKind
    output: np.ndarray
    threshold: float
    valid_score: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class Setting:
    """How the points are measured (shared by every point, so they compare)."""

    metric: str
    measures: tuple[str, ...]
    favourable: int = 0
    min_group_size: int = 30
    min_class_size: int = 10
    n_resamples: int = 1000
    seed: int = 0


def measures_for(criteria: Sequence[str]) -> tuple[str, ...]:
    """Disparity measures to compare: the criteria's first (the lead), then the base ones.

    Examples
    --------
    >>> measures_for(["equalized_odds_difference"])
    ('equalized_odds_difference', 'adverse_impact_ratio')
    >>> measures_for([])
    ('adverse_impact_ratio', 'equalized_odds_difference')
    """
    return tuple(dict.fromkeys([*criteria, *BASE_MEASURES]))


def disparity_value(measure: str, value: float | None) -> float:
    """Turn a parity figure into a disparity (lower is fairer; NaN when undefined).

    Examples
    --------
    >>> disparity_value("adverse_impact_ratio", 0.75)
    0.25
    >>> disparity_value("equalized_odds_difference", 0.2)
    0.2
    """
    if value is None or not math.isfinite(value):
        return math.nan
    return 1.0 - value if measure in RATIOS else value


def measure(
    scored: Scored, y: np.ndarray, groups: Mapping[str, np.ndarray], setting: Setting
) -> AlternativePoint:
    """Measure one model: primary metric and the worst of each parity gap, with intervals.

    Parameters
    ----------
    scored : Scored
        The model's output on the basis rows.
    y : numpy.ndarray
        Encoded target of the basis rows.
    groups : mapping of str to numpy.ndarray
        Protected column -> group label of each basis row.
    setting : Setting
        Metric, measures and bootstrap settings.

    Returns
    -------
    AlternativePoint
        With ``within_ci`` and ``pareto`` still unset (see :func:`compare`).
    """
    primary = bootstrap_metric(
        setting.metric, y, scored.output, n_resamples=setting.n_resamples, seed=setting.seed
    )
    worst: dict[str, Estimate] = {}
    for labels in groups.values():
        report = fairness_report(
            y, scored.output, labels, task="binary", metric=setting.metric,
            threshold=scored.threshold, min_group_size=setting.min_group_size,
            n_resamples=setting.n_resamples, seed=setting.seed,
            favourable=setting.favourable, min_class_size=setting.min_class_size,
            group_metric=False,
        )  # fmt: skip
        for name in setting.measures:
            gap = report["gaps"].get(name)
            if gap is None or gap.get("estimate") is None:
                continue
            seen = worst.get(name)
            if seen is None or disparity_value(name, gap["estimate"]) > disparity_value(
                name, seen.estimate
            ):
                worst[name] = Estimate(**{k: gap[k] for k in Estimate.model_fields})
    return AlternativePoint(
        name=scored.name, family=scored.family, kind=scored.kind,
        valid_score=scored.valid_score, threshold=_threshold_of(scored),
        primary=Estimate.from_interval(primary), disparity=worst, note=scored.note,
    )  # fmt: skip


def _threshold_of(scored: Scored) -> float | None:
    return None if scored.kind == "mitigated" else float(scored.threshold)


def compare(
    points: Sequence[AlternativePoint], *, metric: str, lead: str
) -> tuple[list[AlternativePoint], str | None]:
    """Mark the Pareto front and the within-interval points; name the alternative.

    The first point is the delivered model. The alternative is a search candidate (not a
    mitigation: those need the protected attribute or a retrained model) whose primary
    metric is no worse than the delivered model's interval bound and whose ``lead``
    disparity is lowest, and lower than the delivered model's; ties go to the better
    primary metric.

    Parameters
    ----------
    points : sequence of AlternativePoint
        Measured points, delivered first.
    metric : str
        The primary metric (its direction decides "better").
    lead : str
        The disparity measure of the front and the choice.

    Returns
    -------
    tuple
        The points with ``within_ci`` and ``pareto`` set, and the alternative's name or
        ``None``.
    """
    sign = 1.0 if METRICS[metric].greater_is_better else -1.0
    delivered = points[0]
    bound = delivered.primary.low if sign > 0 else delivered.primary.high
    if bound is None:
        bound = delivered.primary.estimate
    axes = [_axes(p, sign, lead) for p in points]
    marked = []
    for p, (quality, disparity) in zip(points, axes, strict=True):
        within = bound is not None and sign * quality >= sign * bound - 1e-12
        front = _non_dominated((quality * sign, disparity), [(q * sign, d) for q, d in axes])
        marked.append(p.model_copy(update={"within_ci": within, "pareto": front}))
    own = axes[0][1]
    eligible = [
        (d, -sign * q, i)
        for i, (p, (q, d)) in enumerate(zip(marked, axes, strict=True))
        if i > 0 and p.kind == "candidate" and p.within_ci and d < own - 1e-12
    ]
    if not eligible or not math.isfinite(own):
        return marked, None
    return marked, marked[min(eligible)[2]].name


def _axes(point: AlternativePoint, sign: float, lead: str) -> tuple[float, float]:
    quality = point.primary.estimate
    gap = point.disparity.get(lead)
    return (
        math.nan if quality is None else float(quality),
        disparity_value(lead, None if gap is None else gap.estimate),
    )


def _non_dominated(point: tuple[float, float], others: list[tuple[float, float]]) -> bool:
    """Whether ``point`` (higher first axis, lower second) is dominated by none of ``others``."""
    good, bad = point
    if not (math.isfinite(good) and math.isfinite(bad)):
        return False
    return not any(g >= good and b <= bad and (g > good or b < bad) for g, b in others)


def outputs_table(
    y: np.ndarray,
    groups: Mapping[str, np.ndarray],
    outputs: Mapping[str, np.ndarray],
    *,
    part: str,
) -> pd.DataFrame:
    """One part of the saved table: labels, groups and each model's positive probability."""
    frame = pd.DataFrame({"part": part, "y_true": np.asarray(y, dtype=np.int64)})
    for column, labels in groups.items():
        frame[f"group:{column}"] = np.asarray(labels, dtype=str)
    for name, output in outputs.items():
        frame[f"p:{name}"] = np.asarray(output, dtype=np.float64)[:, 1]
    return frame


def recompute(result: AlternativesResult, table: pd.DataFrame) -> AlternativesResult:
    """Measure every point and test figure again from the saved table (``crispml verify``).

    Parameters
    ----------
    result : AlternativesResult
        The saved result (its names, kinds, thresholds and settings are reused).
    table : pandas.DataFrame
        ``evaluation/alternatives_outputs.parquet``.

    Returns
    -------
    AlternativesResult
        The result with every figure, the front and the alternative recomputed.
    """
    setting, other = result.setting(), result.setting(other=True)
    fresh = []
    for part, items in (("held_out", result.points), ("test", result.test)):
        rows = table[table["part"] == part]
        y = rows["y_true"].to_numpy(dtype=np.int64)
        groups = {c: rows[f"group:{c}"].to_numpy(dtype=object) for c in result.protected}
        measured = []
        for item in items:
            p1 = rows[f"p:{item.name}"].to_numpy(dtype=np.float64)
            cut = item.threshold if item.threshold is not None else 0.5
            kind: PointKind = item.kind if isinstance(item, AlternativePoint) else "candidate"
            scored = Scored(item.name, "", kind, np.column_stack([1.0 - p1, p1]), cut)
            quick = part == "held_out" and kind != "delivered"
            measured.append(measure(scored, y, groups, other if quick else setting))
        fresh.append(measured)
    points = [
        p.model_copy(update={"primary": m.primary, "disparity": m.disparity})
        for p, m in zip(result.points, fresh[0], strict=True)
    ]
    points, name = compare(points, metric=result.primary_metric, lead=result.lead_measure)
    test = [
        t.model_copy(update={"primary": m.primary, "disparity": m.disparity})
        for t, m in zip(result.test, fresh[1], strict=True)
    ]
    return result.model_copy(update={"points": points, "alternative": name, "test": test})
