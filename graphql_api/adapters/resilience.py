"""A circuit breaker (purgatory) around the primary engine and the persistent cache.

While Comprehend is failing, a fallback engine answers and says so; while the cache store
is failing, it is skipped. Neither ever fails a request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState

from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import Analysis, DocumentFailure, EngineOutcome
from graphql_api.ports import Metrics, ResultCache, SentimentEngine

logger = logging.getLogger(__name__)
T = TypeVar("T")


class CircuitOpen(Exception):
    """The breaker is open: the protected dependency is not called at all."""


class Breaker:
    """One named circuit: CLOSED, OPEN after `threshold` consecutive failures, HALF_OPEN
    (calls go through as probes) once `recovery_seconds` have passed."""

    def __init__(self, name: str, threshold: int, recovery_seconds: float) -> None:
        self.name = name
        self._factory = AsyncCircuitBreakerFactory(
            default_threshold=threshold, default_ttl=recovery_seconds
        )
        self._state = "closed"

    @property
    def state(self) -> str:
        """ "closed", "opened" or "half-opened"."""
        return self._state

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        breaker = await self._factory.get_breaker(self.name)
        try:
            async with breaker:
                return await operation()
        except OpenedState as error:
            raise CircuitOpen(str(error)) from None
        finally:
            previous, self._state = self._state, breaker.context.state
            if previous != self._state:
                logger.warning("circuit %s is now %s", self.name, self._state)


class FallbackEngine:
    """The primary engine behind a breaker, with a fallback that answers when it cannot.

    Fallback answers carry `degraded=True` and the fallback's engine name. Per-document
    failures that are retryable (Comprehend's internal errors) fall back too.
    """

    def __init__(
        self,
        primary: SentimentEngine,
        fallback: SentimentEngine,
        breaker: Breaker,
        metrics: Metrics,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.breaker = breaker
        self.metrics = metrics
        self.identity = primary.identity
        self.max_batch_size = min(primary.max_batch_size, fallback.max_batch_size)
        self._clock = clock
        self.last_fallback_at: float | None = None

    def fallback_in_use(self, within_seconds: float = 60) -> bool:
        last = self.last_fallback_at
        return last is not None and self._clock() - last < within_seconds

    async def detect_languages(self, texts: Sequence[str]) -> list[str]:
        try:
            return await self.breaker.call(lambda: self.primary.detect_languages(texts))
        except Exception as error:
            self._note_fallback(error)
            return await self.fallback.detect_languages(texts)

    async def analyze_batch(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        try:
            outcomes = await self.breaker.call(lambda: self.primary.analyze_batch(texts, language))
        except Exception as error:
            self._note_fallback(error)
            return await self._fall_back(texts, language)
        retry = [
            i
            for i, outcome in enumerate(outcomes)
            if isinstance(outcome, DocumentFailure) and outcome.retryable
        ]
        if retry:
            self._note_fallback(None)
            answers = await self._fall_back([texts[i] for i in retry], language)
            for index, answer in zip(retry, answers, strict=True):
                outcomes[index] = answer
        return outcomes

    async def _fall_back(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        self.metrics.increment("EngineFallback", len(texts))
        outcomes = await self.fallback.analyze_batch(texts, language)
        return [self._degraded(outcome) for outcome in outcomes]

    def _degraded(self, outcome: EngineOutcome) -> EngineOutcome:
        if isinstance(outcome, Analysis):
            return replace(outcome, degraded=True)
        if outcome.code == ErrorCode.UNSUPPORTED_LANGUAGE:
            # The primary reads this language; only the stand-in does not. Ask again later.
            return DocumentFailure(
                ErrorCode.ENGINE_UNAVAILABLE,
                f"{self.primary.identity} is unavailable and {self.fallback.identity} "
                "cannot analyse this language; retry later.",
                retryable=True,
            )
        return outcome

    def _note_fallback(self, error: Exception | None) -> None:
        self.last_fallback_at = self._clock()
        if isinstance(error, CircuitOpen):
            self.metrics.increment("CircuitOpen")
        elif error is not None:
            self.metrics.increment("EngineErrors")
            logger.warning("primary engine failed (%s); falling back", type(error).__name__)


class GuardedCache:
    """A persistent cache behind a breaker: once it keeps failing it is skipped (fail open)."""

    def __init__(self, store: ResultCache, breaker: Breaker) -> None:
        self.store = store
        self.breaker = breaker

    async def get_many(self, keys: Sequence[str]) -> dict[str, Analysis]:
        return await self.breaker.call(lambda: self.store.get_many(keys))

    async def put_many(self, entries: Mapping[str, tuple[Analysis, int]]) -> None:
        await self.breaker.call(lambda: self.store.put_many(entries))

    async def ping(self) -> None:
        # Probes go straight to the store, so health sees recovery before the breaker does.
        await self.store.ping()

    async def count(self) -> int | None:
        return await self.store.count()

    async def clear(self, batch_size: int = 500, limit: int | None = None) -> int:
        return await self.store.clear(batch_size, limit)
