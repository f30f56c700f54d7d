"""The access service over an in-memory SQLite store: keys, authentication, scopes, the key
cache, the token bucket, the daily quota and usage metering, all on an injected clock."""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from graphql_api.access import (
    AccessService,
    Forbidden,
    Limits,
    Metering,
    Principal,
    RateLimited,
    Scope,
    Unauthenticated,
    Usage,
    billable_units,
    parse_scopes,
)
from graphql_api.access.limits import admit, seconds_until_next_day, utc_day
from graphql_api.access.model import KEY_PREFIX, ApiKey, hash_key, key_id_of, split_key
from graphql_api.access.sqlite_store import SqliteAccessStore
from graphql_api.adapters.memory import InMemoryMetrics
from graphql_api.domain.errors import AuraStreamError
from graphql_api.settings import Settings
from tests.fakes import FakeClock

MIDNIGHT = 1_800_057_600.0  # 2027-01-16T00:00:00Z
NOON = MIDNIGHT + 12 * 3_600


class CountingStore(SqliteAccessStore):
    """The real store, in memory, counting key lookups."""

    def __init__(self) -> None:
        super().__init__(None)
        self.lookups: list[str] = []

    async def get_key(self, key_id: str) -> ApiKey | None:
        self.lookups.append(key_id)
        return await super().get_key(key_id)


@dataclass
class World:
    service: AccessService
    metering: Metering
    store: CountingStore
    metrics: InMemoryMetrics
    clock: FakeClock


@pytest.fixture
def world() -> Iterator[World]:
    store = CountingStore()
    metrics = InMemoryMetrics()
    clock = FakeClock(NOON)
    service = AccessService(store, metrics, clock)
    yield World(service, Metering(store, metrics, clock), store, metrics, clock)
    store.close()


def tenant(name: str, *scopes: Scope) -> Principal:
    """A keyless principal of one tenant (usage is asked per tenant)."""
    return Principal(name, None, frozenset(scopes), None)


async def _key(world: World, *scopes: Scope, limits: Limits | None = None) -> str:
    created = await world.service.create_key(
        "acme", scopes or (Scope.ANALYZE,), name="ci", limits=limits
    )
    return created.key


# --- Keys ---------------------------------------------------------------------------------


async def test_a_new_key_is_recognisable_and_stored_only_as_a_hash(world):
    created = await world.service.create_key("acme", {Scope.ANALYZE, Scope.JOBS}, name="ci")

    stored = await world.store.get_key(created.record.key_id)
    assert created.key.startswith(f"{KEY_PREFIX}{created.record.key_id}_")
    assert key_id_of(created.key) == created.record.key_id
    assert stored == created.record
    assert stored.secret_hash == hash_key(created.key) != created.key
    assert created.key not in repr(stored) + repr(created)
    assert stored.scopes == {Scope.ANALYZE, Scope.JOBS}
    assert stored.limits == world.service.default_limits
    assert stored.created_at == NOON


async def test_keys_are_listed_per_tenant_without_secrets(world):
    first = await world.service.create_key("acme", {Scope.ANALYZE})
    await world.service.create_key("globex", {Scope.OPS})
    world.clock.advance(1)
    second = await world.service.create_key("acme", {Scope.JOBS})

    acme = await world.service.list_keys("acme")

    assert [key.key_id for key in acme] == [first.record.key_id, second.record.key_id]
    assert len(await world.service.list_keys()) == 3


@pytest.mark.parametrize(
    ("raw", "scopes"),
    [
        ("analyze", {Scope.ANALYZE}),
        ("analyze, JOBS,", {Scope.ANALYZE, Scope.JOBS}),
        (["ops"], {Scope.OPS}),
        ("", set()),
    ],
)
def test_scopes_parse_from_a_comma_separated_list(raw, scopes):
    assert parse_scopes(raw) == scopes


def test_unknown_scopes_are_refused():
    with pytest.raises(ValueError, match="unknown scope 'admin'"):
        parse_scopes("analyze,admin")


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"rate_per_second": 0}, "rate_per_second must be positive"),
        ({"burst": 0}, "burst must be at least 1"),
        ({"daily_document_quota": -1}, "daily_document_quota must not be negative"),
    ],
)
def test_nonsensical_limits_are_refused(limits, message):
    with pytest.raises(ValueError, match=message):
        Limits(**limits)


async def test_a_key_needs_a_tenant(world):
    with pytest.raises(ValueError, match="tenant id"):
        await world.service.create_key("  ", {Scope.ANALYZE})


# --- Authentication -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "Missing API key"),
        ("empty", "Missing API key"),
        ("malformed", "Invalid or revoked"),
        ("unknown id", "Invalid or revoked"),
        ("wrong secret", "Invalid or revoked"),
        ("revoked", "Invalid or revoked"),
    ],
)
async def test_bad_keys_are_unauthenticated_counted_and_logged_without_the_key(
    world, caplog, case, message
):
    good = await _key(world)
    parts = split_key(good)
    assert parts is not None
    key_id, good_secret = parts
    presented = {
        "missing": None,
        "empty": "",
        "malformed": "Bearer hunter2",
        "unknown id": f"{KEY_PREFIX}0123456789ab_{good_secret}",
        "wrong secret": f"{KEY_PREFIX}{key_id}_{'x' * 43}",
        "revoked": good,
    }[case]
    if case == "revoked":
        await world.service.revoke_key(key_id)

    with caplog.at_level(logging.WARNING), pytest.raises(Unauthenticated) as raised:
        await world.service.authenticate(presented)

    error = raised.value
    assert isinstance(error, AuraStreamError)
    assert message in str(error)
    assert (error.code.value, error.http_status) == ("UNAUTHENTICATED", 401)
    assert error.http_headers == {"WWW-Authenticate": 'ApiKey header="X-API-Key"'}
    assert world.metrics.counters["AuthFailures"] == 1
    assert "authentication failed" in caplog.text
    secret = {"unknown id": good_secret, "revoked": good_secret}.get(case, "x" * 43)
    assert secret not in caplog.text
    assert "hunter2" not in caplog.text


async def test_a_valid_key_yields_its_principal(world):
    limits = Limits(rate_per_second=2, burst=4, daily_document_quota=50)
    created = await world.service.create_key("acme", {Scope.ANALYZE, Scope.JOBS}, limits=limits)

    principal = await world.service.authenticate(created.key)

    assert principal == Principal("acme", created.record.key_id, created.record.scopes, limits)
    assert world.metrics.counters["AuthFailures"] == 0


@pytest.mark.parametrize(
    ("scopes", "needed", "allowed"),
    [
        ({Scope.ANALYZE}, Scope.ANALYZE, True),
        ({Scope.ANALYZE, Scope.JOBS}, Scope.JOBS, True),
        ({Scope.ANALYZE}, Scope.JOBS, False),
        ({Scope.JOBS}, Scope.OPS, False),
        (set(), Scope.ANALYZE, False),
    ],
)
def test_scopes_gate_operations(world, scopes, needed, allowed):
    principal = Principal("acme", "0123456789ab", frozenset(scopes), Limits())

    if allowed:
        world.service.authorize(principal, needed)
    else:
        with pytest.raises(Forbidden) as raised:
            world.service.authorize(principal, needed)
        assert (raised.value.code.value, raised.value.http_status) == ("FORBIDDEN", 403)
        assert needed.value in str(raised.value)


async def test_key_lookups_are_cached_for_the_ttl_only(world):
    key = await _key(world)

    await world.service.authenticate(key)
    world.clock.advance(4.9)
    await world.service.authenticate(key)
    assert len(world.store.lookups) == 1
    world.clock.advance(0.2)
    await world.service.authenticate(key)

    assert len(world.store.lookups) == 2


async def test_a_revocation_elsewhere_is_seen_once_the_cache_expires(world):
    key = await _key(world)
    await world.service.authenticate(key)  # now cached in this process
    elsewhere = AccessService(world.store, InMemoryMetrics(), world.clock)

    await elsewhere.revoke_key(key_id_of(key) or "")
    world.clock.advance(4)
    await world.service.authenticate(key)  # still within the 5 s TTL
    world.clock.advance(1.01)

    with pytest.raises(Unauthenticated):
        await world.service.authenticate(key)


async def test_a_revocation_in_the_same_process_applies_at_once(world):
    key = await _key(world)
    await world.service.authenticate(key)

    revoked = await world.service.revoke_key(key_id_of(key) or "")

    assert revoked is not None
    assert revoked.revoked_at == NOON
    with pytest.raises(Unauthenticated):
        await world.service.authenticate(key)


async def test_the_key_cache_ttl_is_configurable(world):
    key = await _key(world)
    service = AccessService(world.store, world.metrics, world.clock, key_cache_ttl_seconds=1)
    await service.authenticate(key)
    await world.service.revoke_key(key_id_of(key) or "")

    world.clock.advance(1.01)

    with pytest.raises(Unauthenticated):
        await service.authenticate(key)


async def test_unknown_keys_are_cached_too_so_floods_do_not_reach_the_store(world):
    unknown = f"{KEY_PREFIX}0123456789ab_{'y' * 43}"

    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await world.service.authenticate(unknown)

    assert world.store.lookups == ["0123456789ab"]
    assert world.metrics.counters["AuthFailures"] == 5


async def test_malformed_keys_never_reach_the_store(world):
    with pytest.raises(Unauthenticated):
        await world.service.authenticate("aura_not-a-key")

    assert world.store.lookups == []


# --- Rate limit ---------------------------------------------------------------------------


async def _principal(world: World, limits: Limits) -> Principal:
    return await world.service.authenticate(await _key(world, limits=limits))


async def test_the_bucket_allows_a_burst_then_refills_at_the_rate(world):
    principal = await _principal(world, Limits(rate_per_second=2, burst=3))

    for _ in range(3):
        await world.service.check_rate(principal)
    with pytest.raises(RateLimited) as raised:
        await world.service.check_rate(principal)

    error = raised.value
    assert (error.code.value, error.http_status, error.limit) == ("RATE_LIMITED", 429, "rate")
    assert error.retry_after_seconds == pytest.approx(0.5)
    assert error.http_headers == {"Retry-After": "1"}
    world.clock.advance(0.5)
    await world.service.check_rate(principal)  # one token back
    with pytest.raises(RateLimited):
        await world.service.check_rate(principal)
    world.clock.advance(60)  # idle: full again, but never more than the burst
    for _ in range(3):
        await world.service.check_rate(principal)
    with pytest.raises(RateLimited):
        await world.service.check_rate(principal)
    assert world.metrics.counters["RateLimited"] == 3


async def test_refused_requests_take_nothing_from_the_bucket(world):
    principal = await _principal(world, Limits(rate_per_second=1, burst=1))
    await world.service.check_rate(principal)

    for _ in range(10):
        with pytest.raises(RateLimited):
            await world.service.check_rate(principal)
    world.clock.advance(1)

    await world.service.check_rate(principal)


async def test_each_key_has_its_own_bucket(world):
    first = await _principal(world, Limits(rate_per_second=1, burst=1))
    second = await _principal(world, Limits(rate_per_second=1, burst=1))

    await world.service.check_rate(first)
    await world.service.check_rate(second)

    with pytest.raises(RateLimited):
        await world.service.check_rate(first)


@pytest.mark.parametrize(
    ("rate", "burst", "times", "admitted"),
    [
        (1.0, 1, [0, 0, 1, 1.5, 2], [True, False, True, False, True]),
        (10.0, 5, [0] * 6, [True] * 5 + [False]),
        (0.5, 2, [0, 0, 0, 1.9, 2.0], [True, True, False, False, True]),
    ],
)
def test_gcra_matches_a_token_bucket(rate, burst, times, admitted):
    tat, decisions = None, []
    for t in times:
        admission = admit(tat, 1_000.0 + t, rate, burst)
        decisions.append(admission.admitted)
        tat = admission.tat

    assert decisions == admitted


# --- Daily quota --------------------------------------------------------------------------


async def test_the_daily_quota_counts_documents_until_utc_midnight(world):
    principal = await _principal(world, Limits(daily_document_quota=10))

    assert await world.metering.admit(principal, 6) == 6
    with pytest.raises(RateLimited) as raised:
        await world.metering.admit(principal, 5)
    assert await world.metering.admit(principal, 4) == 10

    error = raised.value
    assert error.limit == "daily_quota"
    assert error.retry_after_seconds == 12 * 3_600
    assert "6 used today" in str(error)
    assert world.metrics.counters["QuotaExceeded"] == 1
    world.clock.advance(12 * 3_600)  # the next UTC day
    assert await world.metering.admit(principal, 10) == 10


async def test_a_request_larger_than_the_quota_is_refused_and_counts_nothing(world):
    principal = await _principal(world, Limits(daily_document_quota=3))

    with pytest.raises(RateLimited):
        await world.metering.admit(principal, 4)

    assert await world.metering.admit(principal, 3) == 3


def test_days_are_utc():
    assert utc_day(MIDNIGHT - 0.001) == date(2027, 1, 15)
    assert utc_day(MIDNIGHT) == date(2027, 1, 16)
    assert seconds_until_next_day(MIDNIGHT) == 86_400
    assert seconds_until_next_day(NOON) == 43_200


# --- Usage --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "units"),
    [(0, 3), (1, 3), (299, 3), (300, 3), (301, 4), (1_000, 10), (1_001, 11), (5_000, 50)],
)
def test_billable_units_are_hundreds_of_characters_at_least_three(length, units):
    assert billable_units(length) == units


async def test_usage_adds_up_per_tenant_key_and_day(world):
    day1, day2, day3 = date(2027, 1, 14), date(2027, 1, 15), date(2027, 1, 16)
    acme_key = await world.service.create_key("acme", {Scope.ANALYZE})
    other_key = await world.service.create_key("acme", {Scope.ANALYZE})
    key_id, other_id = acme_key.record.key_id, other_key.record.key_id
    for day, tenant_id, key, usage in [
        (day1, "acme", key_id, Usage(10, 4, 18)),
        (day1, "acme", other_id, Usage(5, 1, 12)),
        (day3, "acme", key_id, Usage(2, 0, 6)),
        (day1, "globex", None, Usage(100, 0, 300)),
    ]:
        world.clock.current = NOON + (day - date(2027, 1, 16)).days * 86_400
        await world.metering.record(tenant_id, key, usage)

    days = await world.service.usage(tenant("acme"), day1, day3)
    by_key = await world.service.usage(tenant("acme"), day1, day3, key_id)

    assert [(d.day, d.documents, d.cache_hits, d.billable_units) for d in days] == [
        (day1, 15, 5, 30),
        (day3, 2, 0, 6),
    ]
    assert [d.estimated_cost_usd for d in days] == [Decimal("0.0030"), Decimal("0.0006")]
    assert [(d.day, d.documents, d.key_id) for d in by_key] == [
        (day1, 10, key_id),
        (day3, 2, key_id),
    ]
    assert await world.service.usage(tenant("acme"), day2, day2) == []
    assert [d.documents for d in await world.service.usage(tenant("globex"), day1, day3)] == [100]


async def test_another_tenants_key_is_not_found_unless_asked_by_ops(world):
    acme_key = await world.service.create_key("acme", {Scope.ANALYZE})
    key_id = acme_key.record.key_id
    await world.metering.record("acme", key_id, Usage(3, 0, 9))
    today = date(2027, 1, 16)

    with pytest.raises(AuraStreamError) as hidden:
        await world.service.usage(tenant("globex"), today, today, key_id)
    with pytest.raises(AuraStreamError) as missing:
        await world.service.usage(tenant("globex"), today, today, "0123456789ab")
    for malformed in ("aura_\ud800", "nul\x00", "x" * 10_000, ""):
        with pytest.raises(AuraStreamError) as refused:
            await world.service.usage(tenant("globex", Scope.OPS), today, today, malformed)
        assert refused.value.code == "NOT_FOUND"
    seen_by_ops = await world.service.usage(tenant("globex", Scope.OPS), today, today, key_id)

    assert hidden.value.code == missing.value.code == "NOT_FOUND"
    assert [d.documents for d in seen_by_ops] == [3]


async def test_the_price_per_unit_is_a_parameter(world):
    service = AccessService(world.store, world.metrics, world.clock, price_per_unit=Decimal("1"))
    await world.metering.record("acme", None, Usage(1, 0, 3))

    (day,) = await service.usage(tenant("acme"), date(2027, 1, 16), date(2027, 1, 16))

    assert day.estimated_cost_usd == Decimal("3")


async def test_usage_ranges_and_counts_are_validated(world):
    with pytest.raises(ValueError, match="from_day"):
        await world.service.usage(tenant("acme"), date(2027, 1, 2), date(2027, 1, 1))
    with pytest.raises(ValueError, match="negative"):
        Usage(-1, 0, 0)


def test_a_key_splits_by_its_fixed_shape_even_when_its_secret_holds_underscores():
    secret = "_" * 10 + "a_b" * 11
    assert len(secret) == 43

    assert split_key(f"aura_0123456789ab_{secret}") == ("0123456789ab", secret)
    assert split_key(f"aura_0123456789ab_{secret}x") is None
    assert split_key(f"aura_0123456789a_{secret}") is None


@pytest.mark.parametrize(
    ("settings", "enforced"),
    [
        (Settings(), False),
        (Settings(listen_host="localhost"), False),
        (Settings(listen_host="::1"), False),
        (Settings(auth="required"), True),
        (Settings(backend="aws"), True),
        (Settings(listen_host="0.0.0.0"), True),
        (Settings(listen_host="192.0.2.10"), True),
        (Settings(listen_host="api.example.com"), True),
    ],
    ids=[
        "default",
        "localhost",
        "ipv6-loopback",
        "required",
        "aws",
        "all-interfaces",
        "lan-address",
        "hostname",
    ],
)
def test_keys_are_required_on_aws_beyond_loopback_or_when_asked(settings, enforced):
    assert settings.auth_enforced is enforced
