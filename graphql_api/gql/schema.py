"""The schema and its hardening extensions, assembled from settings."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule, specified_rules
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graphql_api.access import Scope
from graphql_api.domain.errors import ErrorCode
from graphql_api.gql import resolvers
from graphql_api.gql.errors import error_code
from graphql_api.gql.limits import CostLimits, DocumentCache
from graphql_api.gql.permissions import requires
from graphql_api.gql.types import (
    AnalyzeResult,
    CacheStats,
    ClearCacheResult,
    DocumentResult,
    Health,
    Job,
    JobConnection,
    UsageDay,
)
from graphql_api.settings import Settings

logger = logging.getLogger(__name__)


@strawberry.type
class Query:
    health: Health = strawberry.field(
        resolver=resolvers.health, description="Each component probed, with a short timeout."
    )
    analyze_document: DocumentResult = strawberry.field(
        resolver=resolvers.analyze_document,
        extensions=[requires(Scope.ANALYZE)],
        description=(
            "Analyse one document. Query fields run concurrently, so any number of aliased "
            "analyzeDocument fields in one query are answered as a single batch."
        ),
    )
    job: Job | None = strawberry.field(
        resolver=resolvers.job,
        description="One of your jobs; NOT_FOUND when there is none.",
        extensions=[requires(Scope.JOBS)],
    )
    jobs: JobConnection = strawberry.field(
        resolver=resolvers.jobs,
        description="Your jobs, newest first.",
        extensions=[requires(Scope.JOBS)],
    )
    cache_stats: CacheStats = strawberry.field(
        resolver=resolvers.cache_stats,
        description="Entries held and hit rate (scope ops).",
        extensions=[requires(Scope.OPS)],
    )
    usage: list[UsageDay] = strawberry.field(
        resolver=resolvers.usage,
        description=(
            "Your tenant's documents, cache hits, Comprehend units and estimated cost per "
            "day; with keyId, one key's (your tenant's keys, or any key with scope ops)."
        ),
    )


@strawberry.type
class Mutation:
    analyze: AnalyzeResult = strawberry.mutation(
        resolver=resolvers.analyze,
        extensions=[requires(Scope.ANALYZE)],
        description="Analyse a list of documents as one batch; results in input order.",
    )
    clear_cache: ClearCacheResult = strawberry.mutation(
        resolver=resolvers.clear_cache,
        extensions=[requires(Scope.OPS)],
        description="Delete every cached result, in batches (scope ops).",
    )
    submit_job: Job = strawberry.mutation(
        resolver=resolvers.submit_job,
        extensions=[requires(Scope.JOBS)],
        description="Start a batch job over up to 10,000 documents; poll it with `job`.",
    )


class AuraStreamSchema(strawberry.Schema):
    """The schema with the query limits built in.

    The introspection rule and the token limit are set on each execution context directly
    rather than by Strawberry's extensions: every extension adds its hooks to every request
    (~25 us each here). The one extension, the document cache, also applies the cost limits
    (depth, aliases, fields) with fragments expanded once each: Strawberry's depth and alias
    limiters expand every path, which doubles per level of nested fragment spreads.
    """

    def __init__(self, *args: Any, settings: Settings, **kwargs: Any) -> None:
        documents = DocumentCache()
        limits = CostLimits(settings.max_query_depth, settings.max_aliases)
        kwargs["extensions"] = [lambda: documents.extension(limits)]
        super().__init__(*args, **kwargs)
        self.rules = (*specified_rules, *_limit_rules(settings))
        self.max_tokens = settings.max_query_tokens

    def _create_execution_context(self, *args: Any, **kwargs: Any) -> ExecutionContext:
        context = super()._create_execution_context(*args, **kwargs)
        context.validation_rules = self.rules
        context.parse_options["max_tokens"] = self.max_tokens
        return context

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log each error by code and type only: messages and sources can quote the request."""
        for error in errors:
            code = error_code(error, executed=error.path is not None)
            original = type(error.original_error).__name__ if error.original_error else None
            if code == ErrorCode.INTERNAL_SERVER_ERROR:
                logger.error(
                    "unexpected error",
                    extra={"code": code, "error_type": original},
                    exc_info=error.original_error,
                )
            else:
                logger.info("request error", extra={"code": code, "error_type": original})


def build_schema(settings: Settings) -> strawberry.Schema:
    return AuraStreamSchema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(auto_camel_case=True),
        # Parsing and validating a repeated query costs ~1 ms; cached, ~0.2 ms.
        settings=settings,
    )


def _limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """No introspection if so set; the cost limits run first, in the document cache."""
    return [] if settings.introspection_enabled else [NoSchemaIntrospectionCustomRule]
