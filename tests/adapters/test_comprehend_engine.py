"""The Comprehend engine and its breaker over real HTTP against the local Comprehend fake."""

import asyncio
import random

import pytest

from graphql_api.adapters.aws.clients import AwsClients
from graphql_api.adapters.aws.comprehend_engine import ComprehendEngine
from graphql_api.adapters.local.language import LanguageDetector
from graphql_api.adapters.local.lexicon_engine import LexiconEngine
from graphql_api.adapters.memory import InMemoryMetrics
from graphql_api.adapters.resilience import Breaker, FallbackEngine
from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import Analysis, DocumentFailure, Sentiment
from graphql_api.settings import Settings


def comprehend(budget: float = 5.0, max_attempts: int = 3) -> ComprehendEngine:
    clients = AwsClients(Settings())
    return ComprehendEngine(
        lambda timeout: clients.get("comprehend", read_timeout=timeout, max_attempts=1),
        budget,
        max_attempts=max_attempts,
        rng=random.Random(7),
    )


def resilient(
    budget: float = 5.0, threshold: int = 5, recovery: float = 60
) -> tuple[FallbackEngine, InMemoryMetrics]:
    metrics = InMemoryMetrics()
    engine = FallbackEngine(
        comprehend(budget, max_attempts=1),
        LexiconEngine(LanguageDetector()),
        Breaker("comprehend", threshold, recovery),
        metrics,
    )
    return engine, metrics


async def test_sentiment_comes_back_in_order_with_scores(aws_env):
    outcomes = await comprehend().analyze_batch(["good", "awful", "a table"], "en")

    assert [o.sentiment for o in outcomes if isinstance(o, Analysis)] == [
        Sentiment.POSITIVE,
        Sentiment.NEGATIVE,
        Sentiment.NEUTRAL,
    ]
    assert aws_env.sentiment_calls == 1


async def test_languages_are_detected_in_one_batch(aws_env):
    aws_env.behaviour.languages = {"hola": "es", "salut": "fr", "hallo": "nl"}

    assert await comprehend().detect_languages(["hola", "salut", "hi", "hallo"]) == [
        "es",
        "fr",
        "en",
        "nl",
    ]
    assert aws_env.calls["BatchDetectDominantLanguage"] == 1


async def test_languages_comprehend_cannot_analyse_fail_without_a_call(aws_env):
    (outcome,) = await comprehend().analyze_batch(["hallo"], "nl")

    assert isinstance(outcome, DocumentFailure)
    assert outcome.code == ErrorCode.UNSUPPORTED_LANGUAGE
    assert aws_env.sentiment_calls == 0


async def test_throttling_is_retried_within_the_budget_then_succeeds(aws_env):
    aws_env.behaviour.throttle_next = 2

    (outcome,) = await comprehend(max_attempts=3).analyze_batch(["good"], "en")

    assert isinstance(outcome, Analysis)
    assert aws_env.sentiment_calls == 3


async def test_retryable_item_errors_are_retried_once_in_the_next_batch(aws_env):
    aws_env.behaviour.item_errors_once = {"flaky good": "INTERNAL_SERVER_ERROR"}
    aws_env.behaviour.item_errors = {"too long": "TEXT_SIZE_LIMIT_EXCEEDED"}

    outcomes = await comprehend().analyze_batch(["good", "flaky good", "too long"], "en")

    assert isinstance(outcomes[0], Analysis)
    assert isinstance(outcomes[1], Analysis)
    assert isinstance(outcomes[2], DocumentFailure)
    assert outcomes[2].code == ErrorCode.TEXT_TOO_LONG
    assert [texts for _, texts in aws_env.batches][-1] == ["flaky good"]


async def test_an_item_that_keeps_failing_falls_back_alone(aws_env):
    aws_env.behaviour.item_errors = {"always failing but good": "INTERNAL_SERVER_ERROR"}
    engine, metrics = resilient()

    outcomes = await engine.analyze_batch(["great", "always failing but good"], "en")

    assert isinstance(outcomes[0], Analysis)
    assert not outcomes[0].degraded
    assert isinstance(outcomes[1], Analysis)
    assert outcomes[1].degraded
    assert outcomes[1].engine.startswith("vader-")
    assert metrics.counters["EngineFallback"] == 1


async def test_an_outage_opens_the_breaker_and_the_fallback_answers(aws_env):
    aws_env.behaviour.outage = True
    engine, metrics = resilient(threshold=5, recovery=0.3)

    for _ in range(5):
        (outcome,) = await engine.analyze_batch(["good"], "en")
        assert isinstance(outcome, Analysis)
    assert outcome.degraded
    calls_when_opened = aws_env.sentiment_calls
    (outcome,) = await engine.analyze_batch(["good"], "en")

    assert engine.breaker.state == "opened"
    assert aws_env.sentiment_calls == calls_when_opened  # open: Comprehend is not called
    assert isinstance(outcome, Analysis)
    assert outcome.degraded
    assert metrics.counters["CircuitOpen"] == 1

    aws_env.behaviour.outage = False
    await asyncio.sleep(0.35)
    (outcome,) = await engine.analyze_batch(["good"], "en")  # the half-open probe

    assert isinstance(outcome, Analysis)
    assert not outcome.degraded
    assert engine.breaker.state == "closed"


async def test_slow_answers_hit_the_budget_and_fall_back_in_time(aws_env):
    aws_env.behaviour.delay_seconds = 1.0
    engine, metrics = resilient(budget=0.2)

    started = asyncio.get_running_loop().time()
    (outcome,) = await engine.analyze_batch(["good"], "en")
    elapsed = asyncio.get_running_loop().time() - started

    assert isinstance(outcome, Analysis)
    assert outcome.degraded
    assert elapsed < 0.9
    assert metrics.counters["EngineErrors"] == 1


async def test_non_english_documents_during_an_outage_ask_to_retry(aws_env):
    aws_env.behaviour.outage = True
    engine, _ = resilient()

    (outcome,) = await engine.analyze_batch(["hola"], "es")

    assert isinstance(outcome, DocumentFailure)
    assert outcome.code == ErrorCode.ENGINE_UNAVAILABLE
    assert outcome.retryable


@pytest.mark.parametrize("budget", [0.2])
async def test_language_detection_falls_back_when_comprehend_is_down(aws_env, budget):
    aws_env.behaviour.outage = True
    engine, _ = resilient(budget=budget)

    assert await engine.detect_languages(["I really love it"]) == ["en"]


def test_each_timeout_profile_gets_one_client_making_one_attempt(aws_env):
    clients = AwsClients(Settings())

    short = clients.get("comprehend", read_timeout=0.3, max_attempts=1)

    assert clients.get("comprehend", read_timeout=0.3, max_attempts=1) is short
    assert clients.get("comprehend", read_timeout=0.5, max_attempts=1) is not short
    assert short.meta.config.read_timeout == 0.3
    assert short.meta.config.retries["total_max_attempts"] == 1


async def test_server_errors_are_retried_a_bounded_number_of_times(aws_env):
    aws_env.behaviour.outage = True

    with pytest.raises(Exception, match="InternalServerException"):
        await comprehend(max_attempts=3).analyze_batch(["good"], "en")

    assert aws_env.sentiment_calls == 3
