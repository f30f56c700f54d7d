import json

from graphql import parse, validate

from graphql_api.gql.schema import build_schema
from graphql_api.settings import Settings
from graphql_api.web.rest import openapi_document
from tests.support import OPERATIONS, ROOT


def test_committed_schema_matches_the_code():
    exported = build_schema(Settings()).as_str().strip()
    committed = (ROOT / "schema" / "schema.graphql").read_text().strip()
    assert committed == exported, "schema drift: run `make schema` and commit the result"


def test_every_example_operation_is_valid_against_the_schema():
    schema = build_schema(Settings())._schema
    files = sorted(OPERATIONS.glob("*.graphql"))
    assert files
    for path in files:
        assert validate(schema, parse(path.read_text())) == [], path.name


def test_public_contract_names_exist():
    sdl = build_schema(Settings()).as_str()
    for fragment in [
        "input DocumentInput {",
        "type DocumentResult {",
        "type SentimentScores {",
        "type DocumentError {",
        "type AnalyzeResult {",
        "analyze(input: AnalyzeInput!): AnalyzeResult!",
        "health: Health!",
    ]:
        assert fragment in sdl


def test_committed_openapi_matches_the_code():
    exported = openapi_document()
    committed = json.loads((ROOT / "schema" / "openapi.json").read_text())
    assert committed == exported, "OpenAPI drift: run `make schema` and commit the result"
