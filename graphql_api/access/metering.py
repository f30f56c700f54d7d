"""Metering: the daily document quota and usage counts, per tenant and per key.

Every way documents reach the engine goes through here: `analyze`, `analyzeDocument`, the
REST routes and jobs (inline and from a source), so none can skip the quota or go uncounted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from graphql_api.access.errors import RateLimited
from graphql_api.access.limits import DAY_SECONDS, seconds_until_next_day, utc_day
from graphql_api.access.model import Principal
from graphql_api.access.ports import MeteringStore
from graphql_api.access.service import guarded
from graphql_api.access.usage import Usage, metered
from graphql_api.domain.results import DocumentResult
from graphql_api.ports import Clock, Metrics

logger = logging.getLogger(__name__)


class Metering:
    def __init__(
        self,
        store: MeteringStore,
        metrics: Metrics,
        clock: Clock,
        *,
        usage_retention_days: int = 400,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.clock = clock
        self.usage_retention_days = usage_retention_days

    async def admit(self, principal: Principal, count: int) -> int:
        """Count `count` documents against the key's quota for today (UTC), or raise
        RateLimited and count nothing. Call it once the request is known to be valid, so a
        refused request never consumes quota. Open local servers have no quota. Returns the
        documents counted today so far (0 where there is no quota)."""
        limits = principal.limits
        quota = limits.daily_document_quota if limits is not None else None
        return await self.admit_key(principal.key_id, quota, count)

    async def admit_key(self, key_id: str | None, quota: int | None, count: int) -> int:
        """`admit` for a key known by its id and daily quota (a job's submitter)."""
        if count < 0:
            raise ValueError("count must not be negative")
        if key_id is None or quota is None:
            return 0
        now = self.clock.now()
        expires_at = now + seconds_until_next_day(now) + 3_600
        outcome = await guarded(
            self.store.add_documents(key_id, utc_day(now), count, quota, expires_at)
        )
        if not outcome.admitted:
            self.metrics.increment("QuotaExceeded")
            raise RateLimited(
                f"Daily quota of {quota} documents exceeded ({outcome.used} used today, "
                f"{count} requested).",
                retry_after_seconds=seconds_until_next_day(now),
                limit="daily_quota",
            )
        return outcome.used

    async def record_results(
        self, principal: Principal, results: Sequence[DocumentResult]
    ) -> Usage:
        """Count what one request analysed; returns the counts."""
        usage = metered(results)
        await self.record(principal.tenant_id, principal.key_id, usage)
        return usage

    async def record(self, tenant_id: str, key_id: str | None, usage: Usage) -> None:
        """Add to the tenant's counters for today, and to the key's when there is one."""
        if usage.billable_units:
            self.metrics.increment("BillableUnits", usage.billable_units)
        if not usage:
            return
        day = utc_day(self.clock.now())
        expires_at = _day_start(day) + (self.usage_retention_days + 1) * DAY_SECONDS
        try:
            await self.store.add_usage(tenant_id, key_id, day, usage, float(expires_at))
        except Exception as error:
            # The documents are analysed and the caller should have them: a counter that
            # cannot be written is logged and counted for the operators, never a failed
            # request. (The quota, checked before any work, fails closed instead.)
            self.metrics.increment("MeteringErrors")
            logger.error(
                "usage not recorded",
                extra={"tenant_id": tenant_id, "key_id": key_id, "documents": usage.documents,
                       "error_type": type(error).__name__},
            )  # fmt: skip


def _day_start(day: date) -> int:
    return (day - date(1970, 1, 1)).days * DAY_SECONDS
