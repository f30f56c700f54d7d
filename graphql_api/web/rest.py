"""The runbook's REST endpoints: a thin façade over the same services as GraphQL.

`POST /v1/analyze/sync`, `POST /v1/analyze/async` and `GET /v1/jobs/{id}` take the same
keys, scopes, limits, metering and error codes as GraphQL: admission and scopes are the
access service's, analysis is `MeteredAnalysis`, jobs are `JobService`. Errors have GraphQL's
shape, `{"errors": [{"message", "extensions": {"code"}}]}`. The OpenAPI 3.1 document at
`/v1/openapi.json` is generated from the models below (`schema/openapi.json` is drift-checked).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError
from pydantic.alias_generators import to_camel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from graphql_api import __version__
from graphql_api.access import AccessError, Principal, Scope
from graphql_api.bootstrap import Container
from graphql_api.domain import jobs as jobs_domain
from graphql_api.domain.errors import AuraStreamError, ErrorCode
from graphql_api.domain.results import DocumentRequest
from graphql_api.domain.results import DocumentResult as DomainResult
from graphql_api.gql.http import MAX_BODY_BYTES, json_refusal
from graphql_api.gql.types import DocumentResult
from graphql_api.services.jobs import JobRequest
from graphql_api.services.metered import Answer
from graphql_api.services.privacy import PiiMode

MAX_PAGE = 1_000
_NOT_FOUND_STATUS = {ErrorCode.NOT_FOUND: 404}
M = TypeVar("M", bound=BaseModel)


class _Model(BaseModel):
    # Strict: `"sentences": 0` is an error, not False.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", strict=True
    )


class DocumentIn(_Model):
    text: str = Field(description="The text to analyse (at most 5,000 UTF-8 bytes).")
    id: str | None = Field(None, description="Your own identifier, echoed back.")
    language_code: str | None = Field(None, description="ISO 639 code; detected when omitted.")

    def to_domain(self) -> DocumentRequest:
        return DocumentRequest(self.text, self.language_code, self.id)


class _Options(_Model):
    pii: PiiMode = PiiMode.OFF
    sentences: bool = False


class TextRequest(_Options):
    """The runbook's request: one text."""

    text: str
    id: str | None = None
    language_code: str | None = None

    def requests(self) -> list[DocumentRequest]:
        return [DocumentRequest(self.text, self.language_code, self.id)]


class DocumentsRequest(_Options):
    """Several texts, answered in order."""

    documents: list[DocumentIn]

    def requests(self) -> list[DocumentRequest]:
        return [d.to_domain() for d in self.documents]


class _JobOptions(_Model):
    language_code: str | None = None
    idempotency_key: str | None = None


class TextJob(_JobOptions):
    """The runbook's request: one text, as a job."""

    text: str

    def job(self, principal: Principal) -> JobRequest:
        documents = [DocumentRequest(self.text, self.language_code)]
        return JobRequest(principal, documents, None, self.idempotency_key, self.language_code)


class DocumentsJob(_JobOptions):
    documents: list[DocumentIn]

    def job(self, principal: Principal) -> JobRequest:
        documents = [d.to_domain() for d in self.documents]
        return JobRequest(principal, documents, None, self.idempotency_key, self.language_code)


class SourceJob(_JobOptions):
    """Documents read from a file in your tenant's inbox."""

    source: str
    format: jobs_domain.SourceFormat = jobs_domain.SourceFormat.JSONL
    text_column: str = "text"
    id_column: str | None = "id"

    def job(self, principal: Principal) -> JobRequest:
        source = jobs_domain.JobSource(self.source, self.format, self.text_column, self.id_column)
        return JobRequest(principal, None, source, self.idempotency_key, self.language_code)


# Exactly one shape fits a body: the models forbid fields they do not name.
class SyncRequest(RootModel[TextRequest | DocumentsRequest]):
    pass


class AsyncRequest(RootModel[TextJob | DocumentsJob | SourceJob]):
    pass


class Scores(_Model):
    positive: float
    negative: float
    neutral: float
    mixed: float


class DocumentError(_Model):
    code: str
    message: str


class PiiEntityOut(_Model):
    type: str
    begin_offset: int
    end_offset: int
    score: float


class SentenceOut(_Model):
    text: str
    begin_offset: int
    end_offset: int
    sentiment: str
    scores: Scores


class DocumentOut(_Model):
    """The fields of GraphQL's DocumentResult."""

    id: str | None
    sentiment: str | None
    scores: Scores | None
    language_code: str | None
    cached: bool
    engine: str | None
    text_hash: str | None
    degraded: bool
    error: DocumentError | None
    pii_entities: list[PiiEntityOut] | None = None
    redacted_text: str | None = None
    sentences: list[SentenceOut] | None = None

    @classmethod
    def from_domain(
        cls, result: DomainResult, answer: Answer | None = None, sentences: bool = False
    ) -> DocumentOut:
        """GraphQL's DocumentResult, field for field: one conversion serves both APIs."""
        personal_data = answer.personal_data if answer else None
        graphql = DocumentResult.from_domain(result, personal_data, sentences)
        return cls.model_validate(graphql, from_attributes=True)


class SyncResults(_Model):
    results: list[DocumentOut]


class Progress(_Model):
    total: int
    processed: int
    failed: int
    percent: float


class JobOut(_Model):
    id: str
    status: jobs_domain.JobStatus
    progress: Progress
    created_at: float = Field(description="Seconds since the epoch (UTC).")
    completed_at: float | None
    error: str | None

    @classmethod
    def from_domain(cls, job: jobs_domain.Job) -> JobOut:
        return cls(
            id=job.id,
            status=job.status,
            progress=Progress(
                total=job.total,
                processed=job.processed,
                failed=job.failed,
                percent=round(job.percent, 2),
            ),
            created_at=job.created_at,
            completed_at=job.completed_at,
            error=job.error,
        )


class JobPage(_Model):
    job: JobOut
    results: list[DocumentOut] = Field(description="Finished documents from `offset`, in order.")
    next_offset: int | None = Field(description="Where the next page starts; null at the end.")


class ErrorExtensions(_Model):
    code: ErrorCode
    retry_after_seconds: int | None = None


class ErrorOut(_Model):
    message: str
    extensions: ErrorExtensions


class Errors(_Model):
    errors: list[ErrorOut]


Handler = Callable[[Request, Container], Awaitable[Response]]


def rest_routes(container: Container) -> list[Route]:
    def route(path: str, handler: Handler, method: str) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request, container)
            except AccessError as error:
                return json_refusal(error.http_status, error.code, str(error), error.http_headers)
            except _Refused as error:
                return json_refusal(error.http_status, error.code, str(error), {})
            except AuraStreamError as error:
                status = _NOT_FOUND_STATUS.get(error.code, 400)
                return json_refusal(status, error.code, str(error), {})

        return Route(path, endpoint, methods=[method])

    async def openapi(_: Request) -> Response:
        return JSONResponse(openapi_document())

    return [
        route("/v1/analyze/sync", analyze_sync, "POST"),
        route("/v1/analyze/async", analyze_async, "POST"),
        route("/v1/jobs/{job_id}", job_status, "GET"),
        Route("/v1/openapi.json", openapi, methods=["GET"]),
    ]


async def analyze_sync(request: Request, container: Container) -> Response:
    principal = await _admit(request, container, Scope.ANALYZE)
    body = (await _body(request, SyncRequest)).root
    answers = await container.documents.analyze(principal, body.requests(), body.pii)
    results = [DocumentOut.from_domain(a.result, a, body.sentences) for a in answers]
    shaped: BaseModel = (
        results[0] if isinstance(body, TextRequest) else SyncResults(results=results)
    )
    return _json(200, shaped)


async def analyze_async(request: Request, container: Container) -> Response:
    principal = await _admit(request, container, Scope.JOBS)
    body = (await _body(request, AsyncRequest)).root
    job = await container.jobs.submit(body.job(principal))
    return _json(202, JobOut.from_domain(job), {"Location": f"/v1/jobs/{job.id}"})


async def job_status(request: Request, container: Container) -> Response:
    principal = await _admit(request, container, Scope.JOBS)
    offset = _int_parameter(request, "offset", 0, 0, jobs_domain.MAX_DOCUMENTS_PER_JOB)
    limit = _int_parameter(request, "limit", 100, 0, MAX_PAGE)
    job = await container.jobs.get(request.path_params["job_id"], principal.tenant_id)
    found, more = await container.jobs.results(job, offset, limit)
    results = [
        DocumentOut.from_domain(DomainResult(r.id, r.text_hash, r.analysis, r.failure, r.cached))
        for r in found
    ]
    page = JobPage(
        job=JobOut.from_domain(job),
        results=results,
        next_offset=offset + len(found) if more else None,
    )
    return _json(200, page)


async def _admit(request: Request, container: Container, scope: Scope) -> Principal:
    principal = await container.access.admit(request.headers.get("x-api-key"))
    container.access.authorize(principal, scope)
    return principal


async def _body(request: Request, model: type[M]) -> M:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise _Refused(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send application/json.")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise _Refused(413, ErrorCode.PAYLOAD_TOO_LARGE, "The request body is over 6 MB.")
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
            for e in error.errors(include_url=False, include_input=False)[:5]
        )
        raise _Refused(400, ErrorCode.BAD_REQUEST, f"Invalid request body: {problems}") from None


def _int_parameter(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise _Refused(400, ErrorCode.BAD_USER_INPUT, f"`{name}` must be {low} to {high}.")
    return int(raw)


class _Refused(AuraStreamError):
    """A refusal of the request itself (its media type, size or shape)."""

    def __init__(self, status: int, code: ErrorCode, message: str) -> None:
        super().__init__(message, code=code)
        self.http_status = status


def _json(status: int, model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    body = model.model_dump_json(by_alias=True)
    return Response(body, status, headers, media_type="application/json")


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1 for the REST façade, from the pydantic models."""
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (TextRequest, "validation"),
        (DocumentsRequest, "validation"),
        (TextJob, "validation"),
        (DocumentsJob, "validation"),
        (SourceJob, "validation"),
        (DocumentOut, "serialization"),
        (SyncResults, "serialization"),
        (JobOut, "serialization"),
        (JobPage, "serialization"),
        (Errors, "serialization"),
    ]
    _, schemas = models_json_schema(
        models, by_alias=True, ref_template="#/components/schemas/{model}"
    )

    def ref(name: str) -> dict[str, str]:
        return {"$ref": f"#/components/schemas/{name}"}

    def errors(*statuses: int) -> dict[str, Any]:
        described = {
            "400": "Invalid input (`BAD_REQUEST`, `BAD_USER_INPUT`, ...)",
            "401": "Missing, malformed, unknown or revoked key (`UNAUTHENTICATED`)",
            "403": "The key lacks the scope (`FORBIDDEN`)",
            "404": "No such job, or another tenant's (`NOT_FOUND`)",
            "413": "Body over 6 MB (`PAYLOAD_TOO_LARGE`)",
            "415": "Not application/json (`UNSUPPORTED_MEDIA_TYPE`)",
            "429": "Rate or daily quota spent (`RATE_LIMITED`)",
            "503": "Key store unavailable or maintenance (`AUTH_UNAVAILABLE`, `SERVICE_DISABLED`)",
        }
        return {
            str(s): {
                "description": described[str(s)],
                "content": {"application/json": {"schema": ref("Errors")}},
            }
            for s in statuses
        }

    def body(*names: str) -> dict[str, Any]:
        schema = {"oneOf": [ref(name) for name in names]}
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    security: list[dict[str, list[str]]] = [{"ApiKey": []}]
    common = (400, 401, 403, 429, 503)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AuraStream REST",
            "version": __version__,
            "description": "The runbook's endpoints over the same services as /graphql.",
        },
        "paths": {
            "/v1/analyze/sync": {
                "post": {
                    "operationId": "analyzeSync",
                    "security": security,
                    "requestBody": body("TextRequest", "DocumentsRequest"),
                    "responses": {
                        "200": ok(
                            "One result for `text`; `results` in input order for `documents`",
                            {"oneOf": [ref("DocumentOut"), ref("SyncResults")]},
                        ),
                        **errors(*common, 413, 415),
                    },
                }
            },
            "/v1/analyze/async": {
                "post": {
                    "operationId": "analyzeAsync",
                    "security": security,
                    "requestBody": body("TextJob", "DocumentsJob", "SourceJob"),
                    "responses": {
                        "202": {
                            **ok("The job, started; poll its Location", ref("JobOut")),
                            "headers": {"Location": {"schema": {"type": "string"}}},
                        },
                        **errors(*common, 413, 415),
                    },
                }
            },
            "/v1/jobs/{job_id}": {
                "get": {
                    "operationId": "getJob",
                    "security": security,
                    "parameters": [
                        _parameter("job_id", "path", {"type": "string"}),
                        _parameter(
                            "offset",
                            "query",
                            {
                                "type": "integer",
                                "minimum": 0,
                                "default": 0,
                                "maximum": jobs_domain.MAX_DOCUMENTS_PER_JOB,
                            },
                        ),
                        _parameter(
                            "limit",
                            "query",
                            {"type": "integer", "minimum": 0, "maximum": MAX_PAGE, "default": 100},
                        ),
                    ],
                    "responses": {
                        "200": ok("The job and a page of its results", ref("JobPage")),
                        **errors(*common, 404),
                    },
                }
            },
        },
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }


def _parameter(name: str, where: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": where, "required": where == "path", "schema": schema}
