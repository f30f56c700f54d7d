"""Job inputs, parts and outputs in the documents bucket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from graphql_api.domain.errors import SourceUnreadable
from graphql_api.domain.text import is_clean

_MISSING = {"404", "NoSuchKey", "NotFound"}


#: S3's longest key, in UTF-8 bytes.
MAX_KEY_BYTES = 1_024


def parse_s3_uri(uri: str) -> tuple[str, str]:
    if not is_clean(uri):
        raise SourceUnreadable("The source name holds a NUL or an unpaired surrogate.")
    if not uri.startswith("s3://"):
        raise SourceUnreadable("Sources on AWS are S3 objects named like s3://bucket/key.")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise SourceUnreadable(f"'{uri}' does not name a bucket and a key.")
    if len(key.encode()) > MAX_KEY_BYTES or len(bucket) > 63:
        raise SourceUnreadable("The bucket or key name is longer than S3 allows.")
    return bucket, key


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

    async def check_source(self, uri: str) -> None:
        bucket, key = parse_s3_uri(uri)
        try:
            await self._call("head_object", Bucket=bucket, Key=key)
        except ClientError as error:
            raise SourceUnreadable(
                f"'{uri}' cannot be read ({error.response['Error']['Code']})."
            ) from None
        except ParamValidationError:  # botocore refuses the bucket name before any call
            raise SourceUnreadable(f"'{uri}' does not name a valid bucket and key.") from None

    async def read_source(self, uri: str) -> bytes:
        bucket, key = parse_s3_uri(uri)
        try:
            response = await self._call("get_object", Bucket=bucket, Key=key)
        except ClientError as error:
            raise SourceUnreadable(
                f"'{uri}' cannot be read ({error.response['Error']['Code']})."
            ) from None
        except ParamValidationError:
            raise SourceUnreadable(f"'{uri}' does not name a valid bucket and key.") from None
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
