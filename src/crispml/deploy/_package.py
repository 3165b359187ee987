"""The deployment phase of the engagement, and batch scoring through the served path."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from crispml._utils._io import sha256_bytes
from crispml.data import Schema, TargetEncoding
from crispml.deploy._attribution import attribution_files, needs_shap
from crispml.deploy._bundle import ArtifactWriter, write_bundle
from crispml.deploy._certify import write_certified_graph
from crispml.deploy._contract import build_contract, contract_document
from crispml.deploy._export import export_onnx
from crispml.deploy._parity import check_parity, frame_records
from crispml.deploy._result import DeploymentResult, Latency, Parity
from crispml.exceptions import DataError
from crispml.models import decision_threshold
from crispml.serve import ContractViolation, ServingModel

logger = logging.getLogger(__name__)

_MSG_BAD_ROWS = "{source}: {error}. Fix the input file, or see model/contract.json."
_MSG_ABSENT = (
    "{source}: required column(s) {names} absent (they had no missing values in training). "
    "Add them, or pass --on-missing impute to score on the model's imputation."
)


def package_deployment(
    folder: ArtifactWriter,
    model: Any,
    *,
    schema: Schema,
    target: TargetEncoding,
    X_train: pd.DataFrame,
    test_frame: pd.DataFrame,
    sla_ms: dict[str, float | None],
    run_id: str,
    card: dict[str, Any] | None = None,
    http: bool = True,
    threshold: float | None = None,
    policies: dict[str, Any] | None = None,
    explain: dict[str, Any] | None = None,
) -> DeploymentResult:
    """Export, certify, time and bundle the model; write every artifact into ``folder``.

    Writes ``model/model.onnx``, ``model/contract.json``, ``deploy/parity.json``,
    ``deploy/latency.json``, the typed result ``deploy/deployment.json`` and the bundle
    (``deploy/Dockerfile``, ``deploy/requirements.txt``, ``deploy/start.sh``,
    ``deploy/runtime/``).

    Parameters
    ----------
    folder : ArtifactWriter
        The run folder being written.
    model : object
        The fitted model as evaluated: pipeline, ensemble or calibrated model.
    schema : Schema
        The crispml schema (input columns and roles).
    target : TargetEncoding
        Task and class order.
    X_train : pandas.DataFrame
        Conformed training features (reference values of the contract).
    test_frame : pandas.DataFrame
        Raw rows of the locked test set (parity and latency inputs).
    sla_ms : dict
        ``deployment.latency_sla_ms`` of the spec.
    run_id : str
        The run's id.
    card : dict, optional
        Card summary served by ``/v1/metadata``.
    http : bool, default=True
        Also measure latency over HTTP.
    threshold : float, optional
        Binary decision threshold chosen on validation (default: the model's
        ``threshold_``, else 0.5).
    policies : dict, optional
        Keyword arguments of :func:`build_contract`: ``on_missing``, ``on_unknown``,
        ``protected``.
    explain : dict, optional
        How reasons are read and worded at serving: ``favourable`` (encoded class),
        ``labels``, ``top_k``, ``statements``. With it, the bundle carries the exact
        attribution material of ``/v1/explain`` (``model/attribution*``) when the model
        has one.

    Returns
    -------
    DeploymentResult
        The parity certificate and the measured latency.

    Raises
    ------
    DeploymentError
        If the export fails or the parity check does not pass.
    """
    contract = build_contract(schema, X_train, **(policies or {}))
    n_classes = len(target.classes)
    if threshold is None:
        threshold = decision_threshold(model)
    if target.task != "binary":
        threshold = None
    graph = export_onnx(
        model, contract, task=target.task, n_classes=n_classes, threshold=threshold
    )
    document = contract_document(contract, target, threshold=threshold, card=card or {})
    data = graph.SerializeToString()
    served = ServingModel(data, document, version=run_id)
    parity = check_parity(model, served, test_frame, schema)
    latency = write_certified_graph(
        folder, served, graph=data, document=document, parity=parity, contract=contract,
        test_frame=test_frame, sla_ms=sla_ms, http=http,
    )  # fmt: skip
    material = (
        attribution_files(model, contract, X_train, task=target.task, policy=explain)
        if explain is not None
        else {}
    )
    for relative, content in material.items():
        folder.write_bytes(relative, content)
    write_bundle(
        folder,
        run_id=run_id,
        attribution=bool(material),
        explain=needs_shap(material),
        embeddings=bool(contract.embedded),
    )
    result = DeploymentResult(
        onnx_sha256=sha256_bytes(data),
        threshold=threshold,
        parity=Parity.model_validate(parity),
        latency=Latency.model_validate(latency),
    )
    folder.write_text(DeploymentResult.FILE, result.to_json())
    return result


def predict_file(
    bundle: str | Path,
    source: str | Path,
    output: str | Path,
    *,
    verify: bool = True,
    impute: bool = False,
) -> pd.DataFrame:
    """Score a CSV or Parquet file through the served path (contract, then ONNX).

    Parameters
    ----------
    bundle : str or Path
        A run folder or bundle (verified against its manifest).
    source : str or Path
        Input rows with the model's raw columns.
    output : str or Path
        Where to write the predictions (CSV): the input columns, then ``prediction``,
        ``probability`` and ``decision`` (classification), ``score`` (anomaly: the
        prediction is the flag) and ``warnings``.
    verify : bool, default=True
        Check the bundle's hashes first.
    impute : bool, default=False
        Score rows missing required columns on the model's imputation (the
        ``warnings`` column names them); by default they are refused.

    Returns
    -------
    pandas.DataFrame
        What was written.

    Raises
    ------
    DataError
        If the file cannot be read or a row breaks the input contract.
    BundleError
        If the bundle is incomplete or was modified.
    """
    served = ServingModel.from_bundle(bundle, verify=verify)
    source = Path(source)
    try:
        frame = pd.read_parquet(source) if source.suffix == ".parquet" else pd.read_csv(source)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(_MSG_BAD_ROWS.format(source=source, error=exc)) from None
    absent = [c for c in served.contract.required if c not in frame.columns]
    if absent and not impute:
        raise DataError(_MSG_ABSENT.format(source=source, names=", ".join(absent)))
    try:
        rows = served.predict(frame_records(frame), impute=impute, unknown="warn")
    except ContractViolation as exc:
        raise DataError(_MSG_BAD_ROWS.format(source=source, error=exc)) from None
    out = frame.copy()
    out["prediction"] = [r["prediction"] for r in rows]
    if served.task == "anomaly":
        out["score"] = [r["score"] for r in rows]
    elif served.task != "regression":
        out["probability"] = [r["probability"] for r in rows]
    if served.task == "binary":
        out["decision"] = [r["decision"] for r in rows]
    out["warnings"] = ["; ".join(r["warnings"]) for r in rows]
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(output, index=False)
    return out
