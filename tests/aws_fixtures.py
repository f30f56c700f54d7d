"""AWS over real HTTP: moto_server in a subprocess, and the local Comprehend fake."""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from graphql_api.access import Scope
from graphql_api.adapters.memory import InMemoryMetrics, SystemClock
from graphql_api.bootstrap import build_access_service, build_access_store
from graphql_api.settings import Settings
from tests.comprehend_fake import FakeComprehend
from tests.e2e.conftest import free_port, wait_until_up
from tests.support import run, stop_process

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`moto_server` on a free loopback port for the whole session, stopped by its PID."""
    port = free_port()
    executable = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    assert executable, "moto_server not installed: `make install` adds moto[server]"
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [executable, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/moto-api/", process)
        yield url
    finally:
        stop_process(process)
        log.close()


@pytest.fixture(scope="session")
def comprehend_fake() -> Iterator[FakeComprehend]:
    fake = FakeComprehend().start()
    yield fake
    fake.stop()


@pytest.fixture
def aws_env(monkeypatch, moto_url: str, comprehend_fake: FakeComprehend) -> FakeComprehend:
    """Point every AWS client of the service at the emulators via the standard variables."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_COMPREHEND", comprehend_fake.url)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    comprehend_fake.reset()
    return comprehend_fake


def create_table(
    moto_url: str, name: str, key: tuple[str, ...], index: tuple[str, str, str] | None = None
) -> str:
    """A table shaped like the deployed ones: string keys, on demand, TTL on `ttl`, and
    optionally an index (name, partition key, sort key) projecting everything."""
    client = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1")
    if name in client.list_tables()["TableNames"]:
        return name

    def schema(names: tuple[str, ...]) -> list[dict[str, str]]:
        return [
            {"AttributeName": a, "KeyType": k}
            for a, k in zip(names, ("HASH", "RANGE"), strict=False)
        ]

    attributes = {*key, *(index[1:] if index else ())}
    params: dict = {
        "TableName": name,
        "KeySchema": schema(key),
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if index:
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index[0],
                "KeySchema": schema(index[1:]),
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    client.create_table(**params)
    client.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
    return name


def fresh_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def cache_table(aws_env, moto_url: str) -> str:
    return create_table(moto_url, fresh_name("AuraStream-SentimentCache"), ("text_hash",))


@pytest.fixture
def jobs_table(aws_env, moto_url: str) -> str:
    index = ("owner-created-index", "owner", "created_at")
    return create_table(moto_url, fresh_name("AuraStream-Jobs"), ("pk", "sk"), index)


@pytest.fixture
def bucket(aws_env, moto_url: str) -> str:
    name = f"aura-stream-documents-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def create_keys_table(moto_url: str, name: str) -> str:
    return create_table(moto_url, name, ("pk", "sk"))


@pytest.fixture
def keys_table(aws_env, moto_url: str) -> str:
    return create_keys_table(moto_url, fresh_name("AuraStream-ApiKeys"))


@pytest.fixture
def aws_api_key(monkeypatch, keys_table: str) -> str:
    """A key with every scope in a fresh keys table that the AWS backend is pointed at."""
    monkeypatch.setenv("AURASTREAM_KEYS_TABLE", keys_table)
    settings = Settings(backend="aws")
    access = build_access_service(
        settings, build_access_store(settings), InMemoryMetrics(), SystemClock()
    )
    created = run(access.create_key("tenant-a", list(Scope), name="tests"))
    return created.key
