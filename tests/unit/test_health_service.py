import asyncio

from graphql_api.services.health import ComponentProbe, HealthService, HealthStatus


async def ok() -> tuple[HealthStatus, str]:
    return HealthStatus.HEALTHY, "fine"


async def hang() -> tuple[HealthStatus, str]:
    await asyncio.sleep(10)
    return HealthStatus.HEALTHY, "never"


async def broken() -> tuple[HealthStatus, str]:
    raise ConnectionError("refused")


async def test_all_components_up_is_healthy():
    service = HealthService({"engine": ComponentProbe(ok, HealthStatus.UNHEALTHY)}, "1", 0.5)
    report = await service.check()
    assert report.status is HealthStatus.HEALTHY


async def test_a_hanging_cache_degrades_within_its_timeout():
    service = HealthService(
        {
            "engine": ComponentProbe(ok, HealthStatus.UNHEALTHY),
            "cache": ComponentProbe(hang, HealthStatus.DEGRADED),
        },
        "1",
        0.05,
    )
    report = await asyncio.wait_for(service.check(), 1)
    assert report.status is HealthStatus.DEGRADED
    cache = next(c for c in report.components if c.name == "cache")
    assert "no answer" in cache.detail


async def test_a_broken_engine_makes_the_service_unhealthy():
    service = HealthService(
        {
            "engine": ComponentProbe(broken, HealthStatus.UNHEALTHY),
            "cache": ComponentProbe(ok, HealthStatus.DEGRADED),
        },
        "1",
        0.5,
    )
    report = await service.check()
    assert report.status is HealthStatus.UNHEALTHY
    assert report.as_json()["components"]["engine"] == "unhealthy"
    assert report.as_json()["details"]["engine"]["detail"] == "ConnectionError: refused"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_results_are_kept_for_the_interval_and_failures_for_less():
    calls: list[str] = []
    state = {"up": True}

    async def counted() -> tuple[HealthStatus, str]:
        calls.append("probe")
        if not state["up"]:
            raise ConnectionError("down")
        return HealthStatus.HEALTHY, "fine"

    clock = Clock()
    service = HealthService(
        {"engine": ComponentProbe(counted, HealthStatus.UNHEALTHY)},
        "1",
        0.5,
        ttl_seconds=5,
        failure_ttl_seconds=1,
        clock=clock,
    )
    await asyncio.gather(*(service.check() for _ in range(10)))
    assert len(calls) == 1  # concurrent checks share one probe

    clock.now, state["up"] = 4.9, False
    assert (await service.check()).status is HealthStatus.HEALTHY  # still kept
    clock.now = 5.0
    assert (await service.check()).status is HealthStatus.UNHEALTHY
    assert len(calls) == 2

    state["up"] = True
    clock.now = 5.9
    assert (await service.check()).status is HealthStatus.UNHEALTHY
    clock.now = 6.0  # a failure is kept one second only
    assert (await service.check()).status is HealthStatus.HEALTHY
    assert len(calls) == 3


async def test_a_live_verdict_overrides_a_kept_result_at_once():
    verdict: dict[str, tuple[HealthStatus, str] | None] = {"now": None}
    service = HealthService(
        {"engine": ComponentProbe(ok, HealthStatus.UNHEALTHY, live=lambda: verdict["now"])},
        "1",
        0.5,
        ttl_seconds=60,
    )
    assert (await service.check()).status is HealthStatus.HEALTHY
    verdict["now"] = (HealthStatus.DEGRADED, "circuit opened")
    assert (await service.check()).status is HealthStatus.DEGRADED
    verdict["now"] = None  # the circuit closed: healthy again without waiting
    assert (await service.check()).status is HealthStatus.HEALTHY
