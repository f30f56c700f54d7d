"""A bounded in-process LRU in front of any persistent ResultCache."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from cachetools import TLRUCache

from graphql_api.domain.results import Analysis
from graphql_api.metric_names import Metric
from graphql_api.ports import Clock, Metrics, ResultCache

logger = logging.getLogger(__name__)


class TieredResultCache:
    """Reads the LRU first and the store only for what it lacks; writes go to both.

    Entries keep their own time to live in the LRU too, so a warm container never
    serves a result the persistent store would already have expired. A failing store
    is bypassed and counted, and the LRU keeps answering.
    """

    def __init__(
        self, store: ResultCache, clock: Clock, max_entries: int, metrics: Metrics
    ) -> None:
        self.store = store
        self.metrics = metrics
        self._lru: TLRUCache[str, tuple[Analysis, int]] = TLRUCache(
            maxsize=max(max_entries, 1),
            ttu=lambda _key, value, now: now + value[1],
            timer=clock.now,
        )

    async def get_many(self, keys: Sequence[str]) -> dict[str, Analysis]:
        found: dict[str, Analysis] = {}
        missing: list[str] = []
        for key in keys:
            entry = self._lru.get(key)
            if entry is None:
                missing.append(key)
            else:
                found[key] = entry[0]
        if missing:
            try:
                from_store = await self.store.get_many(missing)
            except Exception as error:
                self._bypassed("read", error)
                return found
            found.update(from_store)
            # The store does not say how long is left; keep its hits in memory only briefly.
            for key, analysis in from_store.items():
                self._lru[key] = (analysis, _STORE_HIT_TTL_SECONDS)
        return found

    async def put_many(self, entries: Mapping[str, tuple[Analysis, int]]) -> None:
        for key, entry in entries.items():
            self._lru[key] = entry
        try:
            await self.store.put_many(entries)
        except Exception as error:
            self._bypassed("write", error)

    def _bypassed(self, operation: str, error: Exception) -> None:
        self.metrics.increment(Metric.CACHE_ERRORS)
        logger.warning("cache %s failed (%s); bypassing the store", operation, type(error).__name__)

    async def ping(self) -> None:
        await self.store.ping()

    def clear_memory(self) -> None:
        self._lru.clear()

    async def count(self) -> int | None:
        return await self.store.count()

    async def clear(self, batch_size: int = 500, limit: int | None = None) -> int:
        self._lru.clear()
        return await self.store.clear(batch_size, limit)

    @property
    def memory_entries(self) -> int:
        return len(self._lru)


_STORE_HIT_TTL_SECONDS = 300
