"""The hostile-input corpus: one or more rows per class of bad request, as an attacker sends it.

Each row is a raw HTTP request and the stable code it must get (in `errors[].extensions.code`
or a document's `error.code`). The same rows run against the ASGI app, through the Lambda
handler with v1 and v2 events (tests/api/test_hostile.py) and against a real server
(tests/e2e/test_hostile_server.py). `EVENTS` holds the Lambda-only rows.

Every answer must also keep the invariants in `check_invariants`: JSON, a stable code on
every error, never a 5xx or a masked internal error, and back within the time budget.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.support import Reply, Transport

#: Seconds any hostile request may take; the slow cases this corpus guards took 3-4 s.
BUDGET_SECONDS = 2.0
JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
ANALYZE = "mutation($i: AnalyzeInput!) { analyze(input: $i) { results { id error { code } } } }"
DOCUMENT = "query($d: DocumentInput!) { analyzeDocument(document: $d) { id error { code } } }"
SUBMIT = "mutation($i: SubmitJobInput!) { submitJob(input: $i) { id status } }"
HEALTH = "{ health { status } }"
PII = "mutation($i: AnalyzeInput!) { analyze(input: $i) { results { piiEntities { type } } } }"


@dataclass(frozen=True)
class Case:
    name: str
    #: The class of issue 14 the row belongs to.
    kind: str
    code: str
    body: Any = None  # a JSON value, or bytes sent as they are
    method: str = "POST"
    path: str = "/graphql"
    query: str = ""
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON_HEADERS))
    #: Statuses allowed besides the code; None: any status under 500.
    statuses: frozenset[int] | None = None
    #: Files to lay out in the data directory first (a symlink loop, ...).
    setup: Callable[[Path], None] | None = None
    #: Text the answer must not contain (the data directory, a suggestion).
    absent: tuple[str, ...] = ()

    def raw_body(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


def gql(query: str, variables: Any = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query, **extra}
    if variables is not None:
        body["variables"] = variables
    return body


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def fragment_bomb(levels: int = 20) -> str:
    fragments = "\n".join(
        f"fragment F{i} on Health {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    return f"query {{ health {{ ...F0 }} }}\n{fragments}\nfragment F{levels} on Health {{ status }}"


#: The tenants of the servers under test: the open local server's, and the keyed one's.
TENANTS = ("local", "acme")


def inbox(data_dir: Path, tenant: str = "local") -> Path:
    """A tenant's inbox, where its job sources live."""
    folder = data_dir / "inbox" / tenant
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def symlink_loop(data_dir: Path) -> None:
    for tenant in TENANTS:
        folder = inbox(data_dir, tenant)
        for name, target in (("loop-a", "loop-b"), ("loop-b", "loop-a")):
            if not (folder / name).is_symlink():
                (folder / name).symlink_to(folder / target)


def _documents(*texts: str, language: str | None = None) -> dict[str, Any]:
    documents = [{"id": f"d{i}", "text": t} for i, t in enumerate(texts)]
    if language is not None:
        for document in documents:
            document["languageCode"] = language
    return {"i": {"documents": documents}}


PERSISTED = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}

CASES: list[Case] = [
    # 1. Parameters of the wrong JSON type, unknown or missing operation names.
    *(
        Case(f"extensions-{name}", "parameters", "BAD_REQUEST", gql(HEALTH, extensions=value))
        for name, value in (("string", "x"), ("number", 1), ("true", True), ("array", [1]))
    ),
    *(
        Case(f"variables-{name}", "parameters", "BAD_REQUEST", gql(HEALTH, value))
        for name, value in (("string", "x"), ("array", []), ("number", 3))
    ),
    Case("query-number", "parameters", "BAD_REQUEST", {"query": 5}),
    Case("query-object", "parameters", "BAD_REQUEST", {"query": {"a": 1}}),
    Case("operation-name-number", "parameters", "BAD_REQUEST", gql(HEALTH, operationName=1)),
    Case(
        "persisted-query-string",
        "parameters",
        "BAD_REQUEST",
        gql(HEALTH, extensions={"persistedQuery": "x"}),
    ),
    Case(
        "query-number-beside-persisted-query",
        "parameters",
        "BAD_REQUEST",
        {"query": 1, "extensions": PERSISTED},
    ),
    Case(
        "operation-name-unknown",
        "parameters",
        "OPERATION_RESOLUTION_FAILURE",
        gql(HEALTH, operationName="Nope"),
        statuses=frozenset({400}),
    ),
    Case(
        "operation-name-empty",
        "parameters",
        "OPERATION_RESOLUTION_FAILURE",
        gql("query A { health { status } }", operationName=""),
    ),
    Case(
        "two-operations-without-operation-name",
        "protocol",
        "OPERATION_RESOLUTION_FAILURE",
        gql("query A { health { status } } query B { health { version } }"),
    ),
    Case("body-a-list", "parameters", "BAD_REQUEST", [1, 2]),
    Case("body-a-string", "parameters", "BAD_REQUEST", "query"),
    Case("body-null", "parameters", "BAD_REQUEST", b"null"),
    Case("body-not-json", "parameters", "BAD_REQUEST", b"{nope"),
    Case("body-not-utf8", "parameters", "BAD_REQUEST", b'{"query": "\xff\xfe"}'),
    Case(
        "query-over-20kb",
        "parameters",
        "PAYLOAD_TOO_LARGE",
        gql("{ health { status } }" + " " * 30_000),
        statuses=frozenset({413}),
    ),
    Case(
        "get-query-string-40kb",
        "parameters",
        "URI_TOO_LONG",
        method="GET",
        # 40 KB: HTTP clients refuse URLs over 64 KB themselves; the e2e test sends 100 KB.
        query=urlencode({"query": "{ health { status } }" + " " * 40_000}),
        headers={"accept": "application/json", "apollo-require-preflight": "1"},
        statuses=frozenset({414}),
    ),
    Case(
        "get-variables-not-json",
        "parameters",
        "BAD_REQUEST",
        method="GET",
        query=urlencode({"query": HEALTH, "variables": "{nope"}),
        headers={"accept": "application/json", "apollo-require-preflight": "1"},
    ),
    Case(
        "get-extensions-a-number",
        "parameters",
        "BAD_REQUEST",
        method="GET",
        query=urlencode({"query": HEALTH, "extensions": "3"}),
        headers={"accept": "application/json", "apollo-require-preflight": "1"},
    ),
    # 2. Deep JSON, refused before anything walks it.
    Case(
        "variables-100000-deep",
        "deep-json",
        "BAD_REQUEST",
        b'{"query": "{ health { status } }", "variables": {"a": ' + deep(100_000) + b"}}",
    ),
    Case("body-100000-deep", "deep-json", "BAD_REQUEST", deep(100_000)),
    Case("body-2000-deep", "deep-json", "BAD_REQUEST", deep(2_000)),
    Case(
        "variables-33-deep",
        "deep-json",
        "BAD_REQUEST",
        b'{"query": "{ health { status } }", "variables": {"a": ' + deep(33) + b"}}",
    ),
    Case(
        "get-variables-5000-deep",
        "deep-json",
        "BAD_REQUEST",
        method="GET",
        query=urlencode({"query": HEALTH, "variables": deep(5_000).decode()}),
        headers={"accept": "application/json", "apollo-require-preflight": "1"},
    ),
    Case(
        "extensions-100000-deep",
        "deep-json",
        "BAD_REQUEST",
        b'{"query": "{ health { status } }", "extensions": {"a": ' + deep(100_000) + b"}}",
    ),
    # 3. Lone surrogates and NUL: the document fails alone, the others are answered.
    Case(
        "text-lone-surrogate",
        "invalid-text",
        "INVALID_TEXT",
        gql(ANALYZE, _documents("\ud800", "A fine day.")),
    ),
    Case("text-nul", "invalid-text", "INVALID_TEXT", gql(ANALYZE, _documents("bad\x00text"))),
    Case(
        "id-lone-surrogate",
        "invalid-text",
        "INVALID_TEXT",
        gql(ANALYZE, {"i": {"documents": [{"id": "\udfff", "text": "Fine."}]}}),
    ),
    Case(
        "document-lone-surrogate",
        "invalid-text",
        "INVALID_TEXT",
        gql(DOCUMENT, {"d": {"text": "a \udc00 b"}}),
    ),
    Case(
        "surrogate-escape-pair-reversed",
        "invalid-text",
        "INVALID_TEXT",
        b'{"query": "' + ANALYZE.replace('"', '\\"').encode() + b'", "variables": {"i": '
        b'{"documents": [{"text": "\\udc00\\ud800"}]}}}',
    ),
    Case(
        "idempotency-key-lone-surrogate",
        "invalid-text",
        "BAD_USER_INPUT",
        gql(SUBMIT, {"i": {"documents": [{"text": "Fine."}], "idempotencyKey": "k\ud800"}}),
    ),
    Case(
        "idempotency-key-nul",
        "invalid-text",
        "BAD_USER_INPUT",
        gql(SUBMIT, {"i": {"documents": [{"text": "Fine."}], "idempotencyKey": "k\x00"}}),
    ),
    Case(
        "job-id-lone-surrogate",
        "invalid-text",
        "NOT_FOUND",
        gql("query($id: ID!) { job(id: $id) { id } }", {"id": "\ud800"}),
    ),
    Case(
        "job-id-nul",
        "invalid-text",
        "NOT_FOUND",
        gql("query($id: ID!) { job(id: $id) { id } }", {"id": "a\x00b"}),
    ),
    *(
        Case(
            f"source-{name}",
            "invalid-text",
            "SOURCE_UNREADABLE",
            gql(SUBMIT, {"i": {"source": source}}),
            setup=symlink_loop if name == "symlink-loop" else None,
        )
        for name, source in (
            ("lone-surrogate", "in\ud800.jsonl"),
            ("nul", "in\x00.jsonl"),
            ("300-characters", "a" * 300 + ".jsonl"),
            ("4096-characters", "a/" * 2_048),
            ("symlink-loop", "loop-a"),
            ("outside-the-data-dir", "../../../../etc/passwd"),
            ("absolute", "/etc/passwd"),
        )
    ),
    Case(
        "language-code-trailing-newline",
        "protocol",
        "INVALID_LANGUAGE_CODE",
        gql(ANALYZE, _documents("A fine day.", language="en\n")),
    ),
    Case(
        "language-code-lone-surrogate",
        "invalid-text",
        "INVALID_LANGUAGE_CODE",
        gql(ANALYZE, _documents("A fine day.", language="e\ud800")),
    ),
    # 4. Cursors: junk, of another kind, made up.
    *(
        Case(
            f"jobs-cursor-{name}",
            "cursors",
            "BAD_USER_INPUT",
            gql("query($a: String) { jobs(after: $a) { edges { cursor } } }", {"a": cursor}),
        )
        for name, cursor in (
            ("junk", "junk"),
            ("empty", ""),
            ("lone-surrogate", "\ud800"),
            ("old-format", "am9iOjEyMw=="),  # base64 of "job:123", the old encoding
            ("result-kind", "cmVzdWx0LnYxOjM="),  # base64 of "result.v1:3"
            ("infinite", "am9iLnYxOmluZnxh"),  # base64 of "job.v1:inf|a"
            ("long", "A" * 5_000),
        )
    ),
    # 5. Out-of-range values.
    Case(
        "first-negative",
        "out-of-range",
        "BAD_USER_INPUT",
        gql("{ jobs(first: -1) { edges { cursor } } }"),
    ),
    Case(
        "first-too-large",
        "out-of-range",
        "BAD_USER_INPUT",
        gql("{ jobs(first: 100000) { edges { cursor } } }"),
    ),
    Case(
        "first-over-32-bits",
        "out-of-range",
        "BAD_USER_INPUT",
        gql("query($n: Int) { jobs(first: $n) { edges { cursor } } }", {"n": 2**40}),
    ),
    Case(
        "usage-from-after-to",
        "out-of-range",
        "BAD_USER_INPUT",
        gql('{ usage(fromDay: "2024-02-01", toDay: "2024-01-01") { day } }'),
    ),
    Case(
        "usage-day-not-a-date",
        "out-of-range",
        "BAD_USER_INPUT",
        gql("query($d: Date) { usage(toDay: $d) { day } }", {"d": "2024-13-45"}),
    ),
    Case(
        "usage-day-year-zero",
        "out-of-range",
        "BAD_USER_INPUT",
        gql("query($d: Date) { usage(toDay: $d) { day } }", {"d": "0000-01-01"}),
    ),
    Case(
        "usage-more-than-366-days",
        "out-of-range",
        "BAD_USER_INPUT",
        gql('{ usage(fromDay: "0001-01-01", toDay: "9999-12-31") { day } }'),
    ),
    # 6. Unbounded cost: refused or answered fast.
    Case("fragment-bomb", "cost", "GRAPHQL_VALIDATION_FAILED", gql(fragment_bomb())),
    Case(
        "aliases-through-fragments",
        "cost",
        "GRAPHQL_VALIDATION_FAILED",
        gql(
            "{ ...A ...A }\nfragment A on Query { "
            + " ".join(f"a{i}: health {{ status }}" for i in range(20))
            + " }"
        ),
    ),
    Case(
        "fragment-cycle",
        "cost",
        "GRAPHQL_VALIDATION_FAILED",
        gql("{ health { ...A } }\nfragment A on Health { ...B }\nfragment B on Health { ...A }"),
    ),
    Case(
        "tokens-over-the-limit",
        "cost",
        "GRAPHQL_PARSE_FAILED",
        gql("{ health { components { name " + "name " * 3_000 + "} } }"),
    ),
    Case(
        "selection-nesting-deep",
        "cost",
        "GRAPHQL_PARSE_FAILED",
        gql("{" * 1_500 + "}" * 1_500),
    ),
    Case(
        "pii-phone-backtracking",
        "cost",
        "OK",
        gql(
            PII,
            {"i": {"documents": [{"text": "+1" + "2" * 38}] * 10, "pii": "DETECT"}},
        ),
    ),
    # 7. Protocol edges.
    *(
        Case(
            f"method-{method.lower()}",
            "protocol",
            "METHOD_NOT_ALLOWED",
            method=method,
            statuses=frozenset({405}),
        )
        for method in ("OPTIONS", "TRACE", "PUT", "DELETE", "PATCH")
    ),
    Case("unknown-path", "protocol", "NOT_FOUND", method="GET", path="/nope"),
    Case(
        "unknown-path-post",
        "protocol",
        "NOT_FOUND",
        gql(HEALTH),
        path="/graphql/x",
    ),
    Case("health-post", "protocol", "METHOD_NOT_ALLOWED", method="POST", path="/v1/health"),
    Case(
        "no-suggestions",
        "protocol",
        "GRAPHQL_VALIDATION_FAILED",
        gql("{ healt { status } }"),
        absent=("Did you mean",),
    ),
    Case(
        "no-suggestions-in-arguments",
        "protocol",
        "GRAPHQL_VALIDATION_FAILED",
        gql('{ analyzeDocument(document: {txt: "a"}) { id } }'),
        absent=("Did you mean",),
    ),
    Case(
        "no-suggestions-in-variables",
        "protocol",
        "BAD_USER_INPUT",
        gql(DOCUMENT, {"d": {"txt": "a"}}),
        absent=("Did you mean",),
    ),
]

#: Rows that hold only where introspection is off (the AWS default).
INTROSPECTION_OFF_ONLY = frozenset(
    {"no-suggestions", "no-suggestions-in-arguments", "no-suggestions-in-variables"}
)


def codes(answer: Any) -> set[str]:
    """Every `extensions.code` and document `error.code` anywhere in a GraphQL answer."""
    found: set[str] = set()
    stack = [answer]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            extensions = item.get("extensions")
            if isinstance(extensions, dict) and isinstance(extensions.get("code"), str):
                found.add(extensions["code"])
            error = item.get("error")
            if isinstance(error, dict) and isinstance(error.get("code"), str):
                found.add(error["code"])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


def check_invariants(reply: Reply, seconds: float) -> Any:
    """What every answer to hostile input keeps; returns the parsed answer."""
    assert reply.status < 500, (reply.status, reply.body[:300])
    assert reply.headers.get("content-type", "").startswith(
        ("application/json", "application/graphql-response+json")
    ), reply.headers
    answer = json.loads(reply.body)
    assert isinstance(answer, dict), answer
    for error in answer.get("errors") or ():
        assert isinstance(error.get("extensions", {}).get("code"), str), error
    assert "INTERNAL_SERVER_ERROR" not in codes(answer), answer
    assert "Unexpected error." not in reply.body.decode(errors="replace")
    assert seconds < BUDGET_SECONDS, f"{seconds:.2f}s"
    return answer


def send(transport: Transport, case: Case) -> tuple[Reply, float]:
    started = time.perf_counter()
    reply = transport.request(
        case.method, case.path, body=case.raw_body(), headers=case.headers, query=case.query
    )
    return reply, time.perf_counter() - started


def check_case(case: Case, reply: Reply, seconds: float, data_dir: Path | None = None) -> None:
    answer = check_invariants(reply, seconds)
    if case.statuses is not None:
        assert reply.status in case.statuses, reply.status
    found = codes(answer)
    if case.code == "OK":
        assert not answer.get("errors"), answer
    else:
        assert case.code in found, (case.code, answer)
    text = reply.body.decode(errors="replace")
    for absent in (*case.absent, *((str(data_dir.resolve()),) if data_dir else ())):
        assert absent not in text, absent


# --- Lambda events: what reaches the function that is not a good API Gateway request ------

#: Events that are not HTTP at all: each a logged, counted no-op.
IGNORED_EVENTS: dict[str, Any] = {
    "null": None,
    "empty-object": {},
    "list": [1, 2],
    "string": "ping",
    "number": 7,
    "true": True,
    "warm-up": {"warmer": True, "concurrency": 1},
    "scheduled": {
        "version": "0",
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/warm"],
        "detail": {},
    },
    "sqs": {"Records": [{"messageId": "1", "eventSource": "aws:sqs", "body": "{}"}]},
    "s3": {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}}}]},
    "sns": {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "x"}}]},
    "eventbridge": {"source": "custom.app", "detail-type": "Thing", "detail": {"a": 1}},
}


def spoiled_events(good: dict[str, Any], version: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Malformed API Gateway events, each one change away from a good one."""

    def spoil(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        event = copy.deepcopy(good)
        change(event)
        return event

    yield "bad-base64", spoil(lambda e: e.update(isBase64Encoded=True, body="!!not base64!!"))
    yield "base64-flag-on-plain-body", spoil(lambda e: e.update(isBase64Encoded=True))
    yield "no-headers-object", spoil(lambda e: e.update(headers="x"))
    yield "headers-a-number", spoil(lambda e: e.update(headers=1))
    yield "no-request-context", spoil(lambda e: e.pop("requestContext"))
    yield "request-context-a-string", spoil(lambda e: e.update(requestContext="x"))
    if version == "v1":
        yield "no-method", spoil(lambda e: e.pop("httpMethod"))
    else:
        yield "no-method", spoil(lambda e: e["requestContext"]["http"].pop("method"))
        yield "headers-null", spoil(lambda e: e.update(headers=None))
    yield "version-3", spoil(lambda e: e.update(version="3.0"))
    yield "header-value-a-number", spoil(lambda e: e["headers"].update({"x-count": 5}))
    yield "header-value-a-list", spoil(lambda e: e["headers"].update({"x-list": ["a"]}))
    yield "body-a-number", spoil(lambda e: e.update(body=5))
    yield "base64-flag-a-string", spoil(lambda e: e.update(isBase64Encoded="yes"))
    yield "body-lone-surrogate", spoil(lambda e: e.update(body='{"query": "\ud800"}'))

    def set_headers(event: dict[str, Any], values: dict[str, str]) -> None:
        for name in [n for n in event["headers"] if n.lower() in values]:
            del event["headers"][name]
        event["headers"].update(values)
        if event.get("multiValueHeaders"):  # v1: Mangum reads these over `headers`
            for name in [n for n in event["multiValueHeaders"] if n.lower() in values]:
                del event["multiValueHeaders"][name]
            event["multiValueHeaders"].update({k: [v] for k, v in values.items()})

    yield "host-with-two-colons", spoil(lambda e: set_headers(e, {"host": "a:b:c"}))
    yield (
        "port-not-a-number",
        spoil(lambda e: set_headers(e, {"host": "h", "x-forwarded-port": "x"})),
    )
