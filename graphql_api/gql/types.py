"""GraphQL types, kept apart from the domain models and converted with `from_domain`."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from graphql_api.domain import results as domain
from graphql_api.services import health as health_domain

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


@strawberry.input
class AnalyzeInput:
    documents: list[DocumentInput] = strawberry.field(
        description="Up to the configured maximum per request (100 by default)."
    )


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

    @classmethod
    def from_domain(cls, result: domain.DocumentResult) -> DocumentResult:
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
        )


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
