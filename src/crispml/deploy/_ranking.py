"""Deploying a ranker through the same contract, ONNX, parity and serving path.

A ranker's raw score has the shape of a regressor's output, so its booster converts
with onnxmltools' converters registered for ``LGBMRanker`` and ``XGBRanker`` (a
lambdarank or ``rank:ndcg`` model is a sum of trees, like a regression). The parity
check compares the served and native scores on the test rows and, per test query,
whether the served ordering of the candidates is the native one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crispml.data import Schema, TargetEncoding
from crispml.deploy._bundle import ArtifactWriter
from crispml.deploy._parity import TOLERANCE
from crispml.deploy._result import DeploymentResult
from crispml.deploy._value import compare_scores, score_parity_report, ship_value_model
from crispml.exceptions import DeploymentError
from crispml.models import ranking_scores
from crispml.serve import ServingModel

_MSG_CONVERT = (
    "ranker {what} could not be converted to ONNX ({error}). Use deployment.format: none "
    "to skip the export, or search.families: [lightgbm_ranker]."
)
_MSG_PARITY = (
    "ONNX parity failed for the ranker: {summary} (tolerance {tol:g}). "
    "Use deployment.format: none, or search.families: [lightgbm_ranker]."
)


def reordered_queries(
    native: np.ndarray, served: np.ndarray, groups: np.ndarray, *, tolerance: float
) -> int:
    """Count queries whose served ordering is not a native ordering (ties within tolerance).

    Parameters
    ----------
    native, served : numpy.ndarray
        Scores of the same rows.
    groups : numpy.ndarray
        Query id of each row.
    tolerance : float
        Native scores closer than this are ties: their candidates may swap.

    Returns
    -------
    int

    Examples
    --------
    >>> g = np.array([1, 1, 2, 2])
    >>> reordered_queries(np.array([0.2, 0.1, 0.5, 0.9]), np.array([0.1, 0.2, 0.5, 0.9]), g,
    ...                   tolerance=1e-4)
    1
    """
    count = 0
    for group in pd.unique(np.asarray(groups).astype(str)):
        rows = np.asarray(groups).astype(str) == group
        by_served = native[rows][np.argsort(-served[rows], kind="stable")]
        by_native = np.sort(native[rows])[::-1]
        count += int(np.any(np.abs(by_served - by_native) > tolerance))
    return count


def ranking_parity(
    pipeline: Any,
    served: ServingModel,
    test_frame: pd.DataFrame,
    groups: np.ndarray,
    schema: Schema,
    *,
    tolerance: float = TOLERANCE,
) -> dict[str, Any]:
    """Compare native and served scores and per-query orderings on the test rows.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        The fitted ranking pipeline (conformed frame in).
    served : ServingModel
        The exported graph with its input contract.
    test_frame : pandas.DataFrame
        Raw rows of the locked test set.
    groups : numpy.ndarray
        Query id of each test row.
    schema : Schema
        The crispml schema, for :func:`crispml.data.conform` on the native side.
    tolerance : float, default=1e-4
        Largest accepted absolute score difference.

    Returns
    -------
    dict
        The certificate written to ``deploy/parity.json`` (``max_abs_prob_diff`` holds
        the largest absolute score difference, ``queries_reordered`` the queries whose
        ordering changed).

    Raises
    ------
    DeploymentError
        If a score differs by more than ``tolerance`` or a query's ordering changes.
    """
    records, native, onnx_out = compare_scores(
        served, pipeline, test_frame, schema, ranking_scores
    )
    diff = np.abs(native - onnx_out)
    max_abs = float(diff.max()) if len(diff) else 0.0
    moved = reordered_queries(native, onnx_out, groups, tolerance=tolerance)
    n_queries = len(pd.unique(np.asarray(groups).astype(str)))
    report = score_parity_report(
        "ranking",
        records,
        diff,
        passed=max_abs <= tolerance and moved == 0,
        summary=f"max score difference {max_abs:.3g}, {moved} of {n_queries} queries reordered",
        tolerance=tolerance,
    )
    report.update(n_queries=n_queries, queries_reordered=moved)
    if not report["passed"]:
        raise DeploymentError(_MSG_PARITY.format(summary=report["summary"], tol=tolerance))
    return report


def package_ranking_deployment(
    folder: ArtifactWriter,
    pipeline: Any,
    *,
    schema: Schema,
    target: TargetEncoding,
    X_train: pd.DataFrame,
    test_frame: pd.DataFrame,
    test_groups: np.ndarray,
    sla_ms: dict[str, float | None],
    run_id: str,
    card: dict[str, Any] | None = None,
    http: bool = True,
    policies: dict[str, Any] | None = None,
) -> DeploymentResult:
    """Export, certify, time and bundle a ranker; write the artifacts into ``folder``.

    Writes the same files as :func:`crispml.deploy.package_deployment`; the contract's
    task is ``ranking`` and the graph's ``value`` the ranking score, served per query
    by ``/v1/rank``.

    Parameters
    ----------
    folder : ArtifactWriter
        The run folder being written.
    pipeline : sklearn.pipeline.Pipeline
        The fitted ranking pipeline (conformed frame in).
    schema : Schema
        The crispml schema (the query id is not an input).
    target : TargetEncoding
        The ranking encoding (relevance levels).
    X_train : pandas.DataFrame
        Conformed training features (reference values of the contract).
    test_frame : pandas.DataFrame
        Raw test rows (parity and latency inputs).
    test_groups : numpy.ndarray
        Query id of each test row.
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
        folder, pipeline, op="Identity", name="crispml_ranking", on_error=_MSG_CONVERT,
        parity=lambda served: ranking_parity(pipeline, served, test_frame, test_groups, schema),
        threshold=None, schema=schema, target=target, X_train=X_train,
        test_frame=test_frame, sla_ms=sla_ms, run_id=run_id, card=card, http=http,
        policies=policies,
    )  # fmt: skip
