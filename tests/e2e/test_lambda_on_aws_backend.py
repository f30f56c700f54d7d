"""The deployed handler with AURASTREAM_BACKEND=aws: DynamoDB in moto_server, Comprehend faked."""

import importlib
import json
from typing import Any

import boto3
import pytest

from tests.support import EVENTS, LambdaContext, operation

STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:AuraStream-AnalyzeJob"
CONTEXT = LambdaContext(**json.loads((EVENTS / "lambda_context.json").read_text()))


@pytest.fixture
def aws_backend(monkeypatch, aws_env, cache_table, aws_api_key):
    monkeypatch.setenv("AURASTREAM_BACKEND", "aws")
    monkeypatch.setenv("AURASTREAM_CACHE_TABLE", cache_table)
    monkeypatch.setenv("AURASTREAM_COMPREHEND_BUDGET_SECONDS", "5")
    monkeypatch.setenv("AURASTREAM_STATE_MACHINE_ARN", STATE_MACHINE)
    return aws_env


def cold_start() -> Any:
    """A new Lambda container: the handler module imported afresh."""
    import graphql_api.handler

    return importlib.reload(graphql_api.handler).handler


def invoke(handler: Any, documents: list[dict[str, str]], api_key: str) -> list[dict[str, Any]]:
    event = json.loads((EVENTS / "http_api_v2.json").read_text())
    variables = {"input": {"documents": documents}}
    event["body"] = json.dumps({"query": operation("Analyze"), "variables": variables})
    event["headers"]["x-api-key"] = api_key  # keys are always required on the AWS backend
    response = handler(event, CONTEXT)
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert "errors" not in body, body
    results: list[dict[str, Any]] = body["data"]["analyze"]["results"]
    return results


def test_the_first_request_misses_and_a_new_container_reads_dynamodb(
    aws_backend, cache_table, aws_api_key
):
    documents = [{"id": "1", "text": "Great service"}, {"id": "2", "text": "Awful wait"}]

    first = invoke(cold_start(), documents, aws_api_key)

    assert [r["sentiment"] for r in first] == ["POSITIVE", "NEGATIVE"]
    assert [r["engine"] for r in first] == ["comprehend-2017-11-27"] * 2
    assert not any(r["cached"] for r in first)
    items = boto3.client("dynamodb").scan(TableName=cache_table)["Items"]
    assert len(items) == 2

    aws_backend.reset()
    second = invoke(
        cold_start(), documents, aws_api_key
    )  # no in-process LRU to help: DynamoDB answers

    assert all(r["cached"] for r in second)
    assert aws_backend.calls == {}


def test_a_hundred_documents_with_duplicates_cost_at_most_four_calls(aws_backend, aws_api_key):
    documents = [{"text": f"review {i} is good", "languageCode": "en"} for i in range(90)]
    documents += [{"text": f"review {i} is good", "languageCode": "en"} for i in range(10)]

    results = invoke(cold_start(), documents, aws_api_key)

    assert len(results) == 100
    assert aws_backend.sentiment_calls <= 4
    assert aws_backend.calls["BatchDetectDominantLanguage"] == 0


def test_comprehend_down_degrades_but_every_request_is_answered(
    aws_backend, monkeypatch, aws_api_key
):
    monkeypatch.setenv("AURASTREAM_BREAKER_FAILURE_THRESHOLD", "2")
    aws_backend.behaviour.outage = True
    handler = cold_start()

    for i in range(3):
        (result,) = invoke(handler, [{"text": f"good day {i}", "languageCode": "en"}], aws_api_key)
        assert result["degraded"] is True
        assert result["engine"].startswith("minilm-")  # the embedded model stands in

    event = json.loads((EVENTS / "http_api_v2.json").read_text())
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/prod/v1/health"
    event["requestContext"]["http"]["method"] = "GET"
    health = json.loads(handler(event, CONTEXT)["body"])
    assert health["status"] == "degraded"
    assert health["components"]["comprehend"] == "degraded"
    assert "circuit opened" in health["details"]["comprehend"]["detail"]
    assert set(health["components"]) == {
        "api_gateway",
        "lambda",
        "dynamodb",
        "comprehend",
        "s3",
        "stepfunctions",
    }
