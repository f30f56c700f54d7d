"""The Lambda handler under generated events: anything at all, and API Gateway events with
any key removed or replaced. It never raises; an HTTP-looking event gets a JSON answer
under 500 with a stable code, anything else a no-op."""

import base64
import copy
import time
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ, Slowest
from tests.fuzz.test_graphql_fuzz import ANY_TEXT, JSON_VALUES
from tests.hostile import IGNORED_EVENTS, check_invariants
from tests.support import LambdaTransport, Reply

GOOD_BODY = b'{"query": "{ health { status } }"}'


def answer(transport: LambdaTransport, test: str, event: Any) -> Any:
    started = time.perf_counter()
    response = transport.handler(event, transport.context)
    seconds = time.perf_counter() - started
    Slowest.record(test, seconds, event)
    return response, seconds


def check_http_answer(response: Any, seconds: float) -> None:
    assert isinstance(response, dict), response
    assert isinstance(response.get("statusCode"), int), response
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    check_invariants(Reply(response["statusCode"], headers, raw), seconds)


@FUZZ
@given(event=st.one_of(JSON_VALUES, st.sampled_from(list(IGNORED_EVENTS.values()))))
def test_any_event_is_answered_without_raising(lambda_transport, event):
    response, seconds = answer(lambda_transport, f"any event {lambda_transport.version}", event)

    if isinstance(response, dict) and "statusCode" in response:
        check_http_answer(response, seconds)
    else:
        assert response["ignored"] is True


#: A path of keys into an event, and what to put there (None: remove the key).
CHANGES = st.lists(
    st.tuples(
        st.lists(
            st.sampled_from(
                [
                    "body",
                    "headers",
                    "requestContext",
                    "http",
                    "method",
                    "path",
                    "version",
                    "isBase64Encoded",
                    "httpMethod",
                    "multiValueHeaders",
                    "rawQueryString",
                    "queryStringParameters",
                    "identity",
                    "sourceIp",
                    "content-type",
                    "host",
                    "cookies",
                    "resource",
                    "rawPath",
                    "stage",
                ]
            ),
            min_size=1,
            max_size=3,
        ),
        st.one_of(st.none(), JSON_VALUES, ANY_TEXT),
    ),
    min_size=1,
    max_size=3,
)


def spoil(event: dict[str, Any], path: list[str], value: Any) -> None:
    target: Any = event
    for key in path[:-1]:
        if not isinstance(target, dict) or key not in target:
            return
        target = target[key]
    if isinstance(target, dict):
        if value is None:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value


@FUZZ
@given(changes=CHANGES)
def test_spoiled_api_gateway_events_get_a_json_answer(lambda_transport, changes):
    event = copy.deepcopy(
        lambda_transport.event(
            "POST", "/graphql", body=GOOD_BODY, headers={"content-type": "application/json"}
        )
    )
    for path, value in changes:
        spoil(event, path, value)

    response, seconds = answer(lambda_transport, f"spoiled event {lambda_transport.version}", event)

    if isinstance(response, dict) and "statusCode" in response:
        check_http_answer(response, seconds)
    else:
        assert response["ignored"] is True
