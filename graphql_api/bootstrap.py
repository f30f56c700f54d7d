"""The composition root: the only place that picks adapters and builds clients.

Every collaborator can be passed in, so tests swap in fakes with one call:
`bootstrap(settings, engine=RecordingEngine())`.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql_api import __version__
from graphql_api.adapters.local.language import LanguageDetector
from graphql_api.adapters.local.lexicon_engine import LexiconEngine
from graphql_api.adapters.local.sqlite_cache import SqliteResultCache
from graphql_api.adapters.memory import InMemoryMetrics, SystemClock
from graphql_api.adapters.tiered_cache import TieredResultCache
from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import DocumentFailure
from graphql_api.ports import Clock, Metrics, ResultCache, SentimentEngine
from graphql_api.services.analysis import AnalysisPolicy, AnalysisService
from graphql_api.services.health import ComponentProbe, HealthService, HealthStatus
from graphql_api.settings import Settings

HEALTH_PROBE_TEXT = "AuraStream health check: everything works well."


@dataclass(frozen=True)
class Container:
    settings: Settings
    engine: SentimentEngine
    cache: ResultCache | None
    metrics: Metrics
    analysis: AnalysisService
    health: HealthService


def bootstrap(
    settings: Settings | None = None,
    *,
    engine: SentimentEngine | None = None,
    cache: ResultCache | None = None,
    metrics: Metrics | None = None,
    clock: Clock | None = None,
) -> Container:
    settings = settings or Settings()
    clock = clock or SystemClock()
    metrics = metrics or InMemoryMetrics()
    engine = engine or _build_engine(settings)
    if cache is None and settings.cache_enabled:
        cache = TieredResultCache(
            SqliteResultCache(settings.cache_path, clock), clock, settings.lru_max_entries
        )
    analysis = AnalysisService(engine, cache, metrics, _policy(settings))
    health = HealthService(
        _probes(engine, cache), __version__, timeout_seconds=settings.health_timeout_seconds
    )
    return Container(settings, engine, cache, metrics, analysis, health)


def _build_engine(settings: Settings) -> SentimentEngine:
    detector = LanguageDetector(settings.default_language, settings.language_confidence_threshold)
    return LexiconEngine(detector)


def _policy(settings: Settings) -> AnalysisPolicy:
    return AnalysisPolicy(
        max_text_bytes=settings.max_text_bytes,
        ttl_short_seconds=settings.cache_ttl_short_seconds,
        ttl_medium_seconds=settings.cache_ttl_medium_seconds,
        ttl_long_seconds=settings.cache_ttl_long_seconds,
    )


def _probes(engine: SentimentEngine, cache: ResultCache | None) -> dict[str, ComponentProbe]:
    async def probe_engine() -> tuple[HealthStatus, str]:
        (outcome,) = await engine.analyze_batch([HEALTH_PROBE_TEXT], "en")
        if isinstance(outcome, DocumentFailure):
            if outcome.code == ErrorCode.UNSUPPORTED_LANGUAGE:
                return HealthStatus.HEALTHY, f"{engine.identity} is up (English unsupported)"
            return HealthStatus.UNHEALTHY, f"{engine.identity}: {outcome.code}"
        return HealthStatus.HEALTHY, f"{engine.identity} answered {outcome.sentiment.value}"

    probes = {"engine": ComponentProbe(probe_engine, HealthStatus.UNHEALTHY)}
    if cache is not None:

        async def probe_cache() -> tuple[HealthStatus, str]:
            await cache.ping()
            return HealthStatus.HEALTHY, f"{type(_store_of(cache)).__name__} reachable"

        probes["cache"] = ComponentProbe(probe_cache, HealthStatus.DEGRADED)
    return probes


def _store_of(cache: ResultCache) -> ResultCache:
    return cache.store if isinstance(cache, TieredResultCache) else cache
