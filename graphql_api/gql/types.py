"""GraphQL types, kept apart from the domain models and converted with `from_domain`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.relay import PageInfo

from graphql_api.access import Scope
from graphql_api.domain import jobs as jobs_domain
from graphql_api.domain import results as domain
from graphql_api.domain.errors import AuraStreamError
from graphql_api.gql import cursors
from graphql_api.gql.permissions import requires
from graphql_api.services import cache as cache_service
from graphql_api.services import health as health_domain
from graphql_api.services import privacy as privacy_service

Sentiment = strawberry.enum(domain.Sentiment, description="The overall sentiment of a text.")


@strawberry.enum(description="Overall or per-component health.")
class HealthStatus(Enum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


@strawberry.input(description="One text to analyse.")
class DocumentInput:
    text: str
    id: strawberry.ID | None = strawberry.field(
        default=None, description="Your own identifier, echoed back on the result."
    )
    language_code: str | None = strawberry.field(
        default=None, description="ISO 639 code such as 'en'; detected when omitted."
    )

    def to_domain(self) -> domain.DocumentRequest:
        return domain.DocumentRequest(
            text=self.text, language=self.language_code, id=str(self.id) if self.id else None
        )


PiiMode = strawberry.enum(
    privacy_service.PiiMode,
    description="OFF, DETECT (entities with offsets) or REDACT (entities and redacted text).",
)


@strawberry.input
class AnalyzeInput:
    documents: list[DocumentInput] = strawberry.field(
        description="Up to the configured maximum per request (100 by default)."
    )
    pii: PiiMode = strawberry.field(  # type: ignore[valid-type]
        default=privacy_service.PiiMode.OFF, description="Find personal data in each text."
    )
    sentences: bool = strawberry.field(
        default=False, description="Also return each sentence's sentiment (the model engine)."
    )


@strawberry.type(description="Personal data found in a text; offsets index the text as sent.")
class PiiEntity:
    type: str
    begin_offset: int
    end_offset: int
    score: float


@strawberry.type(description="Confidence per label; the four sum to 1.")
class SentimentScores:
    positive: float
    negative: float
    neutral: float
    mixed: float

    @classmethod
    def from_domain(cls, scores: domain.Scores) -> SentimentScores:
        return cls(
            positive=scores.positive,
            negative=scores.negative,
            neutral=scores.neutral,
            mixed=scores.mixed,
        )


@strawberry.type(description="One sentence's sentiment; offsets index the analysed text.")
class SentenceSentiment:
    text: str
    begin_offset: int
    end_offset: int
    sentiment: Sentiment  # type: ignore[valid-type]
    scores: SentimentScores


@strawberry.type(description="Why one document could not be analysed.")
class DocumentError:
    code: str
    message: str


@strawberry.type(description="The analysis of one document, or the error that stopped it.")
class DocumentResult:
    id: strawberry.ID | None
    sentiment: Sentiment | None  # type: ignore[valid-type]
    scores: SentimentScores | None
    language_code: str | None
    cached: bool
    engine: str | None = strawberry.field(description="The engine and version that answered.")
    text_hash: str | None = strawberry.field(description="SHA-256 of the normalised text.")
    degraded: bool = strawberry.field(
        description="True when a fallback engine answered because the primary was unavailable."
    )
    error: DocumentError | None
    pii_entities: list[PiiEntity] | None = strawberry.field(
        default=None, description="With pii DETECT or REDACT."
    )
    redacted_text: str | None = strawberry.field(
        default=None, description="The text with each entity replaced by [TYPE]; pii REDACT."
    )
    sentences: list[SentenceSentiment] | None = strawberry.field(
        default=None,
        description=(
            "With sentences: true. Offsets index the text as analysed: Unicode NFC, runs of "
            "white space folded to one space, trimmed."
        ),
    )

    @classmethod
    def from_domain(
        cls,
        result: domain.DocumentResult,
        pii: privacy_service.PiiFindings | None = None,
        sentences: bool = False,
    ) -> DocumentResult:
        analysis, failure = result.analysis, result.failure
        return cls(
            id=strawberry.ID(result.id) if result.id is not None else None,
            sentiment=analysis.sentiment if analysis else None,
            scores=SentimentScores.from_domain(analysis.scores) if analysis else None,
            language_code=analysis.language if analysis else None,
            cached=result.cached,
            engine=analysis.engine if analysis else None,
            text_hash=result.text_hash,
            degraded=analysis.degraded if analysis else False,
            error=DocumentError(code=failure.code, message=failure.message) if failure else None,
            pii_entities=[
                PiiEntity(
                    type=e.type, begin_offset=e.begin_offset, end_offset=e.end_offset, score=e.score
                )
                for e in pii.entities
            ]
            if pii
            else None,
            redacted_text=pii.redacted_text if pii else None,
            sentences=_sentences(result) if sentences and analysis else None,
        )


def _sentences(result: domain.DocumentResult) -> list[SentenceSentiment]:
    assert result.analysis is not None
    text = result.normalised_text
    return [
        SentenceSentiment(
            text=text[s.begin_offset : s.end_offset],
            begin_offset=s.begin_offset,
            end_offset=s.end_offset,
            sentiment=s.sentiment,
            scores=SentimentScores.from_domain(s.scores),
        )
        for s in result.analysis.sentences
    ]


@strawberry.type
class AnalyzeResult:
    results: list[DocumentResult] = strawberry.field(description="In input order.")


@strawberry.type
class ComponentHealth:
    name: str
    status: HealthStatus
    latency_ms: float
    detail: str


@strawberry.type
class Health:
    status: HealthStatus
    timestamp: datetime
    version: str
    components: list[ComponentHealth]

    @classmethod
    def from_domain(cls, report: health_domain.HealthReport) -> Health:
        return cls(
            status=HealthStatus(report.status.value),
            timestamp=report.timestamp,
            version=report.version,
            components=[
                ComponentHealth(
                    name=c.name,
                    status=HealthStatus(c.status.value),
                    latency_ms=round(c.latency_ms, 3),
                    detail=c.detail,
                )
                for c in report.components
            ],
        )


JobStatus = strawberry.enum(jobs_domain.JobStatus, description="Where a job is in its life.")
JobSourceFormat = strawberry.enum(jobs_domain.SourceFormat, description="How a source is laid out.")


@strawberry.input(description="Documents inline, or a stored object to read them from.")
class SubmitJobInput:
    documents: list[DocumentInput] | None = strawberry.field(
        default=None, description="Up to 10,000 documents of up to 100 KB each."
    )
    source: str | None = strawberry.field(
        default=None,
        description="s3://bucket/key on AWS; a file in the data directory when local.",
    )
    format: JobSourceFormat | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="How the source is laid out (JSONL by default)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Same key and same input: the same job, nothing new starts.",
    )
    text_column: str = strawberry.field(
        default="text", description="The JSON field or CSV column holding each text."
    )
    id_column: str | None = strawberry.field(
        default="id", description="The JSON field or CSV column holding each document's id."
    )
    language_code: str | None = strawberry.field(
        default=None, description="The language of every document; detected when omitted."
    )


@strawberry.type
class JobProgress:
    total: int
    processed: int
    failed: int
    percent: float


@strawberry.type(description="Documents per sentiment and the mean scores of a finished job.")
class JobSummary:
    positive: int
    negative: int
    neutral: int
    mixed: int
    mean_scores: SentimentScores | None

    @classmethod
    def from_domain(cls, summary: jobs_domain.JobSummary) -> JobSummary:
        counts = summary.counts
        mean = summary.mean_scores
        return cls(
            positive=counts.get("POSITIVE", 0),
            negative=counts.get("NEGATIVE", 0),
            neutral=counts.get("NEUTRAL", 0),
            mixed=counts.get("MIXED", 0),
            mean_scores=SentimentScores.from_domain(mean) if mean else None,
        )


@strawberry.type
class JobResultEdge:
    cursor: str
    node: DocumentResult


@strawberry.type
class JobResultConnection:
    edges: list[JobResultEdge]
    page_info: PageInfo


async def _job_results(
    root: Any, info: strawberry.Info, first: int | None = 100, after: str | None = None
) -> JobResultConnection:
    limit = page_size(first, 100, MAX_PAGE)
    offset = cursors.result_offset(after)
    results, more = await info.context.container.jobs.results(root.domain, offset, limit)
    edges = [
        JobResultEdge(cursor=cursors.result_cursor(r.index), node=document_result_from_job(r))
        for r in results
    ]
    return JobResultConnection(edges=edges, page_info=page_info(edges, more, after))


def page_size(first: int | None, default: int, largest: int) -> int:
    """`first` as asked, or BAD_USER_INPUT outside 0..largest (never silently clamped)."""
    if first is None:
        return default
    if not 0 <= first <= largest:
        raise AuraStreamError(f"`first` must be between 0 and {largest}.")
    return first


def page_info(edges: Sequence[JobEdge | JobResultEdge], more: bool, after: str | None) -> PageInfo:
    """Relay's PageInfo for a forward page: the cursors are its first and last edges'."""
    return PageInfo(
        has_next_page=more,
        has_previous_page=after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )


async def _job_output_url(root: Any, info: strawberry.Info) -> str | None:
    link: str | None = await info.context.container.jobs.output_link(root.domain)
    return link


@strawberry.type(description="A batch job and, page by page, its per-document results.")
class Job:
    id: strawberry.ID
    status: JobStatus  # type: ignore[valid-type]
    progress: JobProgress
    summary: JobSummary | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    duration_seconds: float | None
    error: str | None
    domain: strawberry.Private[jobs_domain.Job]

    results: JobResultConnection = strawberry.field(
        resolver=_job_results,
        description="Per-document results in input order, a page at a time.",
        extensions=[requires(Scope.JOBS)],
    )
    output_url: str | None = strawberry.field(
        resolver=_job_output_url,
        description="The full JSON Lines output: a pre-signed URL on AWS, a local path.",
        extensions=[requires(Scope.JOBS)],
    )

    @classmethod
    def from_domain(cls, job: jobs_domain.Job) -> Job:
        return cls(
            id=strawberry.ID(job.id),
            status=job.status,
            progress=JobProgress(
                total=job.total,
                processed=job.processed,
                failed=job.failed,
                percent=round(job.percent, 2),
            ),
            summary=JobSummary.from_domain(job.summary) if job.summary else None,
            created_at=_timestamp(job.created_at),
            started_at=_timestamp(job.started_at) if job.started_at else None,
            completed_at=_timestamp(job.completed_at) if job.completed_at else None,
            duration_seconds=job.duration_seconds,
            error=job.error,
            domain=job,
        )


@strawberry.type
class JobEdge:
    cursor: str
    node: Job


@strawberry.type
class JobConnection:
    edges: list[JobEdge]
    page_info: PageInfo


MAX_PAGE = 1_000


def _timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def document_result_from_job(result: jobs_domain.JobResult) -> DocumentResult:
    return DocumentResult.from_domain(
        domain.DocumentResult(
            id=result.id,
            text_hash=result.text_hash,
            analysis=result.analysis,
            failure=result.failure,
            cached=result.cached,
        )
    )


@strawberry.type(description="One tenant's (or one key's) use of the API on one day (UTC).")
class UsageDay:
    day: date
    key_id: strawberry.ID | None = strawberry.field(
        description="The key these counts belong to; null for the whole tenant."
    )
    documents: int
    cache_hits: int
    billable_units: int = strawberry.field(
        description="Comprehend units of 100 characters, at least 3 per document."
    )
    estimated_cost_usd: float

    @classmethod
    def from_domain(cls, usage: Any) -> UsageDay:
        return cls(
            day=usage.day,
            key_id=None if usage.key_id is None else strawberry.ID(f"aura_{usage.key_id}"),
            documents=usage.documents,
            cache_hits=usage.cache_hits,
            billable_units=usage.billable_units,
            estimated_cost_usd=float(usage.estimated_cost_usd),
        )


@strawberry.type(description="The result cache: entries held and this process's hit rate.")
class CacheStats:
    enabled: bool
    entries: int | None = strawberry.field(
        description="Entries in the persistent store (DynamoDB's estimate is ~6 hours old)."
    )
    memory_entries: int | None = strawberry.field(
        description="Entries in this process's in-memory LRU."
    )
    hits: int
    misses: int
    errors: int
    hit_rate: float | None
    store_available: bool = strawberry.field(
        description="False while the persistent store cannot be read; entries is then null."
    )

    @classmethod
    def from_domain(cls, stats: cache_service.CacheStats) -> CacheStats:
        return cls(
            enabled=stats.enabled,
            entries=stats.entries,
            memory_entries=stats.memory_entries,
            hits=stats.hits,
            misses=stats.misses,
            errors=stats.errors,
            hit_rate=stats.hit_rate,
            store_available=stats.store_available,
        )


@strawberry.type
class ClearCacheResult:
    deleted: int
    complete: bool = strawberry.field(description="False when more remain: call again.")
