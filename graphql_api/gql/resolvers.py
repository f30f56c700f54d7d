"""Resolvers: translate arguments, call a service, convert the answer. Nothing more."""

from __future__ import annotations

import strawberry

from graphql_api.domain import jobs as jobs_domain
from graphql_api.domain.errors import NotFound, TooManyDocuments
from graphql_api.gql.context import Context
from graphql_api.gql.types import (
    AnalyzeInput,
    AnalyzeResult,
    DocumentInput,
    DocumentResult,
    Health,
    Job,
    JobConnection,
    JobEdge,
    PageInfo,
    SubmitJobInput,
)
from graphql_api.services.jobs import JobRequest

Info = strawberry.Info[Context, None]


async def analyze(info: Info, input: AnalyzeInput) -> AnalyzeResult:
    limit = info.context.container.settings.max_documents_per_request
    if len(input.documents) > limit:
        raise TooManyDocuments(
            f"{len(input.documents)} documents sent; at most {limit} per request. "
            "Use submitJob for larger batches."
        )
    results = await info.context.analysis_loader.load_many([d.to_domain() for d in input.documents])
    return AnalyzeResult(results=[DocumentResult.from_domain(r) for r in results])


async def analyze_document(info: Info, document: DocumentInput) -> DocumentResult:
    result = await info.context.analysis_loader.load(document.to_domain())
    return DocumentResult.from_domain(result)


async def health(info: Info) -> Health:
    return Health.from_domain(await info.context.container.health.check())


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
        owner=info.context.owner,
        documents=documents,
        source=source,
        idempotency_key=input.idempotency_key,
        language=input.language_code,
    )
    return Job.from_domain(await info.context.container.jobs.submit(request))


async def job(info: Info, id: strawberry.ID) -> Job | None:
    try:
        return Job.from_domain(await info.context.container.jobs.get(str(id), info.context.owner))
    except NotFound:
        return None


async def jobs(
    info: Info,
    first: int | None = 20,
    after: str | None = None,
    status: jobs_domain.JobStatus | None = None,
) -> JobConnection:
    limit = max(1, min(first if first is not None else 20, 100))
    found, cursor = await info.context.container.jobs.list_jobs(
        info.context.owner, status, limit, after
    )
    edges = [
        JobEdge(cursor=jobs_domain.encode_cursor("job", j.id), node=Job.from_domain(j))
        for j in found
    ]
    return JobConnection(
        edges=edges, page_info=PageInfo(has_next_page=cursor is not None, end_cursor=cursor)
    )
