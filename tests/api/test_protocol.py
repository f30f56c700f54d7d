"""GraphQL over HTTP as the specification has it, over the ASGI app and the Lambda handler."""

import hashlib
import json
from urllib.parse import urlencode

import pytest

from graphql_api.app import create_app
from graphql_api.bootstrap import bootstrap
from graphql_api.settings import Settings
from tests.fakes import RecordingCache, RecordingEngine
from tests.support import AsgiTransport, Transport, operation, post_graphql

HEALTH = "{ health { status } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def post_raw(client: Transport, body: dict, headers: dict[str, str]):
    return client.request("POST", "/graphql", body=json.dumps(body).encode(), headers=headers)


def get(client: Transport, params: dict, headers: dict[str, str] | None = None):
    query = urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()})
    return client.request("GET", "/graphql", query=query, headers=headers or {})


@pytest.mark.parametrize(
    ("accept", "status", "media_type"),
    [
        (GRAPHQL_RESPONSE, 400, GRAPHQL_RESPONSE),
        ("application/json", 200, "application/json"),
        (f"application/json;q=0.5, {GRAPHQL_RESPONSE}", 400, GRAPHQL_RESPONSE),
        ("*/*", 200, "application/json"),
    ],
)
def test_requests_that_never_execute_get_the_specs_status(client, accept, status, media_type):
    reply = post_graphql(client, "{ health { status ", headers={"accept": accept})

    assert reply.status == status
    assert reply.headers["content-type"].startswith(media_type)
    body = reply.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ nope }", {}, "GRAPHQL_VALIDATION_FAILED"),
        (
            "mutation($i: AnalyzeInput!) { analyze(input: $i) { results { id } } }",
            {"i": 3},
            "BAD_USER_INPUT",
        ),
    ],
)
def test_validation_and_variable_errors_are_400_in_the_spec_media_type(
    client, query, variables, code
):
    reply = post_graphql(client, query, variables, headers={"accept": GRAPHQL_RESPONSE})

    assert reply.status == 400
    assert reply.json()["errors"][0]["extensions"]["code"] == code


def test_an_executed_request_is_200_even_with_field_errors(client):
    reply = post_graphql(
        client, '{ job(id: "missing") { id } }', headers={"accept": GRAPHQL_RESPONSE}
    )

    assert reply.status == 200
    assert reply.json()["data"] == {"job": None}
    assert reply.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_an_unacceptable_accept_header_is_406(client):
    reply = post_graphql(client, HEALTH, headers={"accept": "text/csv"})

    assert reply.status == 406
    assert reply.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


def test_queries_work_over_get_with_a_preflight_header(client):
    reply = get(client, {"query": HEALTH}, {"apollo-require-preflight": "true"})

    assert reply.status == 200
    assert reply.json()["data"]["health"]["status"] == "HEALTHY"


def test_mutations_over_get_are_405(client, engine):
    mutation = 'mutation { analyze(input: {documents: [{text: "hi"}]}) { results { id } } }'

    reply = get(client, {"query": mutation}, {"apollo-require-preflight": "true"})

    assert reply.status == 405
    assert reply.headers["allow"] == "POST"
    assert engine.analyze_calls == []


@pytest.mark.parametrize(
    ("method", "headers", "status", "code"),
    [
        ("GET", {}, 400, "CSRF_PREFLIGHT_REQUIRED"),
        ("POST", {"content-type": "text/plain"}, 400, "CSRF_PREFLIGHT_REQUIRED"),
        (
            "POST",
            {"content-type": "application/x-www-form-urlencoded"},
            400,
            "CSRF_PREFLIGHT_REQUIRED",
        ),
        ("POST", {"content-type": "text/plain", "x-api-key": "k"}, 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("PUT", {"content-type": "application/json"}, 405, "METHOD_NOT_ALLOWED"),
    ],
    ids=["get", "text-plain", "form", "non-json-with-header", "put"],
)
def test_simple_requests_that_could_come_from_another_site_are_refused(
    client, engine, method, headers, status, code
):
    body = json.dumps({"query": HEALTH}).encode()
    query = urlencode({"query": HEALTH}) if method == "GET" else ""

    reply = client.request(
        method, "/graphql", body=b"" if method == "GET" else body, headers=headers, query=query
    )

    assert reply.status == status
    assert reply.json()["errors"][0]["extensions"]["code"] == code


def test_automatic_persisted_queries_follow_apollos_round_trip(client):
    query = operation("Health")
    digest = hashlib.sha256(query.encode()).hexdigest()
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    headers = {"content-type": "application/json", "accept": "application/json"}

    unknown = post_raw(client, {"extensions": extensions}, headers)
    registered = post_raw(client, {"query": query, "extensions": extensions}, headers)
    by_hash = post_raw(client, {"extensions": extensions}, headers)
    cacheable_get = get(client, {"extensions": extensions}, {"apollo-require-preflight": "1"})

    assert unknown.status == 200
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert registered.json()["data"]["health"]["status"] == "HEALTHY"
    assert by_hash.json()["data"]["health"]["status"] == "HEALTHY"
    assert cacheable_get.json()["data"]["health"]["status"] == "HEALTHY"


def test_a_persisted_query_whose_hash_does_not_match_is_refused(client):
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    headers = {"content-type": "application/json"}

    reply = post_raw(client, {"query": HEALTH, "extensions": extensions}, headers)

    assert reply.status == 400
    assert reply.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"


def test_a_body_that_is_not_json_is_400(client):
    reply = client.request(
        "POST", "/graphql", body=b"{not json", headers={"content-type": "application/json"}
    )

    assert reply.status == 400
    assert reply.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_graphiql_and_introspection_default_to_off_on_aws():
    settings = Settings(backend="aws")

    assert not settings.introspection_enabled
    assert not settings.graphiql_enabled
    assert Settings().introspection_enabled


def test_introspection_can_be_turned_off(settings):
    container = bootstrap(
        settings.model_copy(update={"introspection": False, "graphiql": False}),
        engine=RecordingEngine(),
        cache=RecordingCache(),
    )
    client = AsgiTransport(create_app(container=container))

    reply = post_graphql(client, "{ __schema { types { name } } }")
    page = client.request("GET", "/graphql", headers={"accept": "text/html"})

    assert reply.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert page.status == 404
