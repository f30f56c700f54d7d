"""The embedded persistent result cache: one SQLite file in WAL mode."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from graphql_api.adapters.local.sqlite import open_database
from graphql_api.domain.codec import decode_analysis, encode_analysis
from graphql_api.domain.results import Analysis
from graphql_api.ports import Clock

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, analysis TEXT NOT NULL, expires_at REAL NOT NULL);
"""
# SQLite allows at most 999 bound parameters per statement in older builds.
_CHUNK = 500


class SqliteResultCache:
    """Rows of (key, analysis JSON, expiry); expired rows are ignored and swept on write."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self._path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = open_database(self._path, _SCHEMA)
        return self._connection

    def _get_many(self, keys: Sequence[str]) -> dict[str, Analysis]:
        now = self._clock.now()
        found: dict[str, Analysis] = {}
        with self._lock:
            connection = self._connect()
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT key, analysis FROM results WHERE key IN ({marks}) AND expires_at > ?",
                    (*chunk, now),
                )
                found.update((key, decode_analysis(raw)) for key, raw in rows)
        return found

    def _put_many(self, entries: Mapping[str, tuple[Analysis, int]]) -> None:
        now = self._clock.now()
        rows = [(key, encode_analysis(a), now + ttl) for key, (a, ttl) in entries.items()]
        with self._lock:
            connection = self._connect()
            with connection:
                connection.execute("BEGIN")
                connection.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?)", rows)
                connection.execute("DELETE FROM results WHERE expires_at <= ?", (now,))

    def _count(self) -> int:
        with self._lock:
            row = self._connect().execute(
                "SELECT COUNT(*) FROM results WHERE expires_at > ?", (self._clock.now(),)
            )
            return int(row.fetchone()[0])

    def _clear(self, batch_size: int, limit: int | None) -> int:
        deleted = 0
        while limit is None or deleted < limit:
            size = batch_size if limit is None else min(batch_size, limit - deleted)
            with self._lock:  # one short transaction per batch: readers are never held up long
                cursor = self._connect().execute(
                    "DELETE FROM results WHERE rowid IN (SELECT rowid FROM results LIMIT ?)",
                    (size,),
                )
            if cursor.rowcount <= 0:
                break
            deleted += cursor.rowcount
        return deleted

    async def count(self) -> int | None:
        return await asyncio.to_thread(self._count)

    async def clear(self, batch_size: int = 500, limit: int | None = None) -> int:
        return await asyncio.to_thread(self._clear, batch_size, limit)

    def _ping(self) -> None:
        with self._lock:
            self._connect().execute("SELECT 1 FROM results LIMIT 1").fetchall()

    async def get_many(self, keys: Sequence[str]) -> dict[str, Analysis]:
        if not keys:
            return {}
        return await asyncio.to_thread(self._get_many, list(keys))

    async def put_many(self, entries: Mapping[str, tuple[Analysis, int]]) -> None:
        if entries:
            await asyncio.to_thread(self._put_many, dict(entries))

    async def ping(self) -> None:
        await asyncio.to_thread(self._ping)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
