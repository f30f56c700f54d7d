"""The storage the access service depends on; SQLite and DynamoDB stores implement it."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from graphql_api.access.limits import QuotaOutcome
    from graphql_api.access.model import ApiKey
    from graphql_api.access.usage import Usage, UsageCounters


class KeyStore(Protocol):
    async def put_key(self, key: ApiKey) -> None:
        """Store a new key; raise KeyIdTaken if its id is already in use."""
        ...

    async def get_key(self, key_id: str) -> ApiKey | None: ...

    async def list_keys(self, tenant_id: str | None = None) -> list[ApiKey]:
        """Every key (of one tenant), oldest first."""
        ...

    async def revoke_key(self, key_id: str, revoked_at: float) -> ApiKey | None:
        """Mark a key revoked (keeping the first revocation time); None if there is none."""
        ...


class LimitStore(Protocol):
    async def take_request(
        self, key_id: str, rate_per_second: float, burst: int, now: float
    ) -> float:
        """Admit one request from the key's bucket atomically: 0 if admitted, else the
        seconds to wait (and nothing taken)."""
        ...

    async def add_documents(
        self, key_id: str, day: date, count: int, quota: int, expires_at: float
    ) -> QuotaOutcome:
        """Add `count` to the key's documents for `day` only if the total stays within
        `quota`, atomically."""
        ...


class UsageStore(Protocol):
    async def add_usage(
        self, tenant_id: str, key_id: str | None, day: date, usage: Usage, expires_at: float
    ) -> None:
        """Add to the tenant's counters for the day and, with a key id, to the key's, in one
        atomic write."""
        ...

    async def usage(self, tenant_id: str, from_day: date, to_day: date) -> list[UsageCounters]:
        """The tenant's recorded days in [from_day, to_day], oldest first."""
        ...

    async def key_usage(self, key_id: str, from_day: date, to_day: date) -> list[UsageCounters]:
        """One key's recorded days in [from_day, to_day], oldest first."""
        ...


class MeteringStore(LimitStore, UsageStore, Protocol):
    """What metering needs: quotas and usage counters."""


class AccessStore(KeyStore, MeteringStore, Protocol):
    async def ping(self) -> None:
        """Raise if the store cannot serve requests; used by health checks."""
        ...

    def close(self) -> None: ...
