"""The REST façade and the keys command under hostile values: any JSON shape or type, any
character (lone surrogates and NUL included), deep nesting, any job id and paging parameter.
Every answer is JSON with a stable code, in bounded time, never a 500."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from graphql_api.cli.keys import app as keys_app
from tests.fuzz.conftest import FUZZ
from tests.fuzz.test_graphql_fuzz import ANY_TEXT, JSON_VALUES, timed
from tests.hostile import JSON_HEADERS
from tests.support import AsgiTransport

DOCUMENT = st.fixed_dictionaries(
    {"text": ANY_TEXT | JSON_VALUES},
    optional={"id": ANY_TEXT | JSON_VALUES, "languageCode": ANY_TEXT | JSON_VALUES},
)
BODIES = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {"text": ANY_TEXT | JSON_VALUES},
        optional={"pii": ANY_TEXT, "sentences": JSON_VALUES, "languageCode": ANY_TEXT},
    ),
    st.fixed_dictionaries({"documents": st.lists(DOCUMENT, max_size=5) | JSON_VALUES}),
    st.fixed_dictionaries(
        {"source": ANY_TEXT | JSON_VALUES},
        optional={"format": ANY_TEXT, "textColumn": ANY_TEXT, "idempotencyKey": ANY_TEXT},
    ),
    # Nested past any parser's recursion limit: sent as raw bytes.
    st.integers(1, 100_000).map(lambda depth: b'{"text": ' + b"[" * depth + b"]" * depth + b"}"),
)
PATHS = st.sampled_from(["/v1/analyze/sync", "/v1/analyze/async"])


@FUZZ
@given(path=PATHS, body=BODIES)
def test_any_rest_body_is_answered_or_refused_with_a_code(asgi: AsgiTransport, path, body):
    # Lone surrogates travel as JSON escapes, as any client would send them.
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timed(
        asgi,
        "rest bodies",
        body[:80] if isinstance(body, bytes) else body,
        method="POST",
        path=path,
        body=raw,
        headers=JSON_HEADERS,
    )


@FUZZ
@given(job_id=ANY_TEXT, params=st.dictionaries(st.sampled_from(["offset", "limit"]), ANY_TEXT))
def test_any_job_id_and_paging_is_answered_with_a_code(
    asgi: AsgiTransport, job_id: str, params: dict[str, Any]
):
    path = "/v1/jobs/" + quote(job_id.encode("utf-8", "surrogatepass"), safe="")
    query = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in params.items()})
    answer = timed(asgi, "rest job reads", (job_id, params), method="GET", path=path, query=query)
    assert answer["errors"][0]["extensions"]["code"] in {"NOT_FOUND", "BAD_USER_INPUT"}


@FUZZ
@given(key_id=ANY_TEXT)
def test_the_keys_usage_command_answers_any_key_id(key_id: str):
    result = CliRunner().invoke(keys_app, ["usage", key_id, "--json"])

    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
