"""The hostile corpus (tests/hostile.py) against the ASGI app and through the Lambda handler.

The app runs as on AWS by default: introspection off, so validation messages must not
suggest field names either.
"""

from pathlib import Path

import pytest

from graphql_api.adapters.memory import InMemoryMetrics
from graphql_api.bootstrap import bootstrap
from graphql_api.settings import Settings
from tests.api.conftest import TRANSPORTS, make_transport
from tests.hostile import CASES, IGNORED_EVENTS, Case, check_case, send, spoiled_events
from tests.support import LambdaTransport, Transport


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile") / "data"


@pytest.fixture(scope="module", params=TRANSPORTS)
def hostile_client(request, data_dir: Path) -> Transport:
    container = bootstrap(Settings(data_dir=data_dir, introspection=False))
    yield make_transport(request.param, container)
    container.close()


@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.kind}:{case.name}")
def test_hostile_requests_get_a_stable_code_at_bounded_cost(
    hostile_client: Transport, data_dir: Path, case: Case
):
    if case.setup is not None:
        case.setup(data_dir)
    if hostile_client.name in ("lambda-v1", "lambda-v2") and not _is_utf8(case.raw_body()):
        pytest.skip("API Gateway delivers a body that is not UTF-8 only base64-encoded")

    reply, seconds = send(hostile_client, case)

    check_case(case, reply, seconds, data_dir)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


@pytest.fixture(scope="module", params=["v1", "v2"])
def lambda_client(request, data_dir: Path) -> LambdaTransport:
    container = bootstrap(
        Settings(data_dir=data_dir, introspection=False), metrics=InMemoryMetrics()
    )
    transport = make_transport(f"lambda-{request.param}", container)
    assert isinstance(transport, LambdaTransport)
    transport.handler_metrics = container.metrics  # type: ignore[attr-defined]
    yield transport
    container.close()


@pytest.mark.parametrize("name", IGNORED_EVENTS)
def test_events_that_are_not_http_are_a_counted_no_op(lambda_client: LambdaTransport, name):
    metrics = lambda_client.handler_metrics
    before = metrics.counters["EventsIgnored"]

    response = lambda_client.handler(IGNORED_EVENTS[name], lambda_client.context)

    assert response["ignored"] is True
    assert metrics.counters["EventsIgnored"] == before + 1


def test_every_malformed_api_gateway_event_gets_a_json_400(lambda_client: LambdaTransport):
    body = b'{"query": "{ health { status } }"}'
    good = lambda_client.event(
        "POST", "/graphql", body=body, headers={"content-type": "application/json"}
    )
    assert lambda_client.invoke(good).status == 200
    answered = {}
    for name, event in spoiled_events(good, lambda_client.version):
        reply = lambda_client.invoke(event)
        answered[name] = (reply.status, reply.json()["errors"][0]["extensions"]["code"])

    assert answered == {name: (400, "MALFORMED_EVENT") for name in answered}, answered
