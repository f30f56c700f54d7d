"""Operating the result cache: the runbook's statistics, warming and emergency clearing."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from graphql_api.ports import ResultCache

logger = logging.getLogger(__name__)

#: Entries one clear call deletes at most (DynamoDB deletes ~1,000 a second per call).
CLEAR_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class CacheStats:
    enabled: bool
    entries: int | None
    #: Entries in this process's in-memory LRU (one Lambda container, or the local server).
    memory_entries: int | None
    hits: int
    misses: int
    errors: int
    #: False when the persistent store could not be read just now (entries are then None).
    store_available: bool = True

    @property
    def hit_rate(self) -> float | None:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else None


class CacheOperations:
    def __init__(self, cache: ResultCache | None, counters: Mapping[str, float]) -> None:
        self.cache = cache
        self.counters = counters

    async def stats(self) -> CacheStats:
        """Entries held, and this process's hits and misses since it started."""
        entries = memory = None
        available = self.cache is not None
        if self.cache is not None:
            memory = getattr(self.cache, "memory_entries", None)
            try:
                entries = await self.cache.count()
            except Exception:
                # Statistics are for the outage too: answer, and say the store is down.
                logger.warning("cache store unavailable for statistics", exc_info=True)
                available = False
        return CacheStats(
            enabled=self.cache is not None,
            entries=entries,
            memory_entries=memory,
            hits=int(self.counters.get("CacheHit", 0)),
            misses=int(self.counters.get("CacheMiss", 0)),
            errors=int(self.counters.get("CacheErrors", 0)),
            store_available=available,
        )

    async def clear(self, limit: int = CLEAR_LIMIT, batch_size: int = 500) -> tuple[int, bool]:
        """Delete up to `limit` cached results in batches: (deleted, whether none are left).

        Bounded so one call fits a Lambda's timeout; callers repeat until done. Analyses
        are recomputed on demand.
        """
        if self.cache is None:
            return 0, True
        deleted = await self.cache.clear(batch_size, limit)
        return deleted, deleted < limit
