"""Fault fixtures: the AWS backend's Lambda handler over moto_server, with Comprehend (the
fake) behind a TCP proxy that can reset or stall connections."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.comprehend_fake import FakeComprehend
from tests.e2e.test_lambda_on_aws_backend import CONTEXT, cold_start
from tests.faults.proxy import FaultyProxy
from tests.support import EVENTS, operation

#: Small enough that a test opens the breaker in a few requests and sees it recover.
BREAKER_THRESHOLD = 3
BREAKER_RECOVERY_SECONDS = 0.5


@dataclass
class Service:
    """One Lambda container of the AWS backend, and the fakes behind it."""

    handler: Any
    api_key: str
    comprehend: FakeComprehend
    proxy: FaultyProxy

    @property
    def container(self) -> Any:
        import graphql_api.handler

        return graphql_api.handler.app.state.container

    def invoke(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        event = json.loads((EVENTS / "http_api_v2.json").read_text())
        event["rawPath"] = event["requestContext"]["http"]["path"] = f"/prod{path}"
        event["requestContext"]["http"]["method"] = method
        event["headers"]["x-api-key"] = self.api_key
        event["body"] = json.dumps(body) if body is not None else None
        response: dict[str, Any] = self.handler(event, CONTEXT)
        return response

    def analyze(self, documents: list[dict[str, str]]) -> tuple[list[dict[str, Any]], float]:
        """The results, and how long the request took in seconds."""
        payload = {"query": operation("Analyze"), "variables": {"input": {"documents": documents}}}
        started = time.perf_counter()
        response = self.invoke("POST", "/graphql", payload)
        elapsed = time.perf_counter() - started
        assert response["statusCode"] == 200, response
        body = json.loads(response["body"])
        assert "errors" not in body, body
        return body["data"]["analyze"]["results"], elapsed

    def health(self) -> tuple[int, dict[str, Any]]:
        response = self.invoke("GET", "/v1/health")
        return response["statusCode"], json.loads(response["body"])


_serial = itertools.count()


def new_documents(count: int, language: str | None = None, text: str = "good") -> list[dict]:
    """English texts this process has not sent before, so no cache can answer for the engine."""
    documents = []
    for i in range(count):
        document = {"id": str(i), "text": f"It was a {text} day, review {next(_serial)} says."}
        if language:
            document["languageCode"] = language
        documents.append(document)
    return documents


@pytest.fixture
def comprehend_proxy(comprehend_fake: FakeComprehend) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(comprehend_fake.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def service(
    monkeypatch, aws_env, cache_table, jobs_table, bucket, aws_api_key, comprehend_proxy
) -> Service:
    monkeypatch.setenv("AURASTREAM_BACKEND", "aws")
    monkeypatch.setenv("AURASTREAM_CACHE_TABLE", cache_table)
    monkeypatch.setenv("AURASTREAM_JOBS_TABLE", jobs_table)
    monkeypatch.setenv("AURASTREAM_BUCKET", bucket)
    monkeypatch.setenv(
        "AURASTREAM_STATE_MACHINE_ARN",
        "arn:aws:states:us-east-1:123456789012:stateMachine:AuraStream-AnalyzeJob",
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL_COMPREHEND", comprehend_proxy.url)
    monkeypatch.setenv("AURASTREAM_BREAKER_FAILURE_THRESHOLD", str(BREAKER_THRESHOLD))
    monkeypatch.setenv("AURASTREAM_BREAKER_RECOVERY_SECONDS", str(BREAKER_RECOVERY_SECONDS))
    running = Service(cold_start(), aws_api_key, aws_env, comprehend_proxy)
    # A deployed container warms its fallback at start (in a thread); here, at once.
    running.container.engine.warm()
    return running
