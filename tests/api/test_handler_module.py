"""The deployed entry point itself, `graphql_api.handler.handler`, with real-shaped events."""

import importlib
import json

import pytest

from tests.support import EVENTS, LambdaContext, operation


@pytest.fixture
def handler_module(monkeypatch, tmp_path):
    monkeypatch.setenv("AURASTREAM_DATA_DIR", str(tmp_path))
    import graphql_api.handler

    return importlib.reload(graphql_api.handler)


def context() -> LambdaContext:
    return LambdaContext(**json.loads((EVENTS / "lambda_context.json").read_text()))


@pytest.mark.parametrize("template", ["http_api_v2.json", "rest_api_v1.json"])
def test_the_handler_answers_analyze_behind_a_stage(handler_module, template):
    event = json.loads((EVENTS / template).read_text())
    documents = [{"id": "1", "text": "The support team was wonderful!"}]
    event["body"] = json.dumps(
        {"query": operation("Analyze"), "variables": {"input": {"documents": documents}}}
    )

    response = handler_module.handler(event, context())

    assert response["statusCode"] == 200
    results = json.loads(response["body"])["data"]["analyze"]["results"]
    assert results[0]["sentiment"] == "POSITIVE"


def test_the_handler_serves_health_on_the_stage_path(handler_module):
    event = json.loads((EVENTS / "http_api_v2.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/prod/v1/health"
    event["requestContext"]["http"]["method"] = "GET"
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /v1/health"

    response = handler_module.handler(event, context())

    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "healthy"


def test_importing_the_handler_builds_no_engine_or_connection(handler_module):
    container = handler_module.app.state.container
    assert "_analyzer" not in vars(container.engine)  # VADER loads on first use
    assert not container.cache.store.store.database.opened
