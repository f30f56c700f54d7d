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
    assert report.as_json()["components"][0]["detail"] == "ConnectionError: refused"
