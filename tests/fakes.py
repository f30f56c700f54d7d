"""Fakes that satisfy the ports and record their calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from graphql_api.access import Principal, Scope
from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import Analysis, DocumentFailure, EngineOutcome, Scores, Sentiment


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.current = now

    def now(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds


@dataclass
class RecordingEngine:
    """Positive when the text contains "good", negative for "bad", else neutral."""

    identity: str = "recording-1"
    max_batch_size: int = 25
    languages: Mapping[str, str] = field(default_factory=dict)
    fail: bool = False
    analyze_calls: list[tuple[list[str], str]] = field(default_factory=list)
    detect_calls: list[list[str]] = field(default_factory=list)

    async def detect_languages(self, texts: Sequence[str]) -> list[str]:
        self.detect_calls.append(list(texts))
        return [self.languages.get(text, "en") for text in texts]

    async def analyze_batch(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        self.analyze_calls.append((list(texts), language))
        assert len(texts) <= self.max_batch_size, "batch over the engine's limit"
        if self.fail:
            raise ConnectionError("engine down")
        if language not in {"en", "es"}:
            return [DocumentFailure(ErrorCode.UNSUPPORTED_LANGUAGE, language)] * len(texts)
        return [self._analyse(text, language) for text in texts]

    def _analyse(self, text: str, language: str) -> Analysis:
        if "good" in text:
            scores = Scores.normalised(0.9, 0.05, 0.05, 0)
        elif "bad" in text:
            scores = Scores.normalised(0.05, 0.9, 0.05, 0)
        else:
            scores = Scores.normalised(0.05, 0.05, 0.9, 0)
        return Analysis(scores.top(), scores, language, self.identity)

    @property
    def analyzed_texts(self) -> list[str]:
        return [text for texts, _ in self.analyze_calls for text in texts]


@dataclass
class RecordingCache:
    """A dict-backed ResultCache that counts reads and writes, and can be made to fail."""

    entries: dict[str, tuple[Analysis, int]] = field(default_factory=dict)
    reads: list[list[str]] = field(default_factory=list)
    writes: list[dict[str, tuple[Analysis, int]]] = field(default_factory=list)
    fail: bool = False

    async def get_many(self, keys: Sequence[str]) -> dict[str, Analysis]:
        self.reads.append(list(keys))
        if self.fail:
            raise ConnectionError("cache down")
        return {key: self.entries[key][0] for key in keys if key in self.entries}

    async def put_many(self, entries: Mapping[str, tuple[Analysis, int]]) -> None:
        self.writes.append(dict(entries))
        if self.fail:
            raise ConnectionError("cache down")
        self.entries.update(entries)

    async def ping(self) -> None:
        if self.fail:
            raise ConnectionError("cache down")

    async def count(self) -> int | None:
        return len(self.entries)

    async def clear(self, batch_size: int = 500, limit: int | None = None) -> int:
        doomed = list(self.entries)[:limit]
        for key in doomed:
            del self.entries[key]
        return len(doomed)


def positive(engine: str = "recording-1") -> Analysis:
    scores = Scores.normalised(0.9, 0.05, 0.05, 0)
    return Analysis(Sentiment.POSITIVE, scores, "en", engine)


def tenant(name: str) -> Principal:
    """A keyless principal of one tenant with every scope (as on an open local server)."""
    return Principal(name, None, frozenset(Scope), None)


@dataclass
class RecordingRunner:
    """A JobRunner that only records what it was asked to start: jobs stay QUEUED."""

    started: list[str] = field(default_factory=list)

    async def start(self, job_id: str) -> None:
        self.started.append(job_id)
