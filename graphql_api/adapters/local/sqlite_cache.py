"""The embedded persistent result cache: one SQLite file in WAL mode."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

from graphql_api.adapters.local.sqlite import SqliteDatabase
from graphql_api.domain.codec import decode_analysis, encode_analysis
from graphql_api.domain.results import Analysis
from graphql_api.ports import Clock

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, analysis TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS health_probe (id INTEGER PRIMARY KEY, at REAL NOT NULL);
"""
# SQLite allows at most 999 bound parameters per statement in older builds.
_CHUNK = 500


class SqliteResultCache:
    """Rows of (key, analysis JSON, expiry); expired rows are ignored and swept on write."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.database = SqliteDatabase(path, _SCHEMA)
        self._clock = clock

    async def get_many(self, keys: Sequence[str]) -> dict[str, Analysis]:
        if not keys:
            return {}
        now, wanted = self._clock.now(), list(keys)

        def read(connection: sqlite3.Connection) -> dict[str, Analysis]:
            found: dict[str, Analysis] = {}
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT key, analysis FROM results WHERE key IN ({marks}) AND expires_at > ?",
                    (*chunk, now),
                )
                found.update((key, decode_analysis(raw)) for key, raw in rows)
            return found

        return await self.database.run(read)

    async def put_many(self, entries: Mapping[str, tuple[Analysis, int]]) -> None:
        if not entries:
            return
        now = self._clock.now()
        rows = [(key, encode_analysis(a), now + ttl) for key, (a, ttl) in entries.items()]

        def write(connection: sqlite3.Connection) -> None:
            with connection:
                connection.execute("BEGIN")
                connection.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?)", rows)
                connection.execute("DELETE FROM results WHERE expires_at <= ?", (now,))

        await self.database.run(write)

    async def count(self) -> int | None:
        now = self._clock.now()
        return await self.database.run(
            lambda connection: int(
                connection.execute(
                    "SELECT COUNT(*) FROM results WHERE expires_at > ?", (now,)
                ).fetchone()[0]
            )
        )

    async def clear(self, batch_size: int = 500, limit: int | None = None) -> int:
        return await asyncio.to_thread(self._clear, batch_size, limit)

    def _clear(self, batch_size: int, limit: int | None) -> int:
        deleted = 0
        while limit is None or deleted < limit:
            size = batch_size if limit is None else min(batch_size, limit - deleted)
            # One short statement per batch, so readers are never held up long.
            removed = self.database.call(partial(_delete_some, size=size))
            if removed <= 0:
                break
            deleted += removed
        return deleted

    async def ping(self) -> None:
        """Read and write for real: a cache that reads but cannot write is not healthy."""
        await self.database.run(partial(probe_read_write, table="results", now=self._clock.now()))

    def close(self) -> None:
        self.database.close()


def probe_read_write(connection: sqlite3.Connection, table: str, now: float) -> None:
    """One read of `table` and one committed write (to the health_probe table)."""
    connection.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall()
    with connection:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT OR REPLACE INTO health_probe VALUES (1, ?)", (now,))


def _delete_some(connection: sqlite3.Connection, size: int) -> int:
    cursor = connection.execute(
        "DELETE FROM results WHERE rowid IN (SELECT rowid FROM results LIMIT ?)", (size,)
    )
    return cursor.rowcount
