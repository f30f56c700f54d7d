"""The SQLite stores under storage faults: damaged files, immutable directories, recovery."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphql_api.adapters.local import sqlite
from graphql_api.adapters.local.sqlite_cache import SqliteResultCache
from graphql_api.domain.errors import ErrorCode, StorageUnavailable
from tests.fakes import FakeClock, positive


def chattr(flag: str, path: Path) -> None:
    subprocess.run(["chattr", "-R", flag, str(path)], check=True, capture_output=True)


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[Path]:
    """A data directory the test may make immutable (read-only even to root)."""
    data = tmp_path / "data"
    data.mkdir()
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    try:
        chattr("+i", data)
        chattr("-i", data)
    except subprocess.CalledProcessError:
        pytest.skip("this file system has no immutable flag")
    yield data
    chattr("-i", data)


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
    directory, monkeypatch
):
    monkeypatch.setattr(sqlite, "READ_ONLY_RECHECK_SECONDS", 0.0)
    path, clock = directory / "cache.sqlite3", FakeClock()
    writer = SqliteResultCache(path, clock)
    await writer.put_many({"kept": (positive(), 600)})
    writer.close()  # the last connection checkpoints and removes -wal and -shm
    chattr("+i", directory)

    cache = SqliteResultCache(path, clock)
    assert list(await cache.get_many(["kept"])) == ["kept"]  # reads work
    with pytest.raises(StorageUnavailable):
        await cache.put_many({"new": (positive(), 600)})
    with pytest.raises(StorageUnavailable):
        await cache.ping()  # the probe writes, so health sees it
    assert sorted(p.name for p in directory.iterdir()) == ["cache.sqlite3"]  # no -wal, -shm

    chattr("-i", directory)
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
