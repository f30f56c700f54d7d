"""The small interfaces the services depend on; adapters under `adapters/` implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from graphql_api.domain.jobs import Job, JobPosition, JobStatus
from graphql_api.domain.results import Analysis, EngineOutcome


class SentimentEngine(Protocol):
    """Turns texts into analyses; one call handles at most `max_batch_size` texts."""

    #: Names the engine and its version, e.g. "vader-3.3.2"; part of every cache key.
    identity: str
    max_batch_size: int

    async def detect_languages(self, texts: Sequence[str]) -> list[str]:
        """The dominant language (ISO 639-1, or e.g. "zh-TW") of each text, in order."""
        ...

    async def analyze_batch(self, texts: Sequence[str], language: str) -> list[EngineOutcome]:
        """One outcome per text, in order; a text that fails yields a DocumentFailure."""
        ...


class ResultCache(Protocol):
    """Analyses by cache key. Holds results only, never the text they came from."""

    async def get_many(self, keys: Sequence[str]) -> dict[str, Analysis]:
        """The entries found and not expired; missing keys are simply absent."""
        ...

    async def put_many(self, entries: Mapping[str, tuple[Analysis, int]]) -> None:
        """Store each analysis with its time to live in seconds."""
        ...

    async def ping(self) -> None:
        """Raise if the cache cannot serve requests; used by health checks."""
        ...

    async def count(self) -> int | None:
        """Entries held (approximate where the store only estimates), None if unknown."""
        ...

    async def clear(self, batch_size: int = 500, limit: int | None = None) -> int:
        """Delete entries in batches, so the store is never overwhelmed, up to `limit` of
        them (all when None); return how many were deleted."""
        ...


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class Metrics(Protocol):
    """Counters and timings; CloudWatch EMF on Lambda, Prometheus locally, memory in tests.

    Names are the runbook's (CacheHit, EngineLatency, ...); dimensions stay few and
    low-cardinality (e.g. {"operation": "analyze"}), never per document or per tenant.
    """

    def increment(
        self, name: str, value: float = 1, dimensions: Mapping[str, str] | None = None
    ) -> None: ...

    def observe_ms(
        self, name: str, milliseconds: float, dimensions: Mapping[str, str] | None = None
    ) -> None: ...


class JobStore(Protocol):
    """Job records, their completed parts and idempotency keys."""

    async def create(self, job: Job) -> Job:
        """Store a new job. With an idempotency key already used by the same owner, return
        that job when the fingerprints match and raise IdempotencyConflict when not."""
        ...

    async def get(self, job_id: str) -> Job | None: ...

    async def find_idempotent(self, owner: str, idempotency_key: str) -> Job | None:
        """The job the owner created with this idempotency key, if any."""
        ...

    async def list_jobs(
        self, owner: str, status: JobStatus | None, limit: int, after: JobPosition | None
    ) -> tuple[list[Job], bool]:
        """Newest first, from just after `after`; returns a page and whether more follow."""
        ...

    async def update(self, job_id: str, **fields: Any) -> Job:
        """Set fields of the job record (status, total, parts, timestamps, summary, ...)."""
        ...

    async def complete_part(self, job_id: str, part: int, processed: int, failed: int) -> bool:
        """Record a finished part and add its counts to the job, once; False if already done."""
        ...

    async def completed_parts(self, job_id: str) -> set[int]: ...

    async def unfinished(self) -> list[str]:
        """Ids of jobs not yet finished, oldest first (to resume after a restart)."""
        ...

    async def ping(self) -> None:
        """Raise if jobs cannot be stored now; used by health checks."""
        ...


class BlobStore(Protocol):
    """Job inputs, parts and outputs: files under the data directory, or S3."""

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes:
        """Raise KeyError when there is no such object."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def read_source(self, tenant_id: str, uri: str) -> bytes:
        """An object the caller named in its tenant's inbox: a key under `inbox/<tenant>/` in
        the bucket on AWS, a file under `<data dir>/inbox/<tenant>/` locally. Raise
        SourceUnreadable when it cannot be read, and for anything outside the inbox, in
        the same words as for a missing object: nothing reveals what exists elsewhere."""
        ...

    async def check_source(self, tenant_id: str, uri: str) -> None:
        """Raise SourceUnreadable unless the object is in the tenant's inbox and readable."""
        ...

    async def link(self, key: str) -> str:
        """Where a caller can download the object: a pre-signed URL or a local path."""
        ...


class JobRunner(Protocol):
    """Starts a submitted job: Step Functions on AWS, an in-process task locally."""

    async def start(self, job_id: str) -> None: ...
