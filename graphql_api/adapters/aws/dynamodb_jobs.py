"""Job records in DynamoDB: one table holding jobs, their finished parts and idempotency keys.

Items (pk, sk):
  JOB#<id>, JOB           the record: owner, created_at (GSI sort key), status, counters, JSON
  JOB#<id>, PART#<n>      a finished part; written once, with the counters, in one transaction
  IDEMPOTENCY#<owner>#<key>, KEY   the job a key was first used for, and its input fingerprint
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError

from graphql_api.domain.errors import IdempotencyConflict
from graphql_api.domain.job_codec import job_from_dict, job_to_dict
from graphql_api.domain.jobs import Job, JobPosition, JobStatus, could_be_job_id

OWNER_INDEX = "owner-created-index"


def _job_key(job_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}


def _created(job: Job | JobPosition) -> str:
    # Zero-padded so the string sort key orders like the number; the id breaks ties.
    return f"{job.created_at:020.6f}#{job.id}"


def _start_key(owner: str, after: JobPosition) -> dict[str, Any]:
    """The index's ExclusiveStartKey for the job at `after`: table and index keys."""
    return {**_job_key(after.id), "owner": {"S": owner}, "created_at": {"S": _created(after)}}


class DynamoDBJobStore:
    def __init__(self, table: str, client: Callable[[], Any]) -> None:
        self.table = table
        self._client = client

    async def _call(self, operation: str, **params: Any) -> Any:
        return await asyncio.to_thread(getattr(self._client(), operation), **params)

    def _item(self, job: Job) -> dict[str, Any]:
        record = job_to_dict(job)
        return {
            **_job_key(job.id),
            "owner": {"S": job.owner},
            "created_at": {"S": _created(job)},
            "job_status": {"S": job.status.value},
            "processed": {"N": str(job.processed)},
            "failed": {"N": str(job.failed)},
            "record": {"S": json.dumps(record)},
        }

    @staticmethod
    def _job(item: dict[str, Any]) -> Job:
        job = job_from_dict(json.loads(item["record"]["S"]))
        return replace(
            job,
            status=JobStatus(item["job_status"]["S"]),
            processed=int(item["processed"]["N"]),
            failed=int(item["failed"]["N"]),
        )

    async def create(self, job: Job) -> Job:
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": self._item(job),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        key = None
        if job.idempotency_key is not None:
            key = _idempotency_key(job.owner, job.idempotency_key)
            writes.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            **key,
                            "job_id": {"S": job.id},
                            "fingerprint": {"S": job.fingerprint},
                        },
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        try:
            await self._call("transact_write_items", TransactItems=writes)
        except ClientError as error:
            if key is None or error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            response = await self._call(
                "get_item", TableName=self.table, Key=key, ConsistentRead=True
            )
            claimed = response["Item"]
            if claimed["fingerprint"]["S"] != job.fingerprint:
                raise IdempotencyConflict() from None
            existing = await self.get(claimed["job_id"]["S"])
            assert existing is not None
            return existing
        return job

    async def find_idempotent(self, owner: str, idempotency_key: str) -> Job | None:
        response = await self._call(
            "get_item",
            TableName=self.table,
            Key=_idempotency_key(owner, idempotency_key),
            ConsistentRead=True,
        )
        claimed = response.get("Item")
        return await self.get(claimed["job_id"]["S"]) if claimed else None

    async def ping(self) -> None:
        # A consistent read of a job that never exists: cheap, and the role may GetItem.
        await self._call("get_item", TableName=self.table, Key=_job_key("health-probe"))

    async def get(self, job_id: str) -> Job | None:
        if not could_be_job_id(job_id):
            return None  # no job has this id, and DynamoDB would refuse the key
        response = await self._call(
            "get_item", TableName=self.table, Key=_job_key(job_id), ConsistentRead=True
        )
        item = response.get("Item")
        return self._job(item) if item else None

    async def list_jobs(
        self, owner: str, status: JobStatus | None, limit: int, after: JobPosition | None
    ) -> tuple[list[Job], bool]:
        """One more job than asked for tells whether there is a next page; the start key
        is built here from the position, never taken from a client."""
        jobs: list[Job] = []
        start = _start_key(owner, after) if after is not None else None
        while len(jobs) <= limit:
            params: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": OWNER_INDEX,
                "KeyConditionExpression": "#owner = :owner",
                "ExpressionAttributeNames": {"#owner": "owner"},
                "ExpressionAttributeValues": {":owner": {"S": owner}},
                "ScanIndexForward": False,
                "Limit": limit + 1 - len(jobs),
            }
            if status is not None:
                params["FilterExpression"] = "job_status = :status"
                params["ExpressionAttributeValues"][":status"] = {"S": status.value}
            if start:
                params["ExclusiveStartKey"] = start
            response = await self._call("query", **params)
            jobs.extend(self._job(item) for item in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        return jobs[:limit], len(jobs) > limit

    async def update(self, job_id: str, **fields: Any) -> Job:
        current = await self.get(job_id)
        assert current is not None, job_id
        job = replace(current, **fields)
        # Counters are only ever changed by complete_part, atomically; never overwritten here.
        await self._call(
            "update_item",
            TableName=self.table,
            Key=_job_key(job_id),
            UpdateExpression="SET #record = :record, job_status = :status",
            ExpressionAttributeNames={"#record": "record"},
            ExpressionAttributeValues={
                ":record": {"S": json.dumps(job_to_dict(job))},
                ":status": {"S": job.status.value},
            },
        )
        return job

    async def complete_part(self, job_id: str, part: int, processed: int, failed: int) -> bool:
        try:
            await self._call(
                "transact_write_items",
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table,
                            "Item": {
                                "pk": {"S": f"JOB#{job_id}"},
                                "sk": {"S": f"PART#{part:05d}"},
                                "processed": {"N": str(processed)},
                                "failed": {"N": str(failed)},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": _job_key(job_id),
                            "UpdateExpression": "ADD #processed :p, #failed :f",
                            "ExpressionAttributeNames": {
                                "#processed": "processed",
                                "#failed": "failed",
                            },
                            "ExpressionAttributeValues": {
                                ":p": {"N": str(processed)},
                                ":f": {"N": str(failed)},
                            },
                        }
                    },
                ],
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    async def completed_parts(self, job_id: str) -> set[int]:
        parts: set[int] = set()
        start = None
        while True:
            params: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :part)",
                "ExpressionAttributeValues": {
                    ":pk": {"S": f"JOB#{job_id}"},
                    ":part": {"S": "PART#"},
                },
                "ProjectionExpression": "sk",
            }
            if start:
                params["ExclusiveStartKey"] = start
            response = await self._call("query", **params)
            parts.update(int(item["sk"]["S"].removeprefix("PART#")) for item in response["Items"])
            start = response.get("LastEvaluatedKey")
            if not start:
                return parts

    async def unfinished(self) -> list[str]:
        """Always empty on AWS: Step Functions owns retries and resumption there."""
        return []


def _idempotency_key(owner: str, idempotency_key: str) -> dict[str, Any]:
    return {"pk": {"S": f"IDEMPOTENCY#{owner}#{idempotency_key}"}, "sk": {"S": "KEY"}}
