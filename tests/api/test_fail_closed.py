"""Access fails closed: a key store that cannot answer is a 503 (never a 500, never an
unauthenticated request), a Lambda with a wiped environment refuses to start, the
maintenance switch refuses everything but health, and every request is logged with its key
id, never the secret."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config

from graphql_api.access import Scope
from graphql_api.access.dynamodb_store import DynamoDBAccessStore
from graphql_api.access.sqlite_store import SqliteAccessStore
from graphql_api.bootstrap import Container, bootstrap
from graphql_api.settings import Settings
from tests.api.conftest import make_transport
from tests.e2e.conftest import free_port
from tests.fakes import RecordingCache, RecordingEngine
from tests.support import ROOT, operation, post_graphql

TRANSPORTS = ["asgi", "lambda-v2", "lambda-v1"]
ANALYZE = operation("Analyze")
ONE_DOCUMENT = {"input": {"documents": [{"text": "good"}]}}
KEY = "aura_0123456789ab_" + "s" * 43


def _assert_unavailable(reply) -> None:
    body = reply.json()
    assert reply.status == 503, body
    assert body["errors"][0]["extensions"]["code"] == "AUTH_UNAVAILABLE"
    assert int(reply.headers["retry-after"]) >= 1
    assert "data" not in body or body["data"] is None


@pytest.fixture
def unreachable_dynamodb_container(settings: Settings) -> Iterator[Container]:
    """Keys in DynamoDB at an address where nothing listens."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=0.5, retries={"max_attempts": 1, "mode": "standard"}),
    )
    container = bootstrap(
        settings.model_copy(update={"auth": "required"}),
        engine=RecordingEngine(),
        cache=RecordingCache(),
        access_store=DynamoDBAccessStore("AuraStream-ApiKeys", lambda: client),
    )
    yield container
    container.close()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_unreachable_dynamodb_key_store_answers_503(unreachable_dynamodb_container, transport):
    client = make_transport(transport, unreachable_dynamodb_container)

    reply = post_graphql(client, ANALYZE, ONE_DOCUMENT, headers={"x-api-key": KEY})

    _assert_unavailable(reply)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_broken_local_key_store_answers_503(settings: Settings, transport):
    settings.data_dir.mkdir(parents=True)
    settings.keys_path.write_bytes(b"this is not an SQLite database" * 100)
    container = bootstrap(
        settings.model_copy(update={"auth": "required"}),
        engine=RecordingEngine(),
        cache=RecordingCache(),
        access_store=SqliteAccessStore(settings.keys_path),
    )
    try:
        reply = post_graphql(
            make_transport(transport, container), ANALYZE, ONE_DOCUMENT, headers={"x-api-key": KEY}
        )
    finally:
        container.close()

    _assert_unavailable(reply)


def _import_handler(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    keep = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    return subprocess.run(
        [sys.executable, "-c", "import graphql_api.handler"],
        env={**keep, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_a_lambda_with_a_wiped_environment_refuses_to_start():
    # The runbook's emergency restart replaces every variable with ENABLED=false.
    done = _import_handler({"AWS_LAMBDA_FUNCTION_NAME": "aurastream-sync", "ENABLED": "false"})

    assert done.returncode != 0
    for name in ("AURASTREAM_BACKEND", "AURASTREAM_KEYS_TABLE", "AURASTREAM_BUCKET"):
        assert name in done.stderr
    assert "refusing to start" in done.stderr


def test_a_lambda_without_its_state_machine_refuses_to_start():
    done = _import_handler(
        {
            "AWS_LAMBDA_FUNCTION_NAME": "aurastream-sync",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AURASTREAM_BACKEND": "aws",
            "AURASTREAM_CACHE_TABLE": "c",
            "AURASTREAM_JOBS_TABLE": "j",
            "AURASTREAM_KEYS_TABLE": "k",
            "AURASTREAM_BUCKET": "b",
        }
    )

    assert done.returncode != 0
    assert "AURASTREAM_STATE_MACHINE_ARN" in done.stderr


def test_a_fully_configured_lambda_starts():
    done = _import_handler(
        {
            "AWS_LAMBDA_FUNCTION_NAME": "aurastream-sync",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AURASTREAM_BACKEND": "aws",
            "AURASTREAM_CACHE_TABLE": "c",
            "AURASTREAM_JOBS_TABLE": "j",
            "AURASTREAM_KEYS_TABLE": "k",
            "AURASTREAM_BUCKET": "b",
            "AURASTREAM_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:x",
        }
    )

    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("variable", ["AURASTREAM_ENABLED", "ENABLED"])
def test_the_runbooks_bare_enabled_switch_is_read(monkeypatch, variable):
    monkeypatch.setenv(variable, "false")

    assert Settings().enabled is False


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_maintenance_switch_refuses_everything_but_health(settings: Settings, transport):
    container = bootstrap(
        settings.model_copy(update={"enabled": False}),
        engine=RecordingEngine(),
        cache=RecordingCache(),
    )
    client = make_transport(transport, container)
    try:
        analyze = post_graphql(client, ANALYZE, ONE_DOCUMENT)
        health = client.request("GET", "/v1/health")
    finally:
        container.close()

    assert analyze.status == 503
    assert analyze.json()["errors"][0]["extensions"]["code"] == "SERVICE_DISABLED"
    assert "retry-after" in analyze.headers
    assert health.status == 503
    assert "maintenance" in json.dumps(health.json())


class Collecting(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_every_request_is_logged_with_its_key_id_and_never_the_secret(settings):
    container = bootstrap(
        settings.model_copy(update={"auth": "required"}),
        engine=RecordingEngine(),
        cache=RecordingCache(),
    )
    client = make_transport("asgi", container)
    collecting = Collecting()
    package_logger = logging.getLogger("graphql_api")
    package_logger.addHandler(collecting)
    try:
        created = client_key(container)
        post_graphql(client, ANALYZE, ONE_DOCUMENT, headers={"x-api-key": created.key})
        post_graphql(client, ANALYZE, ONE_DOCUMENT, headers={"x-api-key": KEY})
    finally:
        package_logger.removeHandler(collecting)
        container.close()

    access = [r.__dict__ for r in collecting.records if r.name == "graphql_api.access_log"]
    assert [(line["status"], line["key_id"]) for line in access] == [
        (200, created.record.prefix),
        (401, "aura_0123456789ab"),
    ]
    written = "\n".join(str(record.__dict__) for record in collecting.records)
    assert created.key.removeprefix(created.record.prefix + "_") not in written
    assert "s" * 43 not in written


def client_key(container: Container):
    from tests.support import run

    return run(container.access.create_key("acme", [Scope.ANALYZE]))
