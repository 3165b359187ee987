"""Deployment packaging: ONNX export with certified parity, input contract, latency, bundle.

The input contract is written to ``model/contract.json`` (``model/schema.json`` keeps
the crispml schema); the serving runtime lives in :mod:`crispml.serve`.
"""

from __future__ import annotations

from crispml.deploy._anomaly import anomaly_parity, export_detector, package_anomaly_deployment
from crispml.deploy._bundle import pinned_requirements, write_bundle
from crispml.deploy._contract import build_contract, contract_document
from crispml.deploy._export import export_onnx
from crispml.deploy._latency import measure_latency, running_server
from crispml.deploy._package import package_deployment, predict_file
from crispml.deploy._parity import TOLERANCE, check_parity, edge_cases, frame_records
from crispml.deploy._ranking import package_ranking_deployment, ranking_parity
from crispml.deploy._result import DeploymentResult, Latency, LatencyMode, Parity, Percentiles

__all__ = [
    "TOLERANCE",
    "DeploymentResult",
    "Latency",
    "LatencyMode",
    "Parity",
    "Percentiles",
    "anomaly_parity",
    "build_contract",
    "check_parity",
    "contract_document",
    "edge_cases",
    "export_detector",
    "export_onnx",
    "frame_records",
    "measure_latency",
    "package_anomaly_deployment",
    "package_deployment",
    "package_ranking_deployment",
    "pinned_requirements",
    "predict_file",
    "ranking_parity",
    "running_server",
    "write_bundle",
]
