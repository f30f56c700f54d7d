"""Keys, rate-limit buckets, daily quotas and usage in one DynamoDB table (pk, sk strings).

Item layout (counters carry a `ttl` attribute, epoch seconds, for DynamoDB's TTL sweeper):

    pk               sk                 attributes
    KEY#<key id>     KEY                tenant_id, name, secret_hash, scopes, rate_per_second,
                                        burst, daily_quota, created_at, revoked_at?
    KEY#<key id>     BUCKET             tat (GCRA theoretical arrival time), ttl
    KEY#<key id>     QUOTA#<yyyy-mm-dd> documents, ttl (the next day)
    KEY#<key id>     USAGE#<yyyy-mm-dd> tenant_id, documents, cache_hits, billable_units, ttl
    TENANT#<tenant>  USAGE#<yyyy-mm-dd> documents, cache_hits, billable_units, ttl (retention)

Every counter changes through one conditional UpdateItem, so concurrent Lambda containers
never lose each other's updates. A refused conditional write returns the item as it stood
(ReturnValuesOnConditionCheckFailure), so deciding what to do next costs no extra read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from graphql_api.access.errors import KeyIdTaken
from graphql_api.access.limits import (
    EPSILON,
    QuotaOutcome,
    bucket_expiry,
    interval,
    retry_after,
    tolerance,
)
from graphql_api.access.model import ApiKey, Limits, format_scopes, parse_scopes
from graphql_api.access.usage import Usage, UsageCounters

KEY_SK = "KEY"
BUCKET_SK = "BUCKET"
_CONDITION_FAILED = "ConditionalCheckFailedException"
#: Attempts at admitting one request; each one after the first knows the bucket's state.
_BUCKET_ATTEMPTS = 3


class DynamoDBAccessStore:
    """An AccessStore over a DynamoDB table with string keys `pk` and `sk`.

    Key reads are strongly consistent so that a revocation is visible as soon as the
    service's short key cache expires.
    """

    def __init__(self, table: str, client: Callable[[], Any]) -> None:
        self.table = table
        self._client = client
        #: Last TAT seen per key; only a hint for which update to try first.
        self._tat_hints: dict[str, float] = {}

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        method = getattr(self._client(), operation)
        result: dict[str, Any] = await asyncio.to_thread(method, TableName=self.table, **params)
        return result

    async def _conditional(self, operation: str, **params: Any) -> tuple[bool, dict[str, Any]]:
        """(True, response) if the write happened; (False, item as it stood) if the condition
        failed."""
        try:
            return True, await self._call(
                operation, ReturnValuesOnConditionCheckFailure="ALL_OLD", **params
            )
        except Exception as error:
            response = getattr(error, "response", None) or {}
            if response.get("Error", {}).get("Code") != _CONDITION_FAILED:
                raise
            return False, response.get("Item") or {}

    # Keys.

    async def put_key(self, key: ApiKey) -> None:
        written, _ = await self._conditional(
            "put_item", Item=_key_item(key), ConditionExpression="attribute_not_exists(pk)"
        )
        if not written:
            raise KeyIdTaken(key.key_id)

    async def get_key(self, key_id: str) -> ApiKey | None:
        response = await self._call(
            "get_item", Key=_key(f"KEY#{key_id}", KEY_SK), ConsistentRead=True
        )
        item = response.get("Item")
        return _key_from_item(item) if item else None

    async def list_keys(self, tenant_id: str | None = None) -> list[ApiKey]:
        # A Scan: listing is an operator's command, rare enough not to need an index.
        params: dict[str, Any] = {
            "FilterExpression": "sk = :key",
            "ExpressionAttributeValues": {":key": {"S": KEY_SK}},
        }
        if tenant_id is not None:
            params["FilterExpression"] += " AND tenant_id = :tenant"
            params["ExpressionAttributeValues"][":tenant"] = {"S": tenant_id}
        keys: list[ApiKey] = []
        while True:
            response = await self._call("scan", **params)
            keys.extend(_key_from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return sorted(keys, key=lambda k: (k.created_at, k.key_id))

    async def revoke_key(self, key_id: str, revoked_at: float) -> ApiKey | None:
        written, response = await self._conditional(
            "update_item",
            Key=_key(f"KEY#{key_id}", KEY_SK),
            UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :at)",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":at": _number(revoked_at)},
            ReturnValues="ALL_NEW",
        )
        return _key_from_item(response["Attributes"]) if written else None

    # Limits.

    async def take_request(
        self, key_id: str, rate_per_second: float, burst: int, now: float
    ) -> float:
        """GCRA as conditional updates (see `limits`): one write when the guess of the
        bucket's state is right, two when another container changed it meanwhile."""
        step, tau = interval(rate_per_second), tolerance(rate_per_second, burst)
        key = _key(f"KEY#{key_id}", BUCKET_SK)
        ttl = {"N": str(int(bucket_expiry(now, rate_per_second, burst)))}
        hint = self._tat_hints.get(key_id)
        busy = hint is not None and hint > now
        for _ in range(_BUCKET_ATTEMPTS):
            if busy:  # requests are queued ahead of now: push the TAT on by one interval
                written, response = await self._conditional(
                    "update_item",
                    Key=key,
                    UpdateExpression="SET tat = tat + :step, #ttl = :ttl",
                    ConditionExpression="tat > :now AND tat <= :latest",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={
                        ":step": _number(step),
                        ":ttl": ttl,
                        ":now": _number(now),
                        ":latest": _number(now + tau + EPSILON),
                    },
                    ReturnValues="UPDATED_NEW",
                )
            else:  # the bucket is full (idle or new): the next request is due one interval on
                written, response = await self._conditional(
                    "update_item",
                    Key=key,
                    UpdateExpression="SET tat = :next, #ttl = :ttl",
                    ConditionExpression="attribute_not_exists(tat) OR tat <= :now",
                    ExpressionAttributeNames={"#ttl": "ttl"},
                    ExpressionAttributeValues={
                        ":next": _number(now + step),
                        ":ttl": ttl,
                        ":now": _number(now),
                    },
                    ReturnValues="UPDATED_NEW",
                )
            if written:
                self._tat_hints[key_id] = float(response["Attributes"]["tat"]["N"])
                return 0.0
            if "tat" not in response:  # deleted by TTL between two attempts: start afresh
                busy = False
                continue
            tat = float(response["tat"]["N"])
            self._tat_hints[key_id] = tat
            wait = retry_after(tat, now, rate_per_second, burst)
            if wait > 0:
                return wait
            busy = tat > now
        return step  # lost every race: the bucket is contended, so it is effectively empty

    async def add_documents(
        self, key_id: str, day: date, count: int, quota: int, expires_at: float
    ) -> QuotaOutcome:
        if count > quota:
            current = await self._call(
                "get_item", Key=_key(f"KEY#{key_id}", f"QUOTA#{day.isoformat()}")
            )
            return QuotaOutcome(False, _int(current.get("Item", {}), "documents"))
        written, response = await self._conditional(
            "update_item",
            Key=_key(f"KEY#{key_id}", f"QUOTA#{day.isoformat()}"),
            UpdateExpression="ADD documents :count SET #ttl = :ttl",
            ConditionExpression="attribute_not_exists(documents) OR documents <= :room",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={
                ":count": {"N": str(count)},
                ":room": {"N": str(quota - count)},
                ":ttl": {"N": str(int(expires_at))},
            },
            ReturnValues="ALL_NEW",
        )
        if written:
            return QuotaOutcome(True, _int(response.get("Attributes", {}), "documents"))
        return QuotaOutcome(False, _int(response, "documents"))

    # Usage.

    async def add_usage(
        self, tenant_id: str, key_id: str | None, day: date, usage: Usage, expires_at: float
    ) -> None:
        values = {
            ":d": {"N": str(usage.documents)},
            ":h": {"N": str(usage.cache_hits)},
            ":u": {"N": str(usage.billable_units)},
            ":ttl": {"N": str(int(expires_at))},
        }
        add = "ADD documents :d, cache_hits :h, billable_units :u SET #ttl = :ttl"
        sk = f"USAGE#{day.isoformat()}"
        updates = [
            {
                "TableName": self.table,
                "Key": _key(f"TENANT#{tenant_id}", sk),
                "UpdateExpression": add,
                "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": values,
            }
        ]
        if key_id is not None:
            updates.append(
                {
                    "TableName": self.table,
                    "Key": _key(f"KEY#{key_id}", sk),
                    "UpdateExpression": f"{add}, tenant_id = :tenant",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": {**values, ":tenant": {"S": tenant_id}},
                }
            )
        # One transaction: the tenant's and the key's counters never disagree.
        write = self._client().transact_write_items
        await asyncio.to_thread(write, TransactItems=[{"Update": u} for u in updates])

    async def usage(self, tenant_id: str, from_day: date, to_day: date) -> list[UsageCounters]:
        items = await self._usage_items(f"TENANT#{tenant_id}", from_day, to_day)
        return [_counters(item, tenant_id, None) for item in items]

    async def key_usage(self, key_id: str, from_day: date, to_day: date) -> list[UsageCounters]:
        items = await self._usage_items(f"KEY#{key_id}", from_day, to_day)
        return [_counters(item, item["tenant_id"]["S"], key_id) for item in items]

    async def _usage_items(self, pk: str, from_day: date, to_day: date) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":first": {"S": f"USAGE#{from_day.isoformat()}"},
                ":last": {"S": f"USAGE#{to_day.isoformat()}"},
            },
        }
        items: list[dict[str, Any]] = []
        while True:
            response = await self._call("query", **params)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    async def ping(self) -> None:
        # A read of an item that never exists: the function's role may GetItem, not
        # DescribeTable, and an eventually consistent miss costs half a read unit.
        await self._call("get_item", Key=_key("PING", "PING"), ProjectionExpression="pk")

    def close(self) -> None:
        """Nothing to release: the client belongs to whoever injected it."""


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _number(value: float) -> dict[str, str]:
    # Fixed-point: DynamoDB numbers are decimal, and microseconds are plenty for buckets.
    return {"N": f"{value:.6f}"}


def _int(item: dict[str, Any], name: str) -> int:
    return int(item[name]["N"]) if name in item else 0


def _counters(item: dict[str, Any], tenant_id: str, key_id: str | None) -> UsageCounters:
    return UsageCounters(
        tenant_id,
        date.fromisoformat(item["sk"]["S"].removeprefix("USAGE#")),
        _int(item, "documents"),
        _int(item, "cache_hits"),
        _int(item, "billable_units"),
        key_id,
    )


def _key_item(key: ApiKey) -> dict[str, Any]:
    item: dict[str, Any] = {
        **_key(f"KEY#{key.key_id}", KEY_SK),
        "key_id": {"S": key.key_id},
        "tenant_id": {"S": key.tenant_id},
        "name": {"S": key.name},
        "secret_hash": {"S": key.secret_hash},
        "scopes": {"S": format_scopes(key.scopes)},
        "rate_per_second": {"N": format(Decimal(repr(key.limits.rate_per_second)), "f")},
        "burst": {"N": str(key.limits.burst)},
        "daily_quota": {"N": str(key.limits.daily_document_quota)},
        "created_at": _number(key.created_at),
    }
    if key.revoked_at is not None:
        item["revoked_at"] = _number(key.revoked_at)
    return item


def _key_from_item(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        key_id=item["key_id"]["S"],
        tenant_id=item["tenant_id"]["S"],
        name=item["name"]["S"],
        secret_hash=item["secret_hash"]["S"],
        scopes=parse_scopes(item["scopes"]["S"]),
        limits=Limits(
            float(item["rate_per_second"]["N"]),
            int(item["burst"]["N"]),
            int(item["daily_quota"]["N"]),
        ),
        created_at=float(item["created_at"]["N"]),
        revoked_at=float(item["revoked_at"]["N"]) if "revoked_at" in item else None,
    )
