"""Health stays answerable and cheap while the engine is busy or the cache fails to write."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx

from graphql_api.app import create_app
from graphql_api.bootstrap import bootstrap
from graphql_api.domain.results import EngineOutcome
from graphql_api.health_probes import HEALTH_PROBE_TEXT
from graphql_api.settings import Settings
from tests.fakes import RecordingCache, RecordingEngine
from tests.support import operation


class BusyEngine(RecordingEngine):
    """Holds every batch until released, as a 99 KB document holds the model's workers."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def analyze_batch(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        self.started.set()
        await self.release.wait()
        return await super().analyze_batch(texts, language)


class WriteFailingCache(RecordingCache):
    """Reads answer; writes fail, as on a full disk."""

    async def put_many(self, entries) -> None:  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    async def ping(self) -> None:
        raise OSError(28, "No space left on device")


async def test_health_answers_at_once_while_the_engine_is_busy(tmp_path):
    engine = BusyEngine()
    container = bootstrap(Settings(data_dir=tmp_path), engine=engine, cache=RecordingCache())
    transport = httpx.ASGITransport(app=create_app(container=container))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        variables = {"input": {"documents": [{"id": "1", "text": "x" * 4_000}]}}
        long_work = asyncio.create_task(
            client.post("/graphql", json={"query": operation("Analyze"), "variables": variables})
        )
        await engine.started.wait()

        reply = await asyncio.wait_for(client.get("/v1/health"), timeout=5)

        assert reply.status_code == 200
        assert reply.json()["components"]["engine"] == "healthy"
        assert "busy" in reply.json()["details"]["engine"]["detail"]
        assert (await client.get("/v1/health/live")).json() == {"status": "alive"}
        engine.release.set()
        assert (await long_work).status_code == 200
    assert [HEALTH_PROBE_TEXT] not in [texts for texts, _ in engine.analyze_calls]
    container.close()


async def test_reads_that_work_do_not_hide_writes_that_fail(tmp_path):
    container = bootstrap(Settings(data_dir=tmp_path), cache=WriteFailingCache())
    transport = httpx.ASGITransport(app=create_app(container=container))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        reply = await client.get("/v1/health")

    assert reply.status_code == 200
    assert reply.json()["status"] == "degraded"
    assert reply.json()["components"]["cache"] == "degraded"
    assert "No space left" in reply.json()["details"]["cache"]["detail"]
    container.close()
