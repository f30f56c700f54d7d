"""Circuit breakers around the primary engine and the persistent cache, and the fallback.

While Comprehend is failing, a fallback engine answers and says so; while the cache store
is failing, it is skipped. Neither ever fails a request.

The breaker is a small one of our own rather than purgatory's: purgatory's half-open state
lets every concurrent call through (a burst of probes against a dependency that is just
recovering) and its state only changes when a call passes, so health could not see the
recovery window open. What is needed here is about forty lines: count failures and
timeouts (never throttles or calls the deadline kept from being sent), open, and after the
recovery time let exactly one probe through.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from graphql_api.domain.deadline import BudgetSpent, current_deadline
from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import Analysis, DocumentFailure, EngineOutcome
from graphql_api.metric_names import Metric
from graphql_api.ports import Metrics, ResultCache, SentimentEngine

logger = logging.getLogger(__name__)
T = TypeVar("T")

CLOSED, OPENED, HALF_OPENED = "closed", "opened", "half-opened"
#: Below this much budget a call to the primary is not worth sending.
MIN_CALL_SECONDS = 0.02


class CircuitOpen(Exception):
    """The breaker is open (or its one probe is out): the dependency is not called."""


class Throttled(Exception):
    """The dependency refused for rate, and the budget ran out retrying: not an outage."""


class PartialDetection(Exception):
    """Some languages came back; the others (None) hit transient per-item errors."""

    def __init__(self, languages: list[str | None]) -> None:
        super().__init__(f"{languages.count(None)} of {len(languages)} languages unanswered")
        self.languages = languages


def counts_as_failure(error: BaseException) -> bool:
    """Failures and timeouts open a breaker; throttles, spent budgets and cancellations
    say nothing about the dependency's health."""
    if isinstance(error, Throttled | BudgetSpent | PartialDetection | asyncio.CancelledError):
        return False
    return isinstance(error, Exception)


class Breaker:
    """CLOSED; OPENED after `threshold` consecutive failures; HALF_OPENED after a while,
    when exactly one call goes through as a probe: its success closes the circuit, its
    failure opens it again for twice as long. The first wait is `first_recovery_seconds`
    and the longest `recovery_seconds`, so a short outage is over for callers about as
    soon as it ends, and a long one costs one probe per `recovery_seconds`."""

    def __init__(
        self,
        name: str,
        threshold: int,
        recovery_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        first_recovery_seconds: float = 1.0,
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.recovery_seconds = recovery_seconds
        self.first_recovery_seconds = min(first_recovery_seconds, recovery_seconds)
        self._open_for = self.first_recovery_seconds
        self._clock = clock
        self._lock = threading.Lock()  # cache breakers are touched from worker threads too
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> str:
        """Read live: HALF_OPENED as soon as the recovery time has passed."""
        if self._opened_at is None:
            return CLOSED
        if self._probing or self._clock() - self._opened_at >= self._open_for:
            return HALF_OPENED
        return OPENED

    def _acquire(self) -> bool:
        with self._lock:
            state = self.state
            if state == CLOSED:
                return False
            if state == HALF_OPENED and not self._probing:
                self._probing = True
                return True
            raise CircuitOpen(f"circuit '{self.name}' is {state}")

    def _record(self, error: BaseException | None, probe: bool) -> None:
        with self._lock:
            before = self.state
            if probe:
                self._probing = False
            if error is None:
                self._failures, self._opened_at = 0, None
                self._open_for = self.first_recovery_seconds
            elif counts_as_failure(error):
                self._failures += 1
                if probe:
                    self._open_for = min(self._open_for * 2, self.recovery_seconds)
                if probe or self._failures >= self.threshold:
                    self._opened_at = self._clock()
            after = self.state
        if before != after:
            logger.warning("circuit %s is now %s", self.name, after)

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        probe = self._acquire()
        try:
            result = await operation()
        except BaseException as error:
            self._record(error, probe)
            raise
        self._record(None, probe)
        return result


class FallbackEngine:
    """The primary engine behind a breaker, with a fallback that answers when it cannot.

    All calls share the request's deadline (graphql_api.domain.deadline): once it is spent
    the primary is not called and the fallback answers what is left. Fallback answers
    carry `degraded=True` and the fallback's engine name. Per-document failures that are
    retryable (Comprehend's internal errors, throttled items) fall back one by one, and
    languages Comprehend could not detect for a transient reason are detected locally.
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
        self.last_answered_at: float | None = None

    def warm(self) -> None:
        """Load the fallback's models now (language identification takes ~0.8 s, the
        model ~0.3 s), so the first request that needs them does not pay for it."""
        text = ["AuraStream warms its fallback engine up."]
        loop = asyncio.new_event_loop()  # a loop of its own, never the thread's current one
        try:
            loop.run_until_complete(self.fallback.detect_languages(text))
            loop.run_until_complete(self.fallback.analyze_batch(text, "en"))
        finally:
            loop.close()

    def fallback_in_use(self, within_seconds: float = 5) -> bool:
        """Whether the fallback answered in the last seconds, and the primary has not
        answered a whole batch itself since (so recovery shows at once)."""
        last = self.last_fallback_at
        if last is None or self._clock() - last >= within_seconds:
            return False
        return self.last_answered_at is None or last >= self.last_answered_at

    async def _on_primary(self, call: Callable[[], Awaitable[T]]) -> T:
        deadline = current_deadline()
        timeout = None
        if deadline is not None:
            timeout = deadline.remaining()
            if timeout < MIN_CALL_SECONDS:
                raise BudgetSpent("the request's engine budget is spent")
        # The primary keeps to the deadline itself; wait_for is the backstop.
        return await self.breaker.call(lambda: asyncio.wait_for(call(), timeout))

    async def detect_languages(self, texts: Sequence[str]) -> list[str]:
        try:
            return await self._on_primary(lambda: self.primary.detect_languages(texts))
        except PartialDetection as partial:
            missing = [i for i, language in enumerate(partial.languages) if language is None]
            self._note_fallback(partial)
            detected = await self.fallback.detect_languages([texts[i] for i in missing])
            languages = list(partial.languages)
            for index, language in zip(missing, detected, strict=True):
                languages[index] = language
            return [language or "" for language in languages]
        except Exception as error:
            self._note_fallback(error)
            return await self.fallback.detect_languages(texts)

    async def analyze_batch(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        try:
            outcomes = await self._on_primary(lambda: self.primary.analyze_batch(texts, language))
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
        else:
            self.last_answered_at = self._clock()
        return outcomes

    async def _fall_back(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        self.metrics.increment(Metric.ENGINE_FALLBACK, len(texts))
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
            self.metrics.increment(Metric.CIRCUIT_OPEN)
        elif isinstance(error, Throttled):
            self.metrics.increment(Metric.ENGINE_THROTTLED)
        elif isinstance(error, BudgetSpent | PartialDetection):
            pass  # not the dependency's fault: the budget went to earlier calls
        elif error is not None:
            self.metrics.increment(Metric.ENGINE_ERRORS)
            logger.warning("primary engine failed (%s); falling back", type(error).__name__)


class GuardedCache:
    """A persistent cache behind two breakers, one for reads and one for writes, so reads
    that still work never hide writes that fail (a full disk, a read-only directory).
    Once either keeps failing, that side is skipped (fail open)."""

    def __init__(
        self,
        store: ResultCache,
        reads: Breaker,
        writes: Breaker,
        timeout_seconds: float | None = None,
    ) -> None:
        self.store = store
        self.reads = reads
        self.writes = writes
        #: A stalled store costs a request at most this long (and counts as a failure).
        self.timeout_seconds = timeout_seconds

    @property
    def breakers(self) -> tuple[Breaker, Breaker]:
        return self.reads, self.writes

    async def get_many(self, keys: Sequence[str]) -> dict[str, Analysis]:
        return await self.reads.call(
            lambda: asyncio.wait_for(self.store.get_many(keys), self.timeout_seconds)
        )

    async def put_many(self, entries: Mapping[str, tuple[Analysis, int]]) -> None:
        await self.writes.call(
            lambda: asyncio.wait_for(self.store.put_many(entries), self.timeout_seconds)
        )

    async def ping(self) -> None:
        # Probes go straight to the store, so health sees recovery before the breaker does.
        await self.store.ping()

    async def count(self) -> int | None:
        return await self.store.count()

    async def clear(self, batch_size: int = 500, limit: int | None = None) -> int:
        return await self.store.clear(batch_size, limit)
