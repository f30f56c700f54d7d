"""GraphQL over HTTP, to the GraphQL-over-HTTP specification, in front of the schema.

It decides, in order: the GraphiQL page for browsers; the method (GET and POST only); the
response media type from `Accept` (406 when none fits); CSRF (a simple request must carry
a header that forces a CORS preflight); admission by the access service (maintenance
switch, API key, rate); Apollo's automatic persisted queries; then executes, queries only
over GET. Scopes are not decided here: each field declares its own (gql/permissions.py).

`application/graphql-response+json` responses use the spec's status codes: 400 when the
request never executed (parse, validation and variable errors: no `data`). Legacy
`application/json` responses keep 200 for any well-formed GraphQL response.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from cachetools import LRUCache
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry import Schema
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from graphql_api.access import AccessError, Principal
from graphql_api.bootstrap import Container
from graphql_api.domain.errors import ErrorCode
from graphql_api.gql.context import Context
from graphql_api.gql.errors import MASKED_MESSAGE, should_mask, with_code

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
#: Headers a browser cannot send cross-origin without a CORS preflight.
PREFLIGHT_HEADERS = ("x-api-key", "apollo-require-preflight", "x-apollo-operation-name")
MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit


class RequestRefused(Exception):
    """Refused before execution, with the HTTP status and a stable code."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


class GraphQLEndpoint:
    def __init__(
        self,
        schema: Schema,
        container: Container,
        graphiql: Callable[[Request], Response] | None,
    ) -> None:
        self.schema = schema
        self.container = container
        self.graphiql = graphiql
        self.settings = container.settings
        # Apollo's automatic persisted queries: hash -> query, per process.
        self.persisted: LRUCache[str, str] = LRUCache(maxsize=self.settings.persisted_queries)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        if _wants_page(request):
            if self.graphiql is None:
                return _refusal(JSON, RequestRefused(404, "NOT_FOUND", "GraphiQL is disabled."))
            return self.graphiql(request)
        media_type = JSON
        try:
            if request.method not in ("GET", "POST"):
                raise RequestRefused(405, "METHOD_NOT_ALLOWED", "Use GET or POST.",
                                     {"Allow": "GET, POST"})  # fmt: skip
            media_type = _negotiate(request.headers.get("accept"))
            _check_csrf(request)
            params = await _read_params(request)
            principal = await self.container.access.admit(request.headers.get("x-api-key"))
            query = self._persisted_query(params)
            result = await self._execute(request, params, query, principal)
        except RequestRefused as refusal:
            return _refusal(media_type, refusal)
        except AccessError as error:
            denied = RequestRefused(error.http_status, error.code, str(error), error.http_headers)
            return _refusal(media_type, denied)
        return _result_response(media_type, result)

    def _persisted_query(self, params: dict[str, Any]) -> str:
        query = params.get("query")
        extension = (params.get("extensions") or {}).get("persistedQuery")
        if not isinstance(extension, dict):
            if not isinstance(query, str) or not query:
                raise RequestRefused(400, "BAD_REQUEST", "No GraphQL query in the request.")
            return query
        digest = extension.get("sha256Hash")
        if extension.get("version") != 1 or not isinstance(digest, str):
            raise RequestRefused(
                400,
                "PERSISTED_QUERY_NOT_SUPPORTED",
                "Use persistedQuery version 1 with a sha256Hash.",
            )
        if not query:
            found = self.persisted.get(digest)
            if found is None:
                # Apollo clients answer this by sending the query with its hash.
                raise RequestRefused(200, ErrorCode.PERSISTED_QUERY_NOT_FOUND,
                                     "PersistedQueryNotFound")  # fmt: skip
            return found
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise RequestRefused(400, "PERSISTED_QUERY_HASH_MISMATCH",
                                 "The sha256Hash does not match the query.")  # fmt: skip
        self.persisted[digest] = query
        return str(query)

    async def _execute(
        self, request: Request, params: dict[str, Any], query: str, principal: Principal
    ) -> ExecutionResult:
        variables = params.get("variables")
        if variables is not None and not isinstance(variables, dict):
            raise RequestRefused(400, "BAD_REQUEST", "`variables` must be an object.")
        operation_name = params.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            raise RequestRefused(400, "BAD_REQUEST", "`operationName` must be a string.")
        context = Context(self.container, principal)
        allowed = (
            {OperationType.QUERY}
            if request.method == "GET"
            else {OperationType.QUERY, OperationType.MUTATION}
        )
        started = time.perf_counter()
        try:
            result = await self.schema.execute(
                query,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
                allowed_operation_types=allowed,
            )
        except InvalidOperationTypeError:
            raise RequestRefused(405, "METHOD_NOT_ALLOWED", "Mutations need POST.",
                                 {"Allow": "POST"}) from None  # fmt: skip
        except MissingQueryError:
            raise RequestRefused(400, "BAD_REQUEST", "No GraphQL query in the request.") from None
        metrics = self.container.metrics
        milliseconds = (time.perf_counter() - started) * 1_000
        metrics.observe_ms("RequestLatency", milliseconds, {"operation": _operation(query)})
        if result.errors:
            metrics.increment("RequestErrors")
        return result


def _wants_page(request: Request) -> bool:
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
        and "extensions" not in request.query_params
    )


def _negotiate(accept: str | None) -> str:
    """The response media type the client accepts best; refuse with 406 if none."""
    if not accept:
        return JSON
    best, best_quality = None, 0.0
    for part in accept.split(","):
        media, _, parameters = part.strip().partition(";")
        media = media.strip().lower()
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        candidate = {
            GRAPHQL_RESPONSE_JSON: GRAPHQL_RESPONSE_JSON,
            JSON: JSON,
            "application/*": JSON,
            "*/*": JSON,
        }.get(media)
        # An explicit graphql-response+json wins a tie: it is the spec's own media type.
        better = quality > best_quality or (
            quality == best_quality and candidate == GRAPHQL_RESPONSE_JSON
        )
        if candidate is not None and quality > 0 and better:
            best, best_quality = candidate, quality
    if best is None:
        raise RequestRefused(406, "NOT_ACCEPTABLE",
                             f"Accept {GRAPHQL_RESPONSE_JSON} or {JSON}.")  # fmt: skip
    return best


def _check_csrf(request: Request) -> None:
    """Refuse a "simple" request (one a browser sends cross-site without a preflight)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    forces_preflight = request.method == "POST" and content_type in (JSON, GRAPHQL_RESPONSE_JSON)
    if forces_preflight or any(request.headers.get(h) for h in PREFLIGHT_HEADERS):
        return
    raise RequestRefused(
        400,
        "CSRF_PREFLIGHT_REQUIRED",
        "This request could have come from another site: send it with Content-Type: "
        "application/json, or with an X-API-Key or Apollo-Require-Preflight header.",
    )


async def _read_params(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query_params)
        for name in ("variables", "extensions"):
            if name in params:
                params[name] = _json_object(params[name], name)
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise RequestRefused(415, "UNSUPPORTED_MEDIA_TYPE", "POST bodies must be application/json.")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise RequestRefused(413, "PAYLOAD_TOO_LARGE", "The request body is over 6 MB.")
    try:
        params = json.loads(body)
    except ValueError:
        raise RequestRefused(400, "BAD_REQUEST", "The body is not valid JSON.") from None
    if not isinstance(params, dict):
        raise RequestRefused(400, "BAD_REQUEST", "The body must be a JSON object.")
    return params


def _json_object(raw: str, name: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise RequestRefused(400, "BAD_REQUEST", f"`{name}` is not valid JSON.") from None


@lru_cache(maxsize=256)
def _root_fields(query: str) -> frozenset[str]:
    try:
        document = parse(query)
    except GraphQLError:
        return frozenset()  # execution reports the syntax error
    return frozenset(
        selection.name.value
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
        for selection in definition.selection_set.selections
        if isinstance(selection, FieldNode)
    )


def _operation(query: str) -> str:
    """The metrics' `operation` dimension: the root field (analyze, job, ...)."""
    fields = _root_fields(query)
    if not fields:
        return "invalid"
    return next(iter(fields)) if len(fields) == 1 else "multiple"


def _refusal(media_type: str, refusal: RequestRefused) -> Response:
    error = {"message": str(refusal), "extensions": {"code": str(refusal.code)}}
    retry = refusal.headers.get("Retry-After")
    if retry is not None:
        error["extensions"]["retryAfterSeconds"] = int(retry)  # type: ignore[index]
    body = json.dumps({"errors": [error]})
    return Response(body, refusal.status, refusal.headers, media_type=media_type)


def _result_response(media_type: str, result: ExecutionResult) -> Response:
    body: dict[str, Any] = {}
    executed = result.data is not None or any(e.path for e in result.errors or ())
    if executed:
        body["data"] = result.data
    if result.errors:
        body["errors"] = [_formatted(error) for error in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    status, headers = 200, {}
    if not executed and media_type == GRAPHQL_RESPONSE_JSON:
        status = 400
    refused = _access_refusal(result)
    if refused is not None and result.data is None:
        status, headers = refused.http_status, refused.http_headers
    return Response(json.dumps(body), status, headers, media_type=media_type)


def _formatted(error: GraphQLError) -> dict[str, Any]:
    formatted = with_code(dict(error.formatted), error, executed=error.path is not None)
    if should_mask(error):  # unexpected: the details go to the log, never to the caller
        formatted["message"] = MASKED_MESSAGE
    original = error.original_error
    if isinstance(original, AccessError) and original.http_headers.get("Retry-After"):
        formatted["extensions"]["retryAfterSeconds"] = int(original.http_headers["Retry-After"])
    return formatted


def _access_refusal(result: ExecutionResult) -> AccessError | None:
    """An access decision met while executing (a missing scope, a spent quota, a key store
    outage): when nothing else was answered, the response takes its HTTP status."""
    for error in result.errors or ():
        if isinstance(error.original_error, AccessError):
            return error.original_error
    return None
