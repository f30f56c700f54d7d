"""One contract suite for every AccessStore: SQLite (a file) and DynamoDB (moto_server over
HTTP). Concurrency tests use separate store instances, as separate processes or Lambda
containers would; then the `keys` command against both backends."""

import asyncio
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from graphql_api.access import Usage
from graphql_api.access.dynamodb_store import DynamoDBAccessStore
from graphql_api.access.errors import KeyIdTaken
from graphql_api.access.model import ApiKey, Limits, Scope
from graphql_api.access.ports import AccessStore
from graphql_api.access.sqlite_store import SqliteAccessStore
from graphql_api.bootstrap import build_access_store
from graphql_api.cli.keys import app as keys_app
from graphql_api.settings import Settings
from tests.aws_fixtures import create_keys_table

T0 = 1_800_000_000.0
DAY = date(2027, 1, 15)


class ItemAtomicClient:
    """A DynamoDB client whose calls take effect one at a time.

    DynamoDB applies each write to an item atomically (condition check included); moto_server
    does not, so concurrent calls would test the emulator's races instead of the store's
    expressions. Instances still decide from their own, possibly stale, view of the table.
    """

    def __init__(self, client: Any, lock: threading.Lock) -> None:
        self._client = client
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**params: Any) -> Any:
            with self._lock:
                return method(**params)

        return call


@pytest.fixture(params=["sqlite", "dynamodb"])
def open_store(request, tmp_path: Path) -> Iterator[Any]:
    """Opens stores over one backing table or file; each call is a separate instance."""
    opened: list[AccessStore] = []
    table_lock = threading.Lock()

    def open_one() -> AccessStore:
        store: AccessStore
        if request.param == "dynamodb":
            table = request.getfixturevalue("keys_table")
            client = ItemAtomicClient(boto3.client("dynamodb"), table_lock)
            store = DynamoDBAccessStore(table, lambda: client)
        else:
            store = SqliteAccessStore(tmp_path / "access.sqlite3")
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store) -> AccessStore:
    return open_store()


def api_key(key_id: str = "0123456789ab", tenant: str = "acme", created: float = T0) -> ApiKey:
    return ApiKey(
        key_id=key_id,
        tenant_id=tenant,
        name="ci pipeline",
        secret_hash="ab" * 32,
        scopes=frozenset({Scope.ANALYZE, Scope.JOBS}),
        limits=Limits(rate_per_second=2.5, burst=4, daily_document_quota=1_000),
        created_at=created,
    )


# --- Keys ---------------------------------------------------------------------------------


async def test_a_stored_key_comes_back_intact(store):
    key = api_key()
    await store.put_key(key)

    assert await store.get_key(key.key_id) == key
    assert await store.get_key("ffffffffffff") is None


async def test_a_key_id_is_never_reused(store):
    await store.put_key(api_key())

    with pytest.raises(KeyIdTaken):
        await store.put_key(api_key(tenant="globex"))
    assert (await store.get_key("0123456789ab")).tenant_id == "acme"


async def test_keys_are_listed_oldest_first_and_by_tenant(store):
    await store.put_key(api_key("00000000000b", created=T0 + 2))
    await store.put_key(api_key("00000000000a", created=T0 + 1))
    await store.put_key(api_key("00000000000c", tenant="globex", created=T0))

    assert [k.key_id for k in await store.list_keys()] == [
        "00000000000c", "00000000000a", "00000000000b"]  # fmt: skip
    assert [k.key_id for k in await store.list_keys("acme")] == ["00000000000a", "00000000000b"]
    assert await store.list_keys("initech") == []


async def test_revocation_is_idempotent_and_keeps_the_first_time(store):
    await store.put_key(api_key())

    first = await store.revoke_key("0123456789ab", T0 + 10)
    again = await store.revoke_key("0123456789ab", T0 + 20)

    assert first is not None
    assert again is not None
    assert first.revoked_at == again.revoked_at == T0 + 10
    assert (await store.get_key("0123456789ab")).revoked
    assert await store.revoke_key("ffffffffffff", T0) is None


async def test_keys_outlive_the_store_instance(open_store):
    await open_store().put_key(api_key())

    assert await open_store().get_key("0123456789ab") == api_key()


# --- Token bucket -------------------------------------------------------------------------


async def test_the_bucket_admits_a_burst_then_one_request_per_interval(store):
    waits = [await store.take_request("k1", 2.0, 3, T0) for _ in range(4)]

    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(0.5)
    assert await store.take_request("k1", 2.0, 3, T0 + 0.5) == 0
    assert await store.take_request("k1", 2.0, 3, T0 + 0.5) == pytest.approx(0.5)
    assert await store.take_request("k2", 2.0, 3, T0 + 0.5) == 0  # buckets are per key


async def test_an_idle_bucket_refills_to_the_burst_and_no_further(store):
    for _ in range(3):
        await store.take_request("k1", 1.0, 3, T0)

    later = T0 + 3_600
    waits = [await store.take_request("k1", 1.0, 3, later) for _ in range(4)]

    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(1.0)


async def test_the_bucket_is_exact_under_concurrency_across_instances(open_store):
    instances = [open_store() for _ in range(4)]

    waits = await asyncio.gather(
        *(instances[i % 4].take_request("hot", 1.0, 5, T0) for i in range(20))
    )

    assert sum(1 for wait in waits if wait == 0) == 5


async def test_instances_share_the_bucket(open_store):
    first, second = open_store(), open_store()
    await first.take_request("k1", 1.0, 2, T0)  # leaves the first instance a stale hint
    await second.take_request("k1", 1.0, 2, T0)

    assert await first.take_request("k1", 1.0, 2, T0) == pytest.approx(1.0)
    assert await first.take_request("k1", 1.0, 2, T0 + 1) == 0


# --- Daily quota --------------------------------------------------------------------------


async def test_documents_are_counted_up_to_the_quota(store):
    expires = T0 + 86_400

    first = await store.add_documents("k1", DAY, 6, 10, expires)
    refused = await store.add_documents("k1", DAY, 5, 10, expires)
    filled = await store.add_documents("k1", DAY, 4, 10, expires)
    too_big = await store.add_documents("k2", DAY, 11, 10, expires)

    assert (first.admitted, first.used) == (True, 6)
    assert (refused.admitted, refused.used) == (False, 6)
    assert (filled.admitted, filled.used) == (True, 10)
    assert (too_big.admitted, too_big.used) == (False, 0)


async def test_each_day_and_key_has_its_own_count(store):
    await store.add_documents("k1", DAY, 10, 10, T0)

    next_day = await store.add_documents("k1", date(2027, 1, 16), 10, 10, T0)
    other_key = await store.add_documents("k2", DAY, 10, 10, T0)

    assert next_day.admitted
    assert other_key.admitted


async def test_the_quota_is_exact_under_concurrency_across_instances(open_store):
    instances = [open_store() for _ in range(4)]

    outcomes = await asyncio.gather(
        *(instances[i % 4].add_documents("hot", DAY, 1, 7, T0) for i in range(20))
    )

    assert sum(outcome.admitted for outcome in outcomes) == 7
    assert (await instances[0].add_documents("hot", DAY, 0, 7, T0)).used == 7


# --- Usage --------------------------------------------------------------------------------


async def test_usage_adds_up_per_tenant_and_day_in_order(store):
    days = [date(2027, 1, 13), date(2027, 1, 14), date(2027, 1, 15)]
    await store.add_usage("acme", "key-one", days[2], Usage(1, 0, 3), T0)
    await store.add_usage("acme", "key-one", days[0], Usage(10, 2, 30), T0)
    await store.add_usage("acme", "key-two", days[0], Usage(5, 1, 15), T0)
    await store.add_usage("globex", None, days[0], Usage(99, 0, 297), T0)

    found = await store.usage("acme", days[0], days[2])

    assert [(u.day, u.documents, u.cache_hits, u.billable_units) for u in found] == [
        (days[0], 15, 3, 45),
        (days[2], 1, 0, 3),
    ]
    assert await store.usage("acme", days[1], days[1]) == []
    assert [u.tenant_id for u in await store.usage("globex", days[0], days[2])] == ["globex"]


async def test_a_keys_usage_is_shown_by_key_id(store):
    days = [date(2027, 1, 13), date(2027, 1, 14)]
    await store.add_usage("acme", "key-one", days[0], Usage(10, 2, 30), T0)
    await store.add_usage("acme", "key-two", days[0], Usage(5, 1, 15), T0)
    await store.add_usage("acme", "key-one", days[1], Usage(1, 0, 3), T0)

    found = await store.key_usage("key-one", days[0], days[1])

    assert [(u.tenant_id, u.key_id, u.day, u.documents) for u in found] == [
        ("acme", "key-one", days[0], 10),
        ("acme", "key-one", days[1], 1),
    ]
    assert await store.key_usage("key-three", days[0], days[1]) == []


async def test_concurrent_usage_updates_are_not_lost(open_store):
    instances = [open_store() for _ in range(4)]

    await asyncio.gather(
        *(instances[i % 4].add_usage("acme", "k", DAY, Usage(1, 1, 3), T0) for i in range(12))
    )

    (day,) = await instances[0].usage("acme", DAY, DAY)
    assert (day.documents, day.cache_hits, day.billable_units) == (12, 12, 36)


async def test_ping_succeeds_on_a_working_store(store):
    await store.ping()


# --- DynamoDB layout ----------------------------------------------------------------------


async def test_the_dynamodb_items_follow_the_single_table_layout(keys_table, moto_url):
    client = boto3.client("dynamodb")
    store = DynamoDBAccessStore(keys_table, lambda: client)
    await store.put_key(api_key())
    await store.take_request("0123456789ab", 1.0, 2, T0)
    await store.add_documents("0123456789ab", DAY, 3, 10, T0 + 86_400)
    await store.add_usage("acme", "0123456789ab", DAY, Usage(3, 1, 9), T0 + 400 * 86_400)

    items = client.scan(TableName=keys_table)["Items"]

    layout = {(item["pk"]["S"], item["sk"]["S"]): item for item in items}
    assert set(layout) == {
        ("KEY#0123456789ab", "KEY"),
        ("KEY#0123456789ab", "BUCKET"),
        ("KEY#0123456789ab", "QUOTA#2027-01-15"),
        ("KEY#0123456789ab", "USAGE#2027-01-15"),
        ("TENANT#acme", "USAGE#2027-01-15"),
    }
    assert "ttl" not in layout[("KEY#0123456789ab", "KEY")]
    assert all("ttl" in item for (_, sk), item in layout.items() if sk != "KEY")
    assert layout[("KEY#0123456789ab", "QUOTA#2027-01-15")]["documents"] == {"N": "3"}


# --- The keys command ---------------------------------------------------------------------


def _keys(*args: str) -> Any:
    return CliRunner().invoke(keys_app, list(args), env={"COLUMNS": "160"})


def secret_of(created: dict[str, Any]) -> str:
    return str(created["key"]).removeprefix(f"aura_{created['key_id']}_")


@pytest.fixture(params=["local", "aws"])
def keys_backend(request, monkeypatch, tmp_path: Path) -> str:
    monkeypatch.setenv("AURASTREAM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AURASTREAM_BACKEND", request.param)
    if request.param == "aws":
        request.getfixturevalue("aws_env")
        create_keys_table(request.getfixturevalue("moto_url"), Settings().keys_table)
    return str(request.param)


def test_keys_are_created_listed_and_revoked_from_the_command_line(keys_backend):
    tenant = f"tenant-{uuid.uuid4().hex[:6]}"

    result = _keys("create", "--tenant", tenant, "--scopes", "analyze,jobs", "--name", "ci",
                    "--rate", "5", "--burst", "10", "--daily-quota", "500", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["key"].startswith(f"aura_{created['key_id']}_")
    assert created["scopes"] == ["analyze", "jobs"]
    assert created["limits"] == {"rate_per_second": 5.0, "burst": 10, "daily_document_quota": 500}

    listed = _keys("list", "--tenant", tenant, "--json")
    assert listed.exit_code == 0, listed.output
    assert secret_of(created) not in listed.output
    assert "hash" not in listed.output
    (row,) = json.loads(listed.stdout)
    assert row == {k: v for k, v in created.items() if k != "key"}

    revoked = _keys("revoke", f"aura_{created['key_id']}")
    assert revoked.exit_code == 0, revoked.output
    (row,) = json.loads(_keys("list", "--tenant", tenant, "--json").stdout)
    assert row["revoked_at"] is not None


def test_the_human_listing_is_a_table_without_secrets(keys_backend):
    created = json.loads(_keys("create", "--tenant", "acme", "--json").stdout)

    listed = _keys("list")

    assert listed.exit_code == 0
    assert f"aura_{created['key_id']}" in listed.output
    assert "active" in listed.output
    assert secret_of(created) not in listed.output


def test_revoking_an_unknown_key_fails(keys_backend):
    result = _keys("revoke", "ffffffffffff")

    assert result.exit_code == 1
    assert "No key aura_ffffffffffff" in result.output


def test_unknown_scopes_are_refused_by_the_command(keys_backend):
    result = _keys("create", "--tenant", "acme", "--scopes", "analyze,root")

    assert result.exit_code != 0
    assert "unknown scope 'root'" in result.output


def test_every_keys_command_names_the_store_it_used(keys_backend):
    settings = Settings()
    expected = (
        f"DynamoDB table {settings.keys_table}"
        if keys_backend == "aws"
        else f"SQLite file {settings.keys_path.resolve()}"
    )
    created = _keys("create", "--tenant", "acme", "--json")
    key_id = json.loads(created.stdout)["key_id"]

    for result in (created, _keys("list"), _keys("usage", key_id), _keys("revoke", key_id)):
        assert result.exit_code == 0, result.output
        assert f"Key store: {expected}" in result.stderr


def test_a_keys_usage_is_shown_by_the_command_line(keys_backend):
    created = json.loads(_keys("create", "--tenant", "acme", "--json").stdout)

    shown = _keys("usage", created["prefix"], "--json")
    missing = _keys("usage", "ffffffffffff")

    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout) == {
        "key": {k: v for k, v in created.items() if k != "key"},
        "usage": [],
    }
    assert missing.exit_code == 1
    assert "No key aura_ffffffffffff" in missing.stderr


def test_the_data_dir_is_per_user_by_default_never_the_working_directory(monkeypatch):
    monkeypatch.delenv("AURASTREAM_DATA_DIR")

    data_dir = Settings().data_dir

    assert data_dir.is_absolute()
    assert data_dir.name == "aurastream"
    assert data_dir != Path.cwd() / ".aurastream"


def test_the_local_store_is_a_file_under_the_data_dir(tmp_path):
    store = build_access_store(Settings(data_dir=tmp_path))

    assert isinstance(store, SqliteAccessStore)
    assert store.database.path == tmp_path / "access.sqlite3"
