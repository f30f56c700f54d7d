"""Health: every component probed for real, each under its own short timeout, cheaply.

Probe results are kept for a few seconds (failures for less), and concurrent checks share
one probe in flight, so `/v1/health` costs at most one call per component per interval
whatever the request rate. What is free to read (a breaker's state) is read live on every
check, so a recovery shows as soon as it happens.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum


class HealthStatus(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    name: str
    status: HealthStatus
    latency_ms: float
    detail: str
    #: Seconds since the probe behind this answer ran (0 for a fresh or live answer).
    age_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class HealthReport:
    status: HealthStatus
    timestamp: datetime
    version: str
    components: tuple[ComponentHealth, ...]

    def as_json(self) -> dict[str, object]:
        """The runbook's shape: `components` maps each name to its status (so
        `jq .components.comprehend` works); latency and detail sit beside it in `details`."""
        return {
            "status": self.status.value,
            "timestamp": self.timestamp.isoformat().replace("+00:00", "Z"),
            "version": self.version,
            "components": {c.name: c.status.value for c in self.components},
            "details": {
                c.name: {
                    "latencyMs": round(c.latency_ms, 3),
                    "detail": c.detail,
                    "ageSeconds": round(c.age_seconds, 3),
                }
                for c in self.components
            },
        }


#: A probe raises when the component is down, or returns a status and a detail.
Probe = Callable[[], Awaitable[tuple[HealthStatus, str]]]
#: A free, synchronous look at state kept anyway (a breaker): a verdict, or None to probe.
LiveCheck = Callable[[], tuple[HealthStatus, str] | None]


@dataclass(frozen=True, slots=True)
class ComponentProbe:
    probe: Probe
    #: What the service becomes when this component fails: a cache failure only
    #: degrades it, while an engine failure means analysis cannot be served.
    failure_status: HealthStatus
    live: LiveCheck | None = None


@dataclass(slots=True)
class _Kept:
    health: ComponentHealth
    checked_at: float


class HealthService:
    def __init__(
        self,
        probes: Mapping[str, ComponentProbe],
        version: str,
        timeout_seconds: float,
        *,
        ttl_seconds: float = 5.0,
        failure_ttl_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.probes = probes
        self.version = version
        self.timeout_seconds = timeout_seconds
        self.ttl_seconds = ttl_seconds
        self.failure_ttl_seconds = failure_ttl_seconds
        self._clock = clock
        self._kept: dict[str, _Kept] = {}
        self._in_flight: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[_Kept]]] = {}

    async def check(self) -> HealthReport:
        components = await asyncio.gather(
            *(self._component(name, probe) for name, probe in self.probes.items())
        )
        worst = max((c.status for c in components), key=_SEVERITY.index, default=None)
        return HealthReport(
            status=worst or HealthStatus.HEALTHY,
            timestamp=datetime.now(UTC),
            version=self.version,
            components=tuple(components),
        )

    async def _component(self, name: str, probe: ComponentProbe) -> ComponentHealth:
        if probe.live is not None:
            verdict = probe.live()
            if verdict is not None:
                return ComponentHealth(name, verdict[0], 0.0, verdict[1])
        now = self._clock()
        kept = self._kept.get(name)
        if kept is not None and now - kept.checked_at < self._ttl(kept.health.status):
            return replace(kept.health, age_seconds=now - kept.checked_at)
        loop = asyncio.get_running_loop()
        running = self._in_flight.get(name)
        if running is None or running[0] is not loop or running[1].done():
            future = asyncio.ensure_future(self._check_one(name, probe))
            running = self._in_flight[name] = (loop, future)
        kept = await asyncio.shield(running[1])
        self._kept[name] = kept
        if self._in_flight.get(name) is running:
            del self._in_flight[name]
        return kept.health

    def _ttl(self, status: HealthStatus) -> float:
        return self.ttl_seconds if status is HealthStatus.HEALTHY else self.failure_ttl_seconds

    async def _check_one(self, name: str, probe: ComponentProbe) -> _Kept:
        started = time.perf_counter()
        try:
            status, detail = await asyncio.wait_for(probe.probe(), self.timeout_seconds)
        except TimeoutError:
            status = probe.failure_status
            detail = f"no answer within {self.timeout_seconds:g}s"
        except Exception as error:  # a probe must report, never raise
            status, detail = probe.failure_status, f"{type(error).__name__}: {error}"[:200]
        latency = (time.perf_counter() - started) * 1_000
        return _Kept(ComponentHealth(name, status, latency, detail), self._clock())


_SEVERITY = [HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.UNHEALTHY]
