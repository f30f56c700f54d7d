"""Signals: CloudWatch EMF and JSON logs from the Lambda handler, Prometheus from the server."""

import importlib
import json
import logging
import sys
from typing import Any

import httpx
from aws_lambda_powertools.metrics.provider import cold_start
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_lambda_on_aws_backend import STATE_MACHINE
from tests.support import EVENTS, LambdaContext, operation

CONTEXT = LambdaContext(**json.loads((EVENTS / "lambda_context.json").read_text()))


def analyze_event(documents: list[dict[str, str]], api_key: str) -> dict[str, Any]:
    event = json.loads((EVENTS / "http_api_v2.json").read_text())
    event["headers"]["x-api-key"] = api_key
    variables = {"input": {"documents": documents}}
    event["body"] = json.dumps({"query": operation("Analyze"), "variables": variables})
    return event


def emitted(output: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split captured stdout into EMF documents and log records."""
    documents = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    emf = [d for d in documents if "_aws" in d]
    logs = [d for d in documents if "_aws" not in d]
    return emf, logs


def metric_names(document: dict[str, Any]) -> set[str]:
    return {m["Name"] for d in document["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}


def test_the_handler_writes_emf_once_per_invocation_and_json_logs(
    monkeypatch, capfd, aws_env, cache_table, aws_api_key
):
    monkeypatch.setenv("AURASTREAM_BACKEND", "aws")
    monkeypatch.setenv("AURASTREAM_CACHE_TABLE", cache_table)
    monkeypatch.setenv("AURASTREAM_COMPREHEND_BUDGET_SECONDS", "5")
    monkeypatch.setenv("AURASTREAM_STATE_MACHINE_ARN", STATE_MACHINE)
    import graphql_api.handler

    handler = importlib.reload(graphql_api.handler).handler
    cold_start.reset_cold_start_flag()  # this process's first invocation happened in another test
    # The JSON logger's handler holds the stdout of the process start; point it at this
    # test's captured stdout.
    for log_handler in logging.getLogger("aurastream").handlers:
        if isinstance(log_handler, logging.StreamHandler):
            log_handler.setStream(sys.stdout)
    capfd.readouterr()
    secret = "Great service, my card is 4111 1111 1111 1111"

    response = handler(
        analyze_event([{"text": secret, "languageCode": "en"}], aws_api_key), CONTEXT
    )
    aws_env.behaviour.outage = True  # a second invocation that needs the fallback
    handler(analyze_event([{"text": "awful queue", "languageCode": "en"}], aws_api_key), CONTEXT)

    assert response["statusCode"] == 200
    out = capfd.readouterr().out
    # The card number in any spacing; a bare "4111" can be part of a millisecond timestamp.
    assert "4111 1111" not in out
    assert "4111111111111111" not in out
    assert "Great service" not in out
    emf, logs = emitted(out)
    main = [d for d in emf if "CacheMiss" in metric_names(d)]
    assert len(main) == 2  # one flush per invocation
    first = main[0]
    assert first["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "AuraStream"
    assert first["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]
    assert {"CacheMiss", "DocumentsAnalyzed", "EngineLatency"} <= metric_names(first)
    assert {"EngineFallback", "EngineErrors"} <= metric_names(main[1])
    latency = [d for d in emf if "RequestLatency" in metric_names(d)]
    assert [d["operation"] for d in latency] == ["analyze", "analyze"]
    assert any("ColdStart" in metric_names(d) for d in emf)
    warning = next(log for log in logs if "falling back" in log.get("message", ""))
    assert warning["correlation_id"] == "JKJaXmPLvHcESHA="
    assert warning["cold_start"] is False
    assert warning["level"] == "WARNING"


def test_the_local_server_exposes_prometheus_metrics(server_url):
    documents = [{"text": "What a great day"}, {"text": "What a dull day"}]
    httpx.post(
        f"{server_url}/graphql",
        json={"query": operation("Analyze"), "variables": {"input": {"documents": documents}}},
    )

    reply = httpx.get(f"{server_url}/metrics")

    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(reply.text)}
    assert families["aurastream_documents_analyzed"].samples[0].value >= 2
    assert "aurastream_cache_miss" in families
    latency = families["aurastream_request_latency_ms"]
    operations = {s.labels.get("operation") for s in latency.samples}
    assert "analyze" in operations
