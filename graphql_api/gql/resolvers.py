"""Resolvers: translate arguments, call a service, convert the answer. Nothing more."""

from __future__ import annotations

from datetime import date, timedelta

import strawberry

from graphql_api.access.limits import utc_day
from graphql_api.domain import jobs as jobs_domain
from graphql_api.domain.errors import AuraStreamError
from graphql_api.gql.context import Info
from graphql_api.gql.cursors import job_cursor, job_position
from graphql_api.gql.types import (
    AnalyzeInput,
    AnalyzeResult,
    CacheStats,
    ClearCacheResult,
    DocumentInput,
    DocumentResult,
    Health,
    Job,
    JobConnection,
    JobEdge,
    SubmitJobInput,
    UsageDay,
    page_info,
    page_size,
)
from graphql_api.services.jobs import JobRequest
from graphql_api.services.privacy import PiiMode


async def analyze(info: Info, input: AnalyzeInput) -> AnalyzeResult:
    # GraphQL runs mutation fields one after another, so nothing can join this batch: the
    # list goes to the pipeline as it is, which saves the DataLoader's event-loop turns.
    answers = await info.context.container.documents.analyze(
        info.context.principal, [d.to_domain() for d in input.documents], PiiMode(input.pii)
    )
    return AnalyzeResult(
        results=[
            DocumentResult.from_domain(a.result, a.personal_data, input.sentences) for a in answers
        ]
    )


async def analyze_document(
    info: Info, document: DocumentInput, pii: PiiMode = PiiMode.OFF, sentences: bool = False
) -> DocumentResult:
    context = info.context
    (answer,) = await context.container.documents.analyze(
        context.principal,
        [document.to_domain()],
        PiiMode(pii),
        pipeline=context.analysis_loader.load_many,
    )
    return DocumentResult.from_domain(answer.result, answer.personal_data, sentences)


async def health(info: Info) -> Health:
    return Health.from_domain(await info.context.container.health.check())


async def usage(
    info: Info,
    from_day: date | None = None,
    to_day: date | None = None,
    key_id: strawberry.ID | None = None,
) -> list[UsageDay]:
    """Your tenant's usage per day, or one key's, by default the last 30 days."""
    access = info.context.container.access
    to_day = to_day or utc_day(access.clock.now())
    # Thirty days back, but never before the calendar's first day (0001-01-01).
    from_day = from_day or max(date.min, to_day - timedelta(days=min(29, to_day.toordinal() - 1)))
    if from_day > to_day or (to_day - from_day).days > 366:
        raise AuraStreamError("fromDay must not be after toDay, and at most 366 days before.")
    key = None if key_id is None else str(key_id)
    days = await access.usage(info.context.principal, from_day, to_day, key)
    return [UsageDay.from_domain(day) for day in days]


async def submit_job(info: Info, input: SubmitJobInput) -> Job:
    source = None
    if input.source is not None:
        source = jobs_domain.JobSource(
            uri=input.source,
            format=input.format or jobs_domain.SourceFormat.JSONL,
            text_column=input.text_column,
            id_column=input.id_column,
        )
    documents = [d.to_domain() for d in input.documents] if input.documents is not None else None
    request = JobRequest(
        principal=info.context.principal,
        documents=documents,
        source=source,
        idempotency_key=input.idempotency_key,
        language=input.language_code,
    )
    return Job.from_domain(await info.context.container.jobs.submit(request))


async def job(info: Info, id: strawberry.ID) -> Job | None:
    """NOT_FOUND for a missing job and for another tenant's alike: nothing reveals it exists."""
    return Job.from_domain(await info.context.container.jobs.get(str(id), info.context.owner))


async def jobs(
    info: Info,
    first: int | None = 20,
    after: str | None = None,
    status: jobs_domain.JobStatus | None = None,
) -> JobConnection:
    limit = page_size(first, 20, 100)
    position = job_position(after)
    service = info.context.container.jobs
    found, more = await service.list_jobs(info.context.owner, status, limit, position)
    edges = [
        JobEdge(cursor=job_cursor(jobs_domain.JobPosition.of(j)), node=Job.from_domain(j))
        for j in found
    ]
    return JobConnection(edges=edges, page_info=page_info(edges, more, after))


async def cache_stats(info: Info) -> CacheStats:
    return CacheStats.from_domain(await info.context.container.cache_operations.stats())


async def clear_cache(info: Info, confirm: bool) -> ClearCacheResult:
    """Delete every cached result, in batches. `confirm: true` guards against accidents."""
    if not confirm:
        raise AuraStreamError("Pass confirm: true to clear the cache.")
    deleted, complete = await info.context.container.cache_operations.clear()
    return ClearCacheResult(deleted=deleted, complete=complete)
