"""The steps every deployment shares once its graph is built: latency, then the files."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from crispml.deploy._bundle import ArtifactWriter
from crispml.deploy._latency import measure_latency
from crispml.deploy._parity import frame_records
from crispml.serve import InputContract, ServingModel

logger = logging.getLogger(__name__)
LATENCY_ROWS = 200
"""Test rows the latency is measured on."""


def write_certified_graph(
    folder: ArtifactWriter,
    served: ServingModel,
    *,
    graph: bytes,
    document: dict[str, Any],
    parity: dict[str, Any],
    contract: InputContract,
    test_frame: pd.DataFrame,
    sla_ms: dict[str, float | None],
    http: bool,
) -> dict[str, Any]:
    """Measure ``served`` on test rows, then write the graph, contract, parity and latency.

    Parameters
    ----------
    folder : ArtifactWriter
        The run folder being written.
    served : ServingModel
        The exported graph as it will be served.
    graph, document, parity
        The ONNX bytes, the contract document and the parity certificate to write.
    contract : InputContract
        The raw inputs (the test rows are cut to them).
    test_frame : pandas.DataFrame
        Raw test rows.
    sla_ms : dict
        ``deployment.latency_sla_ms`` of the spec.
    http : bool
        Also measure over HTTP on a real server.

    Returns
    -------
    dict
        The latency report written to ``deploy/latency.json``.
    """
    first = test_frame.iloc[:LATENCY_ROWS]  # only these become records, not every test row
    rows = frame_records(first[[c for c in contract.names if c in first.columns]])
    latency = measure_latency(served, rows[:LATENCY_ROWS], sla_ms=sla_ms, http=http)
    if not latency["meets_sla"]:
        logger.warning("latency SLA not met: %s", "; ".join(latency["violations"]))
    folder.write_bytes("model/model.onnx", graph)
    folder.write_json("model/contract.json", document)
    folder.write_json("deploy/parity.json", parity)
    folder.write_json("deploy/latency.json", latency)
    return latency
