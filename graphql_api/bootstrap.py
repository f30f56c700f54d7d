"""The composition root: the only place that picks adapters and builds clients.

Every collaborator can be passed in, so tests swap in fakes with one call:
`bootstrap(settings, engine=RecordingEngine())`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from graphql_api import __version__
from graphql_api.access import AccessService, AccessStore, Limits, Metering
from graphql_api.adapters.aws.clients import AwsClients
from graphql_api.adapters.local.language import LanguageDetector
from graphql_api.adapters.local.lexicon_engine import LexiconEngine
from graphql_api.adapters.memory import SystemClock
from graphql_api.adapters.metered import CostMeteredEngine, MeteredPiiDetector
from graphql_api.adapters.metrics import EmfMetrics, FanOutMetrics, PrometheusMetrics
from graphql_api.adapters.recent_metrics import RecentMetrics
from graphql_api.adapters.resilience import (
    Breaker,
    FallbackEngine,
    GuardedCache,
)
from graphql_api.adapters.tiered_cache import TieredResultCache
from graphql_api.health_probes import build_probes, innermost
from graphql_api.observability import NAMESPACE, SERVICE
from graphql_api.ports import (
    BlobStore,
    Clock,
    JobRunner,
    JobStore,
    Metrics,
    ResultCache,
    SentimentEngine,
)
from graphql_api.privacy import ComprehendPiiDetector, LocalPiiDetector, PiiDetector
from graphql_api.services.analysis import AnalysisPolicy, AnalysisService
from graphql_api.services.cache import CacheOperations
from graphql_api.services.health import (
    HealthService,
)
from graphql_api.services.jobs import JobService
from graphql_api.services.metered import MeteredAnalysis
from graphql_api.settings import Settings

#: The longest a cache read or write may hold a request: a stalled table is then skipped
#: (after the cache breaker's threshold) instead of costing botocore's four attempts.
CACHE_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class Container:
    settings: Settings
    engine: SentimentEngine
    cache: ResultCache | None
    metrics: FanOutMetrics
    analysis: AnalysisService
    health: HealthService
    aws: AwsClients
    jobs: JobService
    access: AccessService
    metering: Metering
    #: The analyze use case of every entry point: limits, quota, pipeline, usage.
    documents: MeteredAnalysis
    pii: PiiDetector
    cache_operations: CacheOperations
    #: The sinks behind `metrics` that entry points read: /metrics locally, EMF on Lambda.
    prometheus: PrometheusMetrics | None = None
    emf: EmfMetrics | None = None
    #: The last hour in memory, for the local status page.
    recent: RecentMetrics | None = None

    def close(self) -> None:
        """Release local resources (SQLite connections); AWS clients need nothing."""
        stores = [self.jobs.store, innermost(self.cache) if self.cache is not None else None]
        self.access.close()
        for store in stores:
            close = getattr(store, "close", None)
            if close is not None:
                close()


def bootstrap(
    settings: Settings | None = None,
    *,
    engine: SentimentEngine | None = None,
    cache: ResultCache | None = None,
    metrics: Metrics | None = None,
    clock: Clock | None = None,
    aws: AwsClients | None = None,
    job_store: JobStore | None = None,
    blobs: BlobStore | None = None,
    runner: JobRunner | None = None,
    access_store: AccessStore | None = None,
) -> Container:
    settings = settings or Settings()
    clock = clock or SystemClock()
    prometheus = emf = recent = None
    sinks: list[Metrics]
    if metrics is not None:
        sinks = [metrics]
    elif settings.backend == "aws":
        emf = EmfMetrics(NAMESPACE, SERVICE)
        sinks = [emf]
    else:
        prometheus, recent = PrometheusMetrics(), RecentMetrics(clock.now)
        sinks = [prometheus, recent]
    # The fan-out keeps an in-process tally too, which cache statistics read.
    metrics = FanOutMetrics(sinks)
    aws = aws or AwsClients(settings)  # clients are created on first use, never here
    engine = engine or _build_engine(settings, aws, metrics)
    if cache is None and settings.cache_enabled:
        cache = _build_cache(settings, aws, clock, metrics)
    analysis = AnalysisService(engine, cache, metrics, _policy(settings))
    access_store = access_store or build_access_store(settings, aws)
    access = build_access_service(settings, access_store, metrics, clock)
    metering = Metering(
        access_store, metrics, clock, usage_retention_days=settings.usage_retention_days
    )
    jobs = _build_jobs(settings, aws, analysis, metering, clock, metrics, job_store, blobs, runner)
    pii = _build_pii(settings, aws, metrics)
    probes = build_probes(settings, aws, analysis, jobs.store, jobs.blobs, access)
    health = HealthService(
        probes,
        __version__,
        timeout_seconds=settings.health_timeout_seconds,
        ttl_seconds=settings.health_cache_seconds,
        failure_ttl_seconds=settings.health_failure_cache_seconds,
    )
    return Container(
        settings,
        engine,
        cache,
        metrics,
        analysis,
        health,
        aws,
        jobs,
        access,
        metering,
        MeteredAnalysis(analysis, metering, pii, settings.max_documents_per_request),
        pii,
        CacheOperations(cache, metrics.counters),
        prometheus,
        emf,
        recent,
    )


def build_access_store(settings: Settings, aws: AwsClients | None = None) -> AccessStore:
    """The key store for `settings.backend`: the `keys_table` DynamoDB table on AWS, else
    an SQLite file under the data directory."""
    if settings.backend == "aws":
        from graphql_api.access.dynamodb_store import DynamoDBAccessStore

        clients = aws or AwsClients(settings)
        return DynamoDBAccessStore(settings.keys_table, lambda: clients.get("dynamodb"))
    from graphql_api.access.sqlite_store import SqliteAccessStore

    return SqliteAccessStore(settings.keys_path)


def build_access_service(
    settings: Settings, store: AccessStore, metrics: Metrics, clock: Clock
) -> AccessService:
    """The service with the key cache, default limits, price and switches from `settings`."""
    return AccessService(
        store,
        metrics,
        clock,
        enforced=settings.auth_enforced,
        enabled=settings.enabled,
        key_cache_ttl_seconds=settings.key_cache_ttl_seconds,
        default_limits=Limits(
            rate_per_second=settings.default_rate_per_second,
            burst=settings.default_burst,
            daily_document_quota=settings.default_daily_document_quota,
        ),
        price_per_unit=settings.comprehend_price_per_unit,
    )


def _build_jobs(
    settings: Settings,
    aws: AwsClients,
    analysis: AnalysisService,
    metering: Metering,
    clock: Clock,
    metrics: Metrics,
    store: JobStore | None,
    blobs: BlobStore | None,
    runner: JobRunner | None,
) -> JobService:
    local_runner = None
    if settings.backend == "aws":
        from graphql_api.adapters.aws.dynamodb_jobs import DynamoDBJobStore
        from graphql_api.adapters.aws.s3_blobs import S3BlobStore
        from graphql_api.adapters.aws.step_functions import StepFunctionsJobRunner

        store = store or DynamoDBJobStore(settings.jobs_table, lambda: aws.get("dynamodb"))
        blobs = blobs or S3BlobStore(
            settings.bucket, lambda: aws.get("s3"), settings.output_link_seconds
        )
        runner = runner or StepFunctionsJobRunner(
            settings.state_machine_arn or "", lambda: aws.get("stepfunctions")
        )
    else:
        from graphql_api.adapters.local.files import FileBlobStore
        from graphql_api.adapters.local.runner import LocalJobRunner
        from graphql_api.adapters.local.sqlite_jobs import SqliteJobStore

        store = store or SqliteJobStore(settings.jobs_path)
        blobs = blobs or FileBlobStore(settings.blobs_dir, settings.inbox_dir)
        if runner is None:
            runner = local_runner = LocalJobRunner(settings.local_job_concurrency)
    service = JobService(
        store,
        blobs,
        runner,
        analysis,
        metering,
        clock,
        metrics,
        max_text_bytes=settings.max_text_bytes,
    )
    if local_runner is not None:
        local_runner.bind(service.run)
    return service


def _embedded_engine(settings: Settings, name: str) -> SentimentEngine:
    detector = LanguageDetector(settings.default_language, settings.language_confidence_threshold)
    if name == "lexicon":
        return LexiconEngine(detector)
    from graphql_api.adapters.local.model_engine import OnnxSentimentEngine

    return OnnxSentimentEngine(language_detector=detector)


def _build_engine(settings: Settings, aws: AwsClients, metrics: Metrics) -> SentimentEngine:
    if settings.primary_engine != "comprehend":
        return _embedded_engine(settings, settings.primary_engine)
    local = _embedded_engine(settings, "model")  # Comprehend's stand-in during outages
    from graphql_api.adapters.aws.comprehend_engine import ComprehendEngine

    budget = settings.comprehend_budget_seconds
    # The engine retries within its deadline itself: each client makes one attempt with a
    # read timeout the engine picks from the budget left.
    comprehend = CostMeteredEngine(
        ComprehendEngine(
            lambda read_timeout: aws.get("comprehend", read_timeout=read_timeout, max_attempts=1),
            budget,
            max_workers=settings.aws_max_pool_connections,
            max_attempts=settings.aws_max_attempts,
        ),
        metrics,
    )
    breaker = Breaker(
        "comprehend", settings.breaker_failure_threshold, settings.breaker_recovery_seconds
    )
    engine = FallbackEngine(comprehend, local, breaker, metrics)
    if "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
        # Off the init path: a new container answers at once, and its first degraded
        # answer (a slow Comprehend, say) does not wait a second for the models to load.
        threading.Thread(target=engine.warm, name="aurastream-warm", daemon=True).start()
    return engine


def _build_cache(
    settings: Settings, aws: AwsClients, clock: Clock, metrics: Metrics
) -> ResultCache:
    store: ResultCache
    if settings.backend == "aws":
        from graphql_api.adapters.aws.dynamodb_cache import DynamoDBResultCache

        store = DynamoDBResultCache(settings.cache_table, lambda: aws.get("dynamodb"), clock)
    else:
        from graphql_api.adapters.local.sqlite_cache import SqliteResultCache

        store = SqliteResultCache(settings.cache_path, clock)
    threshold, recovery = settings.cache_failure_threshold, settings.cache_recovery_seconds
    guarded = GuardedCache(
        store,
        reads=Breaker("cache-reads", threshold, recovery),
        writes=Breaker("cache-writes", threshold, recovery),
        timeout_seconds=CACHE_TIMEOUT_SECONDS,
    )
    return TieredResultCache(guarded, clock, settings.lru_max_entries, metrics)


def _build_pii(settings: Settings, aws: AwsClients, metrics: Metrics) -> PiiDetector:
    local = LocalPiiDetector()
    if settings.pii_detector != "comprehend":
        return MeteredPiiDetector(local, metrics, priced=False)
    budget = settings.comprehend_budget_seconds
    # One attempt per call: an abandoned call ends within its read timeout, never retrying.
    comprehend = ComprehendPiiDetector(
        lambda: aws.get("comprehend", read_timeout=budget, max_attempts=1),
        fallback=local,
        budget_seconds=budget,
    )
    return MeteredPiiDetector(comprehend, metrics, priced=True)


def _policy(settings: Settings) -> AnalysisPolicy:
    return AnalysisPolicy(
        max_text_bytes=settings.max_text_bytes,
        ttl_short_seconds=settings.cache_ttl_short_seconds,
        ttl_medium_seconds=settings.cache_ttl_medium_seconds,
        ttl_long_seconds=settings.cache_ttl_long_seconds,
        degraded_ttl_seconds=settings.degraded_cache_ttl_seconds,
        engine_budget_seconds=(
            settings.comprehend_budget_seconds if settings.primary_engine == "comprehend" else None
        ),
    )
