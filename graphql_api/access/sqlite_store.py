"""Keys, rate-limit buckets, daily quotas and usage in one SQLite file (WAL), for local runs.

Buckets live here rather than in memory so that every `aurastream serve --workers N` process
and the `keys` command share them, and limits survive a restart. Each admission is one short
`BEGIN IMMEDIATE` transaction (a fraction of a millisecond with WAL), serialised across
processes by SQLite's write lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from graphql_api.access.errors import KeyIdTaken
from graphql_api.access.limits import QuotaOutcome, admit
from graphql_api.access.model import ApiKey, Limits, format_scopes, parse_scopes
from graphql_api.access.usage import Usage, UsageCounters
from graphql_api.adapters.local.sqlite import SqliteDatabase

T = TypeVar("T")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    rate_per_second REAL NOT NULL,
    burst INTEGER NOT NULL,
    daily_quota INTEGER NOT NULL,
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE INDEX IF NOT EXISTS api_keys_by_tenant ON api_keys (tenant_id, created_at);
CREATE TABLE IF NOT EXISTS rate_buckets (key_id TEXT PRIMARY KEY, tat REAL NOT NULL);
CREATE TABLE IF NOT EXISTS daily_documents (
    key_id TEXT NOT NULL,
    day TEXT NOT NULL,
    documents INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (key_id, day)
);
CREATE TABLE IF NOT EXISTS usage (
    tenant_id TEXT NOT NULL,
    day TEXT NOT NULL,
    documents INTEGER NOT NULL,
    cache_hits INTEGER NOT NULL,
    billable_units INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (tenant_id, day)
);
CREATE TABLE IF NOT EXISTS key_usage (
    key_id TEXT NOT NULL,
    day TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    documents INTEGER NOT NULL,
    cache_hits INTEGER NOT NULL,
    billable_units INTEGER NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (key_id, day)
);
"""

_KEY_COLUMNS = (
    "key_id, tenant_id, name, secret_hash, scopes, rate_per_second, burst, daily_quota,"
    " created_at, revoked_at"
)


class SqliteAccessStore:
    """An AccessStore in one SQLite file; `path=None` keeps it in memory (tests, one-off runs)."""

    def __init__(self, path: Path | None) -> None:
        self.database = SqliteDatabase(path, _SCHEMA)

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self.database.run(work)

    async def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` under SQLite's write lock, so read-decide-write is atomic across
        processes."""

        def in_transaction(connection: sqlite3.Connection) -> T:
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = work(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result

        return await self._run(in_transaction)

    # Keys.

    async def put_key(self, key: ApiKey) -> None:
        def insert(connection: sqlite3.Connection) -> None:
            try:
                connection.execute(
                    f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _key_row(key),
                )
            except sqlite3.IntegrityError:
                raise KeyIdTaken(key.key_id) from None

        await self._run(insert)

    async def get_key(self, key_id: str) -> ApiKey | None:
        def select(connection: sqlite3.Connection) -> ApiKey | None:
            row = connection.execute(
                f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,)
            ).fetchone()
            return _key_from_row(row) if row else None

        return await self._run(select)

    async def list_keys(self, tenant_id: str | None = None) -> list[ApiKey]:
        def select(connection: sqlite3.Connection) -> list[ApiKey]:
            if tenant_id is None:
                rows = connection.execute(
                    f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at, key_id"
                )
            else:
                rows = connection.execute(
                    f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?"
                    " ORDER BY created_at, key_id",
                    (tenant_id,),
                )
            return [_key_from_row(row) for row in rows]

        return await self._run(select)

    async def revoke_key(self, key_id: str, revoked_at: float) -> ApiKey | None:
        def update(connection: sqlite3.Connection) -> ApiKey | None:
            connection.execute(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE key_id = ?",
                (revoked_at, key_id),
            )
            row = connection.execute(
                f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_id = ?", (key_id,)
            ).fetchone()
            return _key_from_row(row) if row else None

        return await self._transaction(update)

    # Limits.

    async def take_request(
        self, key_id: str, rate_per_second: float, burst: int, now: float
    ) -> float:
        def take(connection: sqlite3.Connection) -> float:
            row = connection.execute(
                "SELECT tat FROM rate_buckets WHERE key_id = ?", (key_id,)
            ).fetchone()
            admission = admit(row[0] if row else None, now, rate_per_second, burst)
            if admission.admitted:
                connection.execute(
                    "INSERT INTO rate_buckets VALUES (?, ?)"
                    " ON CONFLICT (key_id) DO UPDATE SET tat = excluded.tat",
                    (key_id, admission.tat),
                )
            return admission.retry_after_seconds

        return await self._transaction(take)

    async def add_documents(
        self, key_id: str, day: date, count: int, quota: int, expires_at: float
    ) -> QuotaOutcome:
        def add(connection: sqlite3.Connection) -> QuotaOutcome:
            row = connection.execute(
                "SELECT documents FROM daily_documents WHERE key_id = ? AND day = ?",
                (key_id, day.isoformat()),
            ).fetchone()
            used = int(row[0]) if row else 0
            if used + count > quota:
                return QuotaOutcome(False, used)
            connection.execute(
                "INSERT INTO daily_documents VALUES (?, ?, ?, ?) ON CONFLICT (key_id, day)"
                " DO UPDATE SET documents = documents + excluded.documents",
                (key_id, day.isoformat(), count, expires_at),
            )
            connection.execute("DELETE FROM daily_documents WHERE day < ?", (_earliest(day),))
            return QuotaOutcome(True, used + count)

        return await self._transaction(add)

    # Usage.

    async def add_usage(
        self, tenant_id: str, key_id: str | None, day: date, usage: Usage, expires_at: float
    ) -> None:
        counts = (usage.documents, usage.cache_hits, usage.billable_units, expires_at)

        def add(connection: sqlite3.Connection) -> None:
            connection.execute(
                "INSERT INTO usage VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, day)"
                f" DO UPDATE SET {_ADD_COUNTS}",
                (tenant_id, day.isoformat(), *counts),
            )
            if key_id is not None:
                connection.execute(
                    "INSERT INTO key_usage VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key_id, day)"
                    f" DO UPDATE SET {_ADD_COUNTS}",
                    (key_id, day.isoformat(), tenant_id, *counts),
                )

        await self._transaction(add)

    async def usage(self, tenant_id: str, from_day: date, to_day: date) -> list[UsageCounters]:
        def select(connection: sqlite3.Connection) -> list[UsageCounters]:
            rows = connection.execute(
                "SELECT day, documents, cache_hits, billable_units FROM usage"
                " WHERE tenant_id = ? AND day BETWEEN ? AND ? ORDER BY day",
                (tenant_id, from_day.isoformat(), to_day.isoformat()),
            )
            return [
                UsageCounters(tenant_id, date.fromisoformat(day), docs, hits, units)
                for day, docs, hits, units in rows
            ]

        return await self._run(select)

    async def key_usage(self, key_id: str, from_day: date, to_day: date) -> list[UsageCounters]:
        def select(connection: sqlite3.Connection) -> list[UsageCounters]:
            rows = connection.execute(
                "SELECT tenant_id, day, documents, cache_hits, billable_units FROM key_usage"
                " WHERE key_id = ? AND day BETWEEN ? AND ? ORDER BY day",
                (key_id, from_day.isoformat(), to_day.isoformat()),
            )
            return [
                UsageCounters(tenant, date.fromisoformat(day), docs, hits, units, key_id)
                for tenant, day, docs, hits, units in rows
            ]

        return await self._run(select)

    async def ping(self) -> None:
        await self._run(lambda c: c.execute("SELECT 1 FROM api_keys LIMIT 1").fetchall())

    def close(self) -> None:
        self.database.close()


_ADD_COUNTS = (
    "documents = documents + excluded.documents, cache_hits = cache_hits + excluded.cache_hits,"
    " billable_units = billable_units + excluded.billable_units,"
    " expires_at = max(expires_at, excluded.expires_at)"
)


def _earliest(day: date) -> str:
    # Yesterday's row is kept for requests that straddle midnight; older ones are dead.
    return date.fromordinal(day.toordinal() - 1).isoformat()


def _key_row(key: ApiKey) -> tuple[Any, ...]:
    return (
        key.key_id,
        key.tenant_id,
        key.name,
        key.secret_hash,
        format_scopes(key.scopes),
        key.limits.rate_per_second,
        key.limits.burst,
        key.limits.daily_document_quota,
        key.created_at,
        key.revoked_at,
    )


def _key_from_row(row: tuple[Any, ...]) -> ApiKey:
    key_id, tenant, name, secret_hash, scopes, rate, burst, quota, created, revoked = row
    return ApiKey(
        key_id=key_id,
        tenant_id=tenant,
        name=name,
        secret_hash=secret_hash,
        scopes=parse_scopes(scopes),
        limits=Limits(float(rate), int(burst), int(quota)),
        created_at=float(created),
        revoked_at=None if revoked is None else float(revoked),
    )
