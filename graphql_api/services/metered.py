"""The analyze use case every entry point shares: GraphQL's analyze and analyzeDocument,
and the REST routes. The request limit, the key's quota, the pipeline, personal data and
usage run here in that order, so no entry point can forget a step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from graphql_api.access import Metering, Principal
from graphql_api.domain.errors import TooManyDocuments
from graphql_api.domain.results import DocumentRequest, DocumentResult
from graphql_api.privacy import PiiDetector
from graphql_api.services.analysis import AnalysisService
from graphql_api.services.privacy import PiiFindings, PiiMode, find_personal_data

Pipeline = Callable[[list[DocumentRequest]], Awaitable[Sequence[DocumentResult]]]


@dataclass(frozen=True, slots=True)
class Answer:
    result: DocumentResult
    #: None unless personal data was asked for.
    personal_data: PiiFindings | None


class MeteredAnalysis:
    def __init__(
        self,
        analysis: AnalysisService,
        metering: Metering,
        pii: PiiDetector,
        max_documents_per_request: int,
    ) -> None:
        self.analysis = analysis
        self.metering = metering
        self.pii = pii
        self.max_documents_per_request = max_documents_per_request

    async def analyze(
        self,
        principal: Principal,
        requests: list[DocumentRequest],
        pii: PiiMode = PiiMode.OFF,
        *,
        pipeline: Pipeline | None = None,
    ) -> list[Answer]:
        """Answers in request order. `pipeline` lets GraphQL batch several fields through
        its per-request DataLoader; by default the documents go to the pipeline as one batch."""
        limit = self.max_documents_per_request
        if len(requests) > limit:
            raise TooManyDocuments(
                f"{len(requests)} documents sent; at most {limit} per request. "
                "Use submitJob for larger batches."
            )
        await self.metering.admit(principal, len(requests))
        results = list(await (pipeline or self.analysis.analyze)(requests))
        await self.metering.record_results(principal, results)
        languages = [
            r.analysis.language if r.analysis else (q.language or "en")
            for q, r in zip(requests, results, strict=True)
        ]
        findings = await find_personal_data(self.pii, [q.text for q in requests], languages, pii)
        return [Answer(r, f) for r, f in zip(results, findings, strict=True)]


def _language(request: DocumentRequest, result: DocumentResult) -> str:
    return result.analysis.language if result.analysis else (request.language or "en")
