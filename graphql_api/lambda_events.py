"""What reaches the Lambda function, sorted before Mangum reads it.

API Gateway events (REST API v1, HTTP API payload 1.0 and 2.0) are checked against the shape
Mangum reads, with pydantic; a malformed one is answered with a JSON 400 instead of an
exception that would count as a Lambda error. Anything else (a warm-up or scheduled ping,
SQS, S3, SNS, EventBridge, null, a list, a string) is a logged, counted no-op.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any, Literal

from mangum import Mangum
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from graphql_api.domain.errors import ErrorCode
from graphql_api.ports import Metrics

logger = logging.getLogger(__name__)

#: Keys only an API Gateway (or ALB) request event has; an event with any of them is meant
#: as an HTTP request, so a malformed one gets an HTTP answer, not a silent no-op.
_HTTP_KEYS = frozenset({"requestContext", "httpMethod", "routeKey", "rawPath", "resource"})


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class _RestContext(_Shape):
    identity: dict[str, Any] = Field(default_factory=dict)


class RestApiEvent(_Shape):
    """REST API (v1) and HTTP API payload 1.0: what Mangum's APIGateway handler reads."""

    resource: StrictStr
    path: StrictStr = Field(min_length=1)
    httpMethod: StrictStr = Field(min_length=1)
    requestContext: _RestContext
    headers: dict[StrictStr, StrictStr] | None = None
    multiValueHeaders: dict[StrictStr, list[StrictStr]] | None = None
    queryStringParameters: dict[StrictStr, StrictStr] | None = None
    multiValueQueryStringParameters: dict[StrictStr, list[StrictStr]] | None = None
    body: StrictStr | None = None
    isBase64Encoded: StrictBool = False


class _Http(_Shape):
    method: StrictStr = Field(min_length=1)
    path: StrictStr = Field(min_length=1)
    sourceIp: StrictStr


class _HttpContext(_Shape):
    http: _Http


class HttpApiEvent(_Shape):
    """HTTP API payload 2.0: what Mangum's HTTPGateway handler reads."""

    version: Literal["2.0"]
    requestContext: _HttpContext
    rawQueryString: StrictStr = ""
    headers: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    cookies: list[StrictStr] | None = None
    body: StrictStr | None = None
    isBase64Encoded: StrictBool = False


class EventGuard:
    """The Lambda function: HTTP events to Mangum, the rest answered without raising."""

    def __init__(self, http: Mangum, metrics: Metrics) -> None:
        self.http = http
        self.metrics = metrics

    def __call__(self, event: Any, context: Any) -> Any:
        if not (isinstance(event, dict) and _HTTP_KEYS & event.keys()):
            return self._ignore(event)
        problem = malformed(event) or self._unreadable(event, context)
        if problem is not None:
            logger.info("malformed API Gateway event", extra={"problem": problem})
            self.metrics.increment("EventsMalformed")
            return _bad_event(event, problem)
        try:
            return self.http(event, context)
        except Exception:
            # The app answers every request itself; this is a last resort so that nothing
            # ever reaches the runtime as a Lambda error.
            logger.exception("the HTTP adapter failed")
            return _response(event, 500, ErrorCode.INTERNAL_SERVER_ERROR, "Unexpected error.")

    def _unreadable(self, event: dict[str, Any], context: Any) -> str | None:
        """What the shape alone cannot tell (a Host header "a:b:c", a port "x"): Mangum
        builds the request's scope here once, as it will to serve it."""
        try:
            self.http.infer(event, context).scope  # noqa: B018 - built for its errors
        except Exception as error:  # any failure means the event is unusable
            return f"it cannot be read as an HTTP request ({type(error).__name__})."
        return None

    def _ignore(self, event: Any) -> dict[str, Any]:
        kind = _kind(event)
        logger.info("event ignored", extra={"event_kind": kind})
        self.metrics.increment("EventsIgnored")
        return {"ignored": True, "kind": kind}


def malformed(event: dict[str, Any]) -> str | None:
    """Why Mangum could not read this API Gateway event, or None when it can."""
    if "version" in event and event["version"] != "1.0":
        model: type[_Shape] = HttpApiEvent
    else:
        model = RestApiEvent
    try:
        parsed = model.model_validate(event)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "event"
        return f"{where}: {first['msg']}"
    body = getattr(parsed, "body", None)
    if getattr(parsed, "isBase64Encoded", False) and body:
        try:
            base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return "body: isBase64Encoded is true but the body is not base64."
    try:  # Mangum encodes the path, headers and body as UTF-8: a lone surrogate cannot be
        json.dumps(event, ensure_ascii=False).encode("utf-8")
    except (ValueError, TypeError, RecursionError):
        return "it holds text that is not valid Unicode."
    return None


def _kind(event: Any) -> str:
    """A short label for the log: the event's source, never its content."""
    if not isinstance(event, dict):
        return type(event).__name__
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        source = records[0].get("eventSource") or records[0].get("EventSource")
        return str(source)[:64] if source else "records"
    source = event.get("source")
    return str(source)[:64] if isinstance(source, str) else "unknown"


def _bad_event(event: dict[str, Any], problem: str) -> dict[str, Any]:
    return _response(
        event, 400, ErrorCode.MALFORMED_EVENT, f"The API Gateway event is malformed: {problem}"
    )


def _response(event: dict[str, Any], status: int, code: str, message: str) -> dict[str, Any]:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    headers = {"content-type": "application/json"}
    response: dict[str, Any] = {
        "statusCode": status,
        "headers": headers,
        "body": body,
        "isBase64Encoded": False,
    }
    if event.get("version") != "2.0":
        response["multiValueHeaders"] = {}
    return response
