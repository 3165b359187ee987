"""The REST service: FastAPI app over a :class:`ServingModel`.

Serving runtime only: fastapi, uvicorn, onnxruntime, numpy, pydantic, stdlib.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from crispml.serve._contract import ContractViolation
from crispml.serve._observe import InferenceLog, Metrics
from crispml.serve._openapi import (
    ExplainResponse,
    HealthResponse,
    MetadataResponse,
    PredictResponse,
    RankResponse,
    ReadyResponse,
    error_responses,
    install_openapi,
)
from crispml.serve._runtime import ExplainUnavailable, ServingModel

API_KEY_HEADER = "x-api-key"
_MSG_KEY = "missing or wrong API key (send it in the X-API-Key header)"
_KNOWN_PATHS = frozenset(
    {
        "/v1/predict",
        "/v1/rank",
        "/v1/explain",
        "/v1/health",
        "/v1/ready",
        "/v1/metadata",
        "/metrics",
    }
)
_SECURED = ("/v1/predict", "/v1/rank", "/v1/explain", "/v1/metadata")
_MSG_NOT_RANKER = "this model is a {task} model, not a ranker: send records to /v1/predict"
_MSG_RANK_BODY = (
    'expected {"candidates": [{...}, ...]}: the candidates of one query, as a list of records'
)
_MSG_RANK_EMPTY = "candidates is empty: send at least one candidate record"
_MSG_EMPTY_BATCH = "the list of records is empty: send one record as an object, or a list of them"
OnMissing = Literal["reject", "impute"]
OnUnknown = Literal["reject", "warn"]
_Q_MISSING = Query(
    None,
    description="'impute': score records missing required fields (each row names them).",
)
_Q_UNKNOWN = Query(None, description="'warn': ignore unknown fields with a warning, not a 422.")
_Q_OOD = Query(
    False,
    description="true: refuse (422, with the reasons) records out of the training distribution.",
)


@dataclass(frozen=True)
class ServeSettings:
    """Limits and options of the service.

    Attributes
    ----------
    api_key_env : str
        Environment variable holding the API key; when it is set (non-empty), requests to
        ``/v1/predict``, ``/v1/explain`` and ``/v1/metadata`` need the header ``X-API-Key``.
    max_body_bytes : int
        Largest request body accepted (413 above).
    max_batch : int
        Most records in one request (413 above).
    log_path : str or None
        SQLite inference log; ``None`` disables logging.
    log_sample_rate : float
        Fraction of requests written to the inference log.
    """

    api_key_env: str = "CRISPML_API_KEY"
    max_body_bytes: int = 2_000_000
    max_batch: int = 1000
    log_path: str | None = None
    log_sample_rate: float = 1.0


class _Timing:
    """Pure ASGI middleware: counts every request and its latency (cheaper than BaseHTTP)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [500]

        async def send_status(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            path = scope["path"] if scope["path"] in _KNOWN_PATHS else "other"
            self.metrics.observe_request(path, status[0], time.perf_counter() - start)


def _problem(status: int, loc: list[Any], msg: str, kind: str) -> JSONResponse:
    return JSONResponse({"detail": [{"loc": loc, "msg": msg, "type": kind}]}, status_code=status)


def _json(obj: Any) -> Response:
    return Response(json.dumps(obj), media_type="application/json")


def _record_schema(model: ServingModel) -> dict[str, Any]:
    """JSON Schema of one record: exactly the types the contract accepts."""
    contract = model.contract
    props: dict[str, Any] = {}
    for col in contract.columns:
        types = [*col.json_types(), *([] if col.required else ["null"])]
        prop: dict[str, Any] = {"type": types if len(types) > 1 else types[0]}
        if col.kind == "number":
            prop["example"] = col.reference
            prop["description"] = f"Training range [{col.min}, {col.max}]."
        elif col.kind == "datetime":
            prop["description"] = (
                "An ISO 8601 date or date-time (UTC when no zone is given), or epoch seconds."
            )
            prop["examples"] = ["2024-05-31", "2024-05-31T14:30:00Z"]
        elif col.kind == "category":
            prop["examples"] = list(col.categories[:20])
            prop["example"] = col.reference
        props[col.name] = prop
    for name, reason in contract.ignored.items():
        props[name] = {"description": f"Ignored: {reason}. Dropped before scoring, not logged."}
    schema: dict[str, Any] = {"type": "object", "properties": props, "required": contract.required}
    if contract.on_unknown == "reject":
        schema["additionalProperties"] = False
    return schema


def _post(body: dict[str, Any], response: type) -> dict[str, Any]:
    """Route arguments of a POST endpoint: its request body and documented responses."""
    return {
        "openapi_extra": body,
        "responses": {200: {"model": response}, **error_responses(401, 413, 422)},
    }


async def _read_body(request: Request, limit: int) -> bytes | None:
    """Read the body; None as soon as it exceeds ``limit`` bytes (never buffered whole)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(model: ServingModel, settings: ServeSettings | None = None) -> FastAPI:
    """Build the FastAPI app serving ``model``.

    Parameters
    ----------
    model : ServingModel
        The verified model (see :meth:`ServingModel.from_bundle`).
    settings : ServeSettings, optional
        Limits, API key and inference log.

    Returns
    -------
    fastapi.FastAPI
    """
    settings = settings or ServeSettings()
    metrics = Metrics()
    log = (
        InferenceLog(settings.log_path, sample_rate=settings.log_sample_rate)
        if settings.log_path
        else None
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        model.warm_explain()  # before the first request, not during it
        yield
        if log is not None:
            log.close()

    app = FastAPI(
        title="crispml model service",
        version=model.version,
        description=(
            "Predictions of a crispml model, served from its ONNX graph. Records are checked "
            "against the input contract (see /v1/metadata): required fields, exact types, "
            "unknown fields refused; protected attributes are ignored and never logged."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.model, app.state.metrics, app.state.log = model, metrics, log
    record = _record_schema(model)
    body = {"anyOf": [record, {"type": "array", "items": record}]}
    doc = {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}
    one = {"requestBody": {"required": True, "content": {"application/json": {"schema": record}}}}

    async def guarded(request: Request) -> tuple[Any, Response | None]:
        key = os.environ.get(settings.api_key_env, "")
        given = request.headers.get(API_KEY_HEADER, "")
        if key and not hmac.compare_digest(key.encode(), given.encode()):
            return None, _problem(
                401, ["header", API_KEY_HEADER], "missing or wrong API key", "auth"
            )
        try:
            size = int(request.headers.get("content-length") or 0)
        except ValueError:
            size = 0
        if size > settings.max_body_bytes:
            msg = f"request body of {size} bytes exceeds the limit of {settings.max_body_bytes}"
            return None, _problem(413, ["body"], msg, "too_large")
        raw = await _read_body(request, settings.max_body_bytes)
        if raw is None:
            msg = f"request body exceeds the limit of {settings.max_body_bytes} bytes"
            return None, _problem(413, ["body"], msg, "too_large")
        try:
            return json.loads(raw), None
        except (ValueError, RecursionError) as exc:
            msg = f"invalid JSON: {exc}. Send one record as an object, or a list of them."
            return None, _problem(422, ["body"], msg, "json_invalid")

    def violation(exc: ContractViolation) -> JSONResponse:
        detail = [{**e, "loc": ["body", *e["loc"]]} for e in exc.errors]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.post("/v1/predict", summary="Predict one record or a list", **_post(doc, PredictResponse))
    async def predict(
        request: Request,
        on_missing: OnMissing | None = _Q_MISSING,
        on_unknown: OnUnknown | None = _Q_UNKNOWN,
        refuse_out_of_distribution: bool = _Q_OOD,
    ) -> Response:
        payload, problem = await guarded(request)
        if problem is not None:
            return problem
        records = payload if isinstance(payload, list) else [payload]
        if not records:
            return _problem(422, ["body"], _MSG_EMPTY_BATCH, "empty")
        if len(records) > settings.max_batch:
            msg = f"{len(records)} records exceed the batch limit of {settings.max_batch}"
            return _problem(413, ["body"], msg, "too_many_records")
        try:
            rows, checked = model.predict_checked(
                records,
                impute=on_missing == "impute",
                unknown=on_unknown,
                refuse_ood=refuse_out_of_distribution,
            )
        except ContractViolation as exc:
            return violation(exc)
        metrics.observe_predictions(rows)
        if log is not None:  # only the model's inputs: ignored fields are never logged
            log.log(model.version, "predict", checked.records, rows)
        return _json({"model_version": model.version, "predictions": rows})

    rank_doc = {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"candidates": {"type": "array", "items": record}},
                        "required": ["candidates"],
                        "additionalProperties": False,
                    }
                }
            },
        }
    }

    @app.post(
        "/v1/rank",
        summary="Score and order the candidates of one query (ranking models)",
        openapi_extra=rank_doc,
        responses={200: {"model": RankResponse}, **error_responses(401, 413, 422)},
    )
    async def rank(
        request: Request,
        on_missing: OnMissing | None = _Q_MISSING,
        on_unknown: OnUnknown | None = _Q_UNKNOWN,
    ) -> Response:
        payload, problem = await guarded(request)
        if problem is not None:
            return problem
        if model.task != "ranking":
            return _problem(422, ["body"], _MSG_NOT_RANKER.format(task=model.task), "task")
        if not isinstance(payload, dict) or set(payload) != {"candidates"}:
            return _problem(422, ["body"], _MSG_RANK_BODY, "type_error")
        candidates = payload["candidates"]
        if not isinstance(candidates, list):
            return _problem(422, ["body", "candidates"], _MSG_RANK_BODY, "type_error")
        if not candidates:
            return _problem(422, ["body", "candidates"], _MSG_RANK_EMPTY, "empty")
        if len(candidates) > settings.max_batch:
            msg = f"{len(candidates)} candidates exceed the batch limit of {settings.max_batch}"
            return _problem(413, ["body", "candidates"], msg, "too_many_records")
        try:
            answer, checked = model.rank(
                candidates, impute=on_missing == "impute", unknown=on_unknown
            )
        except ContractViolation as exc:
            detail = [{**e, "loc": ["body", "candidates", *e["loc"]]} for e in exc.errors]
            return JSONResponse({"detail": detail}, status_code=422)
        if log is not None:
            rows = [{"prediction": c["score"]} for c in answer["candidates"]]
            log.log(model.version, "rank", checked.records, rows)
        return _json({"model_version": model.version, **answer})

    @app.post(
        "/v1/explain",
        summary="Adverse-action reasons for one record (logged with a decision id)",
        openapi_extra=one,
        responses={200: {"model": ExplainResponse}, **error_responses(401, 413, 422, 501)},
    )
    async def explain(
        request: Request,
        on_missing: OnMissing | None = _Q_MISSING,
        on_unknown: OnUnknown | None = _Q_UNKNOWN,
    ) -> Response:
        payload, problem = await guarded(request)
        if problem is not None:
            return problem
        if not isinstance(payload, dict):
            return _problem(422, ["body"], "expected one record (a JSON object)", "type_error")
        try:
            result = model.explain(payload, impute=on_missing == "impute", unknown=on_unknown)
        except ContractViolation as exc:
            return violation(exc)
        except ExplainUnavailable as exc:
            return _problem(501, ["model"], str(exc), "no_attributions")
        answer = {"model_version": model.version, **result}
        if log is not None:  # every explained decision, never sampled: an adverse-action record
            kept = {k: v for k, v in payload.items() if k in model.contract.names}
            log.log(model.version, "explain", [kept], [answer], always=True)
        return _json(answer)

    @app.get("/v1/health", summary="Liveness", response_model=HealthResponse)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/v1/ready",
        summary="Readiness: the model is loaded and verified",
        response_model=ReadyResponse,
    )
    async def ready() -> dict[str, Any]:
        return {"ready": True, "model_version": model.version}

    @app.get(
        "/v1/metadata",
        summary="Model card summary and input contract",
        responses={200: {"model": MetadataResponse}, **error_responses(401)},
    )
    async def metadata(request: Request) -> Response:
        key = os.environ.get(settings.api_key_env, "")
        given = request.headers.get(API_KEY_HEADER, "")
        if key and not hmac.compare_digest(key.encode(), given.encode()):
            return _problem(401, ["header", API_KEY_HEADER], _MSG_KEY, "auth")
        return _json({"model_version": model.version, **model.metadata()})

    @app.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
    async def prometheus() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

    install_openapi(app, secured=_SECURED)
    app.add_middleware(_Timing, metrics=metrics)
    return app


def app_from_bundle(path: str | Path, settings: ServeSettings | None = None) -> FastAPI:
    """Verify the bundle at ``path`` against its manifest and build the app.

    Parameters
    ----------
    path : str or Path
        A finished run folder or a bundle with the same layout.
    settings : ServeSettings, optional
        Limits, API key variable and inference log.

    Returns
    -------
    fastapi.FastAPI

    Raises
    ------
    BundleError
        If the bundle is incomplete or was modified after the run.
    """
    return create_app(ServingModel.from_bundle(path), settings)
