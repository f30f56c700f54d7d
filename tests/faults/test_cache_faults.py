"""DynamoDB (the result cache) behind the TCP proxy: stalls and resets cost a request at most
the cache timeout, then the breaker skips the table; other work never waits for it."""

from __future__ import annotations

import asyncio
import time

import pytest
from botocore.exceptions import ConnectionError as BotocoreConnectionError
from botocore.exceptions import HTTPClientError

from graphql_api.adapters.aws.clients import AwsClients
from graphql_api.adapters.aws.dynamodb_cache import DynamoDBResultCache
from graphql_api.adapters.memory import SystemClock
from graphql_api.adapters.resilience import CLOSED, OPENED, Breaker, CircuitOpen, GuardedCache
from graphql_api.bootstrap import CACHE_TIMEOUT_SECONDS
from graphql_api.settings import Settings
from tests.fakes import positive
from tests.faults.proxy import FaultyProxy


@pytest.fixture
def dynamodb_proxy(monkeypatch, moto_url, cache_table):
    proxy = FaultyProxy(moto_url).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.url)
    yield proxy
    proxy.stop()


def guarded_cache(table: str) -> GuardedCache:
    clients = AwsClients(Settings())  # the production timeouts and retries
    store = DynamoDBResultCache(table, lambda: clients.get("dynamodb"), SystemClock())
    return GuardedCache(
        store,
        reads=Breaker("cache-reads", 2, 30),
        writes=Breaker("cache-writes", 2, 30),
        timeout_seconds=CACHE_TIMEOUT_SECONDS,
    )


async def test_a_stalled_table_costs_at_most_the_timeout_then_is_skipped(
    dynamodb_proxy, cache_table
):
    cache = guarded_cache(cache_table)
    await cache.put_many({"k": (positive(), 600)})  # reachable: clients built, key stored

    with dynamodb_proxy.fault("stall"):
        for _ in range(2):
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await cache.get_many(["k"])
            assert time.monotonic() - started < CACHE_TIMEOUT_SECONDS + 0.5
        # Other work on the default pool is not stuck behind the stalled calls.
        assert await asyncio.wait_for(asyncio.to_thread(lambda: "free"), 1) == "free"
        started = time.monotonic()
        with pytest.raises(CircuitOpen):
            await cache.get_many(["k"])
        assert time.monotonic() - started < 0.1

    assert cache.reads.state == OPENED
    assert cache.writes.state == CLOSED  # writes have their own breaker


async def test_reset_connections_fail_fast_and_the_table_serves_again_after(
    dynamodb_proxy, cache_table
):
    cache = guarded_cache(cache_table)
    await cache.put_many({"k": (positive(), 600)})

    with dynamodb_proxy.fault("reset"):
        started = time.monotonic()
        with pytest.raises((BotocoreConnectionError, HTTPClientError, TimeoutError)):
            await cache.get_many(["k"])
        assert time.monotonic() - started < CACHE_TIMEOUT_SECONDS + 0.5

    assert list(await cache.get_many(["k"])) == ["k"]
