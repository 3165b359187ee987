"""The served model: input contract + ONNX graph, from raw records to decisions.

Serving runtime only: onnxruntime, numpy and the standard library.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from crispml.serve._attribution import ATTRIBUTION_FILES, NO_ADVERSE_ACTION, Attributor
from crispml.serve._bundle import (
    CONFORMAL_FILE,
    CONTRACT_FILE,
    MODEL_FILE,
    read_json,
    verify_bundle,
)
from crispml.serve._contract import Checked, ContractViolation, InputContract
from crispml.serve._density import DensityCheck
from crispml.serve._embed import TextEmbedder

_MSG_REFUSED = (
    "record is out of the training distribution: {reasons}. Send it without "
    "refuse_out_of_distribution to score it anyway (the response flags it)"
)
_MSG_NO_ATTRIBUTION = (
    "this model ships no exact attributions (its family has none, or the task is "
    "multiclass or anomaly detection), so /v1/explain gives no reasons; see "
    "evaluation/importance.json or, for anomalies, evaluation/anomaly.json"
)
_MSG_NO_SHAP = (
    "this model's reasons need shap (TreeSHAP of its trees), which this runtime lacks; "
    "install it: pip install -r deploy/requirements-explain.txt"
)
METHOD = (
    "exact attributions: TreeSHAP (shap) for trees, linear terms for linear models, "
    "weighted over ensemble members, summed per raw column"
)
PROBABILITIES = "probabilities"
LABEL = "label"
VALUE = "value"
"""Names of the ONNX graph's outputs (classification: probabilities + label; regression: value;
anomaly: value, the anomaly score; ranking: value, the ranking score)."""
VALUE_TASKS = frozenset({"regression", "anomaly", "ranking"})
ANOMALY_TOP_K = 4
"""Columns an anomaly explanation lists at most, unless the request asks otherwise."""
"""Tasks whose graph outputs one value per row."""


def make_session(model: bytes | str | Path) -> ort.InferenceSession:
    """Create an onnxruntime session tuned for low single-row latency (one thread)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


class ExplainUnavailable(Exception):
    """The bundle has no attribution material: reasons cannot be given."""


class ServingModel:
    """A model ready to serve: the contract checks records, the ONNX graph scores them.

    Parameters
    ----------
    model : bytes or path
        The ONNX graph (raw columns in, probabilities/label or value out).
    contract : dict
        The content of ``model/contract.json``.
    version : str, default="dev"
        Model version reported with every prediction.
    manifest : dict, optional
        The bundle's manifest (for metadata).
    """

    def __init__(
        self,
        model: bytes | str | Path,
        contract: dict[str, Any],
        *,
        version: str = "dev",
        manifest: dict[str, Any] | None = None,
    ) -> None:
        self.session = make_session(model)
        self.document = contract
        self.contract = InputContract.from_dict(contract)
        self.task: str = contract["task"]
        self.classes: list[Any] = list(contract.get("classes", []))
        self.threshold: float | None = contract.get("threshold")
        self.version = version
        self.manifest = manifest or {}
        self.density = DensityCheck.from_dict(contract.get("distribution", {}))
        self.conformal: dict[str, Any] = {}
        """The evaluation's conformal report (``evaluation/conformal.json``), when shipped."""
        self.attribution: Attributor | None = None
        """Exact attributions for ``explain`` (``model/attribution*``), when shipped."""
        self.explain_blocked: str | None = None
        """Why shipped attributions cannot run here (``shap`` missing), if so."""
        self._outputs = [VALUE] if self.task in VALUE_TASKS else [PROBABILITIES, LABEL]
        self.embedder: TextEmbedder | None = None
        """Sentence embeddings of the embedded text columns (startup fails without them)."""
        if self.contract.embedded:
            self.embedder = TextEmbedder(self.contract.embedded, self.contract.embedding_dim)

    @classmethod
    def from_bundle(cls, path: str | Path, *, verify: bool = True) -> ServingModel:
        """Open a run folder or bundle; with ``verify`` (default) check every hash first.

        Raises
        ------
        BundleError
            If the bundle is incomplete or was modified after the run.
        """
        root = Path(path)
        manifest = verify_bundle(root) if verify else {}
        contract = read_json(root / CONTRACT_FILE)
        digest = manifest.get("artifacts", {}).get(MODEL_FILE, "")[:12]
        version = f"{manifest.get('run_id', root.name)}:{digest}" if digest else root.name
        served = cls(root / MODEL_FILE, contract, version=version, manifest=manifest)
        conformal = root / CONFORMAL_FILE
        if conformal.is_file() and (not verify or CONFORMAL_FILE in manifest.get("artifacts", {})):
            served.conformal = read_json(conformal)
        listed = manifest.get("artifacts", {})
        if all((root / f).is_file() and (not verify or f in listed) for f in ATTRIBUTION_FILES):
            served.attribution = Attributor.from_files(root, make_session)
        return served

    def warm_explain(self) -> None:
        """Build the tree explainers now (seconds for large forests), not on a request.

        Without ``shap`` (a predict-only runtime), ``explain`` is marked unavailable
        with the command that installs it. ``predict`` never imports shap.
        """
        if self.attribution is None:
            return
        try:
            self.attribution.warm()
        except ImportError:  # deploy/requirements-explain.txt not installed
            self.explain_blocked = _MSG_NO_SHAP

    def metadata(self) -> dict[str, Any]:
        """Card summary, task, classes, threshold and the input contract."""
        return {
            "run_id": self.manifest.get("run_id"),
            "task": self.task,
            "classes": self.classes,
            "threshold": self.threshold,
            "card": self.document.get("card", {}),
            "input_contract": self.contract.to_dict(),
            "out_of_distribution": {
                "checks": [
                    "number outside the training range",
                    "category level not seen in training",
                    "category level rare in training",
                    "low density: Mahalanobis distance of the numeric columns above the "
                    "training rows' quantile",
                ],
                "quantile": None if self.density is None else self.density.quantile,
            },
            "conformal": {
                k: self.conformal.get(k)
                for k in ("kind", "method", "nominal", "empirical", "qhat", "rule")
            }
            if self.conformal
            else None,
        }

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run the ONNX graph on prepared inputs (see :meth:`InputContract.prepare`).

        Embedded text columns are replaced by their sentence embeddings first.
        """
        if self.embedder is not None:
            inputs = self.embedder.apply(inputs)
        return [np.asarray(o) for o in self.session.run(self._outputs, inputs)]

    def scores(
        self, records: Sequence[Any], *, impute: bool = True, unknown: str = "warn"
    ) -> tuple[np.ndarray, list[list[str]]]:
        """Probabilities ``(n, k)`` or values ``(n,)`` for raw records, and their warnings.

        Lenient by default (missing fields imputed, unknown fields ignored): this is the
        path of the parity check and of reason codes, not of requests.

        Raises
        ------
        ContractViolation
            If a record breaks the input contract.
        """
        checked = self.contract.check(records, impute=impute, unknown=unknown)
        out = self.run(checked.inputs)
        if self.task in VALUE_TASKS:
            return out[0].reshape(-1).astype(np.float64), checked.warnings
        return out[0].astype(np.float64), checked.warnings

    def predict(
        self,
        records: Sequence[Any],
        *,
        impute: bool = False,
        unknown: str | None = None,
        refuse_ood: bool = False,
    ) -> list[dict[str, Any]]:
        """Predict raw records: prediction, probability, decision, warnings.

        Parameters
        ----------
        records : sequence of dict
            Raw records.
        impute : bool, default=False
            Score records whose required fields are missing (each row names them).
        unknown : {"reject", "warn"}, optional
            Override of the contract's policy for unknown fields.
        refuse_ood : bool, default=False
            Refuse (raise) when a record is out of the training distribution.

        Raises
        ------
        ContractViolation
            If a record breaks the input contract.
        """
        return self.predict_checked(
            records, impute=impute, unknown=unknown, refuse_ood=refuse_ood
        )[0]

    def predict_checked(
        self,
        records: Sequence[Any],
        *,
        impute: bool = False,
        unknown: str | None = None,
        refuse_ood: bool = False,
    ) -> tuple[list[dict[str, Any]], Checked]:
        """:meth:`predict`, also returning the checked records (what may be logged)."""
        checked = self.contract.check(records, impute=impute, unknown=unknown)
        unusual = self._unusual(checked)
        if refuse_ood and any(unusual):
            errors = [
                {
                    "loc": [i],
                    "msg": _MSG_REFUSED.format(reasons="; ".join(r)),
                    "type": "out_of_distribution",
                }
                for i, r in enumerate(unusual)
                if r
            ]
            raise ContractViolation(errors)
        out = self.run(checked.inputs)
        rows = self._rows(out)
        for row, w, imp, ign, odd in zip(
            rows, checked.warnings, checked.imputed, checked.ignored, unusual, strict=True
        ):
            row.update(
                warnings=w,
                imputed=imp,
                ignored=ign,
                out_of_distribution=bool(odd),
                ood_reasons=odd,
            )
        return rows, checked

    def _rows(self, out: list[np.ndarray]) -> list[dict[str, Any]]:
        """Prediction rows from the graph's outputs (lists first: no per-value numpy).

        With the evaluation's conformal quantile (``qhat``), each row also carries its
        prediction set (classification) or interval (regression) at the certified
        coverage.
        """
        qhat = self.conformal.get("qhat")
        if self.task == "anomaly":
            return _anomaly_rows(out[0], self.threshold)
        if self.task in ("regression", "ranking"):
            values = out[0].reshape(-1).astype(np.float64).tolist()
            if qhat is None:
                return [{"prediction": v} for v in values]
            return [{"prediction": v, "interval": [v - qhat, v + qhat]} for v in values]
        names = [str(c) for c in self.classes]
        probs = out[0].astype(np.float64).tolist()
        codes = out[1].reshape(-1).astype(np.int64).tolist()
        binary = self.task == "binary"
        rows = []
        for p, code in zip(probs, codes, strict=True):
            row: dict[str, Any] = {
                "prediction": self.classes[code],
                "probability": p[1] if binary else p[code],
                "probabilities": dict(zip(names, p, strict=True)),
            }
            if binary:
                row["decision"] = code == 1
                row["threshold"] = self.threshold
            if qhat is not None:
                row["prediction_set"] = [n for n, q in zip(names, p, strict=True) if q >= 1 - qhat]
            rows.append(row)
        return rows

    def rank(
        self, candidates: Sequence[Any], *, impute: bool = False, unknown: str | None = None
    ) -> tuple[dict[str, Any], Checked]:
        """Score the candidates of one query and order them (ranking models).

        Parameters
        ----------
        candidates : sequence of dict
            Raw records, one per candidate.
        impute, unknown
            As in :meth:`predict`.

        Returns
        -------
        tuple of (dict, Checked)
            ``candidates`` (in the order given: ``index``, ``score``, ``rank`` with 1
            first, ``warnings``) and ``order`` (indices, best first); and the checked
            records (what may be logged).

        Raises
        ------
        ContractViolation
            If a candidate breaks the input contract.
        """
        checked = self.contract.check(candidates, impute=impute, unknown=unknown)
        scores = self.run(checked.inputs)[0].reshape(-1).astype(np.float64)
        order = np.argsort(-scores, kind="stable").tolist()
        ranks = np.empty(len(order), dtype=np.int64)
        ranks[order] = np.arange(1, len(order) + 1)
        rows = [
            {"index": i, "score": s, "rank": int(r), "warnings": w}
            for i, (s, r, w) in enumerate(
                zip(scores.tolist(), ranks.tolist(), checked.warnings, strict=True)
            )
        ]
        return {"candidates": rows, "order": order}, checked

    def _unusual(self, checked: Checked) -> list[list[str]]:
        """Per record, why it is out of the training distribution (empty: it is not)."""
        if self.density is None or not checked.inputs:
            return checked.unusual
        extra = self.density.reasons(checked.inputs)
        return [a + b for a, b in zip(checked.unusual, extra, strict=True)]

    def explain(
        self,
        record: dict[str, Any],
        *,
        top_k: int | None = None,
        impute: bool = False,
        unknown: str | None = None,
    ) -> dict[str, Any]:
        """Adverse-action reasons for one record, from exact attributions.

        The record is scored by the ONNX graph; a favourable decision gets no reasons
        ("no adverse action"). Otherwise the reasons are the columns whose exact
        contribution (TreeSHAP or linear terms, ensemble-weighted, in each member's
        margin space -- log-odds for boosted trees; the monotone calibration map keeps
        the ranking) pushes toward the adverse outcome, largest first. Inputs missing
        from the record are listed in ``missing``, never as reasons.

        Parameters
        ----------
        record : dict
            One raw record.
        top_k : int, optional
            Reasons returned at most (default: the spec's ``explain.top_k``).
        impute, unknown
            As in :meth:`predict`.

        Returns
        -------
        dict
            ``decision_id`` (new for every call), ``prediction``, ``probability``,
            ``adverse_outcome``, ``adverse_action``, ``reasons`` (column, value,
            contribution, statement), ``missing``, ``method``, ``margin_spaces``,
            ``note``, ``warnings``, ``ignored``.

        Raises
        ------
        ContractViolation
            If the record breaks the input contract.
        ExplainUnavailable
            If the bundle ships no attribution material for this model.
        """
        checked = self.contract.check([record], impute=impute, unknown=unknown)
        if self.task == "anomaly":
            return self._explain_anomaly(checked, top_k or ANOMALY_TOP_K)
        if self.attribution is None or self.explain_blocked:
            raise ExplainUnavailable(self.explain_blocked or _MSG_NO_ATTRIBUTION)
        (row,) = self._rows(self.run(checked.inputs))
        attribution = self.attribution
        kept = checked.records[0]
        if self.task == "binary":
            adverse_code = 1 - attribution.favourable
            adverse = (1 if row["decision"] else 0) == adverse_code
            sign = 1.0 if adverse_code == 1 else -1.0
        else:  # regression: a higher value is the adverse direction
            adverse, sign = True, 1.0
        out: dict[str, Any] = {
            "decision_id": uuid.uuid4().hex,
            "prediction": row["prediction"],
            "probability": row.get("probability"),
            "adverse_outcome": attribution.adverse_label,
            "adverse_action": adverse,
            "method": METHOD,
            "margin_spaces": list(attribution.meta.get("margin_spaces", [])),
            "warnings": checked.warnings[0],
            "ignored": checked.ignored[0],
        }
        missing = [c for c in attribution.columns if kept.get(c) is None]
        if not adverse:
            return {**out, "reasons": [], "missing": missing, "note": NO_ADVERSE_ACTION}
        try:
            values, _ = attribution.contributions(checked.inputs)
        except ImportError:  # shap missing: say what to install
            self.explain_blocked = _MSG_NO_SHAP
            raise ExplainUnavailable(_MSG_NO_SHAP) from None
        k = attribution.top_k if top_k is None else top_k
        reasons, missing = attribution.reasons(sign * values[0], kept, k)
        return {**out, "reasons": reasons, "missing": missing, "note": None}

    def _explain_anomaly(self, checked: Checked, top_k: int) -> dict[str, Any]:
        """Columns that raise one record's anomaly score, by occlusion on the ONNX graph.

        A detector has no exact attribution here, so each column is set to its training
        reference (median or mode) in turn; the score it loses is its contribution.
        Only columns whose own value raises the score are listed, largest first.
        """
        record = checked.records[0]
        names = self.contract.names
        variants = [record] + [{**record, c.name: c.reference} for c in self.contract.columns]
        values = self.scores(variants)[0].reshape(-1)
        contributions = values[0] - values[1:]
        order = [i for i in np.argsort(-contributions, kind="stable") if contributions[i] > 0]
        reasons = [
            {
                "column": names[i],
                "value": record.get(names[i]),
                "contribution": float(contributions[i]),
                "statement": (
                    f"{names[i]} = {record.get(names[i])!r} raises the anomaly score "
                    f"(typical value: {self.contract.columns[i].reference!r})"
                ),
            }
            for i in order[:top_k]
        ]
        flagged = float(values[0]) > (0.0 if self.threshold is None else self.threshold)
        return {
            "decision_id": uuid.uuid4().hex,
            "prediction": flagged,
            "probability": None,
            "score": float(values[0]),
            "adverse_outcome": "anomaly",
            "adverse_action": flagged,
            "method": "occlusion: score minus score with the column at its training reference",
            "margin_spaces": ["anomaly score"],
            "reasons": reasons,
            "missing": [n for n in names if record.get(n) is None],
            "note": None if flagged else "not flagged: the score is below the threshold",
            "warnings": checked.warnings[0],
            "ignored": checked.ignored[0],
        }


def _anomaly_rows(values: np.ndarray, threshold: float | None) -> list[dict[str, Any]]:
    """Anomaly rows: the score, and the flag (``prediction``) when it is above the threshold."""
    cut = 0.0 if threshold is None else threshold
    scores = values.reshape(-1).astype(np.float64).tolist()
    return [
        {"prediction": s > cut, "score": s, "decision": s > cut, "threshold": cut} for s in scores
    ]
