"""The deployment's typed result: the ONNX parity certificate and the measured latency."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from crispml._utils._result import PhaseResult

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Parity(BaseModel):
    """Native model against the served ONNX path, on the test rows and edge cases.

    ``max_abs_prob_diff`` is set for classification, ``max_rel_diff`` for regression.
    """

    model_config = _FROZEN

    task: str
    passed: bool
    summary: str
    tolerance: float
    n_test_rows: int
    n_edge_cases: int
    edge_cases: list[str]
    n_test_rows_total: int | None = None
    """Test rows the compared ones were drawn from (more than ``n_test_rows`` when sampled).

    .. versionadded:: 0.4"""
    sample: str = ""
    """How the compared test rows were sampled; empty when every test row was compared."""
    worst_case: dict[str, Any]
    max_abs_prob_diff: float | None = None
    max_rel_diff: float | None = None
    decision_agreement: float | None = None
    flipped_decisions: int | None = None
    flipped_decisions_away_from_threshold: int | None = None
    n_queries: int | None = None
    """Ranking: test queries whose orderings were compared."""
    queries_reordered: int | None = None
    """Ranking: queries whose served ordering differs from the native one beyond ties
    (candidates whose native scores are within the tolerance may swap)."""

    @property
    def max_diff(self) -> float:
        """The figure the tolerance was checked against (absolute or relative)."""
        value = self.max_rel_diff if self.task == "regression" else self.max_abs_prob_diff
        return float(value or 0.0)


class Percentiles(BaseModel):
    """Latency percentiles of one kind of call, in milliseconds."""

    model_config = _FROZEN

    p50_ms: float
    p95_ms: float
    p99_ms: float
    n: int


class LatencyMode(BaseModel):
    """Single-row and 1,000-row batch latency, in process or over HTTP."""

    model_config = _FROZEN

    single_row: Percentiles
    batch_1000: Percentiles


class Latency(BaseModel):
    """Measured latency and the SLA check (single rows, over HTTP when measured)."""

    model_config = _FROZEN

    in_process: LatencyMode
    http: LatencyMode | None = None
    sla_ms: dict[str, float | None]
    checked: str
    meets_sla: bool
    violations: list[str]

    @property
    def checked_single_row(self) -> Percentiles:
        """The single-row percentiles the SLA was checked on."""
        return (self.http or self.in_process).single_row

    def criteria_figures(self) -> dict[str, float]:
        """Measured figures keyed like the latency success criteria."""
        single = self.checked_single_row
        return {
            "latency_p50_ms": single.p50_ms,
            "latency_p95_ms": single.p95_ms,
            "latency_p99_ms": single.p99_ms,
        }


class DeploymentResult(PhaseResult):
    """What the deployment phase certified and measured (``deploy/deployment.json``).

    Attributes
    ----------
    onnx_sha256 : str
        Hash of the exported ``model/model.onnx``.
    threshold : float or None
        The decision threshold built into the served graph (binary).
    parity : Parity
        The parity certificate (also ``deploy/parity.json``).
    latency : Latency
        The latency measurement (also ``deploy/latency.json``).
    """

    FILE = "deploy/deployment.json"

    onnx_sha256: str
    threshold: float | None
    parity: Parity
    latency: Latency
