"""Access control, one slice: API keys per tenant, scopes, rate limits, daily quotas and
usage metering. `model` holds the data, `errors` the refusals, `service` every decision,
`metering` quotas and usage, `ports` the storage; the stores are SQLite locally and DynamoDB
on AWS. The composition root (`graphql_api.bootstrap`) wires them."""

from __future__ import annotations

from graphql_api.access.errors import (
    AccessError,
    AuthUnavailable,
    Forbidden,
    RateLimited,
    ServiceDisabled,
    Unauthenticated,
)
from graphql_api.access.metering import Metering
from graphql_api.access.model import (
    API_KEY_HEADER,
    LOCAL_TENANT,
    ApiKey,
    Limits,
    NewKey,
    Principal,
    Scope,
    parse_scopes,
)
from graphql_api.access.ports import AccessStore
from graphql_api.access.service import AccessService
from graphql_api.access.usage import Usage, UsageDay, billable_units

__all__ = [
    "API_KEY_HEADER",
    "LOCAL_TENANT",
    "AccessError",
    "AccessService",
    "AccessStore",
    "ApiKey",
    "AuthUnavailable",
    "Forbidden",
    "Limits",
    "Metering",
    "NewKey",
    "Principal",
    "RateLimited",
    "Scope",
    "ServiceDisabled",
    "Unauthenticated",
    "Usage",
    "UsageDay",
    "billable_units",
    "parse_scopes",
]
