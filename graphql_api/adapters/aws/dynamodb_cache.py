"""The production result cache: a DynamoDB table keyed by `text_hash`, expiring on `ttl`."""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from graphql_api.domain.codec import decode_analysis, encode_analysis
from graphql_api.domain.results import Analysis
from graphql_api.ports import Clock

T = TypeVar("T")

#: DynamoDB's own limits per BatchGetItem and BatchWriteItem call.
GET_PAGE = 100
WRITE_PAGE = 25
#: Health probes write here; text hashes are hex, so no document ever has this key.
HEALTH_PROBE_KEY = "health-probe"


class UnprocessedItemsError(Exception):
    """DynamoDB kept returning unprocessed keys or items after every retry."""


class DynamoDBResultCache:
    """Items {text_hash: S, result: S (JSON), ttl: N (epoch seconds)}.

    DynamoDB deletes expired items lazily (up to days later), so reads drop items whose
    `ttl` has passed. Unprocessed keys and items are retried with jittered backoff, bounded.
    """

    def __init__(
        self,
        table: str,
        client: Callable[[], Any],
        clock: Clock,
        *,
        max_attempts: int = 4,
        base_delay_seconds: float = 0.025,
    ) -> None:
        self.table = table
        self._client = client
        self._clock = clock
        self.max_attempts = max_attempts
        self.base_delay_seconds = base_delay_seconds
        # A pool of the cache's own: calls left running by a stalled table fill it, not the
        # default pool that other dependencies share.
        self._executor: ThreadPoolExecutor | None = None

    async def _in_pool(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(8, thread_name_prefix="aurastream-cache")
        call = functools.partial(function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def get_many(self, keys: Sequence[str]) -> dict[str, Analysis]:
        if not keys:
            return {}
        return await self._in_pool(self._get_many, list(dict.fromkeys(keys)))

    async def put_many(self, entries: Mapping[str, tuple[Analysis, int]]) -> None:
        if entries:
            await self._in_pool(self._put_many, dict(entries))

    async def ping(self) -> None:
        """A real write, so health sees a table that reads but refuses writes: an item
        under a key no text hashes to, already expired so it is never served."""
        await self._in_pool(
            self._client().put_item,
            TableName=self.table,
            Item={
                "text_hash": {"S": HEALTH_PROBE_KEY},
                "result": {"S": "{}"},
                "ttl": {"N": str(int(self._clock.now()))},
            },
        )

    async def count(self) -> int | None:
        """DynamoDB's own estimate, refreshed about every six hours."""
        table = await self._in_pool(self._client().describe_table, TableName=self.table)
        return int(table["Table"].get("ItemCount", 0))

    async def clear(self, batch_size: int = 500, limit: int | None = None) -> int:
        return await self._in_pool(self._clear, batch_size, limit)

    def _clear(self, batch_size: int, limit: int | None) -> int:
        """Scan the keys a page at a time and delete them in batches of 25."""
        client, deleted, start = self._client(), 0, None
        while limit is None or deleted < limit:
            page_size = batch_size if limit is None else min(batch_size, limit - deleted)
            params: dict[str, Any] = {
                "TableName": self.table,
                "ProjectionExpression": "text_hash",
                "Limit": page_size,
            }
            if start:
                params["ExclusiveStartKey"] = start
            page = client.scan(**params)
            keys = [item["text_hash"]["S"] for item in page.get("Items", [])]
            for first in range(0, len(keys), WRITE_PAGE):
                deletes = [
                    {"DeleteRequest": {"Key": {"text_hash": {"S": key}}}}
                    for key in keys[first : first + WRITE_PAGE]
                ]
                for _ in self._with_retries(
                    "batch_write_item", "RequestItems", {self.table: deletes}
                ):
                    pass
            deleted += len(keys)
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return deleted

    def _get_many(self, keys: list[str]) -> dict[str, Analysis]:
        now = self._clock.now()
        found: dict[str, Analysis] = {}
        for start in range(0, len(keys), GET_PAGE):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"text_hash": {"S": key}} for key in keys[start : start + GET_PAGE]],
                    "ProjectionExpression": "text_hash, #r, #t",
                    "ExpressionAttributeNames": {"#r": "result", "#t": "ttl"},
                }
            }
            for item in self._with_retries("batch_get_item", "RequestItems", request):
                if float(item["ttl"]["N"]) > now:
                    found[item["text_hash"]["S"]] = decode_analysis(item["result"]["S"])
        return found

    def _put_many(self, entries: dict[str, tuple[Analysis, int]]) -> None:
        now = self._clock.now()
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "text_hash": {"S": key},
                        "result": {"S": encode_analysis(analysis)},
                        "ttl": {"N": str(int(now + ttl))},
                    }
                }
            }
            for key, (analysis, ttl) in entries.items()
        ]
        for start in range(0, len(requests), WRITE_PAGE):
            page = {self.table: requests[start : start + WRITE_PAGE]}
            for _ in self._with_retries("batch_write_item", "RequestItems", page):
                pass

    def _with_retries(self, operation: str, parameter: str, request: dict[str, Any]) -> list[Any]:
        """Call a batch operation until nothing is left unprocessed; return the items read."""
        client = self._client()
        unprocessed_field = (
            "UnprocessedKeys" if operation == "batch_get_item" else "UnprocessedItems"
        )
        items: list[Any] = []
        for attempt in range(self.max_attempts):
            response = getattr(client, operation)(**{parameter: request})
            items.extend(response.get("Responses", {}).get(self.table, []))
            request = response.get(unprocessed_field) or {}
            if not request:
                return items
            # Full jitter, as DynamoDB's guidance for unprocessed items recommends.
            time.sleep(random.uniform(0, self.base_delay_seconds * 2**attempt))
        raise UnprocessedItemsError(f"{operation}: items still unprocessed after retries")
