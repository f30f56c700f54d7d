"""DynamoDB specifics beyond the contract suite, over HTTP against moto_server."""

from typing import Any

import boto3
import pytest

from graphql_api.adapters.aws.dynamodb_cache import DynamoDBResultCache, UnprocessedItemsError
from tests.fakes import FakeClock, positive


class FlakyBatches:
    """The real client, except that the first answers leave half the batch unprocessed.

    moto always processes every item, so this wrapper stands in for DynamoDB's partial
    answers under load; everything else goes to the emulator over HTTP.
    """

    def __init__(self, client: Any, flaky_calls: int) -> None:
        self.client = client
        self.flaky_calls = flaky_calls
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("get")
        if self.flaky_calls <= 0:
            return self.client.batch_get_item(RequestItems=RequestItems)
        self.flaky_calls -= 1
        ((table, request),) = RequestItems.items()
        half = len(request["Keys"]) // 2
        answered = self.client.batch_get_item(
            RequestItems={table: {**request, "Keys": request["Keys"][:half]}}
        )
        return {**answered, "UnprocessedKeys": {table: {**request, "Keys": request["Keys"][half:]}}}

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls.append("write")
        if self.flaky_calls <= 0:
            return self.client.batch_write_item(RequestItems=RequestItems)
        self.flaky_calls -= 1
        ((table, requests),) = RequestItems.items()
        half = len(requests) // 2
        self.client.batch_write_item(RequestItems={table: requests[:half]})
        return {"UnprocessedItems": {table: requests[half:]}}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_unprocessed_items_and_keys_are_retried_until_done(cache_table, clock):
    client = FlakyBatches(boto3.client("dynamodb"), flaky_calls=2)
    cache = DynamoDBResultCache(cache_table, lambda: client, clock, base_delay_seconds=0.001)
    entries = {f"k{i}": (positive(), 60) for i in range(20)}

    await cache.put_many(entries)
    client.flaky_calls = 2
    found = await cache.get_many(list(entries))

    assert set(found) == set(entries)
    assert client.calls.count("write") == 3  # one partial, one partial, one complete
    assert client.calls.count("get") == 3


async def test_retries_are_bounded(cache_table, clock):
    client = FlakyBatches(boto3.client("dynamodb"), flaky_calls=100)
    cache = DynamoDBResultCache(
        cache_table, lambda: client, clock, max_attempts=3, base_delay_seconds=0.001
    )

    with pytest.raises(UnprocessedItemsError):
        await cache.put_many({f"k{i}": (positive(), 60) for i in range(8)})
    assert client.calls.count("write") == 3


async def test_pages_respect_dynamodb_batch_limits(cache_table, clock):
    client = FlakyBatches(boto3.client("dynamodb"), flaky_calls=0)
    cache = DynamoDBResultCache(cache_table, lambda: client, clock)
    entries = {f"k{i}": (positive(), 60) for i in range(230)}

    await cache.put_many(entries)
    found = await cache.get_many(list(entries))

    assert len(found) == 230
    assert client.calls.count("write") == 10  # pages of 25
    assert client.calls.count("get") == 3  # pages of 100


async def test_items_are_stored_with_the_runbook_schema(cache_table, clock):
    cache = DynamoDBResultCache(cache_table, lambda: boto3.client("dynamodb"), clock)

    await cache.put_many({"abc": (positive(), 3_600)})

    item = boto3.client("dynamodb").get_item(TableName=cache_table, Key={"text_hash": {"S": "abc"}})
    assert int(item["Item"]["ttl"]["N"]) == int(clock.now()) + 3_600
    assert "good" not in item["Item"]["result"]["S"]  # results only, never text
