"""Comprehend faults through the Lambda handler (AWS backend over moto_server): slow,
throttled, erring per item, resetting and stalling connections, down and back."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from graphql_api.adapters.aws.clients import AwsClients
from graphql_api.adapters.aws.comprehend_engine import ComprehendEngine
from graphql_api.adapters.resilience import CLOSED, OPENED
from graphql_api.domain.deadline import engine_deadline
from graphql_api.settings import Settings
from tests.faults.conftest import BREAKER_RECOVERY_SECONDS, BREAKER_THRESHOLD, new_documents

#: Far beyond the 0.8 s budget: an answer before this came from the deadline, not Comprehend.
SLOW_SECONDS = 3.0
MODEL = "minilm-"


def comprehend_engine(fake_url: str, max_workers: int = 4) -> ComprehendEngine:
    clients = AwsClients(Settings())
    return ComprehendEngine(
        lambda timeout: clients.get("comprehend", read_timeout=timeout, max_attempts=1),
        budget_seconds=0.8,
        max_workers=max_workers,
        rng=random.Random(1),
    )


def test_slow_comprehend_without_language_answers_from_the_fallback_within_one_deadline(service):
    service.comprehend.behaviour.delay_seconds = SLOW_SECONDS

    results, elapsed = service.analyze(new_documents(5))

    assert elapsed < SLOW_SECONDS - 0.5
    assert all(r["degraded"] and r["engine"].startswith(MODEL) for r in results)
    assert all(r["error"] is None for r in results)
    # Detection spent the budget; sentiment was never sent (not spent a second time).
    assert service.comprehend.calls["BatchDetectDominantLanguage"] == 1
    assert service.comprehend.sentiment_calls == 0


def test_slow_comprehend_with_language_is_called_once_and_not_retried(service):
    service.comprehend.behaviour.delay_seconds = SLOW_SECONDS

    results, elapsed = service.analyze(new_documents(5, language="en"))

    assert elapsed < SLOW_SECONDS - 0.5
    assert all(r["degraded"] for r in results)
    assert service.comprehend.sentiment_calls == 1


async def test_an_abandoned_call_ends_with_its_deadline_and_is_never_retried(aws_env):
    aws_env.behaviour.delay_seconds = 1.0
    engine = comprehend_engine(aws_env.url)

    with engine_deadline(0.3), pytest.raises(TimeoutError):
        await engine.analyze_batch(["good"], "en")
    # Waits for the worker thread: it gave up at its read timeout (the 0.3 s left).
    await asyncio.to_thread(engine.close_and_wait)

    assert aws_env.sentiment_calls == 1


async def test_a_queued_call_whose_deadline_passed_is_never_sent(aws_env):
    aws_env.behaviour.delay_seconds = 0.6
    engine = comprehend_engine(aws_env.url, max_workers=1)

    with engine_deadline(0.3):
        outcomes = await asyncio.gather(
            engine.analyze_batch(["good"], "en"),
            engine.analyze_batch(["awful"], "en"),
            return_exceptions=True,
        )
    await asyncio.to_thread(engine.close_and_wait)

    assert all(isinstance(outcome, TimeoutError) for outcome in outcomes)
    assert aws_env.sentiment_calls == 1  # the second waited in the queue and was dropped


def test_half_throttled_comprehend_still_answers_every_document_itself(service):
    service.comprehend.behaviour.throttle_rate = 0.5

    answered = []
    for _ in range(10):
        results, _ = service.analyze(new_documents(5, language="en"))
        answered += results

    assert service.comprehend.throttled >= 5
    assert all(r["error"] is None for r in answered)
    assert not any(r["degraded"] for r in answered)
    assert service.container.engine.breaker.state == CLOSED


def test_throttling_alone_never_opens_the_breaker(service):
    service.comprehend.behaviour.throttle_rate = 1.0

    for _ in range(BREAKER_THRESHOLD + 2):
        results, _ = service.analyze(new_documents(2, language="en"))
        assert all(r["degraded"] and r["error"] is None for r in results)

    assert service.container.engine.breaker.state == CLOSED
    service.comprehend.behaviour.throttle_rate = 0.0
    results, _ = service.analyze(new_documents(2, language="en"))
    assert not any(r["degraded"] for r in results)  # no open circuit to wait out


def test_a_transient_detection_error_is_retried_not_unsupported(service):
    documents = new_documents(3)
    flaky = documents[1]["text"]
    service.comprehend.behaviour.detection_errors_once = {flaky: "INTERNAL_SERVER_ERROR"}

    results, _ = service.analyze(documents)

    assert [r["languageCode"] for r in results] == ["en"] * 3
    assert not any(r["degraded"] or r["error"] for r in results)
    assert service.comprehend.calls["BatchDetectDominantLanguage"] == 2
    assert service.comprehend.batches[1] == ("BatchDetectDominantLanguage", [flaky])


def test_a_persistent_detection_error_falls_back_to_local_detection(service):
    documents = new_documents(3)
    broken = documents[0]["text"]
    service.comprehend.behaviour.detection_errors = {broken: "INTERNAL_SERVER_ERROR"}

    results, _ = service.analyze(documents)

    assert [r["languageCode"] for r in results] == ["en"] * 3
    assert all(r["error"] is None for r in results)  # never UNSUPPORTED_LANGUAGE
    assert not any(r["degraded"] for r in results)  # Comprehend still read the sentiment


def test_per_item_errors_fall_back_only_for_the_items_that_failed(service):
    service.comprehend.behaviour.item_error_rate = 0.5
    service.comprehend.behaviour.item_error_code = "INTERNAL_SERVER_ERROR"

    results, _ = service.analyze(new_documents(4, language="en"))

    assert all(r["error"] is None for r in results)
    # Item errors are retried in later rounds within the budget, so most are Comprehend's.
    assert sum(not r["degraded"] for r in results) >= 3


def test_connection_resets_fall_back_then_open_the_breaker_and_recover(service):
    with service.proxy.fault("reset"):
        for _ in range(BREAKER_THRESHOLD):
            results, _ = service.analyze(new_documents(1, language="en"))
            assert results[0]["degraded"]
            assert results[0]["error"] is None
        assert service.container.engine.breaker.state == OPENED
        status, health = service.health()
        assert (status, health["components"]["comprehend"]) == (200, "degraded")
        assert "circuit opened" in health["details"]["comprehend"]["detail"]

    time.sleep(BREAKER_RECOVERY_SECONDS)  # the breaker's own recovery time, not a race
    results, _ = service.analyze(new_documents(1, language="en"))  # the one probe

    assert not results[0]["degraded"]
    assert service.container.engine.breaker.state == CLOSED
    status, health = service.health()
    assert (status, health["components"]["comprehend"]) == (200, "healthy")  # at once


def test_stalled_connections_are_abandoned_at_the_deadline(service):
    with service.proxy.fault("stall"):
        results, elapsed = service.analyze(new_documents(3))

    assert elapsed < SLOW_SECONDS - 0.5
    assert all(r["degraded"] and r["error"] is None for r in results)


def test_health_costs_at_most_one_comprehend_call_per_interval(service):
    for _ in range(30):
        status, health = service.health()
        assert status == 200

    assert health["components"] == {
        "api_gateway": "healthy",
        "lambda": "healthy",
        "dynamodb": "healthy",
        "comprehend": "healthy",
        "s3": "healthy",
        "stepfunctions": "healthy",  # the service's state machine is named, Step Functions answers
    }
    assert service.comprehend.sentiment_calls == 1


def test_an_outage_is_answered_degraded_and_health_recovers_with_the_breaker(service):
    service.comprehend.behaviour.outage = True
    for _ in range(BREAKER_THRESHOLD):
        results, _ = service.analyze(new_documents(1, language="en"))
        assert results[0]["degraded"]
    calls = service.comprehend.sentiment_calls
    assert service.health()[1]["components"]["comprehend"] == "degraded"
    assert service.comprehend.sentiment_calls == calls  # health does not call through it

    service.comprehend.behaviour.outage = False
    time.sleep(BREAKER_RECOVERY_SECONDS)
    results, _ = service.analyze(new_documents(1, language="en"))

    assert not results[0]["degraded"]
    assert service.health()[1]["components"]["comprehend"] == "healthy"
