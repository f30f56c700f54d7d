"""The analysis use case: validate, dedupe, read the cache, run the engine on misses, write back.

Everything here is plain asyncio over the ports, so the GraphQL DataLoader, the job
workers and the CLI all share one batched pipeline.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from graphql_api.domain.deadline import engine_deadline
from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import Analysis, DocumentFailure, DocumentRequest, DocumentResult
from graphql_api.domain.text import cache_key, is_clean, normalise, text_hash
from graphql_api.metric_names import Metric
from graphql_api.observability import subsegment
from graphql_api.ports import Metrics, ResultCache, SentimentEngine

logger = logging.getLogger(__name__)

_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Z]{2})?")


@dataclass(frozen=True, slots=True)
class AnalysisPolicy:
    """The limits and cache lifetimes the pipeline applies."""

    max_text_bytes: int = 5_000
    ttl_short_seconds: int = 3_600
    ttl_medium_seconds: int = 86_400
    ttl_long_seconds: int = 604_800
    #: Degraded (fallback) answers are kept only briefly so the real engine answers soon.
    degraded_ttl_seconds: int = 0
    #: One deadline for all engine work of a request (detection and sentiment together);
    #: None leaves each engine call to its own timeout.
    engine_budget_seconds: float | None = None

    def ttl_for(self, analysis: Analysis, text_length: int) -> int:
        if analysis.degraded:
            return self.degraded_ttl_seconds
        if text_length < 100:
            return self.ttl_short_seconds
        if text_length < 1_000:
            return self.ttl_medium_seconds
        return self.ttl_long_seconds


@dataclass(slots=True)
class _Pending:
    """One distinct document of a batch, shared by every request that asked for it."""

    text: str
    digest: str
    requested_language: str | None
    language: str | None = None
    outcome: Analysis | DocumentFailure | None = None
    cached: bool = False
    members: list[int] = field(default_factory=list)


class AnalysisService:
    def __init__(
        self,
        engine: SentimentEngine,
        cache: ResultCache | None,
        metrics: Metrics,
        policy: AnalysisPolicy | None = None,
    ) -> None:
        self.engine = engine
        self.cache = cache
        self.metrics = metrics
        self.policy = policy or AnalysisPolicy()
        #: Engine batches running now; health reads it so it never queues behind them.
        self.engine_batches_in_flight = 0

    async def analyze(self, requests: Sequence[DocumentRequest]) -> list[DocumentResult]:
        """Analyse documents in one batch; results come back in request order.

        Costs one cache read for the whole batch, engine calls only for distinct misses
        (grouped by language, chunked at the engine's batch size) and one cache write.
        """
        results: list[DocumentResult | None] = [None] * len(requests)
        pending: dict[str, _Pending] = {}
        normalised_texts: list[str] = []
        for index, request in enumerate(requests):
            if not is_clean(request.text) or (request.id is not None and not is_clean(request.id)):
                normalised_texts.append("")
                results[index] = DocumentResult(None, None, failure=_invalid_text())
                continue
            text = normalise(request.text)
            normalised_texts.append(text)
            failure = self._validate(text, request.language)
            if failure is not None:
                digest = text_hash(text) if text else None
                results[index] = DocumentResult(request.id, digest, failure=failure)
                continue
            digest = text_hash(text)
            key = cache_key(digest, request.language, self.engine.identity)
            item = pending.setdefault(key, _Pending(text, digest, request.language))
            item.members.append(index)

        await self._read_cache(pending)
        misses = {key: item for key, item in pending.items() if item.outcome is None}
        if misses:
            with engine_deadline(self.policy.engine_budget_seconds):
                await self._run_engine(list(misses.values()))
            await self._write_cache(misses)

        for item in pending.values():
            for index in item.members:
                request = requests[index]
                outcome = item.outcome
                results[index] = DocumentResult(
                    request.id,
                    item.digest,
                    analysis=outcome if isinstance(outcome, Analysis) else None,
                    failure=outcome if isinstance(outcome, DocumentFailure) else None,
                    cached=item.cached,
                    normalised_text=normalised_texts[index],
                )
        self.metrics.increment(Metric.DOCUMENTS_ANALYZED, len(requests))
        return [result for result in results if result is not None]

    def _validate(self, text: str, language: str | None) -> DocumentFailure | None:
        if not text:
            return DocumentFailure(ErrorCode.EMPTY_TEXT, "Text is empty or only whitespace.")
        size = len(text.encode("utf-8"))
        if size > self.policy.max_text_bytes:
            return DocumentFailure(
                ErrorCode.TEXT_TOO_LONG,
                f"Text is {size} UTF-8 bytes; the limit is {self.policy.max_text_bytes}.",
            )
        if language is not None and not _LANGUAGE_CODE.fullmatch(language):
            return DocumentFailure(
                ErrorCode.INVALID_LANGUAGE_CODE,
                "languageCode must be an ISO 639 code such as 'en' or 'zh-TW'.",
            )
        return None

    async def _read_cache(self, pending: dict[str, _Pending]) -> None:
        if self.cache is None or not pending:
            return
        try:
            with subsegment("cache.get_many"):
                hits = await self.cache.get_many(list(pending))
        except Exception:
            # A failing cache never fails a request: treat everything as a miss.
            logger.warning("cache read failed; bypassing the cache", exc_info=True)
            self.metrics.increment(Metric.CACHE_ERRORS)
            hits = {}
        for key, analysis in hits.items():
            item = pending[key]
            item.outcome, item.cached = analysis, True
        self.metrics.increment(Metric.CACHE_HIT, len(hits))
        self.metrics.increment(Metric.CACHE_MISS, len(pending) - len(hits))

    async def _run_engine(self, items: list[_Pending]) -> None:
        undetected = [item for item in items if item.requested_language is None]
        if undetected:
            try:
                languages = await self._detect([item.text for item in undetected])
            except Exception:
                logger.exception("language detection failed")
                self.metrics.increment(Metric.ENGINE_ERRORS)
                for item in undetected:
                    item.outcome = _engine_unavailable()
                items = [item for item in items if item.outcome is None]
            else:
                for item, language in zip(undetected, languages, strict=True):
                    item.language = language
        by_language: defaultdict[str, list[_Pending]] = defaultdict(list)
        for item in items:
            by_language[item.language or item.requested_language or ""].append(item)
        size = self.engine.max_batch_size
        chunks = [
            (language, group[start : start + size])
            for language, group in by_language.items()
            for start in range(0, len(group), size)
        ]
        await asyncio.gather(*(self._analyze_chunk(language, chunk) for language, chunk in chunks))

    async def _detect(self, texts: list[str]) -> list[str]:
        size = self.engine.max_batch_size
        with subsegment("engine.detect_languages"):
            parts = await asyncio.gather(
                *(
                    self.engine.detect_languages(texts[i : i + size])
                    for i in range(0, len(texts), size)
                )
            )
        return [language for part in parts for language in part]

    async def _analyze_chunk(self, language: str, chunk: list[_Pending]) -> None:
        started = time.perf_counter()
        self.engine_batches_in_flight += 1
        try:
            with subsegment("engine.analyze_batch"):
                outcomes = await self.engine.analyze_batch([item.text for item in chunk], language)
        except Exception:
            logger.exception("engine batch failed")
            self.metrics.increment(Metric.ENGINE_ERRORS)
            outcomes = [_engine_unavailable()] * len(chunk)
        finally:
            self.engine_batches_in_flight -= 1
            self.metrics.observe_ms(Metric.ENGINE_LATENCY, (time.perf_counter() - started) * 1_000)
        for item, outcome in zip(chunk, outcomes, strict=True):
            item.outcome = outcome

    async def _write_cache(self, misses: dict[str, _Pending]) -> None:
        if self.cache is None:
            return
        entries = {}
        for key, item in misses.items():
            if isinstance(item.outcome, Analysis):
                ttl = self.policy.ttl_for(item.outcome, len(item.text))
                if ttl > 0:
                    entries[key] = (item.outcome, ttl)
        if not entries:
            return
        try:
            with subsegment("cache.put_many"):
                await self.cache.put_many(entries)
        except Exception:
            logger.warning("cache write failed; results were still returned", exc_info=True)
            self.metrics.increment(Metric.CACHE_ERRORS)


def _invalid_text() -> DocumentFailure:
    # The id is not echoed either: it may be the part that cannot be represented.
    return DocumentFailure(
        ErrorCode.INVALID_TEXT, "The text or id holds a NUL or an unpaired UTF-16 surrogate."
    )


def _engine_unavailable() -> DocumentFailure:
    return DocumentFailure(
        ErrorCode.ENGINE_UNAVAILABLE, "The sentiment engine is unavailable; retry later.", True
    )
