"""The evaluation's typed result, and the saved test predictions it is computed from.

One model, one number: the evaluation first writes the delivered model's test
predictions (``evaluation/test_predictions.parquet``), then computes every test figure
from that table with :func:`figures_from_predictions`. ``crispml verify`` recomputes the
figures the documents print with the same function, so a document cannot show a number
the delivered model does not produce.

Figures and their basis:

- probability metrics (ROC AUC, log loss, Brier) on the delivered (calibrated)
  probabilities;
- decision metrics (accuracy, F1; binary) on the decisions at the delivered threshold,
  named in :attr:`EvaluationResult.threshold`; the same metrics at 0.5 are kept apart in
  :attr:`EvaluationResult.test_at_0_5`;
- multiclass decisions are the most probable class; regression metrics use the values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from crispml._utils._result import PhaseResult
from crispml.evaluate._bootstrap import Interval, bootstrap_metric
from crispml.spec import METRICS_BY_TASK

if TYPE_CHECKING:
    from crispml.data import TargetEncoding

PREDICTIONS_FILE = "evaluation/test_predictions.parquet"
VS_BASELINE = "_vs_baseline"
"""Suffix of the measured figure a ``beats_baseline`` criterion is decided on."""
DECISION_METRICS = frozenset({"accuracy", "f1", "macro_f1"})
Basis = Literal["probabilities", "decisions", "decisions_at_0_5", "values"]


class Estimate(BaseModel):
    """A figure with its 95% percentile bootstrap interval (``None`` where undefined)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    estimate: float | None
    low: float | None
    high: float | None
    level: float
    n: int

    @classmethod
    def from_interval(cls, interval: Interval) -> Estimate:
        """Convert a bootstrap :class:`Interval` (NaN becomes ``None``)."""
        data = interval.to_dict()
        return cls(**data)


BASELINE_RULE = (
    "improvement = the primary metric of the delivered model minus that of the best "
    "baseline (chosen on validation), signed so that positive is better; 95% paired "
    "bootstrap interval (both scored on the same resampled test rows)"
)


class BaselineComparison(BaseModel):
    """How much the delivered model beats the best baseline on the test set.

    Attributes
    ----------
    baseline : str
        The baseline chosen on validation (the floor: dummy, linear or shallow tree).
    metric : str
        The primary metric.
    baseline_estimate : float or None
        The baseline's test figure.
    improvement : Estimate
        Delivered minus baseline, positive when the delivered model is better, with the
        95% paired bootstrap interval.
    rule : str
        How the improvement is computed, in words.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    baseline: str
    metric: str
    baseline_estimate: float | None
    improvement: Estimate
    rule: str = BASELINE_RULE


class FinalRefit(BaseModel):
    """The delivered model was fitted once more after the evaluation (``refit: all_rows``).

    Every test figure of the result is for the model *before* this refit: the refit saw
    the test rows, so no figure can be measured on it without leaking them.

    Attributes
    ----------
    n_rows : int
        Rows the delivered model is fitted on (train + valid + test).
    n_test_rows : int
        Test rows among them.
    replaced : str
        What the refit replaces, in words: the model refitted on train + valid (holdout),
        or the bagged fold models (cv), each member being fitted once on every row.
    calibration : str
        How the calibration map and decision threshold were carried over, in words.

    .. versionadded:: 0.3
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    n_rows: int
    n_test_rows: int
    replaced: str
    calibration: str


class Decisions(BaseModel):
    """Confusion counts and rates of binary decisions at one threshold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    threshold: float
    tn: int
    fp: int
    fn: int
    tp: int
    precision: float | None
    recall: float | None
    f1: float | None
    accuracy: float | None
    selection_rate: float | None
    mean_cost: float | None = None


class EvaluationResult(PhaseResult):
    """What the evaluation measured on the locked test set, for the delivered model.

    Attributes
    ----------
    task, primary_metric : str
        From the spec.
    selected_model : str
        The candidate chosen on validation (the delivered model's base).
    model : str
        What was delivered, e.g. ``"selected pipeline + isotonic calibration"``.
    calibration : str or None
        The calibration map kept on validation.
    temperature : float or None
        The temperature of the kept map when it is temperature scaling (fitted on the
        validation rows' held-out probabilities).

        .. versionadded:: 0.3
    threshold : float or None
        The delivered decision threshold (binary), chosen on validation.
    threshold_objective : str or None
        What the threshold optimises (f1, cost, precision_at).
    n_test, n_resamples, seed : int
        Test rows and bootstrap settings of every interval.
    test : dict of str to Estimate
        Every metric of the task for the delivered model (basis in ``basis``).
    basis : dict of str to str
        For each entry of ``test``: probabilities, decisions (at ``threshold``) or values.
    test_at_0_5 : dict of str to Estimate
        Binary decision metrics at the conventional 0.5 cut-off, for comparison only.
    decisions, decisions_at_0_5 : Decisions or None
        Confusion counts at the delivered threshold and at 0.5 (binary).
    ece : Estimate or None
        Expected calibration error of the delivered probabilities.
    fairness_gaps : dict of str to Estimate
        The worst value of each parity gap over the protected attributes (the adverse
        impact ratio is on the favourable outcome).
    fairness_underpowered : list of str
        Groups with too few positives or negatives on test to decide a fairness
        criterion (criteria on the gaps are then inconclusive).
    valid : dict of str to float
        The selected candidate's validation score (the basis of the selection).
    conformal_nominal, conformal_test : float or None
        Nominal and observed coverage of the conformal sets or intervals.
    vs_baseline : BaselineComparison or None
        The primary metric's improvement over the best baseline (paired interval).

        .. versionadded:: 0.3
    final_refit : FinalRefit or None
        Set when the delivered model was refitted on every row after the evaluation;
        the figures above are then for the model before that refit.

        .. versionadded:: 0.3
    candidates_on_test : int
        How many leaderboard candidates were also scored on test, as diagnostics
        (selection used validation only).
    predictions : str
        The saved predictions every figure is computed from.
    """

    FILE = "evaluation/evaluation.json"

    task: str
    primary_metric: str
    selected_model: str
    model: str
    calibration: str | None
    threshold: float | None
    threshold_objective: str | None
    n_test: int
    n_resamples: int
    seed: int
    test: dict[str, Estimate]
    basis: dict[str, Basis]
    test_at_0_5: dict[str, Estimate]
    decisions: Decisions | None
    decisions_at_0_5: Decisions | None
    ece: Estimate | None
    fairness_gaps: dict[str, Estimate]
    fairness_underpowered: list[str]
    valid: dict[str, float | None]
    conformal_nominal: float | None
    conformal_test: float | None
    candidates_on_test: int
    predictions: str = PREDICTIONS_FILE
    vs_baseline: BaselineComparison | None = None
    final_refit: FinalRefit | None = None
    temperature: float | None = None

    def measured(self) -> dict[str, Estimate]:
        """Every figure a success criterion may name: test metrics, ``ece``, parity gaps.

        With a baseline, also ``<metric>_vs_baseline``: the improvement of the primary
        metric over the best baseline (what ``beats_baseline`` is decided on).
        """
        out = dict(self.test)
        if self.ece is not None:
            out["ece"] = self.ece
        out.update(self.fairness_gaps)
        if self.vs_baseline is not None:
            out[f"{self.vs_baseline.metric}{VS_BASELINE}"] = self.vs_baseline.improvement
        return out


def predictions_frame(
    ids: list[str],
    y: np.ndarray,
    output: np.ndarray,
    *,
    encoding: TargetEncoding,
    threshold: float | None,
) -> pd.DataFrame:
    """Build the test-predictions table of the delivered model.

    Parameters
    ----------
    ids : list of str
        Row ids of the locked test set.
    y : numpy.ndarray
        Encoded true target.
    output : numpy.ndarray
        Delivered probabilities (n, k) or regression values.
    encoding : TargetEncoding
        Task and classes (decoded labels are written beside the codes).
    threshold : float or None
        Binary decision threshold.

    Returns
    -------
    pandas.DataFrame
        ``row_id``, ``y_true`` and, by task: ``probability`` (binary, positive class)
        or ``p_<code>`` per class (multiclass), ``decision`` and the decoded
        ``label_true`` / ``label_decision``; ``prediction`` for regression.
    """
    frame = pd.DataFrame({"row_id": [str(i) for i in ids]})
    if encoding.task == "regression":
        frame["y_true"] = np.asarray(y, dtype=np.float64)
        frame["prediction"] = np.asarray(output, dtype=np.float64)
        return frame
    y = np.asarray(y, dtype=np.int64)
    frame["y_true"] = y
    if encoding.task == "binary":
        frame["probability"] = output[:, 1]
        cut = 0.5 if threshold is None else threshold
        decision = (output[:, 1] >= cut).astype(np.int64)
    else:
        for k in range(output.shape[1]):
            frame[f"p_{k}"] = output[:, k]
        decision = output.argmax(axis=1).astype(np.int64)
    frame["decision"] = decision
    frame["label_true"] = [str(v) for v in encoding.decode(y)]
    frame["label_decision"] = [str(v) for v in encoding.decode(decision)]
    return frame


def output_of(frame: pd.DataFrame, task: str, basis: Basis = "probabilities") -> np.ndarray:
    """Rebuild the model output a metric reads from the predictions table.

    Parameters
    ----------
    frame : pandas.DataFrame
        The predictions table (see :func:`predictions_frame`).
    task : str
        binary, multiclass or regression.
    basis : str, default="probabilities"
        ``decisions`` turns the saved decisions into hard probabilities (0 or 1), so
        accuracy and F1 of :data:`crispml.evaluate.METRICS` score the decisions at the
        delivered threshold; ``decisions_at_0_5`` does the same at 0.5.

    Returns
    -------
    numpy.ndarray
        Probabilities (n, k) or regression values.
    """
    if task == "regression":
        return np.asarray(frame["prediction"], dtype=np.float64)
    if task == "binary":
        p1 = np.asarray(frame["probability"], dtype=np.float64)
        if basis == "decisions":
            p1 = np.asarray(frame["decision"], dtype=np.float64)
        elif basis == "decisions_at_0_5":
            p1 = (p1 >= 0.5).astype(np.float64)
        return np.column_stack([1.0 - p1, p1])
    columns = sorted((c for c in frame.columns if c.startswith("p_")), key=lambda c: int(c[2:]))
    return np.asarray(frame[columns], dtype=np.float64)


def basis_of(task: str, metric: str) -> Basis:
    """Return what a metric of ``task`` is computed on (see the module's docstring)."""
    if task == "regression":
        return "values"
    if task == "binary" and metric in DECISION_METRICS:
        return "decisions"
    return "probabilities"


def figures_from_predictions(
    frame: pd.DataFrame, task: str, *, n_resamples: int, seed: int
) -> tuple[dict[str, Estimate], dict[str, Basis], dict[str, Estimate]]:
    """Compute every test metric of ``task``, with intervals, from the predictions table.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`predictions_frame` (or read back from the parquet file).
    task : str
        binary, multiclass or regression.
    n_resamples, seed : int
        Bootstrap settings (the same seed gives the same resamples for every metric).

    Returns
    -------
    tuple
        ``(test, basis, test_at_0_5)`` as in :class:`EvaluationResult`.
    """
    y = np.asarray(frame["y_true"])
    test: dict[str, Estimate] = {}
    basis: dict[str, Basis] = {}
    for name in METRICS_BY_TASK[task]:
        basis[name] = basis_of(task, name)
        out = output_of(frame, task, basis[name])
        interval = bootstrap_metric(name, y, out, n_resamples=n_resamples, seed=seed)
        test[name] = Estimate.from_interval(interval)
    at_half: dict[str, Estimate] = {}
    if task == "binary":
        out = output_of(frame, task, "decisions_at_0_5")
        for name in sorted(DECISION_METRICS & set(METRICS_BY_TASK[task])):
            interval = bootstrap_metric(name, y, out, n_resamples=n_resamples, seed=seed)
            at_half[name] = Estimate.from_interval(interval)
    return test, basis, at_half
