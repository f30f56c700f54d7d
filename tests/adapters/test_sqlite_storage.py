"""The SQLite stores under storage faults: damaged files, immutable directories, recovery."""

from __future__ import annotations

import pytest

from graphql_api.adapters.local import sqlite
from graphql_api.adapters.local.sqlite_cache import SqliteResultCache
from graphql_api.domain.errors import ErrorCode, StorageUnavailable
from tests.fakes import FakeClock, positive
from tests.support import chattr


async def test_a_damaged_file_is_storage_unavailable_and_a_new_one_is_used_at_once(tmp_path):
    path = tmp_path / "cache.sqlite3"
    path.write_bytes(b"not a database" * 512)
    cache = SqliteResultCache(path, FakeClock())

    with pytest.raises(StorageUnavailable) as raised:
        await cache.get_many(["k"])
    assert raised.value.code is ErrorCode.STORAGE_UNAVAILABLE

    path.unlink()  # an operator moves the damaged file away: the next call reconnects
    await cache.put_many({"k": (positive(), 60)})
    assert list(await cache.get_many(["k"])) == ["k"]
    cache.close()


async def test_an_immutable_directory_is_read_without_wal_files_and_written_once_writable(
    immutable, monkeypatch
):
    monkeypatch.setattr(sqlite, "READ_ONLY_RECHECK_SECONDS", 0.0)
    path, clock = immutable / "cache.sqlite3", FakeClock()
    writer = SqliteResultCache(path, clock)
    await writer.put_many({"kept": (positive(), 600)})
    writer.close()  # the last connection checkpoints and removes -wal and -shm
    chattr("+i", immutable)

    cache = SqliteResultCache(path, clock)
    assert list(await cache.get_many(["kept"])) == ["kept"]  # reads work
    with pytest.raises(StorageUnavailable):
        await cache.put_many({"new": (positive(), 600)})
    with pytest.raises(StorageUnavailable):
        await cache.ping()  # the probe writes, so health sees it
    assert sorted(p.name for p in immutable.iterdir()) == ["cache.sqlite3"]  # no -wal, -shm

    chattr("-i", immutable)
    await cache.put_many({"new": (positive(), 600)})  # reopened in WAL mode
    await cache.ping()
    assert sorted(await cache.get_many(["kept", "new"])) == ["kept", "new"]
    cache.close()


async def test_a_directory_that_cannot_be_created_is_storage_unavailable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the directory should be")
    cache = SqliteResultCache(blocker / "cache.sqlite3", FakeClock())

    with pytest.raises(StorageUnavailable):
        await cache.get_many(["k"])
