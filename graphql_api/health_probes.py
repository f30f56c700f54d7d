"""The health probes each backend reports, built from the wired parts by the composition
root. Locally the components are the local parts (engine, cache, jobs, keys); on AWS they
carry the runbook's names (api_gateway, lambda, dynamodb, comprehend, s3, stepfunctions)."""

from __future__ import annotations

import asyncio
import os

from graphql_api.access import AccessService
from graphql_api.adapters.aws.clients import AwsClients
from graphql_api.adapters.resilience import CLOSED, HALF_OPENED, FallbackEngine, GuardedCache
from graphql_api.domain.errors import ErrorCode
from graphql_api.domain.results import DocumentFailure
from graphql_api.ports import BlobStore, JobStore, ResultCache, SentimentEngine
from graphql_api.services.analysis import AnalysisService
from graphql_api.services.health import ComponentProbe, HealthStatus, LiveCheck, Probe
from graphql_api.settings import Settings

HEALTH_PROBE_TEXT = "AuraStream health check: everything works well."


def _component_probes(
    settings: Settings,
    aws: AwsClients,
    analysis: AnalysisService,
    jobs: JobStore,
    blobs: BlobStore,
    access: AccessService,
) -> dict[str, ComponentProbe]:
    """Locally the local parts; on AWS the runbook's names for the same checks."""
    engine, cache = analysis.engine, analysis.cache
    engine_probe = ComponentProbe(
        _probe_engine(analysis), HealthStatus.UNHEALTHY, live=_engine_circuit(engine)
    )
    cache_probe = (
        ComponentProbe(_probe_cache(cache), HealthStatus.DEGRADED, live=_cache_circuits(cache))
        if cache is not None
        else None
    )
    jobs_probe = ComponentProbe(_probe_jobs(jobs), HealthStatus.DEGRADED)
    keys_probe = ComponentProbe(_probe_keys(access), HealthStatus.UNHEALTHY)
    if settings.backend == "aws":
        tables = {"keys": keys_probe, "jobs": jobs_probe}
        if cache_probe is not None:
            tables["cache"] = cache_probe
        return {
            # A report that reached the caller went through both.
            "api_gateway": _always("requests reach the function"),
            "lambda": _always(
                f"{os.environ.get('AWS_LAMBDA_FUNCTION_NAME', 'function')} "
                f"version {os.environ.get('AWS_LAMBDA_FUNCTION_VERSION', '$LATEST')}"
            ),
            "dynamodb": ComponentProbe(_all_of(tables), HealthStatus.UNHEALTHY),
            "comprehend": engine_probe,
            "s3": ComponentProbe(_probe_blobs(blobs), HealthStatus.DEGRADED),
            "stepfunctions": ComponentProbe(
                _probe_state_machine(settings, aws), HealthStatus.DEGRADED
            ),
        }
    probes = {"engine": engine_probe, "jobs": jobs_probe}
    if cache_probe is not None:
        probes["cache"] = cache_probe
    if settings.auth_enforced:  # no key store, no authenticated request
        probes["keys"] = keys_probe
    return probes


def _engine_circuit(engine: SentimentEngine) -> LiveCheck:
    """While the breaker is open, or the fallback answered moments ago, the service is
    degraded: known for free, and no probe goes to a dependency the breaker shields. Once
    half-open, the health probe may be the one call that closes it (with no traffic,
    nothing else would)."""

    def live() -> tuple[HealthStatus, str] | None:
        if not isinstance(engine, FallbackEngine):
            return None
        state = engine.breaker.state
        if state == HALF_OPENED:
            return None  # the probe may be the one call that closes the circuit
        if state != CLOSED:
            return HealthStatus.DEGRADED, (
                f"{engine.primary.identity} circuit {state}; "
                f"{engine.fallback.identity} is answering"
            )
        if engine.fallback_in_use():
            return HealthStatus.DEGRADED, (
                f"{engine.fallback.identity} answered some documents in the last seconds"
            )
        return None

    return live


def _probe_engine(analysis: AnalysisService) -> Probe:
    engine = analysis.engine

    async def probe() -> tuple[HealthStatus, str]:
        if analysis.engine_batches_in_flight:
            # Busy with real work (a big job, say): that is an answer, and a probe would
            # only queue behind it.
            return HealthStatus.HEALTHY, (
                f"{engine.identity} busy with {analysis.engine_batches_in_flight} batch(es)"
            )
        (outcome,) = await engine.analyze_batch([HEALTH_PROBE_TEXT], "en")
        if isinstance(outcome, DocumentFailure):
            if outcome.code == ErrorCode.UNSUPPORTED_LANGUAGE:
                return HealthStatus.HEALTHY, f"{engine.identity} is up (English unsupported)"
            return HealthStatus.UNHEALTHY, f"{engine.identity}: {outcome.code}"
        if outcome.degraded:
            circuit = (
                f" (circuit {engine.breaker.state})" if isinstance(engine, FallbackEngine) else ""
            )
            return (
                HealthStatus.DEGRADED,
                f"{engine.identity} failed{circuit}; {outcome.engine} answered",
            )
        return HealthStatus.HEALTHY, f"{engine.identity} answered {outcome.sentiment.value}"

    return probe


def _cache_circuits(cache: ResultCache | None) -> LiveCheck:
    guarded = _find(cache, GuardedCache) if cache is not None else None

    def live() -> tuple[HealthStatus, str] | None:
        if guarded is None:
            return None
        tripped = [b for b in guarded.breakers if b.state != CLOSED]
        if not tripped:
            return None
        return HealthStatus.DEGRADED, "bypassed: " + ", ".join(
            f"circuit {b.name} {b.state}" for b in tripped
        )

    return live


def _probe_cache(cache: ResultCache) -> Probe:
    async def probe() -> tuple[HealthStatus, str]:
        await cache.ping()  # a read and a write
        return HealthStatus.HEALTHY, f"{type(innermost(cache)).__name__} reads and writes"

    return probe


def _probe_jobs(store: JobStore) -> Probe:
    async def probe() -> tuple[HealthStatus, str]:
        await store.ping()
        return HealthStatus.HEALTHY, f"{type(store).__name__} reachable"

    return probe


def _probe_blobs(blobs: BlobStore) -> Probe:
    async def probe() -> tuple[HealthStatus, str]:
        # A HEAD of an object that never exists, under the prefix the role may list.
        await blobs.exists("jobs/health-probe")
        return HealthStatus.HEALTHY, "bucket reachable"

    return probe


def _probe_state_machine(settings: Settings, aws: AwsClients) -> Probe:
    async def probe() -> tuple[HealthStatus, str]:
        arn = settings.state_machine_arn
        if not arn:
            return HealthStatus.DEGRADED, "no state machine configured: jobs cannot start"
        # An execution that never exists: the function may already DescribeExecution, and
        # "does not exist" proves the service and the state machine's name both answer.
        execution = arn.replace(":stateMachine:", ":execution:") + ":health-probe"
        try:
            await asyncio.to_thread(
                aws.get("stepfunctions").describe_execution, executionArn=execution
            )
        except Exception as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            if code != "ExecutionDoesNotExist":
                raise
        return HealthStatus.HEALTHY, "Step Functions reachable"

    return probe


def _all_of(parts: dict[str, ComponentProbe]) -> Probe:
    """One component backed by several stores (DynamoDB's tables): the worst of them."""

    async def probe() -> tuple[HealthStatus, str]:
        async def one(name: str, part: ComponentProbe) -> tuple[HealthStatus, str]:
            verdict = part.live() if part.live is not None else None
            if verdict is not None:
                return verdict[0], f"{name}: {verdict[1]}"
            try:
                status, detail = await part.probe()
            except Exception as error:
                return part.failure_status, f"{name}: {type(error).__name__}: {error}"[:200]
            return status, f"{name}: {detail}"

        results = await asyncio.gather(*(one(name, part) for name, part in parts.items()))
        severity = list(HealthStatus)
        worst = max((status for status, _ in results), key=severity.index)
        return worst, "; ".join(detail for _, detail in results)

    return probe


def _always(detail: str) -> ComponentProbe:
    async def probe() -> tuple[HealthStatus, str]:
        return HealthStatus.HEALTHY, detail

    return ComponentProbe(probe, HealthStatus.UNHEALTHY)


def _find(cache: ResultCache, kind: type[GuardedCache]) -> GuardedCache | None:
    layer: object = cache
    while layer is not None:
        if isinstance(layer, kind):
            return layer
        layer = getattr(layer, "store", None)
    return None


def innermost(cache: ResultCache) -> object:
    """The store under every caching and guarding layer (what actually holds entries)."""
    layer: object = cache
    while getattr(layer, "store", None) is not None:
        layer = layer.store  # type: ignore[attr-defined]
    return layer


def build_probes(
    settings: Settings,
    aws: AwsClients,
    analysis: AnalysisService,
    jobs: JobStore,
    blobs: BlobStore,
    access: AccessService,
) -> dict[str, ComponentProbe]:
    """The components health reports, each with what its failure means for the service;
    with the maintenance switch on, a `maintenance` component says why health is 503."""
    probes = _component_probes(settings, aws, analysis, jobs, blobs, access)
    if not settings.enabled:
        probes["maintenance"] = ComponentProbe(_maintenance, HealthStatus.UNHEALTHY)
    return probes


async def _maintenance() -> tuple[HealthStatus, str]:
    return HealthStatus.UNHEALTHY, "disabled by the operators (AURASTREAM_ENABLED=false)"


def _probe_keys(access: AccessService) -> Probe:
    async def probe() -> tuple[HealthStatus, str]:
        await access.ping()
        return HealthStatus.HEALTHY, "key store reachable"

    return probe
