"""Job records in SQLite (WAL), next to the result cache under the data directory."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from graphql_api.adapters.local.sqlite import SqliteDatabase
from graphql_api.adapters.local.sqlite_cache import probe_read_write
from graphql_api.domain.errors import IdempotencyConflict
from graphql_api.domain.job_codec import job_from_dict, job_to_dict
from graphql_api.domain.jobs import Job, JobPosition, JobStatus, could_be_job_id

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, status TEXT NOT NULL,
    created_at REAL NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS job_parts (
    job_id TEXT NOT NULL, part INTEGER NOT NULL, processed INTEGER NOT NULL,
    failed INTEGER NOT NULL, PRIMARY KEY (job_id, part));
CREATE TABLE IF NOT EXISTS idempotency_keys (
    owner TEXT NOT NULL, key TEXT NOT NULL, job_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
    PRIMARY KEY (owner, key));
CREATE TABLE IF NOT EXISTS health_probe (id INTEGER PRIMARY KEY, at REAL NOT NULL);
"""


class SqliteJobStore:
    def __init__(self, path: Path) -> None:
        self.database = SqliteDatabase(path, _SCHEMA)

    async def _run(self, work: Any, *args: Any) -> Any:
        return await self.database.run(lambda connection: work(connection, *args))

    async def create(self, job: Job) -> Job:
        result: Job = await self._run(self._create, job)
        return result

    @staticmethod
    def _create(db: sqlite3.Connection, job: Job) -> Job:
        with db:
            db.execute("BEGIN IMMEDIATE")
            if job.idempotency_key is not None:
                row = db.execute(
                    "SELECT job_id, fingerprint FROM idempotency_keys WHERE owner=? AND key=?",
                    (job.owner, job.idempotency_key),
                ).fetchone()
                if row is not None:
                    if row[1] != job.fingerprint:
                        raise IdempotencyConflict()
                    existing = db.execute("SELECT record FROM jobs WHERE id=?", (row[0],))
                    return job_from_dict(json.loads(existing.fetchone()[0]))
                db.execute(
                    "INSERT INTO idempotency_keys VALUES (?, ?, ?, ?)",
                    (job.owner, job.idempotency_key, job.id, job.fingerprint),
                )
            db.execute(
                "INSERT INTO jobs VALUES (?, ?, ?, ?, ?)",
                (job.id, job.owner, job.status.value, job.created_at, json.dumps(job_to_dict(job))),
            )
        return job

    async def get(self, job_id: str) -> Job | None:
        if not could_be_job_id(job_id):
            return None  # no job has this id, and SQLite could not bind a lone surrogate
        result: Job | None = await self._run(self._get, job_id)
        return result

    async def find_idempotent(self, owner: str, idempotency_key: str) -> Job | None:
        def find(db: sqlite3.Connection) -> Job | None:
            row = db.execute(
                "SELECT record FROM jobs JOIN idempotency_keys ON jobs.id = job_id"
                " WHERE idempotency_keys.owner = ? AND key = ?",
                (owner, idempotency_key),
            ).fetchone()
            return job_from_dict(json.loads(row[0])) if row else None

        result: Job | None = await self._run(find)
        return result

    @staticmethod
    def _get(db: sqlite3.Connection, job_id: str) -> Job | None:
        row = db.execute("SELECT record FROM jobs WHERE id=?", (job_id,)).fetchone()
        return job_from_dict(json.loads(row[0])) if row else None

    async def list_jobs(
        self, owner: str, status: JobStatus | None, limit: int, after: JobPosition | None
    ) -> tuple[list[Job], bool]:
        result: tuple[list[Job], bool] = await self._run(self._list, owner, status, limit, after)
        return result

    @staticmethod
    def _list(
        db: sqlite3.Connection,
        owner: str,
        status: JobStatus | None,
        limit: int,
        after: JobPosition | None,
    ) -> tuple[list[Job], bool]:
        query = "SELECT record FROM jobs WHERE owner=?"
        params: list[Any] = [owner]
        if status is not None:
            query += " AND status=?"
            params.append(status.value)
        if after is not None:
            query += " AND (created_at < ? OR (created_at = ? AND id < ?))"
            params += [after.created_at, after.created_at, after.id]
        query += " ORDER BY created_at DESC, id DESC LIMIT ?"
        rows = db.execute(query, [*params, limit + 1]).fetchall()
        jobs = [job_from_dict(json.loads(row[0])) for row in rows[:limit]]
        return jobs, len(rows) > limit

    async def update(self, job_id: str, **fields: Any) -> Job:
        result: Job = await self._run(self._update, job_id, fields)
        return result

    @staticmethod
    def _update(db: sqlite3.Connection, job_id: str, fields: dict[str, Any]) -> Job:
        with db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT record FROM jobs WHERE id=?", (job_id,)).fetchone()
            job = replace(job_from_dict(json.loads(row[0])), **fields)
            db.execute(
                "UPDATE jobs SET status=?, record=? WHERE id=?",
                (job.status.value, json.dumps(job_to_dict(job)), job_id),
            )
        return job

    async def complete_part(self, job_id: str, part: int, processed: int, failed: int) -> bool:
        result: bool = await self._run(self._complete_part, job_id, part, processed, failed)
        return result

    @staticmethod
    def _complete_part(
        db: sqlite3.Connection, job_id: str, part: int, processed: int, failed: int
    ) -> bool:
        with db:
            db.execute("BEGIN IMMEDIATE")
            inserted = db.execute(
                "INSERT OR IGNORE INTO job_parts VALUES (?, ?, ?, ?)",
                (job_id, part, processed, failed),
            ).rowcount
            if not inserted:
                return False
            row = db.execute("SELECT record FROM jobs WHERE id=?", (job_id,)).fetchone()
            job = job_from_dict(json.loads(row[0]))
            job = replace(job, processed=job.processed + processed, failed=job.failed + failed)
            db.execute(
                "UPDATE jobs SET record=? WHERE id=?", (json.dumps(job_to_dict(job)), job_id)
            )
        return True

    async def completed_parts(self, job_id: str) -> set[int]:
        rows = await self._run(
            lambda db, j: db.execute("SELECT part FROM job_parts WHERE job_id=?", (j,)).fetchall(),
            job_id,
        )
        return {row[0] for row in rows}

    async def unfinished(self) -> list[str]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT id FROM jobs WHERE status IN ('QUEUED', 'RUNNING') ORDER BY created_at"
            ).fetchall()
        )
        return [row[0] for row in rows]

    async def ping(self) -> None:
        """Read and write for real, as a job submission would."""
        await self.database.run(lambda db: probe_read_write(db, "jobs", time.time()))

    def close(self) -> None:
        self.database.close()
