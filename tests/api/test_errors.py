import pytest

from tests.support import post_graphql


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ health { status ", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
        (
            "mutation { analyze(input: {documents: [{text: 1}]}) { results { id } } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{" + " ".join(f"a{i}: health {{ status }}" for i in range(40)) + "}",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ health { components { name " + "name " * 3000 + "} } }", "GRAPHQL_PARSE_FAILED"),
    ],
    ids=["syntax", "unknown-field", "wrong-type", "too-many-aliases", "too-many-tokens"],
)
def test_bad_queries_get_a_stable_code(client, query, code):
    reply = post_graphql(client, query)

    errors = reply.json()["errors"]
    assert errors[0]["extensions"]["code"] == code


def test_bad_variables_are_user_input_errors(client):
    reply = post_graphql(
        client,
        "mutation($i: AnalyzeInput!) { analyze(input: $i) { results { id } } }",
        {"i": {"documents": "not a list"}},
    )

    assert reply.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_unexpected_errors_are_masked(client, engine, monkeypatch):
    async def explode(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(engine, "detect_languages", explode)
    monkeypatch.setattr(
        "graphql_api.services.analysis.AnalysisService.analyze", explode, raising=True
    )
    reply = post_graphql(client, '{ analyzeDocument(document: {text: "hi"}) { id } }')

    error = reply.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in reply.body.decode()
