"""GraphQL over HTTP under generated input: documents from the live schema (valid and not),
variables of any characters, parameters of any JSON type, raw bodies and query strings.

Every answer keeps the corpus invariants (tests/hostile.py `check_invariants`): JSON, a stable
code on every error, never a 5xx or a masked internal error, back within the time budget.
"""

import json
import time
from typing import Any
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from graphql_api.gql.schema import build_schema
from graphql_api.settings import Settings
from tests.fuzz.conftest import FUZZ, Slowest
from tests.hostile import ANALYZE, JSON_HEADERS, check_invariants
from tests.support import AsgiTransport, Reply

SCHEMA = build_schema(Settings(introspection=False))._schema
DATES = st.one_of(
    st.dates().map(lambda day: nodes.String(day.isoformat())),
    st.text(max_size=12).map(nodes.String),
)
DOCUMENTS = from_schema(SCHEMA, custom_scalars={"Date": DATES})
INVALID_DOCUMENTS = from_schema(SCHEMA, custom_scalars={"Date": DATES}, mode=Mode.NEGATIVE)
#: Any JSON value, nested a few levels.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
#: Any code point, lone surrogates and NUL included.
ANY_TEXT = st.text(st.characters(codec=None), max_size=60)


def timed(transport: AsgiTransport, test: str, example: Any, **request: Any) -> Any:
    started = time.perf_counter()
    reply: Reply = transport.request(**request)
    seconds = time.perf_counter() - started
    Slowest.record(test, seconds, example)
    return check_invariants(reply, seconds)


def post(transport: AsgiTransport, test: str, body: Any, example: Any = None) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return timed(
        transport,
        test,
        example if example is not None else body,
        method="POST",
        path="/graphql",
        body=raw,
        headers=JSON_HEADERS,
    )


@FUZZ
@given(document=DOCUMENTS)
def test_documents_from_the_schema_are_answered_or_refused_with_a_code(asgi, document):
    post(asgi, "valid documents", {"query": document}, document)


@FUZZ
@given(document=INVALID_DOCUMENTS)
def test_invalid_documents_are_refused_with_a_code(asgi, document):
    answer = post(asgi, "invalid documents", {"query": document}, document)

    assert answer.get("errors"), answer


@FUZZ
@given(
    texts=st.lists(ANY_TEXT, min_size=1, max_size=4),
    ids=st.lists(st.one_of(st.none(), ANY_TEXT), min_size=4, max_size=4),
    language=st.one_of(st.none(), ANY_TEXT),
)
def test_variables_of_any_characters_get_an_answer_per_document(asgi, texts, ids, language):
    documents = [
        {"text": text, "id": ids[i], "languageCode": language} for i, text in enumerate(texts)
    ]
    answer = post(
        asgi, "any characters", {"query": ANALYZE, "variables": {"i": {"documents": documents}}}
    )

    results = answer["data"]["analyze"]["results"]
    assert len(results) == len(texts)


@FUZZ
@given(
    query=st.one_of(JSON_VALUES, st.just("{ health { status } }")),
    variables=st.one_of(st.just(None), JSON_VALUES),
    operation_name=st.one_of(st.just(None), JSON_VALUES),
    extensions=st.one_of(st.just(None), JSON_VALUES),
)
def test_parameters_of_any_json_type_get_a_code(asgi, query, variables, operation_name, extensions):
    body = {"query": query}
    for name, value in (
        ("variables", variables),
        ("operationName", operation_name),
        ("extensions", extensions),
    ):
        if value is not None:
            body[name] = value
    post(asgi, "parameter types", body)


@FUZZ
@given(
    body=st.one_of(
        st.binary(max_size=300), ANY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))
    )
)
def test_raw_bodies_get_a_code(asgi, body):
    post(asgi, "raw bodies", body)


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["query", "variables", "operationName", "extensions", "x"]),
        ANY_TEXT,
        max_size=4,
    )
)
def test_get_query_strings_get_a_code(asgi, params):
    query = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in params.items()})
    timed(
        asgi,
        "GET query strings",
        params,
        method="GET",
        path="/graphql",
        query=query,
        headers={"accept": "application/json", "apollo-require-preflight": "1"},
    )
