"""Deploying an anomaly detector through the same contract, ONNX, parity and serving path.

The whole pipeline (imputation, scaling, one-hot, detector) converts with skl2onnx:
its ``scores`` output is the detector's ``decision_function``; the graph negates it
into ``value``, the anomaly score, so the served score equals
:func:`crispml.models.anomaly_scores` and a row is flagged when it is above the
threshold (0: the contamination share of the training rows).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import onnx
import pandas as pd

from crispml.data import Schema, TargetEncoding
from crispml.deploy._bundle import ArtifactWriter
from crispml.deploy._parity import TOLERANCE
from crispml.deploy._result import DeploymentResult
from crispml.deploy._value import (
    compare_scores,
    export_value_graph,
    score_parity_report,
    ship_value_model,
)
from crispml.exceptions import DeploymentError
from crispml.models import FLAG_THRESHOLD, anomaly_scores
from crispml.serve import InputContract, ServingModel

logger = logging.getLogger(__name__)

_MSG_CONVERT = (
    "detector {what} could not be converted to ONNX ({error}). Use deployment.format: none "
    "to skip the export, or search.families: [isolation_forest, local_outlier_factor, "
    "one_class_svm]."
)
_MSG_PARITY = (
    "ONNX parity failed for the anomaly detector: {summary} (tolerance {tol:g}). "
    "Use deployment.format: none, or another detector."
)


def export_detector(pipeline: Any, contract: InputContract) -> onnx.ModelProto:
    """Convert a fitted detector pipeline to one graph: raw columns in, ``value`` out.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        Preprocessing then a detector with an skl2onnx converter.
    contract : InputContract
        The raw input columns.

    Returns
    -------
    onnx.ModelProto
        Output ``value`` (float, (n, 1)): the anomaly score.

    Raises
    ------
    DeploymentError
        If the detector has no converter.
    """
    return export_value_graph(
        pipeline, contract, op="Neg", name="crispml_anomaly", on_error=_MSG_CONVERT
    )


def anomaly_parity(
    pipeline: Any,
    served: ServingModel,
    test_frame: pd.DataFrame,
    schema: Schema,
    *,
    tolerance: float = TOLERANCE,
) -> dict[str, Any]:
    """Compare native and served anomaly scores and flags on the test rows; raise if apart.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        The fitted detector pipeline (conformed frame in).
    served : ServingModel
        The exported graph with its input contract.
    test_frame : pandas.DataFrame
        Raw rows of the locked test set.
    schema : Schema
        The crispml schema, for :func:`crispml.data.conform` on the native side.
    tolerance : float, default=1e-4
        Largest accepted absolute score difference.

    Returns
    -------
    dict
        The certificate written to ``deploy/parity.json`` (``max_abs_prob_diff`` holds
        the largest absolute score difference).

    Raises
    ------
    DeploymentError
        If a score differs by more than ``tolerance``, or a flag flips on a row whose
        score is not within ``tolerance`` of the threshold.
    """
    records, native, onnx_out = compare_scores(
        served, pipeline, test_frame, schema, anomaly_scores
    )
    diff = np.abs(native - onnx_out)
    cut = served.threshold or 0.0
    flipped = (native > cut) != (onnx_out > cut)
    hard = int((flipped & (np.abs(native - cut) > tolerance)).sum())
    max_abs = float(diff.max()) if len(diff) else 0.0
    report = score_parity_report(
        "anomaly",
        records,
        diff,
        passed=max_abs <= tolerance and hard == 0,
        summary=f"max anomaly-score difference {max_abs:.3g}, {hard} flipped flags",
        tolerance=tolerance,
    )
    report.update(
        decision_agreement=float(1.0 - flipped.mean()) if len(diff) else 1.0,
        flipped_decisions=int(flipped.sum()),
        flipped_decisions_away_from_threshold=hard,
    )
    if not report["passed"]:
        raise DeploymentError(_MSG_PARITY.format(summary=report["summary"], tol=tolerance))
    return report


def package_anomaly_deployment(
    folder: ArtifactWriter,
    pipeline: Any,
    *,
    schema: Schema,
    target: TargetEncoding,
    X_train: pd.DataFrame,
    test_frame: pd.DataFrame,
    sla_ms: dict[str, float | None],
    run_id: str,
    card: dict[str, Any] | None = None,
    http: bool = True,
    policies: dict[str, Any] | None = None,
) -> DeploymentResult:
    """Export, certify, time and bundle a detector; write the artifacts into ``folder``.

    Writes the same files as :func:`crispml.deploy.package_deployment`; the contract's
    task is ``anomaly`` and its threshold the flagging cut on the anomaly score.

    Parameters
    ----------
    folder : ArtifactWriter
        The run folder being written.
    pipeline : sklearn.pipeline.Pipeline
        The fitted detector pipeline (conformed frame in).
    schema : Schema
        The crispml schema.
    target : TargetEncoding
        The anomaly encoding (classes when labelled).
    X_train : pandas.DataFrame
        Conformed training features (reference values of the contract).
    test_frame : pandas.DataFrame
        Raw test rows (parity and latency inputs).
    sla_ms : dict
        ``deployment.latency_sla_ms`` of the spec.
    run_id : str
        The run's id.
    card : dict, optional
        Card summary served by ``/v1/metadata``.
    http : bool, default=True
        Also measure latency over HTTP.
    policies : dict, optional
        ``on_missing``, ``on_unknown``, ``protected`` of :func:`build_contract`.

    Returns
    -------
    DeploymentResult

    Raises
    ------
    DeploymentError
        If the export fails or parity does not hold.
    """
    return ship_value_model(
        folder, pipeline, op="Neg", name="crispml_anomaly", on_error=_MSG_CONVERT,
        parity=lambda served: anomaly_parity(pipeline, served, test_frame, schema),
        threshold=FLAG_THRESHOLD, schema=schema, target=target, X_train=X_train,
        test_frame=test_frame, sla_ms=sla_ms, run_id=run_id, card=card, http=http,
        policies=policies,
    )  # fmt: skip
