"""One contract suite for every ResultCache implementation."""

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from graphql_api.adapters.aws.dynamodb_cache import DynamoDBResultCache
from graphql_api.adapters.local.sqlite_cache import SqliteResultCache
from graphql_api.adapters.memory import InMemoryMetrics
from graphql_api.adapters.tiered_cache import TieredResultCache
from graphql_api.domain.results import Analysis, Scores, SentenceResult, Sentiment
from graphql_api.ports import ResultCache
from tests.fakes import FakeClock, positive


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "tiered-sqlite", "dynamodb", "tiered-dynamodb"])
def cache(request, tmp_path: Path, clock: FakeClock) -> Iterator[ResultCache]:
    store: ResultCache
    if "dynamodb" in request.param:
        table = request.getfixturevalue("cache_table")
        store = DynamoDBResultCache(table, lambda: boto3.client("dynamodb"), clock)
    else:
        store = SqliteResultCache(tmp_path / "cache.sqlite3", clock)
    tiered = request.param.startswith("tiered")
    yield TieredResultCache(store, clock, 100, InMemoryMetrics()) if tiered else store
    if isinstance(store, SqliteResultCache):
        store.close()


async def test_stored_analyses_come_back_intact(cache):
    analysis = Analysis(
        Sentiment.MIXED,
        Scores.normalised(0.3, 0.3, 0.1, 0.3),
        "en",
        "engine-1",
        sentences=(SentenceResult(0, 5, Sentiment.POSITIVE, Scores.normalised(1, 0, 0, 0)),),
    )
    await cache.put_many({"k1": (analysis, 60), "k2": (positive(), 60)})

    found = await cache.get_many(["k1", "k2", "absent"])

    assert found == {"k1": analysis, "k2": positive()}


async def test_expired_entries_are_not_returned(cache, clock):
    await cache.put_many({"short": (positive(), 10), "long": (positive(), 1_000)})
    clock.advance(11)

    assert set(await cache.get_many(["short", "long"])) == {"long"}


async def test_large_batches_are_read_in_one_call(cache):
    entries = {f"k{i}": (positive(), 60) for i in range(1_200)}
    await cache.put_many(entries)

    assert len(await cache.get_many(list(entries))) == 1_200


async def test_ping_succeeds_on_a_working_cache(cache):
    await cache.ping()


async def test_the_sqlite_file_persists_across_instances(tmp_path, clock):
    first = SqliteResultCache(tmp_path / "c.sqlite3", clock)
    await first.put_many({"k": (positive(), 60)})
    first.close()

    second = SqliteResultCache(tmp_path / "c.sqlite3", clock)
    assert await second.get_many(["k"]) == {"k": positive()}
    second.close()


async def test_tiered_cache_serves_repeats_from_memory(tmp_path, clock):
    from tests.fakes import RecordingCache

    store = RecordingCache()
    tiered = TieredResultCache(store, clock, 10, InMemoryMetrics())
    await tiered.put_many({"k": (positive(), 60)})

    assert await tiered.get_many(["k"]) == {"k": positive()}
    assert store.reads == []


async def test_count_and_clear_in_batches(cache):
    await cache.put_many({f"k{i}": (positive(), 60) for i in range(60)})

    assert await cache.clear(batch_size=25) == 60
    assert await cache.get_many([f"k{i}" for i in range(60)]) == {}


async def test_sqlite_counts_only_live_entries(tmp_path, clock):
    store = SqliteResultCache(tmp_path / "c.sqlite3", clock)
    await store.put_many({"short": (positive(), 10), "long": (positive(), 1_000)})
    clock.advance(11)

    assert await store.count() == 1
    store.close()


async def test_clear_stops_at_its_limit(cache):
    await cache.put_many({f"k{i}": (positive(), 60) for i in range(30)})

    assert await cache.clear(batch_size=10, limit=20) == 20
    assert len(await cache.get_many([f"k{i}" for i in range(30)])) == 10
    assert await cache.clear(batch_size=10, limit=20) == 10
