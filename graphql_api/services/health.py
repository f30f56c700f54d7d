"""Health: every component probed for real, each under its own short timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class HealthReport:
    status: HealthStatus
    timestamp: datetime
    version: str
    components: tuple[ComponentHealth, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "status": self.status.value,
            "timestamp": self.timestamp.isoformat(),
            "version": self.version,
            "components": [
                {
                    "name": c.name,
                    "status": c.status.value,
                    "latencyMs": round(c.latency_ms, 3),
                    "detail": c.detail,
                }
                for c in self.components
            ],
        }


#: A probe raises when the component is down, or returns a status and a detail.
Probe = Callable[[], Awaitable[tuple[HealthStatus, str]]]


@dataclass(frozen=True, slots=True)
class ComponentProbe:
    probe: Probe
    #: What the service becomes when this component fails: a cache failure only
    #: degrades it, while an engine failure means analysis cannot be served.
    failure_status: HealthStatus


class HealthService:
    def __init__(
        self, probes: Mapping[str, ComponentProbe], version: str, timeout_seconds: float
    ) -> None:
        self.probes = probes
        self.version = version
        self.timeout_seconds = timeout_seconds

    async def check(self) -> HealthReport:
        components = await asyncio.gather(
            *(self._check_one(name, probe) for name, probe in self.probes.items())
        )
        worst = max((c.status for c in components), key=_SEVERITY.index, default=None)
        return HealthReport(
            status=worst or HealthStatus.HEALTHY,
            timestamp=datetime.now(UTC),
            version=self.version,
            components=tuple(components),
        )

    async def _check_one(self, name: str, probe: ComponentProbe) -> ComponentHealth:
        started = time.perf_counter()
        try:
            status, detail = await asyncio.wait_for(probe.probe(), self.timeout_seconds)
        except TimeoutError:
            status = probe.failure_status
            detail = f"no answer within {self.timeout_seconds:g}s"
        except Exception as error:  # a probe must report, never raise
            status, detail = probe.failure_status, f"{type(error).__name__}: {error}"[:200]
        return ComponentHealth(name, status, (time.perf_counter() - started) * 1_000, detail)


_SEVERITY = [HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.UNHEALTHY]
