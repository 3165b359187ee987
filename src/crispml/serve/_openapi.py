"""The service's OpenAPI document: response models, errors, the API-key scheme, offline /docs.

The handlers return pre-serialised JSON (the hot path skips pydantic); these models
describe those bodies in the OpenAPI schema, and a test checks real responses against them.
Swagger UI is served from the files of the ``swagger-ui-bundle-v2`` package, so ``/docs``
works on a network with no internet access.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

API_KEY_SCHEME = "ApiKey"
DOCS_STATIC = "/docs/static"


class ErrorItem(BaseModel):
    """One problem with a request, in FastAPI's shape."""

    loc: list[str | int] = Field(description="Where: 'body', record index, field name.")
    msg: str = Field(description="What is wrong and what to do.")
    type: str = Field(description="Kind: missing, type_error, unknown_field, too_large...")


class ErrorResponse(BaseModel):
    """A refused request (401, 413, 422): every problem found."""

    detail: list[ErrorItem]


class Prediction(BaseModel):
    """The prediction for one record."""

    model_config = ConfigDict(extra="allow")

    prediction: str | int | float | bool = Field(description="Predicted class or value.")
    probability: float | None = Field(
        None, description="Binary: positive-class probability; multiclass: predicted class's."
    )
    probabilities: dict[str, float] | None = Field(None, description="Per class.")
    decision: bool | None = Field(
        None, description="Binary: probability >= threshold; anomaly: score > threshold."
    )
    threshold: float | None = Field(None, description="Binary or anomaly decision threshold.")
    score: float | None = Field(None, description="Anomaly: the anomaly score (higher: stranger).")
    warnings: list[str] = Field(description="Imputed, ignored or unusual values, in words.")
    imputed: list[str] = Field(description="Missing fields scored on the model's imputation.")
    ignored: list[str] = Field(
        description="Fields dropped before scoring and not logged (protected, unknown...)."
    )
    out_of_distribution: bool = Field(
        description="Outside the training range, unseen or rare level, or low density."
    )
    ood_reasons: list[str] = Field(description="Why the record is out of distribution.")
    prediction_set: list[str] | None = Field(
        None,
        description="Classification: the conformal set at the coverage the evaluation "
        "certified (see /v1/metadata conformal).",
    )
    interval: list[float] | None = Field(
        None, description="Regression: the conformal interval [low, high] at that coverage."
    )


class PredictResponse(BaseModel):
    """Predictions, one per record, in request order."""

    model_version: str
    predictions: list[Prediction]


class RankedCandidate(BaseModel):
    """One candidate of a ranked query, in request order."""

    index: int = Field(description="Position of the candidate in the request.")
    score: float = Field(description="Ranking score (higher: ranked first).")
    rank: int = Field(description="1 for the first candidate of the ordering.")
    warnings: list[str] = Field(description="Imputed, ignored or unusual values, in words.")


class RankResponse(BaseModel):
    """The candidates of one query with their scores and ranks, and the ordering."""

    model_version: str
    candidates: list[RankedCandidate]
    order: list[int] = Field(description="Candidate indices, best first.")


class Reason(BaseModel):
    """One adverse-action reason: a column pushing the decision toward the adverse outcome."""

    column: str
    value: Any = None
    contribution: float = Field(
        gt=0, description="Exact attribution toward the adverse outcome (member margin space)."
    )
    statement: str = Field(description="The reason in plain words.")


class ExplainResponse(BaseModel):
    """Adverse-action reasons for one record, with the id under which it was logged."""

    model_version: str
    decision_id: str = Field(description="Id of this explained decision in the serving log.")
    prediction: Any
    probability: float | None
    adverse_outcome: str
    adverse_action: bool
    method: str
    margin_spaces: list[str]
    reasons: list[Reason]
    missing: list[str] = Field(description="Inputs absent or null: never given as reasons.")
    note: str | None
    warnings: list[str]
    ignored: list[str]


class MetadataResponse(BaseModel):
    """Model summary and the input contract."""

    model_config = ConfigDict(extra="allow")

    model_version: str
    run_id: str | None
    task: str
    classes: list[str | int | float | bool]
    threshold: float | None
    card: dict[str, Any] = Field(description="Model card summary (figures from the run).")
    input_contract: dict[str, Any] = Field(description="Columns, types, policies, ignored.")
    out_of_distribution: dict[str, Any] = Field(description="How rows are flagged.")
    conformal: dict[str, Any] | None = Field(
        description="Coverage certified by the evaluation (nominal and on the test set)."
    )


class HealthResponse(BaseModel):
    """Liveness."""

    status: str


class ReadyResponse(BaseModel):
    """Readiness: the model is loaded and verified."""

    ready: bool
    model_version: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the given error statuses."""
    words = {
        401: "Missing or wrong API key (X-API-Key header).",
        413: "Body or batch too large.",
        422: "The request breaks the input contract; every problem is listed.",
        501: "The model ships no exact attributions (no reasons can be given).",
    }
    return {c: {"model": ErrorResponse, "description": words[c]} for c in codes}


def install_openapi(app: FastAPI, *, secured: tuple[str, ...]) -> None:
    """Declare the API-key scheme on the ``secured`` paths and serve ``/docs`` offline.

    Parameters
    ----------
    app : fastapi.FastAPI
        Built with ``docs_url=None`` and ``redoc_url=None``.
    secured : tuple of str
        Paths that need the API key when one is configured.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                API_KEY_SCHEME: {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-Key",
                    "description": "Needed when the server's API-key variable is set.",
                }
            }
            for path, item in schema.get("paths", {}).items():
                if path in secured:
                    for operation in item.values():
                        operation["security"] = [{API_KEY_SCHEME: []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    static = _swagger_files()
    if static is None:
        return
    from fastapi.staticfiles import StaticFiles

    app.mount(DOCS_STATIC, StaticFiles(directory=static), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - docs",
            swagger_js_url=f"{DOCS_STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_STATIC}/favicon-32x32.png",
        )


def _swagger_files() -> str | None:
    """Folder of Swagger UI's static files, or None when the package is absent."""
    try:
        import swagger_ui_bundle
    except ImportError:  # the docs page is optional; the API itself is not
        return None
    return str(swagger_ui_bundle.swagger_ui_path)
