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
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry import Schema
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
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
#: The longest query document: this schema's largest useful query is a few KB, and parsing,
#: validating and caching cost grows with the text.
MAX_QUERY_BYTES = 20_000
#: A GET query string: a query (the 20 KB cap applies) and its variables, percent-encoded.
MAX_QUERY_STRING_BYTES = 32 * 1024
#: The deepest JSON a request may carry; AnalyzeInput needs 5 levels. Deeper JSON is refused
#: before anything recursive (authentication, coercion, logging) walks it.
MAX_JSON_DEPTH = 32


class RequestRefused(Exception):
    """Refused before execution, with the HTTP status and a stable code."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.headers = status, code, headers or {}


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    """The GraphQL-over-HTTP request parameters, each of the type the specification gives."""

    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    persisted_query: dict[str, Any] | None


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
                return _refusal(
                    JSON, RequestRefused(404, ErrorCode.NOT_FOUND, "GraphiQL is disabled.")
                )
            return self.graphiql(request)
        media_type = JSON
        try:
            if request.method not in ("GET", "POST"):
                raise RequestRefused(405, ErrorCode.METHOD_NOT_ALLOWED, "Use GET or POST.",
                                     {"Allow": "GET, POST"})  # fmt: skip
            media_type = _negotiate(request.headers.get("accept"))
            _check_csrf(request)
            params = _validated(await _read_params(request))
            principal = await self.container.access.admit(request.headers.get("x-api-key"))
            query = self._persisted_query(params)
            result = await self._execute(request, params, query, principal)
        except RequestRefused as refusal:
            return _refusal(media_type, refusal)
        except AccessError as error:
            denied = RequestRefused(error.http_status, error.code, str(error), error.http_headers)
            return _refusal(media_type, denied)
        return _result_response(media_type, result, self.settings.introspection_enabled)

    def _persisted_query(self, params: GraphQLParams) -> str:
        query, extension = params.query, params.persisted_query
        if extension is None:
            if not query:
                raise RequestRefused(400, ErrorCode.BAD_REQUEST, "No GraphQL query in the request.")
            return query
        digest = extension.get("sha256Hash")
        if extension.get("version") != 1 or not isinstance(digest, str):
            raise RequestRefused(
                400,
                ErrorCode.PERSISTED_QUERY_NOT_SUPPORTED,
                "Use persistedQuery version 1 with a sha256Hash.",
            )
        if not query:
            found = self.persisted.get(digest)
            if found is None:
                # Apollo clients answer this by sending the query with its hash.
                raise RequestRefused(200, ErrorCode.PERSISTED_QUERY_NOT_FOUND,
                                     "PersistedQueryNotFound")  # fmt: skip
            return found
        if hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest() != digest:
            raise RequestRefused(400, ErrorCode.PERSISTED_QUERY_HASH_MISMATCH,
                                 "The sha256Hash does not match the query.")  # fmt: skip
        self.persisted[digest] = query
        return query

    async def _execute(
        self, request: Request, params: GraphQLParams, query: str, principal: Principal
    ) -> ExecutionResult:
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
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=allowed,
            )
        except InvalidOperationTypeError:
            raise RequestRefused(405, ErrorCode.METHOD_NOT_ALLOWED, "Mutations need POST.",
                                 {"Allow": "POST"}) from None  # fmt: skip
        except MissingQueryError:
            raise RequestRefused(
                400, ErrorCode.BAD_REQUEST, "No GraphQL query in the request."
            ) from None
        except CannotGetOperationTypeError as error:
            raise RequestRefused(
                400, ErrorCode.OPERATION_RESOLUTION_FAILURE, _unresolved(error)
            ) from None
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
        raise RequestRefused(406, ErrorCode.NOT_ACCEPTABLE,
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
        ErrorCode.CSRF_PREFLIGHT_REQUIRED,
        "This request could have come from another site: send it with Content-Type: "
        "application/json, or with an X-API-Key or Apollo-Require-Preflight header.",
    )


async def _read_params(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        if len(request.scope.get("query_string", b"")) > MAX_QUERY_STRING_BYTES:
            message = "The query string is over 32 KB: send the query with POST."
            raise RequestRefused(414, ErrorCode.URI_TOO_LONG, message)
        params: dict[str, Any] = dict(request.query_params)
        for name in ("variables", "extensions"):
            if name in params:
                params[name] = load_json(params[name].encode("utf-8", "surrogatepass"), name)
        return params
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise RequestRefused(
            415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "POST bodies must be application/json."
        )
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise RequestRefused(413, ErrorCode.PAYLOAD_TOO_LARGE, "The request body is over 6 MB.")
    params = load_json(body, "The body")
    if not isinstance(params, dict):
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "The body must be a JSON object.")
    return params


def load_json(raw: bytes, name: str) -> Any:
    """Parse JSON at most MAX_JSON_DEPTH deep; anything else is a 400, never a crash.

    The standard library's parser keeps escaped lone surrogates ("\\ud800"), which are valid
    JSON and must reach per-document validation (INVALID_TEXT); past ~1,000 levels it raises
    RecursionError, caught here, and anything deeper than the limit is refused after parsing
    by an iterative walk.
    """
    too_deep = RequestRefused(
        400, ErrorCode.BAD_REQUEST, f"{_label(name)} is nested over {MAX_JSON_DEPTH} levels."
    )
    try:
        value = json.loads(raw)
    except RecursionError:
        raise too_deep from None
    except ValueError:  # also UnicodeDecodeError: bytes that are not UTF-8
        raise RequestRefused(
            400, ErrorCode.BAD_REQUEST, f"{_label(name)} is not valid JSON."
        ) from None
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise too_deep
    return value


def _label(name: str) -> str:
    return name if name[0].isupper() else f"`{name}`"


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when containers nest deeper than `limit`; iterative, so any depth is safe."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _validated(params: dict[str, Any]) -> GraphQLParams:
    """Each parameter of its specified type, refused with BAD_REQUEST otherwise."""
    query = params.get("query")
    if query is not None and not isinstance(query, str):
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "`query` must be a string.")
    if query is not None and len(query) > MAX_QUERY_BYTES:
        raise RequestRefused(413, ErrorCode.PAYLOAD_TOO_LARGE,
                             f"The query is over {MAX_QUERY_BYTES:,} characters.")  # fmt: skip
    variables = params.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "`variables` must be an object.")
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "`operationName` must be a string.")
    extensions = params.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestRefused(400, ErrorCode.BAD_REQUEST, "`extensions` must be an object.")
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is not None and not isinstance(persisted, dict):
        raise RequestRefused(
            400, ErrorCode.BAD_REQUEST, "`extensions.persistedQuery` must be an object."
        )
    return GraphQLParams(query, variables, operation_name, persisted)


def _unresolved(error: CannotGetOperationTypeError) -> str:
    if error.operation_name is None:
        return "The document has no operation, or several: name one with operationName."
    return "operationName names no operation in the document."


#: Root fields per query digest: bounded by entries, and by the query size cap in bytes.
_ROOT_FIELDS: LRUCache[bytes, frozenset[str]] = LRUCache(maxsize=256)


def _root_fields(query: str) -> frozenset[str]:
    digest = hashlib.sha256(query.encode("utf-8", "surrogatepass")).digest()
    found = _ROOT_FIELDS.get(digest)
    if found is None:
        found = _ROOT_FIELDS[digest] = _parse_root_fields(query)
    return found


def _parse_root_fields(query: str) -> frozenset[str]:
    try:
        document = parse(query, no_location=True, max_tokens=MAX_QUERY_BYTES)
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


def json_refusal(status: int, code: str, message: str, headers: dict[str, str]) -> Response:
    """A refusal outside the GraphQL endpoint (unknown path or method) in the same shape."""
    return _refusal(JSON, RequestRefused(status, code, message, headers))


def _refusal(media_type: str, refusal: RequestRefused) -> Response:
    error = {"message": str(refusal), "extensions": {"code": str(refusal.code)}}
    retry = refusal.headers.get("Retry-After")
    if retry is not None:
        error["extensions"]["retryAfterSeconds"] = int(retry)  # type: ignore[index]
    body = json.dumps({"errors": [error]})
    return Response(body, refusal.status, refusal.headers, media_type=media_type)


def _result_response(
    media_type: str, result: ExecutionResult, schema_visible: bool = True
) -> Response:
    body: dict[str, Any] = {}
    executed = result.data is not None or any(e.path for e in result.errors or ())
    if executed:
        body["data"] = result.data
    if result.errors:
        body["errors"] = [_formatted(error, schema_visible) for error in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    status, headers = 200, {}
    if not executed and media_type == GRAPHQL_RESPONSE_JSON:
        status = 400
    refused = _access_refusal(result)
    if refused is not None and result.data is None:
        status, headers = refused.http_status, refused.http_headers
    return Response(json.dumps(body), status, headers, media_type=media_type)


#: graphql-core's "Did you mean 'health'?" hints, which rebuild a hidden schema field by field.
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


def _formatted(error: GraphQLError, schema_visible: bool = True) -> dict[str, Any]:
    formatted = with_code(dict(error.formatted), error, executed=error.path is not None)
    if should_mask(error):  # unexpected: the details go to the log, never to the caller
        formatted["message"] = MASKED_MESSAGE
    elif not schema_visible:  # introspection off: suggestions would reveal the schema anyway
        formatted["message"] = _SUGGESTION.sub("", formatted["message"])
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
