"""Job inputs, parts and outputs in the documents bucket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from graphql_api.domain.errors import SourceUnreadable

_MISSING = {"404", "NoSuchKey", "NotFound"}


def inbox_prefix(tenant_id: str) -> str:
    return f"inbox/{tenant_id}/"


class S3BlobStore:
    def __init__(self, bucket: str, client: Callable[[], Any], link_seconds: int = 3_600) -> None:
        self.bucket = bucket
        self._client = client
        self.link_seconds = link_seconds

    async def _call(self, operation: str, **params: Any) -> Any:
        return await asyncio.to_thread(getattr(self._client(), operation), **params)

    async def put(self, key: str, data: bytes) -> None:
        await self._call(
            "put_object", Bucket=self.bucket, Key=key, Body=data, ContentType="application/x-ndjson"
        )

    async def get(self, key: str) -> bytes:
        try:
            response = await self._call("get_object", Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in _MISSING:
                raise KeyError(key) from None
            raise
        body: bytes = await asyncio.to_thread(response["Body"].read)
        return body

    async def exists(self, key: str) -> bool:
        try:
            await self._call("head_object", Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in _MISSING:
                return False
            raise
        return True

    def _source_key(self, tenant_id: str, uri: str) -> str:
        """The key a source names, only in this bucket under the tenant's inbox: either
        `s3://<bucket>/inbox/<tenant>/<name>` or just `<name>`."""
        prefix = inbox_prefix(tenant_id)
        if uri.startswith("s3://"):
            bucket, _, key = uri.removeprefix("s3://").partition("/")
        else:
            bucket, key = self.bucket, prefix + uri.removeprefix("/")
        valid = bucket == self.bucket and key.startswith(prefix) and len(key) > len(prefix)
        # S3 keys are at most 1,024 UTF-8 bytes; a lone surrogate cannot be encoded at all.
        if not valid or len(key.encode("utf-8", "replace")) > 1_024 or not key.isprintable():
            raise SourceUnreadable()
        return key

    async def check_source(self, tenant_id: str, uri: str) -> None:
        key = self._source_key(tenant_id, uri)
        try:
            await self._call("head_object", Bucket=self.bucket, Key=key)
        except (ClientError, ParamValidationError):
            raise SourceUnreadable() from None

    async def read_source(self, tenant_id: str, uri: str) -> bytes:
        key = self._source_key(tenant_id, uri)
        try:
            response = await self._call("get_object", Bucket=self.bucket, Key=key)
        except (ClientError, ParamValidationError):
            raise SourceUnreadable() from None
        body: bytes = await asyncio.to_thread(response["Body"].read)
        return body

    async def link(self, key: str) -> str:
        url: str = await self._call(
            "generate_presigned_url",
            ClientMethod="get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=self.link_seconds,
        )
        return url
