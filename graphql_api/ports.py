"""The small interfaces the services depend on; adapters under `adapters/` implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from graphql_api.domain.results import Analysis, EngineOutcome


class SentimentEngine(Protocol):
    """Turns texts into analyses; one call handles at most `max_batch_size` texts."""

    #: Names the engine and its version, e.g. "vader-3.3.2"; part of every cache key.
    identity: str
    max_batch_size: int

    async def detect_languages(self, texts: Sequence[str]) -> list[str]:
        """The dominant language (ISO 639-1, or e.g. "zh-TW") of each text, in order."""
        ...

    async def analyze_batch(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        """One outcome per text, in order; a text that fails yields a DocumentFailure."""
        ...


class ResultCache(Protocol):
    """Analyses by cache key. Holds results only, never the text they came from."""

    async def get_many(self, keys: Sequence[str]) -> dict[str, Analysis]:
        """The entries found and not expired; missing keys are simply absent."""
        ...

    async def put_many(self, entries: Mapping[str, tuple[Analysis, int]]) -> None:
        """Store each analysis with its time to live in seconds."""
        ...

    async def ping(self) -> None:
        """Raise if the cache cannot serve requests; used by health checks."""
        ...


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class Metrics(Protocol):
    """Counters and timings; CloudWatch EMF on Lambda, Prometheus locally, memory in tests."""

    def increment(self, name: str, value: float = 1) -> None: ...

    def observe_ms(self, name: str, milliseconds: float) -> None: ...
