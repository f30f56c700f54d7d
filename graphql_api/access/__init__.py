"""Access control: API keys per tenant, scopes, rate limits, daily quotas and usage metering.

`build_access_store` and `build_access_service` pick the store the backend calls for:
SQLite under the data dir locally, the DynamoDB table on AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql_api.access.keys import (
    API_KEY_HEADER,
    AccessError,
    AccessService,
    ApiKey,
    Forbidden,
    Limits,
    NewKey,
    Principal,
    RateLimited,
    Scope,
    Unauthenticated,
    parse_scopes,
    require_scope,
)
from graphql_api.access.ports import AccessStore
from graphql_api.access.usage import UsageDay, billable_units
from graphql_api.ports import Clock, Metrics
from graphql_api.settings import Settings

__all__ = [
    "API_KEY_HEADER",
    "AccessError",
    "AccessService",
    "AccessStore",
    "ApiKey",
    "Forbidden",
    "Limits",
    "NewKey",
    "Principal",
    "RateLimited",
    "Scope",
    "Unauthenticated",
    "UsageDay",
    "billable_units",
    "build_access_service",
    "build_access_store",
    "parse_scopes",
    "require_scope",
]


def build_access_store(
    settings: Settings, *, dynamodb: Callable[[], Any] | None = None
) -> AccessStore:
    """The store for `settings.backend`: the `keys_table` DynamoDB table on AWS (through
    `dynamodb`, a zero-argument client factory, built from the settings if not given), else
    an SQLite file under `data_dir`."""
    if settings.backend == "aws":
        from graphql_api.access.dynamodb_store import DynamoDBAccessStore

        if dynamodb is None:
            from graphql_api.adapters.aws.clients import AwsClients

            clients = AwsClients(settings)
            dynamodb = lambda: clients.get("dynamodb")  # noqa: E731 - built on first use
        return DynamoDBAccessStore(settings.keys_table, dynamodb)
    from graphql_api.access.sqlite_store import SqliteAccessStore

    return SqliteAccessStore(settings.keys_path)


def build_access_service(
    settings: Settings, store: AccessStore, metrics: Metrics, clock: Clock
) -> AccessService:
    """The service with the key cache, default limits, price and retention from `settings`."""
    return AccessService(
        store,
        metrics,
        clock,
        key_cache_ttl_seconds=settings.key_cache_ttl_seconds,
        default_limits=Limits(
            rate_per_second=settings.default_rate_per_second,
            burst=settings.default_burst,
            daily_document_quota=settings.default_daily_document_quota,
        ),
        price_per_unit=settings.comprehend_price_per_unit,
        usage_retention_days=settings.usage_retention_days,
    )
