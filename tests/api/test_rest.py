"""The runbook's REST endpoints: the same keys, scopes, quota, metering and error codes as
GraphQL, over the ASGI app and through the Lambda handler with v1 and v2 events."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from graphql_api.access import Limits, Scope
from graphql_api.access.limits import utc_day
from graphql_api.bootstrap import Container, bootstrap
from graphql_api.settings import Settings
from tests.api.conftest import make_transport
from tests.fakes import RecordingCache, RecordingEngine, RecordingRunner
from tests.support import Reply, Transport, run

TRANSPORTS = ["asgi", "lambda-v2", "lambda-v1"]
#: The runbook's performance test bodies, unchanged.
RUNBOOK_SYNC = {"text": "This is a test message for performance testing"}
RUNBOOK_ASYNC = {"text": "This is a large document for async processing test"}


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    # Jobs are only recorded as started: each test runs the one it needs, on its own loop,
    # so nothing runs a job behind the test's back between two requests.
    container = bootstrap(
        settings.model_copy(update={"auth": "required"}),
        engine=RecordingEngine(),
        cache=RecordingCache(),
        runner=RecordingRunner(),
    )
    yield container
    container.close()


@pytest.fixture(params=TRANSPORTS)
def api(request, container: Container) -> Transport:
    return make_transport(request.param, container)


def key(container: Container, *scopes: Scope, quota: int = 1_000) -> str:
    limits = Limits(rate_per_second=1_000, burst=1_000, daily_document_quota=quota)
    created = run(container.access.create_key("acme", set(scopes) or set(Scope), limits=limits))
    return created.key


def post(api: Transport, path: str, body: object, api_key: str | None) -> Reply:
    headers = {"content-type": "application/json"}
    if api_key:
        headers["x-api-key"] = api_key
    return api.request("POST", path, body=json.dumps(body).encode(), headers=headers)


def code(reply: Reply) -> str:
    return str(reply.json()["errors"][0]["extensions"]["code"])


def test_the_runbooks_sync_request_is_answered_like_graphql(api, container):
    reply = post(api, "/v1/analyze/sync", RUNBOOK_SYNC, key(container))

    assert reply.status == 200
    result = reply.json()
    assert result["sentiment"] == "NEUTRAL"
    assert set(result["scores"]) == {"positive", "negative", "neutral", "mixed"}
    assert {"languageCode", "cached", "engine", "textHash", "degraded", "error"} <= set(result)


def test_documents_are_answered_in_order_with_per_document_errors(api, container):
    body = {"documents": [{"text": "good", "id": "a"}, {"text": "", "id": "b"}], "pii": "DETECT"}

    reply = post(api, "/v1/analyze/sync", body, key(container))

    results = reply.json()["results"]
    assert [r["id"] for r in results] == ["a", "b"]
    assert results[0]["sentiment"] == "POSITIVE"
    assert results[1]["error"]["code"] == "EMPTY_TEXT"


def test_the_runbooks_async_request_starts_a_job_and_its_location_reports_it(api, container):
    api_key = key(container)
    started = post(api, "/v1/analyze/async", RUNBOOK_ASYNC, api_key)

    assert started.status == 202
    job = started.json()
    assert started.headers["location"] == f"/v1/jobs/{job['id']}"
    assert container.jobs.runner.started == [job["id"]]  # type: ignore[attr-defined]
    run(container.jobs.run(job["id"]))
    status = api.request("GET", started.headers["location"], headers={"x-api-key": api_key})
    page = status.json()
    assert status.status == 200
    assert page["job"]["status"] == "SUCCEEDED"
    assert [r["sentiment"] for r in page["results"]] == ["NEUTRAL"]
    assert page["nextOffset"] is None


@pytest.mark.parametrize(
    ("path", "body", "scopes", "status", "expected"),
    [
        ("/v1/analyze/sync", RUNBOOK_SYNC, None, 401, "UNAUTHENTICATED"),
        ("/v1/analyze/sync", RUNBOOK_SYNC, {Scope.JOBS}, 403, "FORBIDDEN"),
        ("/v1/analyze/async", RUNBOOK_ASYNC, {Scope.ANALYZE}, 403, "FORBIDDEN"),
        ("/v1/analyze/sync", {}, set(Scope), 400, "BAD_REQUEST"),
        ("/v1/analyze/sync", {"text": "a", "documents": []}, set(Scope), 400, "BAD_REQUEST"),
        ("/v1/analyze/sync", {"text": 42}, set(Scope), 400, "BAD_REQUEST"),
        ("/v1/analyze/sync", [], set(Scope), 400, "BAD_REQUEST"),
        ("/v1/analyze/sync", {"text": "a", "surprise": 1}, set(Scope), 400, "BAD_REQUEST"),
        ("/v1/analyze/sync", {"documents": [{"text": "x"}] * 101}, set(Scope), 400,
         "TOO_MANY_DOCUMENTS"),
        ("/v1/analyze/async", {"source": "/etc/passwd"}, set(Scope), 400, "SOURCE_UNREADABLE"),
        ("/v1/analyze/async", {"documents": []}, set(Scope), 400, "NO_DOCUMENTS"),
    ],
)  # fmt: skip
def test_refusals_carry_graphqls_codes(api, container, path, body, scopes, status, expected):
    api_key = None if scopes is None else key(container, *scopes)

    reply = post(api, path, body, api_key)

    assert (reply.status, code(reply)) == (status, expected), reply.json()


@pytest.mark.parametrize(
    ("path", "status", "expected"),
    [
        ("/v1/jobs/00000000-0000-4000-8000-000000000000", 404, "NOT_FOUND"),
        ("/v1/jobs/x?offset=-1", 400, "BAD_USER_INPUT"),
        ("/v1/jobs/x?limit=%C2%B2", 400, "BAD_USER_INPUT"),
        ("/v1/jobs/x?limit=100000", 400, "BAD_USER_INPUT"),
    ],
)
def test_job_reads_are_checked(api, container, path, status, expected):
    path, _, query = path.partition("?")

    reply = api.request("GET", path, query=query, headers={"x-api-key": key(container)})

    assert (reply.status, code(reply)) == (status, expected)


def test_a_body_that_is_not_json_is_refused_with_a_code(api, container):
    headers = {"x-api-key": key(container)}
    plain = api.request(
        "POST",
        "/v1/analyze/sync",
        body=b"text=hi",
        headers={**headers, "content-type": "text/plain"},
    )
    broken = api.request(
        "POST",
        "/v1/analyze/sync",
        body=b'{"text": ',
        headers={**headers, "content-type": "application/json"},
    )
    deep = api.request(
        "POST",
        "/v1/analyze/sync",
        body=b'{"text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        headers={**headers, "content-type": "application/json"},
    )

    assert (plain.status, code(plain)) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert (broken.status, code(broken)) == (400, "BAD_REQUEST")
    assert (deep.status, code(deep)) == (400, "BAD_REQUEST")


def test_the_daily_quota_and_metering_are_shared_with_graphql(api, container):
    api_key = key(container, quota=3)
    graphql = {
        "query": 'mutation { analyze(input: {documents: [{text: "good"}, {text: "fine"}]})'
        " { results { sentiment } } }"
    }

    first = post(api, "/v1/analyze/sync", RUNBOOK_SYNC, api_key)
    second = post(api, "/graphql", graphql, api_key)
    refused = post(api, "/v1/analyze/sync", RUNBOOK_SYNC, api_key)

    assert (first.status, second.status) == (200, 200)
    assert (refused.status, code(refused)) == (429, "RATE_LIMITED")
    assert int(refused.headers["retry-after"]) >= 1
    (record,) = run(container.access.list_keys("acme"))
    today = utc_day(container.access.clock.now())
    (usage,) = run(container.access.key_usage(record.key_id, today, today))
    assert usage.documents == 3


def test_the_openapi_document_is_served(api):
    reply = api.request("GET", "/v1/openapi.json")

    assert reply.status == 200
    document = reply.json()
    assert document["openapi"].startswith("3.1")
    assert {"/v1/analyze/sync", "/v1/analyze/async", "/v1/jobs/{job_id}"} <= set(document["paths"])


def test_personal_data_and_sentences_come_back_as_in_graphql(api, container):
    body = {"text": "Great food. Mail me at ana@example.com", "pii": "REDACT", "sentences": True}

    result = post(api, "/v1/analyze/sync", body, key(container)).json()

    assert [e["type"] for e in result["piiEntities"]] == ["EMAIL"]
    assert result["redactedText"] == "Great food. Mail me at [EMAIL]"
    assert result["sentences"] is None or all(
        {"text", "beginOffset", "endOffset", "sentiment", "scores"} <= set(s)
        for s in result["sentences"]
    )
