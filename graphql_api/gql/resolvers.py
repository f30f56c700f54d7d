"""Resolvers: translate arguments, call a service, convert the answer. Nothing more."""

from __future__ import annotations

import strawberry

from graphql_api.domain.errors import TooManyDocuments
from graphql_api.gql.context import Context
from graphql_api.gql.types import AnalyzeInput, AnalyzeResult, DocumentInput, DocumentResult, Health

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
